package cfn

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeAssembly writes files (name → content) into a new directory.
func writeAssembly(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadAssembly(t *testing.T) {
	dir := writeAssembly(t, map[string]string{
		"manifest.json": `{"version":"48.0.0","artifacts":{
		  "Tree":{"type":"cdk:tree","properties":{"file":"tree.json"}},
		  "Dst":{"type":"aws:cloudformation:stack","environment":"aws://222222222222/ap-northeast-1","properties":{"templateFile":"Dst.template.json","stackName":"dsmigrate-destination"}},
		  "Src":{"type":"aws:cloudformation:stack","environment":"aws://unknown-account/unknown-region","properties":{"templateFile":"Src.template.json"}},
		  "Dst.assets":{"type":"cdk:asset-manifest","properties":{"file":"Dst.assets.json"}}}}`,
		"Dst.template.json": `{"Resources":{"Fn":{"Type":"AWS::Lambda::Function","Metadata":{"aws:cdk:path":"Dst/Fn/Resource"}},"Role":{"Type":"AWS::IAM::Role"},"Other":{"Type":"AWS::IAM::Role"}}}`,
		"Src.template.json": `{"Resources":{"Role":{"Type":"AWS::IAM::Role"}}}`,
	})
	stacks, err := LoadAssembly(dir)
	if err != nil {
		t.Fatal(err)
	}
	type got struct{ ID, Name, Account, Region, Path string }
	var gots []got
	for _, s := range stacks {
		gots = append(gots, got{s.ArtifactID, s.Template.StackName, s.Account, s.Region, filepath.Base(s.Template.Path)})
	}
	want := []got{
		{"Dst", "dsmigrate-destination", "222222222222", "ap-northeast-1", "Dst.template.json"},
		{"Src", "Src", "", "", "Src.template.json"}, // no stackName: the artifact id; unknown environment: ""
	}
	if !reflect.DeepEqual(gots, want) {
		t.Fatalf("got %+v, want %+v", gots, want)
	}
	if ids := stacks[0].Template.OfType("AWS::IAM::Role"); !reflect.DeepEqual(ids, []string{"Other", "Role"}) {
		t.Errorf("got roles %v, want [Other Role] (sorted)", ids)
	}
	if p := stacks[0].Template.Resources["Fn"].CDKPath(); p != "Dst/Fn/Resource" {
		t.Errorf("got construct path %q, want Dst/Fn/Resource", p)
	}
}

func TestLoadAssemblyFailsLoudly(t *testing.T) {
	tests := []struct {
		name     string
		give     map[string]string
		wantErr  string
		notExist bool
	}{
		{name: "no manifest", give: map[string]string{}, wantErr: "manifest.json", notExist: true},
		{name: "manifest not JSON", give: map[string]string{"manifest.json": `{`}, wantErr: "parse "},
		{name: "template missing", give: map[string]string{"manifest.json": `{"artifacts":{"S":{"type":"aws:cloudformation:stack","properties":{"templateFile":"S.template.json"}}}}`}, wantErr: "S.template.json", notExist: true},
		{name: "template not JSON", give: map[string]string{"manifest.json": `{"artifacts":{"S":{"type":"aws:cloudformation:stack","properties":{"templateFile":"S.template.json"}}}}`, "S.template.json": `{"Resources":[]}`}, wantErr: "parse "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadAssembly(writeAssembly(t, tt.give))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tt.notExist {
				t.Errorf("got errors.Is(err, fs.ErrNotExist) = %v, want %v", got, tt.notExist)
			}
		})
	}
}
