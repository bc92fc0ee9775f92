// Package handlertest holds what the tests of the step handlers share: a run of a handler
// on a fixture in the package's testdata/ compared with a golden file (Run; `go test
// ./internal/<step> -update` rewrites the golden files), and the check that a failing
// handler logs once at its boundary (ErrorLoggedOnce). Only tests import it.
package handlertest

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update is the -update flag of every test binary that imports handlertest.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the outputs the tests got")

// Run decodes testdata/<input> of the calling package into the handler's input type, runs
// handle on it and compares the output with testdata/<output> (Golden).
func Run[In, Out any](t testing.TB, input, output string, handle func(context.Context, In) (Out, error)) {
	t.Helper()
	var in In
	readJSON(t, input, &in)
	got, err := handle(context.Background(), in)
	if err != nil {
		t.Fatalf("testdata/%s: got %v, want an output", input, err)
	}
	Golden(t, output, got)
}

// readJSON decodes testdata/<name> of the calling package's directory into v.
func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
}

// Golden compares got, as indented JSON, with testdata/<name> of the calling package;
// with -update it first rewrites the file.
func Golden(t testing.TB, name string, got any) {
	t.Helper()
	gotJSON, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, append(gotJSON, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(gotJSON)) != strings.TrimSpace(string(want)) {
		t.Errorf("got\n%s\nwant\n%s", gotJSON, want)
	}
}
