package putbucketpolicy

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/handlertest"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

// fakeS3 keeps one policy per bucket, like S3. put, when set, replaces PutBucketPolicy.
type fakeS3 struct {
	calls    []string
	policies map[string]string
	put      func(in *s3.PutBucketPolicyInput) error
	del      func(in *s3.DeleteBucketPolicyInput) error // nil: the delete succeeds
}

func (f *fakeS3) GetBucketPolicy(_ context.Context, in *s3.GetBucketPolicyInput, _ ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	f.calls = append(f.calls, "GetBucketPolicy")
	p, ok := f.policies[aws.ToString(in.Bucket)]
	if !ok {
		return nil, &smithy.OperationError{ServiceID: "S3", OperationName: "GetBucketPolicy", Err: &smithy.GenericAPIError{Code: "NoSuchBucketPolicy", Message: "The bucket policy does not exist"}}
	}
	return &s3.GetBucketPolicyOutput{Policy: aws.String(p)}, nil
}

func (f *fakeS3) PutBucketPolicy(_ context.Context, in *s3.PutBucketPolicyInput, _ ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	f.calls = append(f.calls, "PutBucketPolicy")
	if f.put != nil {
		if err := f.put(in); err != nil {
			return nil, err
		}
		return &s3.PutBucketPolicyOutput{}, nil
	}
	f.policies[aws.ToString(in.Bucket)] = aws.ToString(in.Policy)
	return &s3.PutBucketPolicyOutput{}, nil
}

func (f *fakeS3) DeleteBucketPolicy(_ context.Context, in *s3.DeleteBucketPolicyInput, _ ...func(*s3.Options)) (*s3.DeleteBucketPolicyOutput, error) {
	f.calls = append(f.calls, "DeleteBucketPolicy")
	if f.del != nil {
		if err := f.del(in); err != nil {
			return nil, err
		}
	}
	delete(f.policies, aws.ToString(in.Bucket))
	return &s3.DeleteBucketPolicyOutput{}, nil
}

type fakeAssumer struct {
	s3     *fakeS3
	err    error
	calls  int
	params []sourceaccess.Params
}

func (f *fakeAssumer) AssumeS3(_ context.Context, p sourceaccess.Params) (S3API, error) {
	f.calls++
	f.params = append(f.params, p)
	return f.s3, f.err
}

const foreign = `{"Version":"2012-10-17","Id":"team-a","Statement":[{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"},{"Sid":"DenyHTTP","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::team-a-media","arn:aws:s3:::team-a-media/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`

func roles() *execution.Roles {
	return &execution.Roles{
		TransferRole: execution.Role{Name: "dsmigrate-media-2026-11-transfer", Arn: "arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-transfer"},
		ConfigRole:   execution.Role{Name: "dsmigrate-media-2026-11-config", Arn: "arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-config"},
	}
}

func setup(policies map[string]string) (*Handler, *fakeS3, *fakeAssumer) {
	f := &fakeS3{policies: policies}
	a := &fakeAssumer{s3: f}
	h := &Handler{
		Config:  Config{Home: requesttest.Home, RolePrefix: "dsmigrate", LocationsCallerRoleArn: "arn:aws:iam::222222222222:role/dsmigrate-createlocations"},
		Assumer: a,
	}
	return h, f, a
}

// TestAssumesThePolicyWriterRole: both modes act as the deployment's policy-writer role in
// the request's source account, named after the migration.
func TestAssumesThePolicyWriterRole(t *testing.T) {
	for _, in := range []Input{grantInput(), revokeInput()} {
		h, _, a := setup(map[string]string{"team-a-media": foreign})
		if _, err := h.Handle(context.Background(), in); err != nil {
			t.Fatalf("%s: got %v, want nil", in.Mode, err)
		}
		want := sourceaccess.Params{RoleArn: "arn:aws:iam::111111111111:role/dsmigrate-source-policy-writer", MigrationID: "media-2026-11", Region: "ap-northeast-1"}
		if len(a.params) != 1 || a.params[0] != want {
			t.Errorf("%s: assumed %+v, want %+v", in.Mode, a.params, want)
		}
	}
}

func grantInput() Input { return Input{Mode: ModeGrant, Request: requesttest.Valid(), Roles: roles()} }

func revokeInput() Input { return Input{Mode: ModeRevoke, Request: requesttest.Valid()} }

