package requesttest

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// Hostile is a request built to break the decoder or the validator rather than to be a
// plausible mistake: bytes that are not UTF-8, escapes that are no character, sizes far
// past every limit, lookalike characters, duplicated keys. Every path that takes a request
// (the Preflight function, dsmigrate start) must refuse each one before calling AWS, with
// a ValidationError that names WantField and says WantIn.
type Hostile struct {
	Name      string
	Raw       []byte
	WantField string
	WantIn    string // a phrase of the rule that tells what is wrong ("" = any)
}

// Verdicts on how a path answered a hostile request.
const (
	Clear    = "clear"            // refused, naming the field and saying what is wrong, within the size bound
	Vague    = "vague"            // refused, but without naming the field or saying what is wrong
	Accepted = "wrongly accepted" // went on towards AWS
	Crash    = "crash"            // panicked
)

// MaxCause is the most Step Functions keeps of an error's cause (ExecutionFailedEventDetails
// "cause": "Maximum length of 32768", AWS Step Functions API Reference).
const MaxCause = 32768

// swap returns the valid request with old replaced by new (old must occur once).
func swap(old, new string) []byte {
	v := ValidJSON()
	if bytes.Count(v, []byte(old)) != 1 {
		panic(fmt.Sprintf("requesttest: %q does not occur once in valid.json", old))
	}
	return bytes.Replace(v, []byte(old), []byte(new), 1)
}

