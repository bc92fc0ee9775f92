package main

import (
	"reflect"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"slices"
	"testing"
)

func TestSourceAccessRole(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	roles := resources(app.Source, "AWS::IAM::Role")
	if len(roles) != 1 {
		t.Fatalf("got %d roles, want 1", len(roles))
	}
	var role map[string]any
	for _, r := range roles {
		role = r
	}
	if role["RoleName"] != cfg.NamePrefix+"-source-access" {
		t.Errorf("RoleName: got %v, want %s-source-access", role["RoleName"], cfg.NamePrefix)
	}

	trust := asList(role["AssumeRolePolicyDocument"].(map[string]any)["Statement"])
	if len(trust) != 1 {
		t.Fatalf("got %d trust statements, want 1: %s", len(trust), jsonString(trust))
	}
	st := trust[0].(map[string]any)
	wantPrincipals := []string{
		"arn:aws:iam::" + cfg.DestinationAccount + ":role/" + cfg.NamePrefix + "-fn-preflight",
		"arn:aws:iam::" + cfg.DestinationAccount + ":role/" + cfg.NamePrefix + "-fn-putbucketpolicy",
	}
	principal := st["Principal"].(map[string]any)
	if len(principal) != 1 || !reflect.DeepEqual(slices.Sorted(slices.Values(strs(principal["AWS"]))), wantPrincipals) {
		t.Errorf("Principal: got %s, want AWS %v only", jsonString(principal), wantPrincipals)
	}
	if got, want := jsonString(st["Condition"]), `{"StringEquals":{"sts:ExternalId":"`+cfg.ExternalID+`"}}`; got != want {
		t.Errorf("trust Condition: got %s, want %s", got, want)
	}
	if st["Action"] != "sts:AssumeRole" || st["Effect"] != "Allow" {
		t.Errorf("trust: got %s, want Allow sts:AssumeRole", jsonString(st))
	}
	// The trusted ARNs are exactly the execution roles DestinationStack creates.
	destRoles := map[string]bool{}
	for _, r := range resources(app.Dest, "AWS::IAM::Role") {
		if n, ok := r["RoleName"].(string); ok {
			destRoles["arn:aws:iam::"+cfg.DestinationAccount+":role/"+n] = true
		}
	}
	for _, p := range wantPrincipals {
		if !destRoles[p] {
			t.Errorf("trusted role %s is not created by DestinationStack", p)
		}
	}

	sts := statements(app.Source)
	if len(sts) != 1 {
		t.Fatalf("got %d permission statements, want 1: %s", len(sts), jsonString(sts))
	}
	perm := sts[0].S
	wantActions := slices.Sorted(slices.Values(sourceBucketActions))
	if got := slices.Sorted(slices.Values(strs(perm["Action"]))); !reflect.DeepEqual(got, wantActions) {
		t.Errorf("actions: got %v, want %v", got, wantActions)
	}
	var wantRes []string
	for _, b := range cfg.SourceBuckets {
		wantRes = append(wantRes, "arn:aws:s3:::"+b)
	}
	if got := strs(perm["Resource"]); !reflect.DeepEqual(got, wantRes) {
		t.Errorf("resources: got %v, want %v", got, wantRes)
	}
	if perm["Effect"] != "Allow" || perm["Condition"] != nil {
		t.Errorf("statement: got %s, want a plain Allow", jsonString(perm))
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

// TestAnySourceAccount: with dsmigrate:sourceAccount "*" the functions may assume the
// source-access role in any account, the stack for A is not pinned to an account, and
// cdk-nag still passes (the wildcard is suppressed with its reason).
func TestAnySourceAccount(t *testing.T) {
	app := synthApp(t, map[string]any{ctxSourceAccount: "*"}, "")
	want := "arn:aws:iam::*:role/" + app.Config.SourceAccessRoleName()
	found := 0
	for _, st := range statements(app.Dest) {
		if slices.Contains(strs(st.S["Action"]), "sts:AssumeRole") {
			found++
			if got := strs(st.S["Resource"]); !reflect.DeepEqual(got, []string{want}) {
				t.Errorf("%s: sts:AssumeRole on %v, want [%s]", st.Where, got, want)
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