func TestGrantRerunRevokeRestores(t *testing.T) {
	h, f, _ := setup(map[string]string{"team-a-media": foreign})
	ctx := context.Background()

	g, err := h.Handle(ctx, grantInput())
	if err != nil {
		t.Fatalf("grant: got %v, want nil", err)
	}
	if !g.Changed || g.PolicyBefore != foreign || g.Deleted {
		t.Errorf("grant: got changed=%v deleted=%v before=%q, want changed and the backup", g.Changed, g.Deleted, g.PolicyBefore)
	}
	doc, _ := policy.Parse(f.policies["team-a-media"])
	if len(doc.Statement) != 5 || doc.Statement[0].Sid != "TeamRead" || doc.Statement[1].Sid != "DenyHTTP" {
		t.Errorf("grant: got %s, want the two foreign statements first and ours after", f.policies["team-a-media"])
	}
	if g.PolicyAfter != f.policies["team-a-media"] {
		t.Errorf("grant: policyAfter is not the policy read back")
	}

	f.calls = nil
	g2, err := h.Handle(ctx, grantInput())
	if err != nil {
		t.Fatalf("grant rerun: got %v, want nil", err)
	}
	if g2.Changed || strings.Join(f.calls, ",") != "GetBucketPolicy" {
		t.Errorf("grant rerun: got changed=%v calls=%v, want unchanged and only a read", g2.Changed, f.calls)
	}

	r, err := h.Handle(ctx, revokeInput())
	if err != nil {
		t.Fatalf("revoke: got %v, want nil", err)
	}
	if !r.Changed || r.Deleted {
		t.Errorf("revoke: got changed=%v deleted=%v, want changed and not deleted", r.Changed, r.Deleted)
	}
	got, _ := policy.Parse(f.policies["team-a-media"])
	want, _ := policy.Parse(foreign)
	if !got.Equivalent(*want) || got.ID != "team-a" {
		t.Errorf("revoke: got %s, want the original %s", f.policies["team-a-media"], foreign)
	}

	f.calls = nil
	r2, err := h.Handle(ctx, revokeInput())
	if err != nil || r2.Changed || strings.Join(f.calls, ",") != "GetBucketPolicy" {
		t.Errorf("revoke rerun: got %v changed=%v calls=%v, want nothing done", err, r2.Changed, f.calls)
	}
}

// AWS's recommended TLS and HTTPS statements write condition values unquoted. The grant's
// read-back must still find our Sids (and the revoke restore the policy), not report a
// lost write on every attempt.
func TestGrantAndRevokeWithUnquotedConditionValues(t *testing.T) {
	tls := `{"Version":"2012-10-17","Statement":[{"Sid":"EnforceTLSv12orHigher","Effect":"Deny","Principal":{"AWS":"*"},"Action":["s3:*"],"Resource":["arn:aws:s3:::team-a-media","arn:aws:s3:::team-a-media/*"],"Condition":{"NumericLessThan":{"s3:TlsVersion":1.2}}},{"Sid":"DenyHTTP","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::team-a-media/*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}`
	h, f, _ := setup(map[string]string{"team-a-media": tls})
	ctx := context.Background()
	g, err := h.Handle(ctx, grantInput())
	if err != nil {
		t.Fatalf("grant: got %v, want nil", err)
	}
	if !g.Changed || g.PolicyBefore != tls {
		t.Errorf("grant: got changed=%v before=%q, want changed and the backup", g.Changed, g.PolicyBefore)
	}
	f.calls = nil
	if g2, err := h.Handle(ctx, grantInput()); err != nil || g2.Changed || strings.Join(f.calls, ",") != "GetBucketPolicy" {
		t.Errorf("grant rerun: got %v changed=%v calls=%v, want unchanged and only a read", err, g2 != nil && g2.Changed, f.calls)
	}
	if _, err := h.Handle(ctx, revokeInput()); err != nil {
		t.Fatalf("revoke: got %v, want nil", err)
	}
	if got := f.policies["team-a-media"]; got != tls {
		t.Errorf("revoke: got %s, want the original %s", got, tls)
	}
}

