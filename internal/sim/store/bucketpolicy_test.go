package store

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// TestPutBucketPolicyRefusesNotPrincipalAllow: AWS's NotPrincipal page says NotPrincipal
// "must be used with Deny" and using it with Allow "is not supported"; S3 refuses such
// a policy as malformed, and keeps the policy it had.
func TestPutBucketPolicyRefusesNotPrincipalAllow(t *testing.T) {
	s := newTestStore(t)
	if err := s.CreateBucket("bkt", "us-east-1", "111111111111", ""); err != nil {
		t.Fatal(err)
	}
	const kept = `{"Version":"2012-10-17","Statement":[{"Sid":"Guard","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::bkt"}]}`
	if err := s.PutBucketPolicy("bkt", kept); err != nil {
		t.Fatalf("NotPrincipal with Deny: %v", err)
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Sid":"Everyone","Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}`
	err := s.PutBucketPolicy("bkt", allow)
	var e *Error
	if !errors.As(err, &e) || e.Code != "MalformedPolicy" {
		t.Fatalf("NotPrincipal with Allow: got %v, want MalformedPolicy", err)
	}
	if got, _ := s.GetBucketPolicy("bkt"); got != kept {
		t.Errorf("got policy %s, want the earlier one kept", got)
	}
}

// TestPutBucketPolicyResourceAndActionChecks: S3 refuses a Resource of "*" ("Policy has
// invalid resource") and an action whose resource type (bucket or object, per the
// Service Authorization Reference) matches none of the statement's resources ("Action
// does not apply to any resource(s) in statement"), and keeps the policy it had.
func TestPutBucketPolicyResourceAndActionChecks(t *testing.T) {
	s := newTestStore(t)
	if err := s.CreateBucket("bkt", "us-east-1", "111111111111", ""); err != nil {
		t.Fatal(err)
	}
	stmt := func(action, resource string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":` + action + `,"Resource":` + resource + `}]}`
	}
	const kept = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::bkt"}]}`
	if err := s.PutBucketPolicy("bkt", kept); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, give, wantMsg string
	}{
		{"resource star", stmt(`"s3:GetObject"`, `"*"`), "Policy has invalid resource"},
		{"resource star beside a good one", stmt(`"s3:GetObject"`, `["arn:aws:s3:::bkt/*","*"]`), "Policy has invalid resource"},
		{"bucket action on objects only", stmt(`"s3:ListBucket"`, `"arn:aws:s3:::bkt/*"`), "Action does not apply to any resource(s) in statement"},
		{"one of two actions fits no resource", stmt(`["s3:GetObject","s3:ListBucket"]`, `"arn:aws:s3:::bkt/*"`), "Action does not apply to any resource(s) in statement"},
		{"object action on the bucket only", stmt(`"s3:GetObject"`, `"arn:aws:s3:::bkt"`), "Action does not apply to any resource(s) in statement"},
		{"account action", stmt(`"s3:ListAllMyBuckets"`, `["arn:aws:s3:::bkt","arn:aws:s3:::bkt/*"]`), "Action does not apply to any resource(s) in statement"},
		{"fits", stmt(`["s3:GetObject","s3:ListBucket"]`, `["arn:aws:s3:::bkt","arn:aws:s3:::bkt/*"]`), ""},
		{"wildcard action", stmt(`"s3:Get*"`, `"arn:aws:s3:::bkt"`), ""},
		{"wildcard bucket part covers objects", stmt(`"s3:GetObject"`, `"arn:aws:s3:::bk*"`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.PutBucketPolicy("bkt", tt.give)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("got %v, want accepted", err)
				}
				if err := s.PutBucketPolicy("bkt", kept); err != nil {
					t.Fatal(err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != "MalformedPolicy" || e.Message != tt.wantMsg {
				t.Fatalf("got %v, want MalformedPolicy %q", err, tt.wantMsg)
			}
			if got, _ := s.GetBucketPolicy("bkt"); got != kept {
				t.Errorf("got policy %s, want the earlier one kept", got)
			}
		})
	}
}

