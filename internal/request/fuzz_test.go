package request

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzDecode: Decode never panics, and a decoded, normalized request that validates
// re-encodes to JSON that decodes to the same value.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"migrationId":"a","migrationId":"b"}`))
	f.Add([]byte(`{"task":{"includes":["/a*","/b"]}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := Decode(raw)
		if err != nil {
			if r != nil {
				t.Fatalf("got request and error %v, want nil request", err)
			}
			fieldsOf(t, err)
			return
		}
		r.Normalize("fuzz-run")
		if r.Validate(TestHome) != nil {
			return
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(%s): got %v, want nil", b, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("got %+v, want %+v", back, r)
		}
	})
}