func TestGrantOnNoPolicyThenRevokeDeletes(t *testing.T) {
	h, f, _ := setup(map[string]string{})
	ctx := context.Background()
	g, err := h.Handle(ctx, grantInput())
	if err != nil {
		t.Fatal(err)
	}
	if g.PolicyBefore != "" || !g.Changed || len(g.StatementIDs) != 3 {
		t.Errorf("got %+v, want an empty backup, changed, three Sids", g)
	}
	r, err := h.Handle(ctx, revokeInput())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Deleted || !r.Changed || r.PolicyAfter != "" {
		t.Errorf("got %+v, want the policy deleted", r)
	}
	if _, ok := f.policies["team-a-media"]; ok {
		t.Errorf("policy still there, want deleted")
	}
	if got := f.calls[len(f.calls)-2:]; !slices.Equal(got, []string{"DeleteBucketPolicy", "GetBucketPolicy"}) {
		t.Errorf("got calls %v, want DeleteBucketPolicy then the read-back last", f.calls)
	}
}

// A revoke whose DeleteBucketPolicy is denied fails with the PermissionError of that call;
// it does not report a policy it could not delete as deleted.
func TestRevokeDeleteDenied(t *testing.T) {
	h, f, _ := setup(map[string]string{})
	ctx := context.Background()
	if _, err := h.Handle(ctx, grantInput()); err != nil {
		t.Fatal(err)
	}
	f.del = func(*s3.DeleteBucketPolicyInput) error {
		return &smithy.OperationError{ServiceID: "S3", OperationName: "DeleteBucketPolicy", Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}}
	}
	r, err := h.Handle(ctx, revokeInput())
	if _, ok := err.(*failure.PermissionError); !ok || !strings.Contains(err.Error(), "s3:DeleteBucketPolicy on arn:aws:s3:::team-a-media") {
		t.Fatalf("got %+v, %T %v, want a PermissionError for s3:DeleteBucketPolicy on arn:aws:s3:::team-a-media", r, err, err)
	}
	if _, ok := f.policies["team-a-media"]; !ok {
		t.Errorf("policy gone, want it still there")
	}
}

// racingS3 lets another writer replace the policy right after our write, as a concurrent
// read-modify-write that read the policy before our write would: the settle read-back
// must see it and fail with TransientError so the state machine runs the step again.
type racingS3 struct {
	*fakeS3
	other string // what the other writer writes after our next write
}

func (r *racingS3) PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, o ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	out, err := r.fakeS3.PutBucketPolicy(ctx, in, o...)
	if r.other != "" {
		r.policies[aws.ToString(in.Bucket)], r.other = r.other, ""
	}
	return out, err
}

func (r *racingS3) DeleteBucketPolicy(ctx context.Context, in *s3.DeleteBucketPolicyInput, o ...func(*s3.Options)) (*s3.DeleteBucketPolicyOutput, error) {
	out, err := r.fakeS3.DeleteBucketPolicy(ctx, in, o...)
	if r.other != "" {
		r.policies[aws.ToString(in.Bucket)], r.other = r.other, ""
	}
	return out, err
}

func TestLostUpdateIsSeenAndRetried(t *testing.T) {
	ctx := context.Background()
	t.Run("grant overwritten by a writer that read before it", func(t *testing.T) {
		h, f, _ := setup(map[string]string{"team-a-media": foreign})
		r := &racingS3{fakeS3: f, other: foreign}
		h.Assumer = &racingAssumer{r}
		_, err := h.Handle(ctx, grantInput())
		if _, ok := err.(*failure.TransientError); !ok {
			t.Fatalf("got %T %v, want TransientError", err, err)
		}
		// The state machine's retry merges again and succeeds.
		out, err := h.Handle(ctx, grantInput())
		if err != nil || !out.Changed {
			t.Fatalf("retry: got %+v, %v, want the grant written", out, err)
		}
		if _, missing := splitSids(f.policies["team-a-media"], out.StatementIDs); len(missing) > 0 {
			t.Errorf("after the retry: got missing %v, want every Sid present", missing)
		}
	})
	t.Run("revoke undone by a writer that read before it", func(t *testing.T) {
		h, f, _ := setup(map[string]string{"team-a-media": foreign})
		g, err := h.Handle(ctx, grantInput())
		if err != nil {
			t.Fatal(err)
		}
		r := &racingS3{fakeS3: f, other: g.PolicyAfter}
		h.Assumer = &racingAssumer{r}
		if _, err := h.Handle(ctx, revokeInput()); err == nil {
			t.Fatal("got nil, want TransientError")
		} else if _, ok := err.(*failure.TransientError); !ok {
			t.Fatalf("got %T %v, want TransientError", err, err)
		}
		out, err := h.Handle(ctx, revokeInput())
		if err != nil || !out.Changed || out.PolicyAfter != f.policies["team-a-media"] {
			t.Fatalf("retry: got %+v, %v, want the statements removed", out, err)
		}
		if !same(f.policies["team-a-media"], foreign) {
			t.Errorf("after the retry: got %s, want the original policy", f.policies["team-a-media"])
		}
	})
}

