package server

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const boundaryDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::allowed-*","arn:aws:s3:::allowed-*/*"]}]}`

// sessionClients assumes roleArn with the given clients and returns clients acting as
// the session.
func sessionClients(t *testing.T, inst *Instance, stsc *sts.Client, roleArn, session string) (*iam.Client, *s3.Client) {
	t.Helper()
	out, err := stsc.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String(session)})
	if err != nil {
		t.Fatalf("assume %s: %v", roleArn, err)
	}
	c := out.Credentials
	i, _, s3c := clients(inst, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	return i, s3c
}

func mustRole(t *testing.T, c *iam.Client, in *iam.CreateRoleInput, policy string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateRole(ctx, in); err != nil {
		t.Fatalf("CreateRole %s: %v", aws.ToString(in.RoleName), err)
	}
	if policy != "" {
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: in.RoleName, PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
			t.Fatalf("PutRolePolicy %s: %v", aws.ToString(in.RoleName), err)
		}
	}
}

const trustAdminB = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/admin"},"Action":"sts:AssumeRole"}]}`

func TestManagedPolicyAPI(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	admin, _, _ := clients(inst, "AKIAADMINB", "sb", "")
	out, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("dsm-datasync-boundary"), PolicyDocument: aws.String(boundaryDoc)})
	if err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	arn := "arn:aws:iam::222222222222:policy/dsm-datasync-boundary"
	if got := aws.ToString(out.Policy.Arn); got != arn || aws.ToString(out.Policy.DefaultVersionId) != "v1" {
		t.Errorf("CreatePolicy: got %s %s, want %s v1", got, aws.ToString(out.Policy.DefaultVersionId), arn)
	}
	v, err := admin.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document)); doc != boundaryDoc || !v.PolicyVersion.IsDefaultVersion {
		t.Errorf("GetPolicyVersion: got %q default=%v, want the document as the default version", doc, v.PolicyVersion.IsDefaultVersion)
	}
	mustRole(t, admin, &iam.CreateRoleInput{RoleName: aws.String("bounded"), AssumeRolePolicyDocument: aws.String(trustAdminB),
		PermissionsBoundary: aws.String(arn)}, "")
	role, err := admin.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("bounded")})
	if err != nil {
		t.Fatal(err)
	}
	if b := role.Role.PermissionsBoundary; b == nil || aws.ToString(b.PermissionsBoundaryArn) != arn || b.PermissionsBoundaryType != "Policy" {
		t.Errorf("GetRole PermissionsBoundary: got %+v, want %s of type Policy", b, arn)
	}
	p, err := admin.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil || aws.ToInt32(p.Policy.PermissionsBoundaryUsageCount) != 1 {
		t.Errorf("GetPolicy: got %+v %v, want PermissionsBoundaryUsageCount 1", p, err)
	}

	errs := []struct {
		name string
		call func() error
		code string
	}{
		{"duplicate policy name", func() error {
			_, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("dsm-datasync-boundary"), PolicyDocument: aws.String(boundaryDoc)})
			return err
		}, "EntityAlreadyExists"},
		{"policy with a principal", func() error {
			_, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("bad"),
				PolicyDocument: aws.String(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`)})
			return err
		}, "MalformedPolicyDocument"},
		{"policy over 6144 characters", func() error {
			big := `{"Statement":[` + strings.Repeat(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/k"},`, 90) + `{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
			_, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
			return err
		}, "LimitExceeded"},
		{"boundary that does not exist", func() error {
			_, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ghost-bounded"), AssumeRolePolicyDocument: aws.String(trustAdminB),
				PermissionsBoundary: aws.String("arn:aws:iam::222222222222:policy/ghost")})
			return err
		}, "NoSuchEntity"},
		{"boundary of another account", func() error {
			_, err := admin.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("bounded"),
				PermissionsBoundary: aws.String("arn:aws:iam::111111111111:policy/dsm-datasync-boundary")})
			return err
		}, "NoSuchEntity"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); apiCode(err) != tt.code {
				t.Errorf("got %v, want %s", err, tt.code)
			}
		})
	}
	if _, err := admin.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ghost-bounded")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("role with a missing boundary was created: GetRole got %v", err)
	}
}

// TestPermissionsBoundaryLimitsRoleSession: a session's effective permissions are its
// role's identity policies within the boundary; a same-account bucket policy naming
// the session grants beyond the boundary, one naming the role does not.
func TestPermissionsBoundaryLimitsRoleSession(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	admin, adminSTS, adminS3 := clients(inst, "AKIAADMINB", "sb", "")
	arn := "arn:aws:iam::222222222222:policy/dsm-datasync-boundary"
	if _, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("dsm-datasync-boundary"), PolicyDocument: aws.String(boundaryDoc)}); err != nil {
		t.Fatal(err)
	}
	mustRole(t, admin, &iam.CreateRoleInput{RoleName: aws.String("worker"), AssumeRolePolicyDocument: aws.String(trustAdminB),
		PermissionsBoundary: aws.String(arn)}, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	mustCreateBucket(t, adminS3, "team-data")
	if _, err := adminS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("team-data"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	workerIAM, workerS3 := sessionClients(t, inst, adminSTS, "arn:aws:iam::222222222222:role/worker", "job-1")

	if _, err := workerS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("allowed-out")}); err != nil {
		t.Errorf("CreateBucket inside the boundary: %v", err)
	}
	if _, err := workerS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("elsewhere")}); apiCode(err) != "AccessDenied" {
		t.Errorf("CreateBucket outside the boundary: got %v, want AccessDenied", err)
	}
	_, err := workerIAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("escalate"), AssumeRolePolicyDocument: aws.String(trustAdminB)})
	if apiCode(err) != "AccessDenied" || !strings.Contains(apiMessage(err), "because no permissions boundary allows the iam:CreateRole action") {
		t.Errorf("CreateRole outside the boundary: got %v, want AccessDenied naming the permissions boundary", err)
	}

	get := func() error {
		_, err := workerS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("team-data"), Key: aws.String("k")})
		return err
	}
	put := func(principal string) {
		t.Helper()
		doc := `{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-data/*"}]}`
		if _, err := adminS3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("team-data"), Policy: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	put("arn:aws:iam::222222222222:role/worker")
	if err := get(); apiCode(err) != "AccessDenied" {
		t.Errorf("bucket policy naming the role, outside the boundary: got %v, want AccessDenied", err)
	}
	put("arn:aws:sts::222222222222:assumed-role/worker/job-1")
	if err := get(); err != nil {
		t.Errorf("bucket policy naming the session: got %v, want allowed", err)
	}

	// With a boundary that allows everything the role's own Action:* applies: the
	// boundary was what denied.
	if _, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("open"),
		PolicyDocument: aws.String(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("worker"),
		PermissionsBoundary: aws.String("arn:aws:iam::222222222222:policy/open")}); err != nil {
		t.Fatal(err)
	}
	if _, err := workerS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("elsewhere")}); err != nil {
		t.Errorf("CreateBucket after the boundary was widened: %v", err)
	}
}

// TestPermissionsBoundaryConditionKey: iam:PermissionsBoundary is the requested boundary
// on CreateRole and PutRolePermissionsBoundary, and the role's own boundary on
// PutRolePolicy, so AWS's delegated role creation pattern can be written and checked.
func TestPermissionsBoundaryConditionKey(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	admin, adminSTS, _ := clients(inst, "AKIAADMINB", "sb", "")
	arn := "arn:aws:iam::222222222222:policy/dsm-datasync-boundary"
	other := "arn:aws:iam::222222222222:policy/other"
	for name, doc := range map[string]string{"dsm-datasync-boundary": boundaryDoc, "other": `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`} {
		if _, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	delegate := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":["iam:CreateRole","iam:PutRolePolicy","iam:PutRolePermissionsBoundary","iam:DeleteRolePermissionsBoundary"],"Resource":"*",
	  "Condition":{"StringEquals":{"iam:PermissionsBoundary":"` + arn + `"}}}]}`
	mustRole(t, admin, &iam.CreateRoleInput{RoleName: aws.String("creator"), AssumeRolePolicyDocument: aws.String(trustAdminB)}, delegate)
	mustRole(t, admin, &iam.CreateRoleInput{RoleName: aws.String("unbounded"), AssumeRolePolicyDocument: aws.String(trustAdminB)}, "")
	creator, _ := sessionClients(t, inst, adminSTS, "arn:aws:iam::222222222222:role/creator", "creator")
	anything := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)

	tests := []struct {
		name    string
		call    func() error
		wantErr bool
	}{
		{"CreateRole without a boundary", func() error {
			_, err := creator.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("free"), AssumeRolePolicyDocument: aws.String(trustAdminB)})
			return err
		}, true},
		{"CreateRole with another boundary", func() error {
			_, err := creator.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("loose"), AssumeRolePolicyDocument: aws.String(trustAdminB), PermissionsBoundary: aws.String(other)})
			return err
		}, true},
		{"CreateRole with the boundary", func() error {
			_, err := creator.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("made"), AssumeRolePolicyDocument: aws.String(trustAdminB), PermissionsBoundary: aws.String(arn)})
			return err
		}, false},
		{"PutRolePolicy on a role with the boundary", func() error {
			_, err := creator.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("made"), PolicyName: aws.String("p"), PolicyDocument: anything})
			return err
		}, false},
		{"PutRolePolicy on a role without a boundary", func() error {
			_, err := creator.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("unbounded"), PolicyName: aws.String("p"), PolicyDocument: anything})
			return err
		}, true},
		{"PutRolePermissionsBoundary to another policy", func() error {
			_, err := creator.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("made"), PermissionsBoundary: aws.String(other)})
			return err
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.wantErr && apiCode(err) != "AccessDenied" {
				t.Errorf("got %v, want AccessDenied", err)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("got %v, want success", err)
			}
		})
	}
	role, err := admin.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("made")})
	if err != nil || role.Role.PermissionsBoundary == nil || aws.ToString(role.Role.PermissionsBoundary.PermissionsBoundaryArn) != arn {
		t.Errorf("made: got %+v %v, want boundary %s kept", role, err, arn)
	}
}
