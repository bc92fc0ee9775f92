package policy

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestEquivalentConditionValues: IAM treats a condition's values as a set, so a policy read
// back with its condition values reordered or repeated is the same grant; another value is
// not.
func TestEquivalentConditionValues(t *testing.T) {
	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/r"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::src",` +
		`"Condition":{"StringLike":{"s3:prefix":[%s]}}}]}`
	base := mustParseDoc(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/r"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::src","Condition":{"StringLike":{"s3:prefix":["a/*","b/*"]}}}]}`)
	tests := []struct {
		name string
		give string
		want bool
	}{
		{name: "values reordered", give: `"b/*","a/*"`, want: true},
		{name: "a value repeated", give: `"b/*","a/*","b/*"`, want: true},
		{name: "another value", give: `"a/*","c/*"`, want: false},
		{name: "a value fewer", give: `"a/*"`, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParseDoc(t, fmt.Sprintf(doc, tt.give))
			if got := base.Equivalent(*d); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if got := d.Equivalent(*base); got != tt.want {
				t.Errorf("reversed: got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUnmarshalNoText: the exported decoders refuse an empty or blank value with an error
// (encoding/json never passes one; a direct caller may).
func TestUnmarshalNoText(t *testing.T) {
	for _, give := range []string{"", "  \n"} {
		var l StringList
		if err := l.UnmarshalJSON([]byte(give)); err == nil {
			t.Errorf("StringList.UnmarshalJSON(%q): got nil error, want one", give)
		}
		var p Principal
		if err := p.UnmarshalJSON([]byte(give)); err == nil {
			t.Errorf("Principal.UnmarshalJSON(%q): got nil error, want one", give)
		}
		var s Statements
		if err := s.UnmarshalJSON([]byte(give)); err == nil {
			t.Errorf("Statements.UnmarshalJSON(%q): got nil error, want one", give)
		}
	}
	// And a value of another JSON type names what it wants.
	var l StringList
	if err := json.Unmarshal([]byte(`{"a":1}`), &l); err == nil {
		t.Errorf("StringList from an object: got nil error, want one")
	}
}

func mustParseDoc(t *testing.T, text string) *Document {
	t.Helper()
	d, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(%s): %v", text, err)
	}
	return d
}