type racingAssumer struct{ s3 *racingS3 }

func (a *racingAssumer) AssumeS3(context.Context, sourceaccess.Params) (S3API, error) {
	return a.s3, nil
}

func TestRevokeKeepsAnotherMigrationsGrant(t *testing.T) {
	h, f, _ := setup(map[string]string{})
	ctx := context.Background()
	other := grantInput()
	other.Request.MigrationID = "other-run"
	other.Roles.TransferRole.Arn = "arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-other-run-transfer"
	other.Roles.ConfigRole.Arn = "arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-other-run-config"
	if _, err := h.Handle(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(ctx, grantInput()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(ctx, revokeInput()); err != nil {
		t.Fatal(err)
	}
	doc, _ := policy.Parse(f.policies["team-a-media"])
	if len(doc.Statement) != 3 || !strings.HasPrefix(doc.Statement[0].Sid, "DsmotherXrun") {
		t.Errorf("got %s, want only the other migration's statements", f.policies["team-a-media"])
	}
}

// A statement that uses one of our Sids but names principals that are not this
// migration's roles (another dsmigrate deployment in another account that granted first
// under the same migrationId, say) is not ours: the revoke that runs after our own failed
// grant must not delete it.
func TestRevokeLeavesAStatementWithOurSidButNotOurRoles(t *testing.T) {
	theirs := `{"Version":"2012-10-17","Statement":[{"Sid":"DsmmediaX2026X11RolesBucketAccess","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444444444444:role/dsmigrate-media-2026-11-transfer","arn:aws:iam::444444444444:role/dsmigrate-media-2026-11-config"]},"Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"arn:aws:s3:::team-a-media"}]}`
	h, f, _ := setup(map[string]string{"team-a-media": theirs})
	_, err := h.Handle(context.Background(), revokeInput())
	if got := failure.Name(err); got != "PreconditionError" {
		t.Fatalf("got %s (%v), want PreconditionError", got, err)
	}
	if !strings.Contains(err.Error(), "DsmmediaX2026X11RolesBucketAccess") || !strings.Contains(err.Error(), "removed nothing") {
		t.Errorf("message %q does not name the statement and say nothing was removed", err.Error())
	}
	if got := f.policies["team-a-media"]; got != theirs {
		t.Errorf("got policy %s, want it untouched", got)
	}
	if slices.Contains(f.calls, "PutBucketPolicy") || slices.Contains(f.calls, "DeleteBucketPolicy") {
		t.Errorf("got calls %v, want no write", f.calls)
	}
}

// cleanup.revokeBucketPolicy = false keeps the grant after SUCCESS: the state machine then
// skips RevokeBucketPolicy (CheckCleanup). The step itself runs with that flag only after a
// failure, and a failure revokes whatever the flag says (the contract: "on any failure after
// the policy was changed, revoke it, then Fail").
func TestRevokeAfterFailureIgnoresKeepFlag(t *testing.T) {
	h, f, _ := setup(map[string]string{"team-a-media": foreign})
	ctx := context.Background()
	if _, err := h.Handle(ctx, grantInput()); err != nil {
		t.Fatal(err)
	}
	in := revokeInput()
	keep := false
	in.Request.Cleanup.RevokeBucketPolicy = &keep
	out, err := h.Handle(ctx, in)
	if err != nil || !out.Changed {
		t.Fatalf("got %+v %v, want our statements removed", out, err)
	}
	if got := f.policies["team-a-media"]; !same(got, foreign) {
		t.Errorf("got %s, want the original policy", got)
	}
}

func TestGolden(t *testing.T) {
	for _, name := range []string{"grant", "revoke"} {
		t.Run(name, func(t *testing.T) {
			h, _, _ := setup(map[string]string{"team-a-media": foreign})
			h.clk = fixedClock{time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)} // the output's "at"
			if name == "revoke" {
				if _, err := h.Handle(context.Background(), grantInput()); err != nil {
					t.Fatal(err)
				}
			}
			handlertest.Run(t, name+"-input.json", name+"-output.json", h.Handle)
		})
	}
}

func TestFailures(t *testing.T) {
	s3err := func(code, msg string) error {
		return &smithy.OperationError{ServiceID: "S3", OperationName: "PutBucketPolicy", Err: &smithy.GenericAPIError{Code: code, Message: msg}}
	}
	tests := []struct {
		name     string
		in       Input
		policies map[string]string
		put      func(f *fakeS3) func(*s3.PutBucketPolicyInput) error
		assume   error
		wantType string
		wantIn   string
	}{
		{
			name: "new role not visible yet", in: grantInput(), policies: map[string]string{},
			put: func(*fakeS3) func(*s3.PutBucketPolicyInput) error {
				return func(*s3.PutBucketPolicyInput) error { return s3err("MalformedPolicy", "Invalid principal in policy") }
			},
			wantType: "NotReadyError", wantIn: "Invalid principal in policy",
		},
		{
			// Another statement names a role deleted since it was written: S3 shows its
			// unique id and refuses to save it again, however long dsmigrate waits.
			name: "another statement names a deleted role", in: grantInput(),
			policies: map[string]string{"team-a-media": `{"Version":"2012-10-17","Statement":[{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"AROA3XFRBF535PLBIFPI4"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"}]}`},
			put: func(*fakeS3) func(*s3.PutBucketPolicyInput) error {
				return func(*s3.PutBucketPolicyInput) error { return s3err("MalformedPolicy", "Invalid principal in policy") }
			},
			wantType: "PreconditionError", wantIn: `statement "TeamRead" names "AROA3XFRBF535PLBIFPI4"`,
		},
		{
			name: "other malformed policy", in: grantInput(), policies: map[string]string{},
			put: func(*fakeS3) func(*s3.PutBucketPolicyInput) error {
				return func(*s3.PutBucketPolicyInput) error { return s3err("MalformedPolicy", "Policy has invalid resource") }
			},
			wantType: "PreconditionError", wantIn: "Policy has invalid resource",
		},
		{
			name: "lost write", in: grantInput(), policies: map[string]string{},
			put: func(*fakeS3) func(*s3.PutBucketPolicyInput) error {
				return func(*s3.PutBucketPolicyInput) error { return nil }
			},
			wantType: "TransientError", wantIn: "reading it back",
		},
		{
			name: "put throttled", in: grantInput(), policies: map[string]string{},
			put: func(*fakeS3) func(*s3.PutBucketPolicyInput) error {
				return func(*s3.PutBucketPolicyInput) error { return s3err("SlowDown", "") }
			},
			wantType: "TransientError",
		},
		{
			name: "put denied", in: grantInput(), policies: map[string]string{},
			put: func(*fakeS3) func(*s3.PutBucketPolicyInput) error {
				return func(*s3.PutBucketPolicyInput) error { return s3err("AccessDenied", "Access Denied") }
			},
			wantType: "PermissionError", wantIn: "s3:PutBucketPolicy on arn:aws:s3:::team-a-media",
		},
		{
			name: "foreign statement with our Sid", in: grantInput(),
			policies: map[string]string{"team-a-media": `{"Version":"2012-10-17","Statement":[{"Sid":"DsmmediaX2026X11RolesObjectAccess","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"s3:*","Resource":"*"}]}`},
			wantType: "PreconditionError", wantIn: "DsmmediaX2026X11RolesObjectAccess",
		},
		{
			name: "existing policy not JSON", in: grantInput(), policies: map[string]string{"team-a-media": `{"Statement": [`},
			wantType: "PreconditionError",
		},
		{
			name: "assume denied", in: revokeInput(), policies: map[string]string{},
			assume:   &smithy.GenericAPIError{Code: "AccessDenied", Message: "User: u is not authorized to perform: sts:AssumeRole on resource: r"},
			wantType: "PermissionError", wantIn: "sts:AssumeRole",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f, a := setup(tt.policies)
			a.err = tt.assume
			if tt.put != nil {
				f.put = tt.put(f)
			}
			_, err := h.Handle(context.Background(), tt.in)
			if got := failure.Name(err); got != tt.wantType {
				t.Fatalf("got %s (%v), want %s", got, err, tt.wantType)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("message %q does not contain %q", err.Error(), tt.wantIn)
			}
		})
	}
}

