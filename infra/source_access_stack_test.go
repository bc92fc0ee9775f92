package main

import (
	"reflect"
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
