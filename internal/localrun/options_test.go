package localrun

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckPrerequisitesNamesMakeTargets(t *testing.T) {
	t.Setenv("DSMIGRATE_CDK_OUT", "")
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o600)
	o := Options{Root: root, Arch: "amd64"}
	err := o.CheckPrerequisites()
	if err == nil {
		t.Fatal("got no error for an empty checkout, want missing prerequisites")
	}
	for _, want := range []string{"make deps", "make build-local", "make synth", "aws-lambda-rie", "dist-amd64/preflight/bootstrap"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to mention %q", err, want)
		}
	}
}