func TestBadInputsCallNothing(t *testing.T) {
	type bad struct {
		name      string
		in        Input
		wantField string
	}
	otherRole := grantInput()
	otherRole.Roles.TransferRole.Arn = "arn:aws:iam::222222222222:role/admin"
	cases := []bad{
		{name: "grant to a role that is not ours", in: otherRole, wantField: "roles.transferRole.arn"},
		{name: "unknown mode", in: Input{Mode: "grnat", Request: requesttest.Valid(), Roles: roles()}, wantField: "mode"},
		{name: "no mode", in: Input{Request: requesttest.Valid()}, wantField: "mode"},
		{name: "grant without roles", in: Input{Mode: ModeGrant, Request: requesttest.Valid()}, wantField: "roles.transferRole.arn"},
		{name: "grant with a role of account A", in: func() Input {
			in := grantInput()
			in.Roles.ConfigRole.Arn = "arn:aws:iam::111111111111:role/x"
			return in
		}(), wantField: "roles.configRole.arn"},
	}
	for _, c := range requesttest.BadRequests() {
		if c.DecodeOnly {
			continue
		}
		r, err := requesttest.Typed(c)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, bad{name: "grant " + c.Name, in: Input{Mode: ModeGrant, Request: r, Roles: roles()}, wantField: c.WantField})
		cases = append(cases, bad{name: "revoke " + c.Name, in: Input{Mode: ModeRevoke, Request: r}, wantField: c.WantField})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, f, a := setup(map[string]string{})
			_, err := h.Handle(context.Background(), c.in)
			v, ok := err.(*failure.ValidationError)
			if !ok {
				t.Fatalf("got %T %v, want *failure.ValidationError", err, err)
			}
			if !requesttest.HasField(v, c.wantField) {
				t.Errorf("got %v, want field %s", v, c.wantField)
			}
			if len(f.calls) != 0 || a.calls != 0 {
				t.Errorf("got calls %v and %d assumes, want none", f.calls, a.calls)
			}
		})
	}
}

