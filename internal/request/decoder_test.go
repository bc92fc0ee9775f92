package request

import (
	"slices"
	"testing"
)

// TestDecodeRecovers: after a value of the wrong JSON type, an unknown field or a repeated
// field, however deeply nested that value is, the decoder goes on with the next field and
// reports every later problem at its own path, and nothing at a path that only appears
// inside a skipped value.
func TestDecodeRecovers(t *testing.T) {
	known := "is not a known field; known fields: cleanup, destination, migrationId, mode, source, task"
	tests := []struct {
		name string
		give string
		want []string // "field: rule"
	}{
		{
			name: "wrong types at every level",
			give: `{"source":{"bucket":{"a":[1,{"b":2}]},"accountId":"111111111111","region":7},` +
				`"task":{"includes":{"x":["y"]},"excludes":["ok",["nested",{"c":[]}],"fine",3],"logLevel":"BASIC","taskMode":[]},` +
				`"destination":[{"bucket":"b"},[]],"cleanup":{"revokeBucketPolicy":[true]},"migrationId":5}`,
			want: []string{
				"source.bucket: must be a string, not an object",
				"source.region: must be a string, not a number",
				"task.includes: must be a list, not an object",
				"task.excludes[1]: must be a string, not a list",
				"task.excludes[3]: must be a string, not a number",
				"task.taskMode: must be a string, not a list",
				"destination: must be an object, not a list",
				"cleanup.revokeBucketPolicy: must be true or false, not a list",
				"migrationId: must be a string, not a number",
			},
		},
		{
			name: "an unknown field holding the request's own field names",
			give: `{"bogus":{"source":{"bucket":1},"task":[{"logLevel":2}]},"source":{"bucket":"ok","bucket2":[[]]},"task":{"logLevel":true}}`,
			want: []string{
				"bogus: " + known,
				"source.bucket2: is not a known field; known fields: accountId, bucket, kmsKeyArns, prefix, region",
				"task.logLevel: must be a string, not true or false",
			},
		},
		{
			name: "a repeated field's value is not read",
			give: `{"source":{"bucket":"a"},"source":{"bucket":2,"x":{}},"migrationId":"m","migrationId":[1]}`,
			want: []string{"source: appears more than once", "migrationId: appears more than once"},
		},
		{
			name: "a field name that is not UTF-8, with an object value",
			give: "{\"source\":{\"buck\xe9t\":{\"bucket\":1},\"bucket\":5}}",
			want: []string{
				"source: has a field name that holds bytes that are not UTF-8 (byte 0xE9 at offset 16 of the request); save the request as UTF-8",
				"source.bucket: must be a string, not a number",
			},
		},
		{
			name: "a list where the request object belongs",
			give: `[{"source":{"bucket":1}}]`,
			want: []string{"(request): must be an object, not a list"},
		},
		{
			name: "a string where the request object belongs, ending in half a surrogate pair",
			give: `"\ud83d"`,
			want: []string{"(request): must be an object, not a string"},
		},
		{
			name: "a case-insensitive match is named",
			give: `{"Source":{}}`,
			want: []string{`Source: is not a known field (did you mean "source"? names are case-sensitive)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Decode([]byte(tt.give))
			if r != nil {
				t.Errorf("got request %+v, want nil", r)
			}
			if got := rulesOf(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("got\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

// TestDecodeTextProblems: the rule names the offending byte or escape and its offset in
// the request, so the operator can find it.
func TestDecodeTextProblems(t *testing.T) {
	tests := []struct {
		name string
		give string
		want []string
	}{
		{
			// The offset counts from 0: '{' is byte 0, 0xFF is byte 27.
			name: "a byte that is not UTF-8 after valid multi-byte text",
			give: "{\"source\":{\"prefix\":\"caf\xc3\xa9/\xff\"}}",
			want: []string{"source.prefix: holds bytes that are not UTF-8 (byte 0xFF at offset 27 of the request); save the request as UTF-8"},
		},
		{
			name: "the offset counts the spaces before the value",
			give: "{\"source\" : {\"bucket\" :  \"b\",\n \"prefix\":\t\"a\xfe\"}}",
			want: []string{"source.prefix: holds bytes that are not UTF-8 (byte 0xFE at offset 43 of the request); save the request as UTF-8"},
		},
		{
			name: "two UTF-16 code units as two characters (NUL bytes)",
			give: "7\x00",
			want: []string{"(request): starts with NUL bytes: it looks like UTF-16 or UTF-32 text; save it as UTF-8"},
		},
		{
			name: "a lone high surrogate after other escapes",
			give: `{"task":{"excludes":["a\"\\\u00e9\uD800x"]}}`,
			want: []string{`task.excludes[0]: holds the escape \ud800, half of a UTF-16 surrogate pair without its other half (offset 33 of the request), which is no character; write the character itself, or both halves of its pair`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.give))
			if got := rulesOf(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("got\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

// TestDecodeSurrogateEscapes: every UTF-16 surrogate escape, in upper or lower case hex,
// is recognized as such, and a high one followed by any low one (DC00-DFFF) is one
// character.
func TestDecodeSurrogateEscapes(t *testing.T) {
	lone := []string{`\uD800`, `\ud9ff`, `\uD9FF`, `\uDaAa`, `\udaaa`, `\uDBFF`, `\uDC00`, `\uDFFF`, `\udfff`, `\uD83D\u0041`, `\uD83D\uE000`, `\uD83D\uD83D`, `\uDC00\uDC00`}
	for _, esc := range lone {
		_, err := Decode([]byte(`{"task":{"excludes":["` + esc + `"]}}`))
		if got := fieldsOf(t, err); !slices.Equal(got, []string{"task.excludes[0]"}) {
			t.Errorf("%s: got %q (%v), want task.excludes[0] refused", esc, got, err)
		}
	}
	pairs := map[string]string{
		`\ud800\udc00`: "\U00010000",
		`\uD83D\uDC00`: "\U0001F400",
		`\udbff\udfff`: "\U0010FFFF",
		`\uDBFF\uDFFF`: "\U0010FFFF",
		`\u0030\u0039`: "09",
		`\u00AF\u00af`: "\u00af\u00af",
	}
	// Only the element's own text is checked: the end of the element before it (here the
	// low half of a pair, 7 bytes before the second element's quote) is not.
	r, err := Decode([]byte(`{"task":{"excludes":["\ud83d\ude00",      "x"]}}`))
	if err != nil || !slices.Equal(r.Task.Excludes, []string{"\U0001F600", "x"}) {
		t.Errorf("a pair, then a spaced element: got %+v, %v, want [\U0001F600 x]", r, err)
	}
	for esc, want := range pairs {
		r, err := Decode([]byte(`{"task":{"excludes":["` + esc + `"]}}`))
		if err != nil {
			t.Errorf("%s: got %v, want nil", esc, err)
			continue
		}
		if got := r.Task.Excludes[0]; got != want {
			t.Errorf("%s: got %q, want %q", esc, got, want)
		}
	}
}
