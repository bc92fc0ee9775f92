package putbucketpolicy

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsmigrate/dsmigrate/internal/execution"
)

// mergingWriterS3 is a bucket on which another writer adds its statement right after our
// first write and before our read-back (it read the policy after our write and merged).
type mergingWriterS3 struct {
	*fakeS3
	statement string
}

func (m *mergingWriterS3) PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, o ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	out, err := m.fakeS3.PutBucketPolicy(ctx, in, o...)
	if m.statement != "" {
		b := aws.ToString(in.Bucket)
		m.policies[b] = strings.Replace(m.policies[b], `"Statement":[`, `"Statement":[`+m.statement+",", 1)
		m.statement = ""
	}
	return out, err
}

const audit = `{"Sid":"Audit","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444444444444:root"},"Action":"s3:GetBucketPolicy","Resource":"arn:aws:s3:::team-a-media"}`

// TestRevokeKeepsAStatementMergedBeforeTheGrantReadBack: the grant's read-back shows our
// statements and another writer's; the revoke removes ours and keeps theirs. Neither the
// grant's backup (no policy, or the policy without theirs) may be put back.
func TestRevokeKeepsAStatementMergedBeforeTheGrantReadBack(t *testing.T) {
	indented := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"TeamRead\", \"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::333333333333:root\"}, \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::team-a-media/*\"}\n  ]\n}\n"
	tests := []struct {
		name   string
		before map[string]string
		want   string
	}{
		{name: "the bucket had no policy", before: map[string]string{}, want: `{"Version":"2012-10-17","Statement":[` + audit + `]}`},
		{name: "the bucket had a policy", before: map[string]string{"team-a-media": indented},
			want: `{"Version":"2012-10-17","Statement":[` + audit + `,{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f, _ := setup(tt.before)
			h.Assumer = fixedAssumer{&mergingWriterS3{fakeS3: f, statement: audit}}
			ctx := context.Background()
			g, err := h.Handle(ctx, grantInput())
			if err != nil || !g.Changed || !strings.Contains(g.PolicyAfter, `"Sid":"Audit"`) {
				t.Fatalf("grant: got %+v, %v; want a change whose read-back holds Audit", g, err)
			}
			in := revokeInput()
			in.Grant = g
			out, err := h.Handle(ctx, in)
			if err != nil {
				t.Fatalf("revoke: got %v", err)
			}
			if got, ok := f.policies["team-a-media"]; !ok || got != tt.want || out.Deleted {
				t.Errorf("revoke left %q (deleted %v), want %s", got, out.Deleted, tt.want)
			}
		})
	}
}

// TestRevokeRestoresOnlyThisBucketsGrant: the backup is put back as written only when the
// revoke's grant input is the output of a grant of this very bucket; otherwise the revoke
// writes the policy without our statements as Merge and Revoke write it (compact).
func TestRevokeRestoresOnlyThisBucketsGrant(t *testing.T) {
	indented := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"TeamRead\", \"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::333333333333:root\"}, \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::team-a-media/*\"}\n  ]\n}\n"
	compact := `{"Version":"2012-10-17","Statement":[{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"}]}`
	tests := []struct {
		name  string
		alter func(g *execution.BucketPolicyChange)
		want  string
	}{
		{name: "this bucket's grant", alter: func(*execution.BucketPolicyChange) {}, want: indented},
		{name: "another bucket's grant", alter: func(g *execution.BucketPolicyChange) { g.Bucket = "team-z-media" }, want: compact},
		{name: "a revoke's output", alter: func(g *execution.BucketPolicyChange) { g.Mode = ModeRevoke }, want: compact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f, _ := setup(map[string]string{"team-a-media": indented})
			ctx := context.Background()
			g, err := h.Handle(ctx, grantInput())
			if err != nil || !g.Changed {
				t.Fatalf("grant: got %+v, %v", g, err)
			}
			tt.alter(g)
			in := revokeInput()
			in.Grant = g
			if _, err := h.Handle(ctx, in); err != nil {
				t.Fatalf("revoke: got %v", err)
			}
			if got := f.policies["team-a-media"]; got != tt.want {
				t.Errorf("revoke left\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
