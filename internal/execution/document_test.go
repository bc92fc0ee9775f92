package execution

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The definitions live in statemachine/; this test reads every one of them but the batch
// state machine's, whose state documents are internal/batch's Plan and Report, not the
// execution document.
const (
	definitions     = "../../statemachine/*.asl.json"
	batchDefinition = "dsmigrate-batch.asl.json"
)

// jsonFields returns the JSON fields of struct type t by name, with the fields of
// embedded structs promoted as encoding/json promotes them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case name == "-" || !f.IsExported() && !f.Anonymous:
		case f.Anonymous && name == "" && ft.Kind() == reflect.Struct:
			for n, t := range jsonFields(ft) {
				if _, shadowed := fields[n]; !shadowed {
					fields[n] = t
				}
			}
		case name == "":
			fields[f.Name] = ft
		default:
			fields[name] = ft
		}
	}
	return fields
}

// resolve follows a reference path ("$.a.b") through the JSON fields of t. A path may go
// on into a json.RawMessage, a map or an interface, which hold any JSON.
func resolve(t reflect.Type, path string) error {
	rest, ok := strings.CutPrefix(path, "$")
	if !ok {
		return fmt.Errorf("%q is not a path", path)
	}
	walked := "$"
	for seg := range strings.SplitSeq(strings.TrimPrefix(rest, "."), ".") {
		if seg == "" {
			break
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == reflect.TypeFor[json.RawMessage]() || t.Kind() == reflect.Map || t.Kind() == reflect.Interface {
			return nil
		}
		if t.Kind() != reflect.Struct {
			return fmt.Errorf("%s: %s is a %s, not an object", path, walked, t)
		}
		ft, ok := jsonFields(t)[seg]
		if !ok {
			return fmt.Errorf("%s: %s (%s) has no field %q", path, walked, t, seg)
		}
		t, walked = ft, walked+"."+seg
	}
	return nil
}

// definition is what the test reads of a state machine definition.
type definition struct {
	StartAt string
	States  map[string]map[string]any
}

func readDefinitions(t *testing.T) map[string]definition {
	t.Helper()
	files, err := filepath.Glob(definitions)
	if err != nil || len(files) == 0 {
		t.Fatalf("no definition matches %s (err %v)", definitions, err)
	}
	defs := map[string]definition{}
	for _, f := range files {
		if filepath.Base(f) == batchDefinition {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d definition
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(d.States) == 0 || d.States[d.StartAt] == nil {
			t.Fatalf("%s: no states, or no StartAt state %q", f, d.StartAt)
		}
		defs[filepath.Base(f)] = d
	}
	return defs
}

// summaryStates read the execution's output (Summarize's or SummarizeShards'), not the
// document: statemachine's TestPublishStates checks their paths against those states.
var summaryStates = map[string]bool{"PublishSucceeded": true}

// pathRef is a JSONPath of the definition that reads or writes the execution document.
type pathRef struct {
	where string // state and field, for messages
	path  string
	catch bool // a Catch's ResultPath: it writes an error output there
}

// documentPaths lists the paths the states read from or write to the state document:
// ResultPath (states and Catch), InputPath, Choice variables, *Path fields and the ".$"
// values of Parameters. The StartAt state reads the execution input, not the document:
// the keys of its Parameters are returned as written fields instead.
func documentPaths(d definition) (refs []pathRef, startFields map[string]any) {
	for name, st := range d.States {
		if name == d.StartAt {
			startFields, _ = st["Parameters"].(map[string]any)
			continue
		}
		if summaryStates[name] {
			continue
		}
		// With an InputPath, Parameters and the *Path fields of the state read below it.
		prefix := ""
		if ip, ok := st["InputPath"].(string); ok && ip != "$" {
			prefix = strings.TrimPrefix(ip, "$")
			refs = append(refs, pathRef{where: name + ".InputPath", path: ip})
		}
		read := func(where, p string) {
			if strings.HasPrefix(p, "$$") || !strings.HasPrefix(p, "$") {
				return // the context object, or not a path
			}
			refs = append(refs, pathRef{where: name + "." + where, path: "$" + prefix + strings.TrimPrefix(p, "$")})
		}
		if rp, ok := st["ResultPath"].(string); ok {
			refs = append(refs, pathRef{where: name + ".ResultPath", path: rp})
		}
		catches, _ := st["Catch"].([]any)
		for i, c := range catches {
			if rp, ok := c.(map[string]any)["ResultPath"].(string); ok {
				refs = append(refs, pathRef{where: fmt.Sprintf("%s.Catch[%d].ResultPath", name, i), path: rp, catch: true})
			}
		}
		for _, f := range []string{"OutputPath", "ItemsPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath"} {
			if p, ok := st[f].(string); ok {
				read(f, p)
			}
		}
		var walk func(where string, v any)
		walk = func(where string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, x := range v {
					if s, ok := x.(string); ok && (strings.HasSuffix(k, ".$") || k == "Variable") {
						read(where+"."+k, s)
						continue
					}
					walk(where+"."+k, x)
				}
			case []any:
				for i, x := range v {
					walk(fmt.Sprintf("%s[%d]", where, i), x)
				}
			}
		}
		walk("Parameters", st["Parameters"])
		walk("Choices", st["Choices"])
	}
	return refs, startFields
}

// TestDocumentMirrorsTheDefinition fails when a ResultPath (or a key of the Start state)
// has no Document field, when a path a state reads does not resolve through Document's
// JSON fields, and when a Document field is written by no state.
func TestDocumentMirrorsTheDefinition(t *testing.T) {
	doc := reflect.TypeFor[Document]()
	docFields := jsonFields(doc)
	for file, d := range readDefinitions(t) {
		t.Run(file, func(t *testing.T) {
			refs, start := documentPaths(d)
			written := map[string]bool{}
			for key, v := range start {
				field := strings.TrimSuffix(key, ".$")
				written[field] = true
				ft, ok := docFields[field]
				if !ok {
					t.Errorf("%s.Parameters.%s: Document has no field %q", d.StartAt, key, field)
					continue
				}
				// An object built here must fit the field's type too.
				if obj, ok := v.(map[string]any); ok {
					for k := range obj {
						if err := resolve(ft, "$."+strings.TrimSuffix(k, ".$")); err != nil {
							t.Errorf("%s.Parameters.%s.%s: %v", d.StartAt, key, k, err)
						}
					}
				}
			}
			for _, r := range refs {
				if err := resolve(doc, r.path); err != nil {
					t.Errorf("%s: %v", r.where, err)
				}
				if !strings.HasSuffix(r.where, "ResultPath") {
					continue
				}
				top, _, _ := strings.Cut(strings.TrimPrefix(r.path, "$."), ".")
				written[top] = true
				if r.catch {
					// Catch writes {"Error", "Cause"}: the field must be able to hold both.
					for _, f := range []string{"Error", "Cause"} {
						if err := resolve(doc, r.path+"."+f); err != nil {
							t.Errorf("%s writes an error output: %v", r.where, err)
						}
					}
				}
			}
			if len(refs) == 0 {
				t.Fatal("found no paths in the definition")
			}
			for _, name := range slices.Sorted(maps.Keys(docFields)) {
				if !written[name] {
					t.Errorf("Document field %q: no ResultPath and no key of %s writes it", name, d.StartAt)
				}
			}
		})
	}
}

// TestResolve shows that the path check can fail: on a missing field, below a scalar,
// and through an embedded struct.
func TestResolve(t *testing.T) {
	tests := []struct {
		give    string
		wantErr string
	}{
		{give: "$.roles.transferRole.arn"},
		{give: "$.revoke.Error"},           // RevokeResult's embedded *Failure
		{give: "$.revoke.statementIds"},    // and its embedded *BucketPolicyChange
		{give: "$.request.anything.below"}, // raw JSON
		{give: "$.preflight.request.cleanup.revokeBucketPolicy"},
		{give: "$.progress.nextWaitSecond", wantErr: `has no field "nextWaitSecond"`},
		{give: "$.roles.transferRole.arn.x", wantErr: "not an object"},
		{give: "$.nosuch", wantErr: `has no field "nosuch"`},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			err := resolve(reflect.TypeFor[Document](), tt.give)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestDocumentDecodesAStateDocument decodes a document as the state machine builds it
// after a failed revoke: every step's output, and an error output in $.revoke.
func TestDocumentDecodesAStateDocument(t *testing.T) {
	give := `{
	  "request": {"migrationId": "media-2026-11"},
	  "execution": {"name": "media-2026-11", "startTime": "2026-11-27T03:20:00Z"},
	  "preflight": {"request": {"migrationId": "media-2026-11"}, "sourcePolicyBytes": 412, "sourcePolicyStatements": 1},
	  "roles": {"transferRole": {"name": "t", "arn": "arn:t", "created": true}, "configRole": {"name": "c", "arn": "arn:c", "created": false}},
	  "grant": {"mode": "grant", "bucket": "team-a-media", "changed": true, "deleted": false, "statementIds": ["A"], "policyBefore": "", "policyAfter": "{}"},
	  "locations": {"sourceLocationArn": "arn:s", "destinationLocationArn": "arn:d", "sourceCreated": true, "destinationCreated": true},
	  "task": {"taskArn": "arn:task", "taskCreated": true, "taskExecutionArn": "arn:exec", "executionStarted": true},
	  "progress": {"taskExecutionArn": "arn:exec", "status": "SUCCESS", "done": true, "bytesTransferred": 7},
	  "revoke": {"Error": "TransientError", "Cause": "throttled"}
	}`
	dec := json.NewDecoder(strings.NewReader(give))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Roles.ConfigRole.Arn != "arn:c" || d.Task.TaskExecutionArn != "arn:exec" || d.Progress.BytesTransferred != 7 {
		t.Errorf("got roles %+v task %+v progress %+v", d.Roles, d.Task, d.Progress)
	}
	if d.Revoke == nil || d.Revoke.Failure == nil || d.Revoke.Error != "TransientError" || d.Revoke.BucketPolicyChange != nil {
		t.Errorf("revoke: got %+v, want the error output only", d.Revoke)
	}
	if d.Preflight.Request.MigrationID != "media-2026-11" {
		t.Errorf("preflight.request.migrationId: got %q", d.Preflight.Request.MigrationID)
	}
}
