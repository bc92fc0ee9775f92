package request

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// rulesOf returns "field: rule" for each problem of a *failure.ValidationError, or nil.
func rulesOf(t *testing.T, err error) []string {
	t.Helper()
	fieldsOf(t, err) // fails the test when err is not a ValidationError
	if err == nil {
		return nil
	}
	var out []string
	for _, f := range err.(*failure.ValidationError).Fields {
		out = append(out, f.String())
	}
	return out
}

// growTo lengthens the request's exclude pattern until the request is n bytes as JSON.
func growTo(t *testing.T, r *Request, n int) {
	t.Helper()
	r.Task.Excludes = []string{"x"}
	b, err := json.Marshal(r)
	if err != nil || len(b) > n {
		t.Fatalf("the request is already %d bytes (%v)", len(b), err)
	}
	r.Task.Excludes[0] += strings.Repeat("x", n-len(b))
}

// TestValidateLimits: each documented limit accepts a value exactly at it and refuses the
// next one, with a rule that gives both numbers.
func TestValidateLimits(t *testing.T) {
	ideographicSpace := "\u3000" // a space DataSync allows in a prefix, 3 bytes in UTF-8
	tests := []struct {
		name string
		give func(r *Request)
		want []string // "field: rule"; nil: valid
		// dataSyncOnly leaves out the (request) problem of MaxDocumentBytes, which every
		// request near DataSync's filter limit also breaks.
		dataSyncOnly bool
	}{
		{name: "bucket name of the edge characters a, z, 0, 9, '.' and '-'", give: func(r *Request) { r.Source.Bucket = "az09.9-0za" }},
		{name: "bucket name of 3 characters", give: func(r *Request) { r.Source.Bucket = "abc" }},
		{name: "bucket name of 2 characters", give: func(r *Request) { r.Source.Bucket = "ab" },
			want: []string{"source.bucket: must be 3-63 characters long (got 2)"}},
		{name: "bucket name of 63 characters", give: func(r *Request) { r.Destination.Bucket = strings.Repeat("b", 63) }},
		{name: "bucket name of 64 characters", give: func(r *Request) { r.Destination.Bucket = strings.Repeat("b", 64) },
			want: []string{"destination.bucket: must be 3-63 characters long (got 64)"}},
		{name: "prefix of 1,024 bytes", give: func(r *Request) { r.Source.Prefix = strings.Repeat("p", 1024) }},
		{name: "prefix of 1,025 bytes", give: func(r *Request) { r.Source.Prefix = strings.Repeat("p", 1025) },
			want: []string{"source.prefix: must be at most 1024 bytes (got 1025)"}},
		{name: "prefix of 341 three-byte characters (1,023 bytes)", give: func(r *Request) { r.Destination.Prefix = strings.Repeat(ideographicSpace, 341) }},
		{name: "prefix of 342 three-byte characters (1,026 bytes)", give: func(r *Request) { r.Destination.Prefix = strings.Repeat(ideographicSpace, 342) },
			want: []string{"destination.prefix: must be at most 1024 bytes (got 1026)"}},
		{name: "one exclude of 102,400 characters", give: func(r *Request) { r.Task.Excludes = []string{strings.Repeat("x", 102400)} }, dataSyncOnly: true},
		{name: "one exclude of 102,401 characters", give: func(r *Request) { r.Task.Excludes = []string{strings.Repeat("x", 102401)} }, dataSyncOnly: true,
			want: []string{"task.excludes: joined with '|' is 102401 characters; DataSync allows 102400"}},
		{
			// 51,200 + '|' + 51,199: the separator counts.
			name: "two excludes joined to 102,400 characters", give: func(r *Request) { r.Task.Excludes = []string{strings.Repeat("x", 51200), strings.Repeat("y", 51199)} },
			dataSyncOnly: true,
		},
		{name: "two excludes joined to 102,401 characters", give: func(r *Request) { r.Task.Excludes = []string{strings.Repeat("x", 51200), strings.Repeat("y", 51200)} }, dataSyncOnly: true,
			want: []string{"task.excludes: joined with '|' is 102401 characters; DataSync allows 102400"}},
		{name: "one include of 102,400 characters", give: func(r *Request) { r.Task.Includes = []string{"/" + strings.Repeat("i", 102399)} }, dataSyncOnly: true},
		{name: "three includes joined to 102,401 characters", give: func(r *Request) {
			r.Task.Includes = []string{"/" + strings.Repeat("i", 34132), "/" + strings.Repeat("j", 34132), "/" + strings.Repeat("k", 34132)}
		}, dataSyncOnly: true, want: []string{"task.includes: joined with '|' is 102401 characters; DataSync allows 102400"}},
		{name: "the request at MaxDocumentBytes as JSON", give: func(r *Request) { growTo(t, r, MaxDocumentBytes) }},
		{name: "the request one byte over MaxDocumentBytes", give: func(r *Request) { growTo(t, r, MaxDocumentBytes+1) },
			want: []string{"(request): " + tooLargeForDocument(MaxDocumentBytes+1)}},
		{name: "migration id of 32 characters", give: func(r *Request) { r.MigrationID = strings.Repeat("m", 32) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullRequest(t)
			tt.give(r)
			got := rulesOf(t, r.Validate(TestHome))
			if tt.dataSyncOnly {
				got = slices.DeleteFunc(got, func(s string) bool { return strings.HasPrefix(s, "(request): ") })
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDecodeSizeLimit: a request of exactly 262,144 bytes (a Step Functions execution input
// at its limit) decodes; one byte more is refused before it is parsed.
func TestDecodeSizeLimit(t *testing.T) {
	full := bytes.TrimSpace(readFixture(t, "valid-full.json"))
	atLimit := append(full, bytes.Repeat([]byte(" "), 262144-len(full))...)
	if len(atLimit) != 262144 {
		t.Fatalf("test request is %d bytes, want 262144", len(atLimit))
	}
	if _, err := Decode(atLimit); err != nil {
		t.Errorf("request of 262144 bytes: got %v, want nil", err)
	}
	over := append(atLimit, ' ')
	_, err := Decode(over)
	want := []string{"(request): is 262145 bytes (256.0 KiB); a Step Functions execution input is at most 262144 bytes (256 KiB): a migration request is a few hundred bytes: check that this is the request file"}
	if got := rulesOf(t, err); !slices.Equal(got, want) {
		t.Errorf("request of 262145 bytes: got %q, want %q", got, want)
	}
}

func TestTooLargeSizes(t *testing.T) {
	tests := []struct {
		give int64
		want string // the start of the rule
	}{
		{give: 1<<20 - 1, want: "is 1048575 bytes (1024.0 KiB);"},
		{give: 1 << 20, want: "is 1048576 bytes (1.0 MiB);"},
		{give: 1<<30 - 1, want: "is 1073741823 bytes (1024.0 MiB);"},
		{give: 1 << 30, want: "is 1073741824 bytes (1.0 GiB);"},
		{give: 5 << 31, want: "is 10737418240 bytes (10.0 GiB);"},
		{give: 0, want: "is 0 bytes (0.0 KiB);"}, // only a negative size is unknown
		{give: -1, want: "is more than 256 KiB;"},
	}
	for _, tt := range tests {
		if got := TooLarge(tt.give); !strings.HasPrefix(got, tt.want) {
			t.Errorf("TooLarge(%d) = %q, want it to start with %q", tt.give, got, tt.want)
		}
	}
}
