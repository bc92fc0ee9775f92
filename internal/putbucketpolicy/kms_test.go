package putbucketpolicy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/kmsgrant"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

// fakeKMS keeps grants per key, like KMS; createErr, when set, fails CreateGrant.
type fakeKMS struct {
	grants    map[string][]kmstypes.GrantListEntry
	created   int
	createErr error
	now       time.Time
}

func (f *fakeKMS) CreateGrant(_ context.Context, in *kms.CreateGrantInput, _ ...func(*kms.Options)) (*kms.CreateGrantOutput, error) {
	if f.createErr != nil {
		return nil, f.createErr
	}
	f.created++
	id := "grant-" + string(rune('0'+f.created))
	key := aws.ToString(in.KeyId)
	f.grants[key] = append(f.grants[key], kmstypes.GrantListEntry{GrantId: aws.String(id), Name: in.Name, GranteePrincipal: in.GranteePrincipal,
		Operations: in.Operations, KeyId: in.KeyId, CreationDate: aws.Time(f.now)})
	return &kms.CreateGrantOutput{GrantId: aws.String(id)}, nil
}

func (f *fakeKMS) ListGrants(_ context.Context, in *kms.ListGrantsInput, _ ...func(*kms.Options)) (*kms.ListGrantsOutput, error) {
	var out []kmstypes.GrantListEntry
	for _, g := range f.grants[aws.ToString(in.KeyId)] {
		if in.GranteePrincipal == nil || aws.ToString(g.GranteePrincipal) == aws.ToString(in.GranteePrincipal) {
			out = append(out, g)
		}
	}
	return &kms.ListGrantsOutput{Grants: out}, nil
}

func (f *fakeKMS) RevokeGrant(_ context.Context, in *kms.RevokeGrantInput, _ ...func(*kms.Options)) (*kms.RevokeGrantOutput, error) {
	key := aws.ToString(in.KeyId)
	for i, g := range f.grants[key] {
		if aws.ToString(g.GrantId) == aws.ToString(in.GrantId) {
			f.grants[key] = append(f.grants[key][:i], f.grants[key][i+1:]...)
			return &kms.RevokeGrantOutput{}, nil
		}
	}
	return nil, &smithy.GenericAPIError{Code: "NotFoundException", Message: "grant not found"}
}

type fakeKMSAssumer struct {
	c      *fakeKMS
	params []sourceaccess.Params
}

func (f *fakeKMSAssumer) AssumeKMS(_ context.Context, p sourceaccess.Params) (kmsgrant.KMSAPI, error) {
	f.params = append(f.params, p)
	return f.c, nil
}

// fixedClock is a clock that does not move while the step sleeps.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time                             { return c.t }
func (c fixedClock) Sleep(context.Context, time.Duration) error { return nil }

const keyA = "arn:aws:kms:ap-northeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// TestKMSGrantLifecycle: the grant step makes one Decrypt grant per source key as the
// policy-writer role, named after the migration; while it is younger than GrantSettle the
// step answers NotReadyError, and the retry finds the same grant instead of making a
// second; the revoke removes it and lists it.
func TestKMSGrantLifecycle(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	h, _, _ := setup(map[string]string{"team-a-media": foreign})
	fk := &fakeKMS{grants: map[string][]kmstypes.GrantListEntry{}, now: now}
	ka := &fakeKMSAssumer{c: fk}
	h.KMS, h.Config.GrantSettle = ka, 10*time.Second
	h.clk = fixedClock{now}
	in := grantInput()
	in.Request.Source.KMSKeyArns = []string{keyA}
	ctx := context.Background()

	_, err := h.Handle(ctx, in)
	var notReady *failure.NotReadyError
	if !errors.As(err, &notReady) || !strings.Contains(err.Error(), keyA) {
		t.Fatalf("got %v for a grant made just now, want NotReadyError naming the key", err)
	}
	h.clk = fixedClock{now.Add(11 * time.Second)}
	out, err := h.Handle(ctx, in)
	if err != nil {
		t.Fatalf("got %v after GrantSettle, want nil", err)
	}
	want := execution.KMSGrant{KeyArn: keyA, GrantID: "grant-1", Name: "dsmigrate-media-2026-11", GranteePrincipal: roles().TransferRole.Arn,
		Operations: []string{"Decrypt"}, CreatedAt: now.Format(time.RFC3339)}
	if len(out.KMSGrants) != 1 || fk.created != 1 || !equalGrant(out.KMSGrants[0], want) {
		t.Errorf("got grants %+v after %d CreateGrant calls, want %+v found again after one", out.KMSGrants, fk.created, want)
	}
	if p := ka.params[0]; p.RoleArn != "arn:aws:iam::111111111111:role/dsmigrate-source-policy-writer" || p.Region != "ap-northeast-1" {
		t.Errorf("got KMS as %+v, want the policy-writer role in the source region", p)
	}

	rv := revokeInput()
	rv.Request.Source.KMSKeyArns = []string{keyA}
	r, err := h.Handle(ctx, rv)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.KMSGrants) != 1 || r.KMSGrants[0].GrantID != "grant-1" || len(fk.grants[keyA]) != 0 {
		t.Errorf("got revoked %+v with %d grants left, want grant-1 revoked and none left", r.KMSGrants, len(fk.grants[keyA]))
	}
}

