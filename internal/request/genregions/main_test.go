package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedRegionsAreCurrent fails when internal/request/regions_sdk.go is not what
// the SDK version in go.mod gives: run `go generate ./internal/request`.
func TestGeneratedRegionsAreCurrent(t *testing.T) {
	want, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "regions_sdk.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("regions_sdk.go is not what genregions makes of the SDK in go.mod; run go generate ./internal/request\ngot:\n%s\nwant:\n%s", got, want)
	}
}

func TestParse(t *testing.T) {
	data := []byte(`{"partitions":[
	  {"id":"aws-cn","regionRegex":"^cn\\-\\w+\\-\\d+$","regions":{"aws-cn-global":{},"cn-north-1":{}}},
	  {"id":"aws","regionRegex":"^(us|eu)\\-\\w+\\-\\d+$","regions":{"us-east-1":{},"aws-global":{},"eu-west-1":{}}}]}`)
	got, err := parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "aws" || got[1].ID != "aws-cn" {
		t.Fatalf("got %+v, want partitions aws then aws-cn", got)
	}
	if w := []string{"eu-west-1", "us-east-1"}; len(got[0].Regions) != 2 || got[0].Regions[0] != w[0] || got[0].Regions[1] != w[1] {
		t.Errorf("aws regions: got %v, want %v (no aws-global)", got[0].Regions, w)
	}
	if len(got[1].Regions) != 1 || got[1].Regions[0] != "cn-north-1" {
		t.Errorf("aws-cn regions: got %v, want [cn-north-1]", got[1].Regions)
	}
	if _, err := parse([]byte(`{"partitions":[]}`)); err == nil {
		t.Errorf("no partitions: got nil error, want one")
	}
}
