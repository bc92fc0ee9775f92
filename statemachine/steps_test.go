package statemachine

import (
	"encoding/json"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStepsMatchFunctionsAndDefinition ties Steps to the repository and the definition:
// one step per functions/* directory, each with its handler package internal/<dir>; the
// definition uses exactly their placeholders, runs each from the Task state named in the
// list, and runs them in the list's order.
func TestStepsMatchFunctionsAndDefinition(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("..", "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	var all []string
	for _, s := range AllSteps() {
		all = append(all, s.Dir)
	}
	if got := slices.Sorted(slices.Values(all)); !slices.Equal(got, dirs) {
		t.Errorf("Steps and BatchSteps name the function directories %v, want the directories of functions/: %v", got, dirs)
	}
	for _, dir := range all {
		for _, p := range []string{filepath.Join("..", "functions", dir, "main.go"), filepath.Join("..", "internal", dir)} {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("step %s: %v", dir, err)
			}
		}
	}

	if got, want := UsedPlaceholders(Definition()), slices.Sorted(slices.Values(append(Placeholders(), EventBusPlaceholder))); !slices.Equal(got, want) {
		t.Errorf("the definition uses placeholders %v, want exactly those of Steps and %s: %v", got, EventBusPlaceholder, want)
	}

	var def struct {
		StartAt string
		States  map[string]struct{ Type, Resource, Next, Default string }
	}
	if err := json.Unmarshal(Definition(), &def); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range Steps() {
		for _, v := range []string{s.Dir, s.Placeholder, s.State} {
			if seen[v] {
				t.Errorf("Steps: %q appears twice", v)
			}
			seen[v] = true
		}
		st, ok := def.States[s.State]
		if !ok || st.Type != "Task" || st.Resource != "${"+s.Placeholder+"}" {
			t.Errorf("step %s: state %s is %+v, want a Task with Resource ${%s}", s.Dir, s.State, st, s.Placeholder)
		}
	}

	// The main path (Next links from StartAt, and a Choice's Default) runs the steps in
	// the list's order.
	var order []string
	for name, hops := def.StartAt, 0; name != "" && hops <= len(def.States); hops++ {
		st := def.States[name]
		if p, ok := strings.CutPrefix(st.Resource, "${"); ok {
			if p = strings.TrimSuffix(p, "}"); !slices.Contains(order, p) {
				order = append(order, p)
			}
		}
		name = st.Next
		if name == "" {
			name = st.Default
		}
	}
	var want []string
	for _, s := range Steps() {
		want = append(want, s.Placeholder)
	}
	// Steps lists the main path's steps first; the steps only other branches run
	// (teardown, behind ChooseMode and CheckDeleteResources) come after them.
	if len(order) > len(want) || !slices.Equal(order, want[:len(order)]) {
		t.Errorf("the definition runs %v in this order, Steps lists %v", order, want)
	}
}

func TestStepOfPlaceholder(t *testing.T) {
	got, ok := StepOfPlaceholder("StartTaskFunctionArn")
	if !ok || got.Dir != "starttask" || got.State != "StartTask" {
		t.Errorf("got %+v %v, want the starttask step", got, ok)
	}
	if got, ok := StepOfPlaceholder("NoSuchFunctionArn"); ok {
		t.Errorf("got %+v, want none", got)
	}
}

func TestCheckPlaceholders(t *testing.T) {
	all := string(Definition())
	tests := []struct {
		name    string
		give    string
		wantErr string
	}{
		{name: "the definition", give: all},
		{name: "not JSON", give: "{", wantErr: "not a JSON object"},
		{name: "missing placeholder", give: strings.ReplaceAll(all, "${PollExecutionFunctionArn}", "arn:aws:lambda:x"), wantErr: "${PollExecutionFunctionArn} is never used"},
		{name: "unknown placeholder", give: strings.ReplaceAll(all, "${PollExecutionFunctionArn}", "${PollFunctionArn}"), wantErr: "${PollFunctionArn} is not a step's placeholder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPlaceholders([]byte(tt.give))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestStepsImportNoOtherStep keeps the steps independent: a step package
// (internal/<Step.Dir>) imports the shared packages (execution, request, policy, failure,
// awserror, naming, sourceaccess ...), never another step, not even in its tests; and
// outside tests only its own functions/<Step.Dir> imports it (awsrun and localrun read the
// execution document through internal/execution).
func TestStepsImportNoOtherStep(t *testing.T) {
	root := ".."
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(mod), "\n")
	module, ok := strings.CutPrefix(strings.TrimSpace(first), "module ")
	if !ok {
		t.Fatalf("go.mod starts with %q, want the module line", first)
	}
	stepOf := map[string]string{} // import path -> step directory
	for _, dir := range StepDirs() {
		stepOf[module+"/internal/"+dir] = dir
	}

	checked := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "dist") ||
			name == "node_modules" || name == "cdk.out" || name == "testdata" || name == "bin") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, build.ImportComment)
		if _, none := err.(*build.NoGoError); none {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		rel, _ := filepath.Rel(root, path)
		self := module + "/" + filepath.ToSlash(rel)
		checked++
		for _, imp := range pkg.Imports {
			if dir, isStep := stepOf[imp]; isStep && filepath.ToSlash(rel) != "functions/"+dir {
				t.Errorf("%s imports the step package %s: only functions/%s may; shared types belong in internal/execution", self, imp, dir)
			}
		}
		if me, isStep := stepOf[self]; isStep {
			for _, imp := range slices.Concat(pkg.Imports, pkg.TestImports, pkg.XTestImports) {
				if dir, other := stepOf[imp]; other && dir != me {
					t.Errorf("step %s imports step %s", me, dir)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < len(stepOf) {
		t.Fatalf("checked %d packages, want at least the %d steps", checked, len(stepOf))
	}
}
