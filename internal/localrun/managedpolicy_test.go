package localrun

import (
	"strings"
	"testing"
)

// TestReadManagedPoliciesAndBoundaries: the stack's AWS::IAM::ManagedPolicy resources
// are read as standalone policies (name, path, ARN, resolved document) and a role's
// PermissionsBoundary property as the ARN it references.
func TestReadManagedPoliciesAndBoundaries(t *testing.T) {
	give := stepFunctionsTemplate("")
	give = strings.Replace(give, `{`, `{"Boundary": {"Type":"AWS::IAM::ManagedPolicy","Properties":{"ManagedPolicyName":"dsm-datasync-boundary","Path":"/dsmigrate/",
	  "PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":s3:::team-a-*"]]}}]}}},`, 1)
	give = strings.Replace(give, `"RoleName":"dsmigrate-fn-createroles",`, `"RoleName":"dsmigrate-fn-createroles","PermissionsBoundary":{"Ref":"Boundary"},`, 1)
	tm := destinationTemplate(t, give)
	r, byDir, err := NewDestinationResolver(tm, "aws", "222222222222", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ReadDestination(r, byDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.ManagedPolicies) != 1 {
		t.Fatalf("got %d managed policies, want 1", len(spec.ManagedPolicies))
	}
	mp := spec.ManagedPolicies[0]
	const arn = "arn:aws:iam::222222222222:policy/dsmigrate/dsm-datasync-boundary"
	checks := []struct{ name, got, want string }{
		{"name", mp.Name, "dsm-datasync-boundary"},
		{"path", mp.Path, "/dsmigrate/"},
		{"arn", mp.Arn, arn},
		{"document", string(mp.Document), `{"Statement":[{"Action":"s3:*","Effect":"Allow","Resource":"arn:aws:s3:::team-a-*"}],"Version":"2012-10-17"}`},
		{"createroles boundary", spec.Functions[1].Role.PermissionsBoundary, arn},
		{"preflight boundary", spec.Functions[0].Role.PermissionsBoundary, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}
