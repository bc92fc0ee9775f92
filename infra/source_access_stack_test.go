package main

import (
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// TestSourceAccessRoles: two roles in account A, each trusted by exactly one function role
// of B by ARN, without an external id; the read role may only read, the writer only edit
// the bucket policy; both only on the listed source buckets.
func TestSourceAccessRoles(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	roles := resources(app.Source, "AWS::IAM::Role")
	if len(roles) != 2 {
		t.Fatalf("got %d roles, want 2", len(roles))
	}
	var wantRes []string
	for _, b := range cfg.SourceBuckets {
		wantRes = append(wantRes, "arn:aws:s3:::"+b)
	}
	destRoles := map[string]bool{}
	for _, r := range resources(app.Dest, "AWS::IAM::Role") {
		if n, ok := r["RoleName"].(string); ok {
			destRoles["arn:aws:iam::"+cfg.DestinationAccount+":role/"+n] = true
		}
	}
	for _, tt := range []struct {
		name, trusted string
		actions       []string
	}{
		{cfg.NamePrefix + "-source-read", cfg.NamePrefix + "-fn-preflight", []string{"kms:DescribeKey", "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy", "s3:GetBucketRequestPayment", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration", "s3:ListBucket"}},
		{cfg.NamePrefix + "-source-policy-writer", cfg.NamePrefix + "-fn-putbucketpolicy", []string{"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant", "s3:DeleteBucketPolicy", "s3:GetBucketPolicy", "s3:PutBucketPolicy"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id, role := resourceNamed(t, app.Source, "AWS::IAM::Role", "RoleName", tt.name)
			trust := asList(role["AssumeRolePolicyDocument"].(map[string]any)["Statement"])
			if len(trust) != 1 {
				t.Fatalf("got %d trust statements, want 1: %s", len(trust), jsonString(trust))
			}
			st := trust[0].(map[string]any)
			wantPrincipal := "arn:aws:iam::" + cfg.DestinationAccount + ":role/" + tt.trusted
			if got := jsonString(st["Principal"]); got != `{"AWS":"`+wantPrincipal+`"}` {
				t.Errorf("Principal: got %s, want AWS %s only", got, wantPrincipal)
			}
			if st["Condition"] != nil {
				t.Errorf("trust Condition: got %s, want none (no external id)", jsonString(st["Condition"]))
			}
			if st["Action"] != "sts:AssumeRole" || st["Effect"] != "Allow" {
				t.Errorf("trust: got %s, want Allow sts:AssumeRole", jsonString(st))
			}
			if !destRoles[wantPrincipal] {
				t.Errorf("trusted role %s is not created by DestinationStack", wantPrincipal)
			}
			var perms []statement
			for pid, p := range resources(app.Source, "AWS::IAM::Policy") {
				if jsonString(p["Roles"]) != `[{"Ref":"`+id+`"}]` {
					continue
				}
				for _, s := range asList(p["PolicyDocument"].(map[string]any)["Statement"]) {
					perms = append(perms, statement{pid, s.(map[string]any)})
				}
			}
			// Every statement allows on the listed buckets, or the listed keys
			// (dsmigrate:sourceKmsKeys), only; the conditions are the read role's folder
			// listing (s3:delimiter "/", TestAttackReadRoleListsEveryKey) and the grantee and
			// operations of a KMS grant (TestAttackWriterGrantsKeyToItself).
			var actions []string
			for _, p := range perms {
				perm := p.S
				actions = append(actions, strs(perm["Action"])...)
				want := wantRes
				if strs(perm["Action"])[0][:4] == "kms:" {
					want = cfg.SourceKMSKeys
				}
				if got := strs(perm["Resource"]); !reflect.DeepEqual(got, want) {
					t.Errorf("%v resources: got %v, want %v", perm["Sid"], got, want)
				}
				wantCond := "null"
				switch perm["Sid"] {
				case "ListSourceFolders":
					wantCond = `{"StringEquals":{"s3:delimiter":"/"}}`
				case "GrantSourceKeysToTransferRoles":
					wantCond = `{"ForAllValues:StringEquals":{"kms:GrantOperations":["Decrypt"]},"Null":{"kms:GrantOperations":"false"},"StringLike":{"kms:GranteePrincipal":"arn:aws:iam::` +
						cfg.DestinationAccount + `:role/dsmigrate/` + cfg.NamePrefix + `/` + cfg.NamePrefix + `-*-transfer"}}`
				}
				if perm["Effect"] != "Allow" || jsonString(perm["Condition"]) != wantCond || perm["Sid"] == nil {
					t.Errorf("statement: got %s, want an Allow with a Sid and condition %s", jsonString(perm), wantCond)
				}
			}
			if got := slices.Sorted(slices.Values(actions)); !reflect.DeepEqual(got, tt.actions) {
				t.Errorf("actions: got %v, want %v", got, tt.actions)
			}
		})
	}
}

func TestSourceAccessStackEnvironment(t *testing.T) {
	app := defaultSynth(t)
	if got := *app.Stacks.SourceAccess.Account(); got != app.Config.SourceAccount {
		t.Errorf("SourceAccessStack account: got %s, want %s", got, app.Config.SourceAccount)
	}
	if got := *app.Stacks.Destination.Account(); got != app.Config.DestinationAccount {
		t.Errorf("DestinationStack account: got %s, want %s", got, app.Config.DestinationAccount)
	}
}

// TestAnySourceAccount: with dsmigrate:sourceAccount "*" the functions may assume their
// role in any account, the stack for A is not pinned to an account, and cdk-nag still
// passes (the wildcard is suppressed with its reason).
func TestAnySourceAccount(t *testing.T) {
	app := synthApp(t, map[string]any{ctxSourceAccount: "*"}, "")
	want := map[string]string{
		"PreflightRole":       "arn:aws:iam::*:role/" + app.Config.SourceReadRoleName(),
		"PutBucketPolicyRole": "arn:aws:iam::*:role/" + app.Config.SourcePolicyWriterRoleName(),
	}
	found := 0
	for _, st := range statements(app.Dest) {
		if !slices.Contains(strs(st.S["Action"]), "sts:AssumeRole") {
			continue
		}
		found++
		for prefix, arn := range want {
			if len(st.Where) >= len(prefix) && st.Where[:len(prefix)] == prefix {
				if got := strs(st.S["Resource"]); !reflect.DeepEqual(got, []string{arn}) {
					t.Errorf("%s: sts:AssumeRole on %v, want [%s]", st.Where, got, arn)
				}
			}
		}
	}
	if found != 2 {
		t.Errorf("got %d AssumeRole statements, want 2 (preflight, putbucketpolicy)", found)
	}
	if got := *app.Stacks.SourceAccess.Account(); got == "*" || got == app.Config.DestinationAccount {
		t.Errorf("SourceAccessStack account: got %s, want the deploying profile's account", got)
	}
	for _, s := range []awscdk.Stack{app.Stacks.Destination.Stack, app.Stacks.SourceAccess.Stack} {
		if got := nagFindings(s); len(got) != 0 {
			t.Errorf("%s: cdk-nag findings: %v", *s.StackName(), got)
		}
	}
}
