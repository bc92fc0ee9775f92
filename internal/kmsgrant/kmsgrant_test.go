package kmsgrant

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
)

const (
	key     = "arn:aws:kms:ap-northeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	grantee = "arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-m1-transfer"
)

// fakeKMS answers ListGrants with grants, two per page; CreateGrant and RevokeGrant are
// recorded.
type fakeKMS struct {
	grants  []kmstypes.GrantListEntry
	calls   []string
	revoked []string
}

func (f *fakeKMS) CreateGrant(_ context.Context, in *kms.CreateGrantInput, _ ...func(*kms.Options)) (*kms.CreateGrantOutput, error) {
	f.calls = append(f.calls, "CreateGrant:"+aws.ToString(in.Name))
	return &kms.CreateGrantOutput{GrantId: aws.String("new")}, nil
}

func (f *fakeKMS) ListGrants(_ context.Context, in *kms.ListGrantsInput, _ ...func(*kms.Options)) (*kms.ListGrantsOutput, error) {
	f.calls = append(f.calls, "ListGrants:"+aws.ToString(in.GranteePrincipal))
	start := 0
	if in.Marker != nil {
		start = int(aws.ToString(in.Marker)[0] - '0')
	}
	end := min(start+2, len(f.grants))
	out := &kms.ListGrantsOutput{Grants: f.grants[start:end]}
	if end < len(f.grants) {
		out.Truncated, out.NextMarker = true, aws.String(string(rune('0'+end)))
	}
	return out, nil
}

func (f *fakeKMS) RevokeGrant(_ context.Context, in *kms.RevokeGrantInput, _ ...func(*kms.Options)) (*kms.RevokeGrantOutput, error) {
	f.revoked = append(f.revoked, aws.ToString(in.GrantId))
	return &kms.RevokeGrantOutput{}, nil
}

func entry(id, name, who string) kmstypes.GrantListEntry {
	return kmstypes.GrantListEntry{GrantId: aws.String(id), Name: aws.String(name), GranteePrincipal: aws.String(who),
		Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}, CreationDate: aws.Time(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))}
}

// TestFindEnsureRemove: only grants with the migration's name and grantee count (on every
// page); Ensure creates one only when none is found; Remove revokes exactly those.
func TestFindEnsureRemove(t *testing.T) {
	tests := []struct {
		name        string
		give        []kmstypes.GrantListEntry
		wantFound   []string
		wantCreated bool
	}{
		{name: "none", wantCreated: true},
		{name: "another migration's and another grantee's only", give: []kmstypes.GrantListEntry{
			entry("g1", "dsmigrate-m2", grantee), entry("g2", "dsmigrate-m1", "arn:aws:iam::222222222222:role/other")}, wantCreated: true},
		{name: "ours on the second page", give: []kmstypes.GrantListEntry{
			entry("g1", "dsmigrate-m2", grantee), entry("g2", "other", grantee), entry("g3", "dsmigrate-m1", grantee)}, wantFound: []string{"g3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeKMS{grants: tt.give}
			found, err := Find(context.Background(), f, key, grantee, "m1")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, g := range found {
				ids = append(ids, g.GrantID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.wantFound, ",") {
				t.Errorf("Find: got %v, want %v", ids, tt.wantFound)
			}
			g, err := Ensure(context.Background(), f, key, grantee, "m1", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if g.Created != tt.wantCreated || (tt.wantCreated && g.GrantID != "new") {
				t.Errorf("Ensure: got %+v, want created=%v", g, tt.wantCreated)
			}
			if _, err := Remove(context.Background(), f, key, grantee, "m1"); err != nil {
				t.Fatal(err)
			}
			if strings.Join(f.revoked, ",") != strings.Join(tt.wantFound, ",") {
				t.Errorf("Remove: revoked %v, want %v", f.revoked, tt.wantFound)
			}
		})
	}
}

// TestYoung: the newest grant younger than the settle time, or none.
func TestYoung(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 10, 0, time.UTC)
	grants := []execution.KMSGrant{{GrantID: "old", CreatedAt: "2026-12-01T11:00:00Z"}, {GrantID: "new", CreatedAt: "2026-12-01T12:00:05Z"}}
	if g := Young(grants, now, 10*time.Second); g == nil || g.GrantID != "new" {
		t.Errorf("got %+v, want the grant made 5 s ago", g)
	}
	if g := Young(grants, now, 5*time.Second); g != nil {
		t.Errorf("got %+v, want none with a 5 s settle", g)
	}
}

// TestPlan: one Decrypt grant per key, to the transfer role, named after the migration.
func TestPlan(t *testing.T) {
	got := Plan([]string{key, key + "2"}, grantee, "m1")
	if len(got) != 2 || got[1].KeyArn != key+"2" || got[0].Name != "dsmigrate-m1" || got[0].GranteePrincipal != grantee ||
		strings.Join(got[0].Operations, ",") != "Decrypt" || got[0].GrantID != "" {
		t.Errorf("got %+v, want one planned Decrypt grant per key", got)
	}
}
