package store

import (
	"errors"
	"testing"
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
