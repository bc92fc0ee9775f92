// Package requesttest gives the handler tests one valid migration request and a table of
// bad ones, so that every step that takes a request is tested against the same cases.
// Only tests import it.
package requesttest

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

//go:embed testdata/*.json
var files embed.FS

// Home is where the fixtures are valid (account B, its region).
var Home = request.Home{
	AccountID: "222222222222",
	Region:    "ap-northeast-1",
	Partition: "aws",
}

// ExecutionName is the execution name the tests pass with the request.
const ExecutionName = "media-run-1"

// ValidJSON is the contract's example request.
func ValidJSON() []byte {
	b, err := files.ReadFile("testdata/valid.json")
	if err != nil {
		panic(err)
	}
	return b
}

// Valid returns the example request decoded and normalized.
func Valid() request.Request {
	r, err := request.Decode(ValidJSON())
	if err != nil {
		panic(err)
	}
	r.Normalize(ExecutionName)
	return *r
}

// Bad is one invalid request and the field its ValidationError must name.
type Bad struct {
	Name      string
	Raw       []byte
	WantField string
	// DecodeOnly cases are caught by the strict decoding of the raw input, which only
	// preflight does; later steps receive a typed request.
	DecodeOnly bool
}

type badCase struct {
	Name       string         `json:"name"`
	Raw        *string        `json:"raw"`
	Set        map[string]any `json:"set"`
	Delete     []string       `json:"delete"`
	WantField  string         `json:"wantField"`
	DecodeOnly bool           `json:"decodeOnly"`
}

// BadRequests returns the table of invalid requests (testdata/bad-requests.json): each is
// the valid request with fields set or deleted, or a raw input.
func BadRequests() []Bad {
	b, err := files.ReadFile("testdata/bad-requests.json")
	if err != nil {
		panic(err)
	}
	var cases []badCase
	if err := json.Unmarshal(b, &cases); err != nil {
		panic(err)
	}
	out := make([]Bad, 0, len(cases))
	for _, c := range cases {
		bad := Bad{Name: c.Name, WantField: c.WantField, DecodeOnly: c.DecodeOnly}
		if c.Raw != nil {
			bad.Raw = []byte(*c.Raw)
		} else {
			var doc map[string]any
			if err := json.Unmarshal(ValidJSON(), &doc); err != nil {
				panic(err)
			}
			for path, v := range c.Set {
				set(doc, path, v)
			}
			for _, path := range c.Delete {
				set(doc, path, nil)
			}
			if bad.Raw, err = json.Marshal(doc); err != nil {
				panic(err)
			}
		}
		out = append(out, bad)
	}
	return out
}

// set puts v at a dotted path (nil deletes the field).
func set(doc map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	m := doc
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			panic(fmt.Sprintf("requesttest: no object at %q in %q", k, path))
		}
		m = next
	}
	last := keys[len(keys)-1]
	if v == nil {
		delete(m, last)
		return
	}
	m[last] = v
}

// Typed decodes a bad case the way the Lambda runtime decodes a later step's input
// (encoding/json, not strict) and normalizes it as preflight would have.
func Typed(b Bad) (request.Request, error) {
	var r request.Request
	if err := json.Unmarshal(b.Raw, &r); err != nil {
		return r, err
	}
	r.Normalize(ExecutionName)
	return r, nil
}

// HasField reports whether v names field.
func HasField(v *failure.ValidationError, field string) bool {
	for _, f := range v.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// RefusesBadRequests runs every bad request a later step can receive (the cases that are
// not DecodeOnly, decoded by Typed) through handle, each in a subtest, and fails unless
// handle returns a *failure.ValidationError naming the case's field and made no AWS call:
// handle returns the calls its fakes saw.
func RefusesBadRequests(t *testing.T, handle func(r request.Request) (calls []string, err error)) {
	t.Helper()
	n := 0
	for _, c := range BadRequests() {
		if c.DecodeOnly {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			r, err := Typed(c)
			if err != nil {
				t.Fatal(err)
			}
			calls, err := handle(r)
			v, ok := err.(*failure.ValidationError)
			if !ok {
				t.Fatalf("got %T %v, want *failure.ValidationError", err, err)
			}
			if !HasField(v, c.WantField) {
				t.Errorf("got %v, want field %s", v, c.WantField)
			}
			if len(calls) != 0 {
				t.Errorf("got calls %v, want none", calls)
			}
		})
	}
	if n < 30 {
		t.Errorf("got %d cases, want at least 30", n)
	}
}