// TestBucketOwnerDenyCoversForeignObjects: with ACLs enabled, an object written by
// another account belongs to it and the bucket policy's grants do not reach it, but the
// bucket owner's explicit Deny still does (S3 User Guide, How Amazon S3 authorizes a
// request for an object operation: the bucket context checks for an explicit deny).
func TestBucketOwnerDenyCoversForeignObjects(t *testing.T) {
	s := newTestStore(t)
	if err := s.CreateBucket("bkt", "us-east-1", "111111111111", OwnershipWriter); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"theirs/k", "open/k"} {
		if _, err := s.PutObject(PutObjectInput{Bucket: "bkt", Key: key, Body: strings.NewReader("x"), Size: 1, Writer: "222222222222"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PutObject(PutObjectInput{Bucket: "bkt", Key: "ours/k", Body: strings.NewReader("x"), Size: 1, Writer: "111111111111"}); err != nil {
		t.Fatal(err)
	}
	pol := `{"Version":"2012-10-17","Statement":[
	  {"Sid":"Guard","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/theirs/*"},
	  {"Sid":"Read","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}`
	if err := s.PutBucketPolicy("bkt", pol); err != nil {
		t.Fatal(err)
	}
	writer, other := identity.RootPrincipal("222222222222"), identity.RootPrincipal("333333333333")
	tests := []struct {
		name     string
		p        identity.Principal
		resource string
		want     bool
	}{
		{"owner's explicit deny reaches the writer's object", writer, "arn:aws:s3:::bkt/theirs/k", false},
		{"the writer reads its object the deny does not name", writer, "arn:aws:s3:::bkt/open/k", true},
		{"the bucket policy's grant does not reach a foreign object", other, "arn:aws:s3:::bkt/open/k", false},
		{"the grant reaches the bucket owner's object", other, "arn:aws:s3:::bkt/ours/k", true},
	}
	for _, tt := range tests {
		if got := s.Authorize(tt.p, "s3:GetObject", tt.resource, nil) == nil; got != tt.want {
			t.Errorf("%s: got allowed %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestRolePolicyEditsRestartPropagation: IAM is eventually consistent for every change,
// not only role creation: CreateRole, PutRolePolicy and UpdateAssumeRolePolicy each set
// the time services measure the propagation delay from, and a trust policy naming a
// role younger than the delay is refused as an invalid principal.
func TestRolePolicyEditsRestartPropagation(t *testing.T) {
	s := newTestStore(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	delay := time.Minute
	s.UpdateSettings(&delay, nil, nil)
	const acct = "111111111111"
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	r, err := s.CreateRole(CreateRoleInput{AccountID: acct, Name: "worker", TrustPolicy: trust})
	if err != nil {
		t.Fatal(err)
	}
	if !r.PoliciesChanged.Equal(clock) {
		t.Fatalf("CreateRole: PoliciesChanged %v, want %v", r.PoliciesChanged, clock)
	}
	naming := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + r.Arn + `"},"Action":"sts:AssumeRole"}]}`
	_, err = s.CreateRole(CreateRoleInput{AccountID: acct, Name: "caller", TrustPolicy: naming})
	var e *Error
	if !errors.As(err, &e) || e.Code != "MalformedPolicyDocument" || e.Message != `Invalid principal in policy: "AWS":"`+r.Arn+`"` {
		t.Fatalf("trust policy naming a role inside the delay: got %v, want MalformedPolicyDocument Invalid principal in policy", err)
	}
	clock = clock.Add(2 * time.Minute)
	if _, err := s.CreateRole(CreateRoleInput{AccountID: acct, Name: "caller", TrustPolicy: naming}); err != nil {
		t.Fatalf("trust policy naming a propagated role: %v", err)
	}
	clock = clock.Add(time.Hour)
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`
	if err := s.PutRolePolicy(acct, "worker", "p", pol); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.RoleByArn(r.Arn); !got.PoliciesChanged.Equal(clock) || !got.CreateDate.Equal(r.CreateDate) {
		t.Errorf("PutRolePolicy: PoliciesChanged %v CreateDate %v, want %v and %v", got.PoliciesChanged, got.CreateDate, clock, r.CreateDate)
	}
	clock = clock.Add(time.Hour)
	if err := s.UpdateAssumeRolePolicy(acct, "worker", trust); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.RoleByArn(r.Arn); !got.PoliciesChanged.Equal(clock) {
		t.Errorf("UpdateAssumeRolePolicy: PoliciesChanged %v, want %v", got.PoliciesChanged, clock)
	}
}

// TestRequestedRegionIsTheBucketRegion: aws:RequestedRegion is the Region the request
// was sent to; an S3 call on a bucket in another Region than the simulator's is sent to
// that bucket's Region (DataSync reading a source bucket in another Region).
func TestRequestedRegionIsTheBucketRegion(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"region":"us-east-1","accounts":[{"id":"111111111111","name":"a","users":[
	  {"name":"eu","accessKeyId":"AKIAEU","secretAccessKey":"s","policies":[{"Version":"2012-10-17","Statement":[
	    {"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for name, region := range map[string]string{"eu-bkt": "eu-west-1", "us-bkt": "us-east-1"} {
		if err := s.CreateBucket(name, region, "111111111111", ""); err != nil {
			t.Fatal(err)
		}
	}
	c, ok := s.Credential("AKIAEU")
	if !ok {
		t.Fatal("no credential AKIAEU")
	}
	p := c.Principal
	if err := s.Authorize(p, "s3:GetObject", "arn:aws:s3:::eu-bkt/k", nil); err != nil {
		t.Errorf("object of the eu-west-1 bucket: %v, want allowed", err)
	}
	if err := s.Authorize(p, "s3:GetObject", "arn:aws:s3:::us-bkt/k", nil); err == nil {
		t.Error("object of the us-east-1 bucket: allowed, want denied")
	}
}