// HostileRequests returns the table of hostile requests.
func HostileRequests() []Hostile {
	var unknown strings.Builder
	unknown.WriteString(`{`)
	for i := range 20000 {
		fmt.Fprintf(&unknown, `"x%05d":1,`, i)
	}
	unknown.WriteString(`"migrationId":"media"}`)

	var includes strings.Builder
	for i := range 40000 {
		if i > 0 {
			includes.WriteByte(',')
		}
		includes.WriteString(`"/a"`)
	}

	return []Hostile{
		// Text that is not Unicode.
		{Name: "byte 0xFF in an exclude", Raw: swap(`"*.tmp"`, "\"a\xffb\""), WantField: "task.excludes[0]", WantIn: "not UTF-8"},
		{Name: "byte 0xFF in the prefix", Raw: swap(`"photos/"`, "\"pho\xfftos/\""), WantField: "source.prefix", WantIn: "not UTF-8"},
		{Name: "Latin-1 é in the migration id", Raw: swap(`"media-2026-11"`, "\"m\xe9dia\""), WantField: "migrationId", WantIn: "not UTF-8"},
		{Name: "truncated UTF-8 sequence at the end of a string", Raw: swap(`"team-b-media"`, "\"team-b-m\xc3\""), WantField: "destination.bucket", WantIn: "not UTF-8"},
		{Name: "overlong encoding of '/'", Raw: swap(`"from-a/"`, "\"from-a\xc0\xaf\""), WantField: "destination.prefix", WantIn: "not UTF-8"},
		{Name: "surrogate encoded as UTF-8 bytes", Raw: swap(`"*.tmp"`, "\"\xed\xa0\x80\""), WantField: "task.excludes[0]", WantIn: "not UTF-8"},
		{Name: "byte 0xFF in a field name", Raw: swap(`"storageClass"`, "\"storage\xffClass\""), WantField: "destination", WantIn: "not UTF-8"},
		{Name: "lone high surrogate escape in an exclude", Raw: swap(`"*.tmp"`, `"a\ud800b"`), WantField: "task.excludes[0]", WantIn: "surrogate"},
		{Name: "lone low surrogate escape in an include", Raw: swap(`"/2026*"`, `"/\udc00*"`), WantField: "task.includes[0]", WantIn: "surrogate"},
		{Name: "lone surrogate escape in the bucket", Raw: swap(`"team-a-media"`, `"team-a-\ud800"`), WantField: "source.bucket", WantIn: "surrogate"},
		{Name: "lone surrogate escape in the destination prefix", Raw: swap(`"from-a/"`, `"from-a/\uDBFF"`), WantField: "destination.prefix", WantIn: "surrogate"},
		{Name: "high surrogate followed by a letter", Raw: swap(`"media-2026-11"`, `"ab\ud83d\u0041"`), WantField: "migrationId", WantIn: "surrogate"},
		{Name: "lone surrogate escape in a field name", Raw: swap(`"cleanup"`, `"clean\ud800up"`), WantField: "(request)", WantIn: "surrogate"},
		{Name: "UTF-8 byte-order mark", Raw: append([]byte("\xef\xbb\xbf"), ValidJSON()...), WantField: "(request)", WantIn: "byte-order mark"},
		{Name: "UTF-16 byte-order mark", Raw: append([]byte("\xff\xfe"), utf16LE(ValidJSON())...), WantField: "(request)", WantIn: "UTF-16"},
		{Name: "UTF-16 without a byte-order mark", Raw: utf16LE(ValidJSON()), WantField: "(request)", WantIn: "UTF-16"},

		// Regions, accounts.
		{Name: "region that does not exist", Raw: swap(`"region": "ap-northeast-1",
    "prefix": "photos/"`, `"region": "ap-northeast-9",
    "prefix": "photos/"`), WantField: "source.region", WantIn: "not a region"},
		{Name: "region number past the last", Raw: swap(`"region": "ap-northeast-1",
    "prefix": "photos/"`, `"region": "us-east-10",
    "prefix": "photos/"`), WantField: "source.region", WantIn: "not a region"},
		{Name: "region in capitals", Raw: swap(`"region": "ap-northeast-1",
    "prefix": "photos/"`, `"region": "AP-NORTHEAST-1",
    "prefix": "photos/"`), WantField: "source.region", WantIn: "region name"},
		{Name: "region with a trailing space", Raw: swap(`"region": "ap-northeast-1",
    "prefix": "photos/"`, `"region": "ap-northeast-1 ",
    "prefix": "photos/"`), WantField: "source.region", WantIn: "region name"},
		{Name: "destination region that does not exist", Raw: swap(`"region": "ap-northeast-1",
    "prefix": "from-a/"`, `"region": "ap-northeast-9",
    "prefix": "from-a/"`), WantField: "destination.region", WantIn: "not a region"},
		{Name: "source account is the destination account", Raw: bytes.ReplaceAll(ValidJSON(), []byte("111111111111"), []byte("222222222222")), WantField: "source.accountId", WantIn: "across accounts"},
		{Name: "account id in fullwidth digits", Raw: swap(`"accountId": "111111111111"`, `"accountId": "１１１１１１１１１１１１"`), WantField: "source.accountId", WantIn: "12 digits"},
		{Name: "account id as a huge number", Raw: swap(`"accountId": "111111111111"`, `"accountId": 1e400`), WantField: "source.accountId", WantIn: "must be a string"},

		// Sizes.
		{Name: "20,000 unknown fields", Raw: []byte(unknown.String()), WantField: "x00000", WantIn: "not a known field"},
		{Name: "10 MiB request", Raw: swap(`"*.tmp"`, `"`+strings.Repeat("a", 10<<20)+`"`), WantField: "(request)", WantIn: "256 KiB"},
		{Name: "100 KB migration id", Raw: swap(`"media-2026-11"`, `"`+strings.Repeat("a", 100000)+`"`), WantField: "migrationId", WantIn: "1-32 characters"},
		{Name: "100 KB bucket name", Raw: swap(`"team-a-media"`, `"`+strings.Repeat("b", 100000)+`"`), WantField: "source.bucket", WantIn: "3-63 characters"},
		{Name: "40,000 include patterns", Raw: swap(`"/2026*"`, includes.String()), WantField: "task.includes", WantIn: "DataSync allows"},
		{Name: "one exclude past DataSync's filter limit", Raw: swap(`"*.tmp"`, `"`+strings.Repeat("e", 102401)+`"`), WantField: "task.excludes", WantIn: "DataSync allows"},
		{Name: "nesting 20,000 deep", Raw: []byte(`{"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`), WantField: "(request)", WantIn: "depth"},

		// Keys.
		{Name: "duplicate migration id", Raw: swap(`"migrationId": "media-2026-11",`, `"migrationId": "media-2026-11", "migrationId": "other",`), WantField: "migrationId", WantIn: "more than once"},
		{Name: "duplicate bucket inside source", Raw: swap(`"bucket": "team-a-media",`, `"bucket": "team-a-media", "bucket": "other-bucket",`), WantField: "source.bucket", WantIn: "more than once"},
		{Name: "key in another case", Raw: swap(`"source"`, `"Source"`), WantField: "Source", WantIn: "case-sensitive"},
		{Name: "key with a trailing space", Raw: swap(`"cleanup"`, `"cleanup "`), WantField: "cleanup ", WantIn: "not a known field"},
		{Name: "source is null", Raw: []byte(`{"migrationId":"media","source":null}`), WantField: "source", WantIn: "must be an object"},
		{Name: "source is a string", Raw: []byte(`{"migrationId":"media","source":"team-a-media"}`), WantField: "source", WantIn: "must be an object"},
		{Name: "empty object", Raw: []byte(`{}`), WantField: "source.bucket", WantIn: "required"},
		{Name: "revoke given as 1", Raw: swap(`"revokeBucketPolicy": true`, `"revokeBucketPolicy": 1`), WantField: "cleanup.revokeBucketPolicy", WantIn: "true or false"},

		// Characters that look right.
		{Name: "Cyrillic е in the bucket", Raw: swap(`"team-a-media"`, `"tеam-a-media"`), WantField: "source.bucket", WantIn: "lowercase"},
		{Name: "zero-width space in the bucket", Raw: swap(`"team-b-media"`, `"team-b\u200b-media"`), WantField: "destination.bucket", WantIn: "lowercase"},
		{Name: "byte-order mark escaped at the start of the bucket", Raw: swap(`"team-a-media"`, `"\ufeffteam-a-media"`), WantField: "source.bucket", WantIn: "lowercase"},
		{Name: "right-to-left override in the prefix", Raw: swap(`"photos/"`, `"photos\u202e/"`), WantField: "source.prefix", WantIn: "may hold only"},
		{Name: "newline at the end of the destination bucket", Raw: swap(`"team-b-media"`, `"team-b-media\n"`), WantField: "destination.bucket", WantIn: "lowercase"},
		{Name: "emoji in the destination prefix", Raw: swap(`"from-a/"`, `"from-a-😀/"`), WantField: "destination.prefix", WantIn: "may hold only"},
		{Name: "NUL in an exclude", Raw: swap(`"*.tmp"`, `"*.tmp\u0000"`), WantField: "task.excludes[0]", WantIn: "NUL"},
		{Name: "bell character in the bucket", Raw: swap(`"team-b-media"`, `"team-b-media\u0007"`), WantField: "destination.bucket", WantIn: "lowercase"},

		// Not a single JSON object.
		{Name: "trailing garbage", Raw: append(ValidJSON(), " x"...), WantField: "(request)", WantIn: "not valid JSON"},
		{Name: "comment", Raw: append([]byte("// migration\n"), ValidJSON()...), WantField: "(request)", WantIn: "not valid JSON"},
		{Name: "single quotes", Raw: []byte(`{'migrationId':'media'}`), WantField: "(request)", WantIn: "not valid JSON"},
	}
}

// utf16LE encodes ASCII text as UTF-16LE.
func utf16LE(ascii []byte) []byte {
	out := make([]byte, 0, 2*len(ascii))
	for _, c := range ascii {
		out = append(out, c, 0)
	}
	return out
}

// ClassifyError says how a Lambda handler answered h: err is what it returned and calls
// how many AWS calls it made.
func ClassifyError(h Hostile, err error, calls int) string {
	v, ok := err.(*failure.ValidationError)
	switch {
	case err == nil || calls > 0:
		return Accepted
	case !ok || !HasField(v, h.WantField) || !strings.Contains(err.Error(), h.WantIn) || len(err.Error()) > MaxCause:
		return Vague
	}
	return Clear
}

// Tally counts verdicts and formats them as one line per verdict.
type Tally map[string][]string

// Add records the verdict on the case name.
func (t Tally) Add(verdict, name string) { t[verdict] = append(t[verdict], name) }

func (t Tally) String() string {
	var b strings.Builder
	for _, v := range []string{Clear, Vague, Accepted, Crash} {
		fmt.Fprintf(&b, "%-16s %3d  %s\n", v, len(t[v]), strings.Join(t[v], "; "))
	}
	return b.String()
}
