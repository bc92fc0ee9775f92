package store

import (
	"errors"
	"strings"
	"testing"
)

// TestDeletedRoleBecomesItsUniqueID: IAM User Guide, IAM role principals, and the re:Post
// Knowledge Center ("Why is there an unknown principal format in my IAM resource-based
// policy?"): a policy keeps a role by its unique id; once the role is deleted S3 shows
// the id (AROA…) in place of the ARN, the statement no longer applies, not even to a
// role re-created with the same name, and a policy saved with the id is refused.
func TestDeletedRoleBecomesItsUniqueID(t *testing.T) {
	s := newTestStore(t)
	const acct = "111111111111"
	if err := s.CreateBucket("bkt", "us-east-1", acct, ""); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	old, err := s.CreateRole(CreateRoleInput{AccountID: acct, Name: "transfer", TrustPolicy: trust})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(old.RoleID, "AROA") || len(old.RoleID) != 21 {
		t.Fatalf("role id %q, want AROA and 17 more characters", old.RoleID)
	}
	inline := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	if err := s.PutRolePolicy(acct, "transfer", "read", inline); err != nil {
		t.Fatal(err)
	}
	oldSession, err := s.IssueSession(old.Arn, "s", 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	naming := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + old.Arn + `"},"Action":"sts:AssumeRole"}]}`
	if _, err := s.CreateRole(CreateRoleInput{AccountID: acct, Name: "caller", TrustPolicy: naming}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"Ours","Effect":"Allow","Principal":{"AWS":"` + old.Arn + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*","Condition":{"ArnEquals":{"aws:PrincipalArn":"` + old.Arn + `"}}},` +
		`{"Sid":"Theirs","Effect":"Allow","Principal":{"AWS":["` + acct + `"]},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::bkt"}]}`
	if err := s.PutBucketPolicy("bkt", policy); err != nil {
		t.Fatal(err)
	}
	if err := s.Authorize(oldSession.Principal, "s3:GetObject", "arn:aws:s3:::bkt/k", nil); err != nil {
		t.Fatalf("the named role's session before the delete: %v", err)
	}

	var e *Error
	if err := s.DeleteRole(acct, "transfer"); !errors.As(err, &e) || e.Code != "DeleteConflict" {
		t.Fatalf("DeleteRole with an inline policy: got %v, want DeleteConflict", err)
	}
	if err := s.DeleteRolePolicy(acct, "transfer", "read"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRole(acct, "transfer"); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetBucketPolicy("bkt")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"Ours","Effect":"Allow","Principal":{"AWS":"` + old.RoleID + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*","Condition":{"ArnEquals":{"aws:PrincipalArn":"` + old.Arn + `"}}},` +
		`{"Sid":"Theirs","Effect":"Allow","Principal":{"AWS":["` + acct + `"]},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::bkt"}]}`
	if got != want {
		t.Errorf("GetBucketPolicy after the delete:\n got %s\nwant %s (the principal as its unique id, the condition untouched)", got, want)
	}
	if r, _ := s.GetRole(acct, "caller"); !strings.Contains(r.AssumeRolePolicyDocument, `"AWS":"`+old.RoleID+`"`) {
		t.Errorf("trust policy naming the deleted role: got %s, want it to name %s", r.AssumeRolePolicyDocument, old.RoleID)
	}

	// Re-created with the same name: a new id, and the statement does not apply to it.
	if err := s.PutBucketPolicy("bkt", got); !errors.As(err, &e) || e.Code != "MalformedPolicy" || e.Message != "Invalid principal in policy" {
		t.Errorf("saving the policy with the unique id: got %v, want MalformedPolicy Invalid principal in policy", err)
	}
	again, err := s.CreateRole(CreateRoleInput{AccountID: acct, Name: "transfer", TrustPolicy: trust})
	if err != nil {
		t.Fatal(err)
	}
	if again.Arn != old.Arn || again.RoleID == old.RoleID {
		t.Fatalf("re-created role: arn %s id %s, want the same ARN and a new id (old %s)", again.Arn, again.RoleID, old.RoleID)
	}
	newSession, err := s.IssueSession(again.Arn, "s", 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Authorize(newSession.Principal, "s3:GetObject", "arn:aws:s3:::bkt/k", nil); err == nil {
		t.Error("the re-created role's session: allowed by the statement that named the deleted role, want denied")
	}
	if err := s.PutRolePolicy(acct, "transfer", "read", inline); err != nil {
		t.Fatal(err)
	}
	if err := s.Authorize(oldSession.Principal, "s3:GetObject", "arn:aws:s3:::bkt/k", nil); err == nil {
		t.Error("a session of the deleted role: allowed by the re-created role's policies, want denied")
	}
	if got2, _ := s.GetBucketPolicy("bkt"); got2 != got {
		t.Errorf("re-creating the role changed the bucket policy to %s", got2)
	}
}