func TestErrorLoggedOnce(t *testing.T) {
	h, f, _ := setup(map[string]string{})
	f.put = func(*s3.PutBucketPolicyInput) error { return &smithy.GenericAPIError{Code: "SlowDown"} }
	handlertest.ErrorLoggedOnce(t, func() error {
		_, err := h.Handle(context.Background(), grantInput())
		return err
	})
}

// TestRevokeRestoresTheOriginalText: when nothing changed the policy between the grant
// and the revoke, the revoke puts back the text the grant found, byte for byte, a
// Statement given as a single object and the whitespace included; when something did
// change, or the grant's output is missing, it removes our statements and keeps the rest.
func TestRevokeRestoresTheOriginalText(t *testing.T) {
	single := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\n    \"Sid\": \"TeamRead\",\n    \"Effect\": \"Allow\",\n" +
		"    \"Principal\": {\"AWS\": \"arn:aws:iam::333333333333:root\"},\n    \"Action\": \"s3:GetObject\",\n    \"Resource\": \"arn:aws:s3:::team-a-media/*\"\n  }\n}\n"
	other := `{"Sid":"Audit","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444444444444:root"},"Action":"s3:GetBucketPolicy","Resource":"arn:aws:s3:::team-a-media"}`
	compactList := `{"Version":"2012-10-17","Statement":[{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"}]}`
	tests := []struct {
		name      string
		before    string
		meanwhile func(policy string) string // a change between grant and revoke (nil: none)
		noGrant   bool                       // the revoke gets no grant output
		want      string
	}{
		{name: "single statement object with whitespace", before: single, want: single},
		{name: "list as written", before: foreign, want: foreign},
		{name: "grant output missing: our statements removed", before: single, noGrant: true, want: compactList},
		{name: "a statement added meanwhile is kept", before: single,
			meanwhile: func(p string) string {
				return strings.Replace(p, `[{"Sid":"TeamRead"`, "["+other+`,{"Sid":"TeamRead"`, 1)
			},
			want: `{"Version":"2012-10-17","Statement":[` + other + `,{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"}]}`},
		{name: "reformatted meanwhile: our statements removed from what is there", before: single,
			meanwhile: func(p string) string { return strings.Replace(p, `,"Statement"`, `, "Statement"`, 1) },
			want:      `{"Version":"2012-10-17","Statement":[{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f, _ := setup(map[string]string{"team-a-media": tt.before})
			ctx := context.Background()
			g, err := h.Handle(ctx, grantInput())
			if err != nil || !g.Changed {
				t.Fatalf("grant: got %+v, %v; want a change", g, err)
			}
			if tt.meanwhile != nil {
				f.policies["team-a-media"] = tt.meanwhile(f.policies["team-a-media"])
			}
			in := revokeInput()
			if !tt.noGrant {
				in.Grant = g
			}
			r, err := h.Handle(ctx, in)
			if err != nil {
				t.Fatalf("revoke: got %v, want nil", err)
			}
			if got := f.policies["team-a-media"]; got != tt.want {
				t.Errorf("revoke left\n%s\nwant\n%s", got, tt.want)
			}
			if !r.Changed || r.PolicyAfter != tt.want {
				t.Errorf("revoke output: changed=%v policyAfter=%q, want changed and the policy left", r.Changed, r.PolicyAfter)
			}
		})
	}
}

// TestRevokeDoesNotRestoreOurOwnStatements: a grant that replaced statements of an
// earlier run (roles since deleted, shown as AROA ids) found our Sids in the policy; its
// backup must not be written back, or the revoke would re-grant.
func TestRevokeDoesNotRestoreOurOwnStatements(t *testing.T) {
	stale := `{"Version":"2012-10-17","Statement":[{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"},` +
		`{"Sid":"DsmmediaX2026X11RolesBucketAccess","Effect":"Allow","Principal":{"AWS":"AROA3XFRBF535PLBIFPI4"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-a-media"}]}`
	h, f, _ := setup(map[string]string{"team-a-media": stale})
	ctx := context.Background()
	g, err := h.Handle(ctx, grantInput())
	if err != nil || !g.Changed {
		t.Fatalf("grant: got %+v, %v; want a change", g, err)
	}
	in := revokeInput()
	in.Grant = g
	if _, err := h.Handle(ctx, in); err != nil {
		t.Fatalf("revoke: got %v, want nil", err)
	}
	if got := f.policies["team-a-media"]; strings.Contains(got, "Dsm") || !strings.Contains(got, "TeamRead") {
		t.Errorf("revoke left %s, want TeamRead only", got)
	}
}

// An earlier version granted both roles (under the path "/") the write set under this
// migration's Sids. After an upgrade, a re-run replaces that grant with the read-only one
// and a revoke removes it: it is never left behind, and the other statements stay.
func TestEarlierVersionsGrantIsReplacedAndRevoked(t *testing.T) {
	const earlier = `{"Version":"2012-10-17","Id":"team-a","Statement":[{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"},` +
		`{"Sid":"DsmmediaX2026X11DataSyncCreateS3Location","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/dsmigrate-createlocations"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-a-media"},` +
		`{"Sid":"DsmmediaX2026X11RolesBucketAccess","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-transfer","arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-config"]},"Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"arn:aws:s3:::team-a-media"},` +
		`{"Sid":"DsmmediaX2026X11RolesObjectAccess","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-transfer","arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-config"]},"Action":["s3:AbortMultipartUpload","s3:DeleteObject","s3:GetObject","s3:ListMultipartUploadParts","s3:GetObjectTagging","s3:PutObjectTagging","s3:PutObject"],"Resource":"arn:aws:s3:::team-a-media/photos/*"}]}`
	const teamOnly = `{"Version":"2012-10-17","Id":"team-a","Statement":[{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"}]}`
	ctx := context.Background()

	h, f, _ := setup(map[string]string{"team-a-media": earlier})
	if _, err := h.Handle(ctx, grantInput()); err != nil {
		t.Fatalf("grant over an earlier grant: got %v, want nil", err)
	}
	got := f.policies["team-a-media"]
	doc, _ := policy.Parse(got)
	if len(doc.Statement) != 4 || strings.Contains(got, "-config") || strings.Contains(got, "s3:PutObject") || !strings.Contains(got, "role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-transfer") {
		t.Errorf("grant over an earlier grant: got %s, want TeamRead and our three read-only statements for the transfer role", got)
	}

	h, f, _ = setup(map[string]string{"team-a-media": earlier})
	out, err := h.Handle(ctx, revokeInput())
	if err != nil || !out.Changed {
		t.Fatalf("revoke of an earlier grant: got %+v %v, want it removed", out, err)
	}
	if got := f.policies["team-a-media"]; got != teamOnly {
		t.Errorf("revoke of an earlier grant: got %s, want %s", got, teamOnly)
	}
}
