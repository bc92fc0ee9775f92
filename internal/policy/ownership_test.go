package policy

import (
	"errors"
	"strings"
	"testing"
)

// TestOurSidOnAStatementThatIsNotOurs: a statement with one of our Sids is ours only when
// every principal it names is one of our roles (or a deleted role's unique id). Anything
// else is another team's statement: Merge refuses to overwrite it and RevokeOurs to remove
// it, and the error says why.
func TestOurSidOnAStatementThatIsNotOurs(t *testing.T) {
	stmt := func(principal string) string {
		return `{"Statement":[{"Sid":"DsmmediaRolesBucketAccess","Effect":"Allow",` + principal + `,"Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-a-media"}]}`
	}
	tests := []struct {
		name string
		give string
		want string // the reason in the message
	}{
		{name: "NotPrincipal beside our principal", give: stmt(`"Principal":{"AWS":"` + transferArn + `"},"NotPrincipal":{"AWS":"` + transferArn + `"}`), want: "(it uses NotPrincipal)"},
		{name: "NotPrincipal alone", give: stmt(`"NotPrincipal":{"AWS":"` + transferArn + `"}`), want: "(it uses NotPrincipal)"},
		{name: "no principal", give: `{"Statement":[{"Sid":"DsmmediaRolesBucketAccess","Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`, want: "(it has no Principal)"},
		{name: "every principal", give: stmt(`"Principal":"*"`), want: `(its principal is "*")`},
		{name: "a service beside our role", give: stmt(`"Principal":{"AWS":"` + transferArn + `","Service":"logging.s3.amazonaws.com"}`), want: "(it names non-AWS principals)"},
		{name: "a federated user beside our role", give: stmt(`"Principal":{"AWS":"` + transferArn + `","Federated":"cognito-identity.amazonaws.com"}`), want: "(it names non-AWS principals)"},
		{name: "a canonical user beside our role", give: stmt(`"Principal":{"AWS":"` + transferArn + `","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`), want: "(it names non-AWS principals)"},
		{name: "an empty AWS list", give: stmt(`"Principal":{"AWS":[]}`), want: "(it names no AWS principal)"},
		{name: "a deleted user's unique id", give: stmt(`"Principal":{"AWS":["AIDA3XFRBF535PLBIFPI4","` + transferArn + `"]}`), want: `(principal "AIDA3XFRBF535PLBIFPI4" is not one of our roles)`},
		{name: "a role id in lower case", give: stmt(`"Principal":{"AWS":["aroa3xfrbf535plbifpi4"]}`), want: `(principal "aroa3xfrbf535plbifpi4" is not one of our roles)`},
		{name: "our role in another account", give: stmt(`"Principal":{"AWS":"arn:aws:iam::999999999999:role/dsmigrate/dsmigrate/dsmigrate-media-transfer"}`), want: `(principal "arn:aws:iam::999999999999:role/dsmigrate/dsmigrate/dsmigrate-media-transfer" is not one of our roles)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantMsg := `the source bucket policy already has a statement with Sid "DsmmediaRolesBucketAccess" that is not ours ` + tt.want +
				"; dsmigrate will not overwrite it: rename or remove that statement"
			got, err := Merge(tt.give, ours(t))
			var c *SidConflictError
			if !errors.As(err, &c) || c.Sid != "DsmmediaRolesBucketAccess" || c.Message != wantMsg {
				t.Fatalf("Merge: got (%q, %v), want a *SidConflictError %q", got, err, wantMsg)
			}
			got, deleted, err := RevokeOurs(tt.give, ours(t))
			if !errors.As(err, &c) || c.Message != wantMsg || deleted || got != "" {
				t.Errorf("RevokeOurs: got (%q, %v, %v), want nothing removed and a *SidConflictError %q", got, deleted, err, wantMsg)
			}
		})
	}
}

// TestMergeLimitIs20KB: S3's bucket policy limit is 20 KB ("Bucket policies are limited to
// 20 KB in size", Amazon S3 User Guide): a merged policy of 20,480 bytes is written, one of
// 20,481 bytes is refused with both numbers.
func TestMergeLimitIs20KB(t *testing.T) {
	withPad := func(n int) string {
		return `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + strings.Repeat("r", n) + `"}]}`
	}
	base, err := Merge(withPad(0), ours(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Merge(withPad(20480-len(base)), ours(t))
	if err != nil || len(got) != 20480 {
		t.Errorf("a merge of 20480 bytes: got %d bytes, %v; want it written", len(got), err)
	}
	_, err = Merge(withPad(20481-len(base)), ours(t))
	want := "the merged bucket policy would be 20481 bytes without whitespace; S3 allows 20480 (20 KB): remove unused statements from the source bucket policy"
	if err == nil || err.Error() != want {
		t.Errorf("a merge of 20481 bytes: got %v, want %q", err, want)
	}
}
