package statemachine

// The scenario fixtures and the Task inputs the definition builds are checked against the
// handlers' own Input and Output types, decoded strictly: a renamed or added field on
// either side fails here, not in a deployed execution.

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/createlocations"
	"github.com/dsmigrate/dsmigrate/internal/createroles"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/pollexecution"
	"github.com/dsmigrate/dsmigrate/internal/preflight"
	"github.com/dsmigrate/dsmigrate/internal/putbucketpolicy"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/starttask"
)

// decodeStrict decodes data into v, rejecting unknown fields.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}

func TestFixturesAreHandlerOutputs(t *testing.T) {
	pollOut, err := json.Marshal(poll("TRANSFERRING", 90*time.Second, 10, 100, 20, 200, 30))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		give []byte
		into any
	}{
		{"preflight.json", fixture(t, "preflight.json"), &execution.Preflight{}},
		{"createroles.json", fixture(t, "createroles.json"), &execution.Roles{}},
		{"grant.json", fixture(t, "grant.json"), &execution.BucketPolicyChange{}},
		{"revoke.json", fixture(t, "revoke.json"), &execution.BucketPolicyChange{}},
		{"createlocations.json", fixture(t, "createlocations.json"), &execution.Locations{}},
		{"starttask.json", fixture(t, "starttask.json"), &execution.Task{}},
		{"poll()", pollOut, &execution.Progress{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := decodeStrict(tt.give, tt.into); err != nil {
				t.Fatalf("not a %T: %v", tt.into, err)
			}
			again, err := json.Marshal(tt.into)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, tt.give, again) {
				t.Errorf("the fixture lacks fields of %T:\n got %s\nwant %s", tt.into, tt.give, again)
			}
		})
	}
	if _, err := request.Decode(fixture(t, "request.json")); err != nil {
		t.Errorf("request.json is not a valid request: %v", err)
	}
}

// checkTaskInputs decodes what each function received strictly into its Input type.
func checkTaskInputs(t *testing.T, payloads map[string][]map[string]any) {
	t.Helper()
	inputs := map[string]func() any{
		"preflight":       func() any { return &preflight.Input{} },
		"createroles":     func() any { return &createroles.Input{} },
		"putbucketpolicy": func() any { return &putbucketpolicy.Input{} },
		"createlocations": func() any { return &createlocations.Input{} },
		"starttask":       func() any { return &starttask.Input{} },
		"pollexecution":   func() any { return &pollexecution.Input{} },
	}
	for fn, newInput := range inputs {
		if len(payloads[fn]) == 0 {
			t.Errorf("%s was never invoked", fn)
		}
		for i, p := range payloads[fn] {
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			in := newInput()
			if err := decodeStrict(b, in); err != nil {
				t.Errorf("%s call %d: the input the definition built is not a %T: %v\n%s", fn, i+1, in, err, b)
			}
		}
	}
}
