package iampolicy

import (
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// FuzzParseEvaluate: policy documents come from API callers; parsing and evaluating any
// document must not panic, and an explicit deny must never be reported as allowed.
func FuzzParseEvaluate(f *testing.F) {
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`)
	f.Add(`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["111111111111"]},"NotAction":"s3:Get*","NotResource":"arn:aws:s3:::b/*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["a*",1,true]}}}}`)
	f.Add(`{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"datasync.amazonaws.com"},"Condition":{"Null":{"sts:ExternalId":"false"}}}]}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse(doc)
		if err != nil {
			return
		}
		for _, pr := range []identity.Principal{userA, sessB, datasync, rootB} {
			req := Request{Principal: pr, Action: "s3:GetObject", Resource: objArn, ResourceAccount: acctA,
				Context: identity.Context{"s3:prefix": {"a"}, "aws:TagKeys": {"a", "b"}}}
			for _, in := range []Input{
				{Request: req, IdentityPolicies: []*Policy{p}, ResourcePolicy: p},
				{Request: req, IdentityPolicies: []*Policy{p}, PermissionsBoundary: p, ResourcePolicy: p},
			} {
				if r := Evaluate(in); r.Allowed && r.ExplicitDeny {
					t.Fatalf("allowed and explicitly denied at once")
				}
			}
			_ = Evaluate(Input{Request: req, ResourcePolicy: p, TrustPolicy: true})
		}
	})
}