func equalGrant(a, b execution.KMSGrant) bool {
	return a.KeyArn == b.KeyArn && a.GrantID == b.GrantID && a.Name == b.Name && a.GranteePrincipal == b.GranteePrincipal &&
		strings.Join(a.Operations, ",") == strings.Join(b.Operations, ",") && a.CreatedAt == b.CreatedAt && a.Created == b.Created
}

// TestKMSGrantDenied: a key the writer role may not grant (not in dsmigrate:sourceKmsKeys)
// is a PermissionError that says where to list it, and the bucket policy is not touched.
func TestKMSGrantDenied(t *testing.T) {
	h, f, _ := setup(map[string]string{"team-a-media": foreign})
	h.KMS = &fakeKMSAssumer{c: &fakeKMS{grants: map[string][]kmstypes.GrantListEntry{},
		createErr: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:sts::111111111111:assumed-role/dsmigrate-source-policy-writer/x is not authorized to perform: kms:CreateGrant on resource: " + keyA}}}
	in := grantInput()
	in.Request.Source.KMSKeyArns = []string{keyA}
	_, err := h.Handle(context.Background(), in)
	var perm *failure.PermissionError
	if !errors.As(err, &perm) || !strings.Contains(err.Error(), "dsmigrate:sourceKmsKeys") {
		t.Fatalf("got %v, want PermissionError naming dsmigrate:sourceKmsKeys", err)
	}
	if f.policies["team-a-media"] != foreign {
		t.Errorf("got policy %s, want it unchanged", f.policies["team-a-media"])
	}
}

// TestExplainKMSGrantsLeft: after a failed revoke the cause names the grants that may be
// left and how to revoke them; after a revoke that worked, the grants it revoked.
func TestExplainKMSGrantsLeft(t *testing.T) {
	req := requesttest.Valid()
	req.Source.KMSKeyArns = []string{keyA}
	g := execution.KMSGrant{KeyArn: keyA, GrantID: "g-1", Name: "dsmigrate-media-2026-11", GranteePrincipal: roles().TransferRole.Arn}
	failed := &execution.Failure{Error: "TransferFailedError", Cause: "copy failed"}
	tests := []struct {
		name   string
		revoke *execution.RevokeResult
		want   []string
	}{
		{name: "revoke failed", revoke: &execution.RevokeResult{Failure: &execution.Failure{Error: "TransientError", Cause: "KMS down"}},
			want: []string{"KMS grants left behind", "g-1", keyA, "aws kms revoke-grant", "dsmigrate-media-2026-11"}},
		{name: "revoked", revoke: &execution.RevokeResult{BucketPolicyChange: &execution.BucketPolicyChange{Mode: ModeRevoke, KMSGrants: []execution.KMSGrant{g}}},
			want: []string{"KMS grants: revoked grant g-1 (dsmigrate-media-2026-11) on key " + keyA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := &execution.Document{Preflight: &execution.Preflight{Request: &req}, Roles: roles(),
				Grant: &execution.BucketPolicyChange{Mode: ModeGrant, KMSGrants: []execution.KMSGrant{g}}, Revoke: tt.revoke, Failure: failed}
			e := explanation{doc: doc, req: req}
			got := e.kmsGrants()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("got %q, want it to contain %q", got, w)
				}
			}
		})
	}
}
