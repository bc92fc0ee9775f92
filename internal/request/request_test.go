package request

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// TestHome is the environment the fixtures in testdata/ validate against.
var TestHome = Home{AccountID: "222222222222", Region: "ap-northeast-1", Partition: "aws"}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fullRequest(t testing.TB) *Request {
	t.Helper()
	r, err := Decode(readFixture(t, "valid-full.json"))
	if err != nil {
		t.Fatalf("Decode(valid-full.json): %v", err)
	}
	return r
}

// fieldsOf returns the field paths of a *failure.ValidationError, or nil.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var v *failure.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("got error %T %v, want *failure.ValidationError", err, err)
	}
	out := make([]string, len(v.Fields))
	for i, f := range v.Fields {
		out[i] = f.Field
		if f.Rule == "" {
			t.Errorf("field %s has an empty rule", f.Field)
		}
	}
	return out
}

func TestValidFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "valid-*.json"))
	if err != nil || len(files) < 2 {
		t.Fatalf("got fixtures %v (%v), want at least 2", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := Decode(readFixture(t, filepath.Base(f)))
			if err != nil {
				t.Fatalf("Decode: got %v, want nil", err)
			}
			r.Normalize("media-run-1")
			if err := r.Validate(TestHome); err != nil {
				t.Errorf("Validate: got %v, want nil", err)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	r, err := Decode(readFixture(t, "valid-minimal.json"))
	if err != nil {
		t.Fatal(err)
	}
	r.Normalize("Media run #1")
	want, err := Decode(readFixture(t, "valid-minimal-normalized.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, want) {
		got, _ := json.Marshal(r)
		w, _ := json.Marshal(want)
		t.Errorf("got %s, want %s", got, w)
	}
	again := *r
	again.Normalize("other")
	if !reflect.DeepEqual(&again, r) {
		t.Errorf("Normalize twice: got %+v, want %+v", again, *r)
	}
}

func TestNormalizeKeepsGivenValues(t *testing.T) {
	r := fullRequest(t)
	f := false
	r.Cleanup.RevokeBucketPolicy = &f
	r.Task.VerifyMode = "NONE"
	r.Normalize("ignored")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{name: "migrationId", got: r.MigrationID, want: "media-2026-11"},
		{name: "verifyMode", got: r.Task.VerifyMode, want: "NONE"},
		{name: "revoke", got: r.Revoke(), want: false},
		{name: "logLevel", got: r.Task.LogLevel, want: "BASIC"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestRevokeDefault(t *testing.T) {
	tru, fal := true, false
	tests := []struct {
		name string
		give *bool
		want bool
	}{
		{name: "absent", give: nil, want: true},
		{name: "true", give: &tru, want: true},
		{name: "false", give: &fal, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Request{Cleanup: Cleanup{RevokeBucketPolicy: tt.give}}
			if got := r.Revoke(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEffectiveLogLevel(t *testing.T) {
	tests := []struct {
		name     string
		give     string
		logGroup bool
		want     string
	}{
		{name: "default without log group", give: "", logGroup: false, want: "OFF"},
		{name: "default with log group", give: "", logGroup: true, want: "BASIC"},
		{name: "explicit wins", give: "TRANSFER", logGroup: false, want: "TRANSFER"},
		{name: "explicit off", give: "OFF", logGroup: true, want: "OFF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (TaskOptions{LogLevel: tt.give}).EffectiveLogLevel(tt.logGroup); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	o := TaskOptions{Includes: []string{"/a*", "/b/c"}, Excludes: []string{"*.tmp"}}
	if got, want := o.IncludeFilter(), "/a*|/b/c"; got != want {
		t.Errorf("IncludeFilter: got %q, want %q", got, want)
	}
	if got, want := o.ExcludeFilter(), "*.tmp"; got != want {
		t.Errorf("ExcludeFilter: got %q, want %q", got, want)
	}
	if got := (TaskOptions{}).IncludeFilter(); got != "" {
		t.Errorf("IncludeFilter of none: got %q, want empty", got)
	}
}

func TestPartition(t *testing.T) {
	tests := []struct {
		give string
		want string
	}{
		{give: "us-east-1", want: "aws"},
		{give: "ap-northeast-1", want: "aws"},
		{give: "cn-north-1", want: "aws-cn"},
		{give: "cn-northwest-1", want: "aws-cn"},
		{give: "us-gov-west-1", want: "aws-us-gov"},
		{give: "us-iso-east-1", want: "aws-iso"},
		{give: "eusc-de-east-1", want: "aws-eusc"},
		{give: "ap-northeast-9", want: "aws"},        // newer than the SDK: by the partition's name pattern
		{give: "us-gov-north-7", want: "aws-us-gov"}, // likewise
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			if got := Partition(tt.give); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKnownRegion(t *testing.T) {
	for _, r := range []string{"us-east-1", "ap-northeast-1", "cn-northwest-1", "us-gov-east-1", "eu-west-3"} {
		if !KnownRegion(r) {
			t.Errorf("KnownRegion(%q): got false, want true", r)
		}
	}
	for _, r := range []string{"ap-northeast-9", "us-east-10", "aws-global", "", "US-EAST-1", "tokyo"} {
		if KnownRegion(r) {
			t.Errorf("KnownRegion(%q): got true, want false", r)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		wantErr []string
		wantIn  string // in the message, when set
	}{
		{name: "empty", give: "", wantErr: []string{"(request)"}},
		{name: "spaces", give: "  \n", wantErr: []string{"(request)"}},
		{name: "syntax", give: `{"source":`, wantErr: []string{"(request)"}},
		{name: "two values", give: `{} {}`, wantErr: []string{"(request)"}},
		{name: "not an object", give: `[1]`, wantErr: []string{"(request)"}},
		{name: "null", give: `null`, wantErr: []string{"(request)"}},
		{name: "unknown top-level field", give: `{"extra":1}`, wantErr: []string{"extra"}},
		{name: "unknown nested field", give: `{"source":{"bukket":"a"}}`, wantErr: []string{"source.bukket"}},
		{name: "case-insensitive match refused", give: `{"MigrationId":"a"}`, wantErr: []string{"MigrationId"}},
		{name: "duplicate field", give: `{"migrationId":"a","migrationId":"b"}`, wantErr: []string{"migrationId"}},
		{name: "number for string", give: `{"source":{"accountId":111111111111}}`, wantErr: []string{"source.accountId"}},
		{name: "string for bool", give: `{"cleanup":{"revokeBucketPolicy":"yes"}}`, wantErr: []string{"cleanup.revokeBucketPolicy"}},
		{name: "string for list", give: `{"task":{"includes":"/a"}}`, wantErr: []string{"task.includes"}},
		{name: "number in list", give: `{"task":{"excludes":["a",2]}}`, wantErr: []string{"task.excludes[1]"}},
		{name: "null for string", give: `{"source":{"bucket":null}}`, wantErr: []string{"source.bucket"}},
		{name: "list for object", give: `{"destination":[]}`, wantErr: []string{"destination"}},
		{name: "many at once", give: `{"x":1,"source":{"y":2,"bucket":3},"task":{"logLevel":true}}`,
			wantErr: []string{"x", "source.y", "source.bucket", "task.logLevel"}},
		{name: "too large", give: `{"migrationId":"` + strings.Repeat("a", MaxRequestBytes) + `"}`, wantErr: []string{"(request)"},
			wantIn: "is 262162 bytes (256.0 KiB); a Step Functions execution input is at most 262144 bytes"},
		{name: "UTF-8 byte-order mark", give: "\xEF\xBB\xBF{}", wantErr: []string{"(request)"}, wantIn: "starts with a UTF-8 byte-order mark"},
		{name: "UTF-16 byte-order mark", give: "\xFF\xFE{\x00}\x00", wantErr: []string{"(request)"}, wantIn: "UTF-16"},
		{name: "bytes that are not UTF-8", give: "{\"task\":{\"excludes\":[\"ok\",\"a\xffb\"]}}", wantErr: []string{"task.excludes[1]"}},
		{name: "truncated UTF-8 sequence", give: "{\"source\":{\"prefix\":\"caf\xc3\"}}", wantErr: []string{"source.prefix"}},
		{name: "lone high surrogate", give: `{"task":{"excludes":["a\ud800b"]}}`, wantErr: []string{"task.excludes[0]"}},
		{name: "lone low surrogate", give: `{"task":{"includes":["/\uDC00"]}}`, wantErr: []string{"task.includes[0]"}},
		{name: "high surrogate then a letter", give: `{"migrationId":"\ud83d\u0041"}`, wantErr: []string{"migrationId"}},
		{name: "high surrogate at the end", give: `{"source":{"externalId":"ab\ud83d"}}`, wantErr: []string{"source.externalId"}},
		{name: "field name not UTF-8", give: "{\"source\":{\"buck\xe9t\":\"a\"}}", wantErr: []string{"source"}},
		{name: "field name with a lone surrogate", give: `{"\ud800":1}`, wantErr: []string{"(request)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Decode([]byte(tt.give))
			if r != nil {
				t.Errorf("got request %+v, want nil", r)
			}
			if got := fieldsOf(t, err); !slices.Equal(got, tt.wantErr) {
				t.Errorf("got fields %q, want %q (error: %v)", got, tt.wantErr, err)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("got %q, want it to contain %q", err, tt.wantIn)
			}
		})
	}
}

// TestDecodeKeepsValidText: escapes that encode whole characters, surrogate pairs
// included, and text that only looks like an escape are not mistaken for broken text.
func TestDecodeKeepsValidText(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{name: "surrogate pair", give: `"*\ud83d\ude00*"`, want: "*\U0001F600*"},
		{name: "raw emoji", give: `"*😀*"`, want: "*😀*"},
		{name: "escaped backslash before u", give: `"a\\ud800"`, want: `a\ud800`},
		{name: "replacement character as written", give: `"\ufffd�"`, want: "\uFFFD\uFFFD"},
		{name: "BMP escape", give: `"caf\u00e9"`, want: "café"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Decode([]byte(`{"task":{"excludes":[` + tt.give + `]}}`))
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if got := r.Task.Excludes[0]; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeAcceptsNullForOptionalPointerAndList(t *testing.T) {
	raw := `{"cleanup":{"revokeBucketPolicy":null},"task":{"includes":null}}`
	r, err := Decode([]byte(raw))
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if r.Cleanup.RevokeBucketPolicy != nil || r.Task.Includes != nil {
		t.Errorf("got %+v, want zero cleanup and includes", r)
	}
}

// TestValidateBadRequests changes one thing in a valid request and checks that exactly the
// expected fields are reported.
func TestValidateBadRequests(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		name    string
		give    func(r *Request)
		home    *Home
		wantErr []string
	}{
		{name: "mode unknown", give: func(r *Request) { r.Mode = "dry-run" }, wantErr: []string{"mode"}},
		{name: "mode upper case", give: func(r *Request) { r.Mode = "PLAN" }, wantErr: []string{"mode"}},
		{name: "migration id upper case", give: func(r *Request) { r.MigrationID = "Media" }, wantErr: []string{"migrationId"}},
		{name: "migration id too long", give: func(r *Request) { r.MigrationID = strings.Repeat("a", 33) }, wantErr: []string{"migrationId"}},
		{name: "migration id trailing dash", give: func(r *Request) { r.MigrationID = "media-" }, wantErr: []string{"migrationId"}},
		{name: "migration id missing", give: func(r *Request) { r.MigrationID = "" }, wantErr: []string{"migrationId"}},
		{name: "source bucket missing", give: func(r *Request) { r.Source.Bucket = "" }, wantErr: []string{"source.bucket"}},
		{name: "bucket too short", give: func(r *Request) { r.Source.Bucket = "ab" }, wantErr: []string{"source.bucket"}},
		{name: "bucket too long", give: func(r *Request) { r.Source.Bucket = long }, wantErr: []string{"source.bucket"}},
		{name: "bucket upper case", give: func(r *Request) { r.Source.Bucket = "Team-a" }, wantErr: []string{"source.bucket"}},
		{name: "bucket underscore", give: func(r *Request) { r.Destination.Bucket = "team_b" }, wantErr: []string{"destination.bucket"}},
		{name: "bucket double dot", give: func(r *Request) { r.Destination.Bucket = "team..b" }, wantErr: []string{"destination.bucket"}},
		{name: "bucket starts with dash", give: func(r *Request) { r.Destination.Bucket = "-teamb" }, wantErr: []string{"destination.bucket"}},
		{name: "bucket ends with dot", give: func(r *Request) { r.Destination.Bucket = "teamb." }, wantErr: []string{"destination.bucket"}},
		{name: "bucket is an IP", give: func(r *Request) { r.Destination.Bucket = "192.168.5.4" }, wantErr: []string{"destination.bucket"}},
		{name: "bucket is IP-like with leading zero", give: func(r *Request) { r.Destination.Bucket = "192.168.05.400" }, wantErr: []string{"destination.bucket"}},
		{name: "bucket .mrap suffix", give: func(r *Request) { r.Destination.Bucket = "teamb.mrap" }, wantErr: []string{"destination.bucket"}},
		{name: "bucket xn-- prefix", give: func(r *Request) { r.Destination.Bucket = "xn--teamb" }, wantErr: []string{"destination.bucket"}},
		{name: "bucket sthree- prefix", give: func(r *Request) { r.Destination.Bucket = "sthree-b" }, wantErr: []string{"destination.bucket"}},
		{name: "bucket -s3alias suffix", give: func(r *Request) { r.Destination.Bucket = "teamb-s3alias" }, wantErr: []string{"destination.bucket"}},
		{name: "bucket --ol-s3 suffix", give: func(r *Request) { r.Destination.Bucket = "teamb--ol-s3" }, wantErr: []string{"destination.bucket"}},
		{name: "bucket --x-s3 suffix", give: func(r *Request) { r.Destination.Bucket = "teamb--x-s3" }, wantErr: []string{"destination.bucket"}},
		{name: "bucket as ARN", give: func(r *Request) { r.Source.Bucket = "arn:aws:s3:::team-a-media" }, wantErr: []string{"source.bucket"}},
		{name: "account id short", give: func(r *Request) { r.Source.AccountID = "11111111111" }, wantErr: []string{"source.accountId"}},
		{name: "account id letters", give: func(r *Request) { r.Source.AccountID = "11111111111a" }, wantErr: []string{"source.accountId"}},
		{name: "account id missing", give: func(r *Request) { r.Source.AccountID = "" }, wantErr: []string{"source.accountId"}},
		{name: "source region bad", give: func(r *Request) { r.Source.Region = "tokyo" }, wantErr: []string{"source.region"}},
		{name: "source region missing", give: func(r *Request) { r.Source.Region = "" }, wantErr: []string{"source.region"}},
		{name: "kms key alias", give: func(r *Request) { r.Source.KMSKeyArns = []string{"alias/media"} }, wantErr: []string{"source.kmsKeyArns[0]"}},
		{name: "kms key id without arn", give: func(r *Request) { r.Source.KMSKeyArns = []string{"1234abcd-12ab-34cd-56ef-1234567890ab"} }, wantErr: []string{"source.kmsKeyArns[0]"}},
		{name: "kms key of another account", give: func(r *Request) {
			r.Source.KMSKeyArns = []string{testKeyArn(r.Source.Region, "333333333333")}
		}, wantErr: []string{"source.kmsKeyArns[0]"}},
		{name: "kms key of another region", give: func(r *Request) {
			r.Source.KMSKeyArns = []string{testKeyArn("eu-west-1", r.Source.AccountID)}
		}, wantErr: []string{"source.kmsKeyArns[0]"}},
		{name: "kms key of another partition", give: func(r *Request) {
			r.Source.KMSKeyArns = []string{strings.Replace(testKeyArn(r.Source.Region, r.Source.AccountID), "arn:aws:", "arn:aws-cn:", 1)}
		}, wantErr: []string{"source.kmsKeyArns[0]"}},
		{name: "kms key repeated", give: func(r *Request) {
			k := testKeyArn(r.Source.Region, r.Source.AccountID)
			r.Source.KMSKeyArns = []string{k, k}
		}, wantErr: []string{"source.kmsKeyArns[1]"}},
		{name: "kms keys too many", give: func(r *Request) {
			r.Source.KMSKeyArns = slices.Repeat([]string{testKeyArn(r.Source.Region, r.Source.AccountID)}, MaxKMSKeyArns+1)
		}, wantErr: []string{"source.kmsKeyArns"}},
		{name: "source region other partition", give: func(r *Request) {
			r.Source.Region = "cn-north-1"
		}, wantErr: []string{"source.region"}},
		{name: "same account as dsmigrate", give: func(r *Request) {
			r.Source.AccountID = TestHome.AccountID
		}, wantErr: []string{"source.accountId"}},
		{name: "same account as the destination, environment unknown", give: func(r *Request) {
			r.Destination.AccountID = r.Source.AccountID
		}, home: &Home{Region: "ap-northeast-1"}, wantErr: []string{"source.accountId"}},
		{name: "region that does not exist", give: func(r *Request) { r.Source.Region = "ap-northeast-9" }, wantErr: []string{"source.region"}},
		{name: "region extra in another deployment only", give: func(r *Request) { r.Source.Region = "eu-west-9" },
			home: &Home{AccountID: "222222222222", Region: "ap-northeast-1", ExtraRegions: []string{"ap-northeast-9"}}, wantErr: []string{"source.region"}},
		{name: "destination account not ours", give: func(r *Request) { r.Destination.AccountID = "333333333333" }, wantErr: []string{"destination.accountId"}},
		{name: "destination account not 12 digits", give: func(r *Request) { r.Destination.AccountID = "2222" }, wantErr: []string{"destination.accountId"}},
		{name: "destination region not ours", give: func(r *Request) { r.Destination.Region = "us-east-1" }, wantErr: []string{"destination.region"}},
		{name: "destination region bad", give: func(r *Request) { r.Destination.Region = "US-EAST-1" }, wantErr: []string{"destination.region"}},
		{name: "source prefix leading slash", give: func(r *Request) { r.Source.Prefix = "/photos/" }, wantErr: []string{"source.prefix"}},
		{name: "source prefix double slash", give: func(r *Request) { r.Source.Prefix = "photos//2026/" }, wantErr: []string{"source.prefix"}},
		{name: "destination prefix dot-dot", give: func(r *Request) { r.Destination.Prefix = "a/../b/" }, wantErr: []string{"destination.prefix"}},
		{name: "destination prefix char", give: func(r *Request) { r.Destination.Prefix = "a&b/" }, wantErr: []string{"destination.prefix"}},
		{name: "destination prefix too long", give: func(r *Request) { r.Destination.Prefix = strings.Repeat("a", 1025) }, wantErr: []string{"destination.prefix"}},
		{name: "storage class unknown", give: func(r *Request) { r.Destination.StorageClass = "COLD" }, wantErr: []string{"destination.storageClass"}},
		{name: "storage class outposts", give: func(r *Request) { r.Destination.StorageClass = "OUTPOSTS" }, wantErr: []string{"destination.storageClass"}},
		{name: "storage class lower case", give: func(r *Request) { r.Destination.StorageClass = "standard" }, wantErr: []string{"destination.storageClass"}},
		{name: "task mode unknown", give: func(r *Request) { r.Task.TaskMode = "TURBO" }, wantErr: []string{"task.taskMode"}},
		{name: "verify mode unknown", give: func(r *Request) { r.Task.VerifyMode = "ALL" }, wantErr: []string{"task.verifyMode"}},
		{name: "overwrite mode unknown", give: func(r *Request) { r.Task.OverwriteMode = "SOMETIMES" }, wantErr: []string{"task.overwriteMode"}},
		{name: "transfer mode unknown", give: func(r *Request) { r.Task.TransferMode = "NEW" }, wantErr: []string{"task.transferMode"}},
		{name: "preserve deleted unknown", give: func(r *Request) { r.Task.PreserveDeletedFiles = "KEEP" }, wantErr: []string{"task.preserveDeletedFiles"}},
		{name: "log level unknown", give: func(r *Request) { r.Task.LogLevel = "DEBUG" }, wantErr: []string{"task.logLevel"}},
		{name: "enhanced with point in time", give: func(r *Request) { r.Task.VerifyMode = "POINT_IN_TIME_CONSISTENT" }, wantErr: []string{"task.verifyMode"}},
		{name: "remove with transfer all", give: func(r *Request) {
			r.Task.PreserveDeletedFiles = "REMOVE"
			r.Task.TransferMode = "ALL"
		}, wantErr: []string{"task.preserveDeletedFiles"}},
		{name: "point in time with deep archive", give: func(r *Request) {
			r.Task.TaskMode = "BASIC"
			r.Task.VerifyMode = "POINT_IN_TIME_CONSISTENT"
			r.Destination.StorageClass = "DEEP_ARCHIVE"
		}, wantErr: []string{"task.verifyMode"}},
		{name: "include without slash", give: func(r *Request) { r.Task.Includes = []string{"photos"} }, wantErr: []string{"task.includes[0]"}},
		{name: "include inner wildcard", give: func(r *Request) { r.Task.Includes = []string{"/a", "/*.txt"} }, wantErr: []string{"task.includes[1]"}},
		{name: "include with pipe", give: func(r *Request) { r.Task.Includes = []string{"/a|/b"} }, wantErr: []string{"task.includes[0]"}},
		{name: "exclude empty", give: func(r *Request) { r.Task.Excludes = []string{"*.tmp", ""} }, wantErr: []string{"task.excludes[1]"}},
		{name: "exclude NUL", give: func(r *Request) { r.Task.Excludes = []string{"a\x00b"} }, wantErr: []string{"task.excludes[0]"}},
		{name: "excludes too long", give: func(r *Request) {
			r.Task.Excludes = []string{strings.Repeat("a", MaxFilterLength/2), strings.Repeat("b", MaxFilterLength/2)}
		}, wantErr: []string{"task.excludes", "(request)"}},
		{name: "same bucket no prefixes", give: func(r *Request) {
			r.Destination.Bucket = r.Source.Bucket
			r.Source.Prefix, r.Destination.Prefix = "", ""
		}, wantErr: []string{"destination.prefix"}},
		{name: "same bucket nested prefixes", give: func(r *Request) {
			r.Destination.Bucket = r.Source.Bucket
			r.Source.Prefix, r.Destination.Prefix = "photos/", "photos/copy/"
		}, wantErr: []string{"destination.prefix"}},
		{name: "same bucket prefix without slash", give: func(r *Request) {
			r.Destination.Bucket = r.Source.Bucket
			r.Source.Prefix, r.Destination.Prefix = "photos", "photos/copy"
		}, wantErr: []string{"destination.prefix"}},
		{name: "report bucket bad", give: func(r *Request) { r.Task.Report = &Report{Bucket: "Reports", Level: ReportErrorsOnly} }, wantErr: []string{"task.report.bucket"}},
		{name: "report bucket missing", give: func(r *Request) { r.Task.Report = &Report{Level: ReportErrorsOnly} }, wantErr: []string{"task.report.bucket"}},
		{name: "report level unknown", give: func(r *Request) { r.Task.Report = &Report{Bucket: "team-b-reports", Level: "STANDARD"} }, wantErr: []string{"task.report.level"}},
		{name: "report prefix character DataSync refuses", give: func(r *Request) {
			r.Task.Report = &Report{Bucket: "team-b-reports", Prefix: "audit#1/", Level: ReportErrorsOnly}
		}, wantErr: []string{"task.report.prefix"}},
		{name: "report prefix not a folder", give: func(r *Request) {
			r.Task.Report = &Report{Bucket: "team-b-reports", Prefix: "audit", Level: ReportErrorsOnly}
		}, wantErr: []string{"task.report.prefix"}},
		{name: "report prefix too long", give: func(r *Request) {
			r.Task.Report = &Report{Bucket: "team-b-reports", Prefix: strings.Repeat("a/", MaxReportPrefixLength/2+1), Level: ReportErrorsOnly}
		}, wantErr: []string{"task.report.prefix"}},
		{name: "report inside the destination prefix", give: func(r *Request) {
			r.Task.Report = &Report{Bucket: r.Destination.Bucket, Prefix: r.Destination.Prefix + "reports/", Level: ReportErrorsOnly}
		}, wantErr: []string{"task.report.prefix"}},
		{name: "report in a destination bucket copied whole", give: func(r *Request) {
			r.Destination.Prefix = ""
			r.Task.Report = &Report{Bucket: r.Destination.Bucket, Prefix: "reports/", Level: ReportErrorsOnly}
		}, wantErr: []string{"task.report.prefix"}},
		{name: "report folder is the destination prefix", give: func(r *Request) {
			r.Destination.Prefix = r.MigrationID + "/"
			r.Task.Report = &Report{Bucket: r.Destination.Bucket, Level: ReportErrorsOnly}
		}, wantErr: []string{"task.report.prefix"}},
	}
	if len(tests) < 35 {
		t.Fatalf("got %d cases, want at least 35", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullRequest(t)
			tt.give(r)
			home := TestHome
			if tt.home != nil {
				home = *tt.home
			}
			err := r.Validate(home)
			if got := fieldsOf(t, err); !slices.Equal(got, tt.wantErr) {
				t.Errorf("got fields %q, want %q (error: %v)", got, tt.wantErr, err)
			}
		})
	}
}

func TestValidateGoodVariants(t *testing.T) {
	tests := []struct {
		name string
		give func(r *Request)
		home Home
	}{
		{name: "fixture", give: func(r *Request) {}, home: TestHome},
		{name: "mode migrate", give: func(r *Request) { r.Mode = ModeMigrate }, home: TestHome},
		{name: "mode plan", give: func(r *Request) { r.Mode = ModePlan }, home: TestHome},
		{name: "mode teardown", give: func(r *Request) { r.Mode = ModeTeardown }, home: TestHome},
		{name: "same bucket disjoint prefixes", give: func(r *Request) {
			r.Destination.Bucket = r.Source.Bucket
			r.Source.Prefix, r.Destination.Prefix = "photos/", "photos2/"
		}, home: TestHome},
		{name: "sibling prefix without slash", give: func(r *Request) {
			r.Destination.Bucket = r.Source.Bucket
			r.Source.Prefix, r.Destination.Prefix = "a", "ab/"
		}, home: TestHome},
		{name: "china", give: func(r *Request) {
			r.Source.Region, r.Destination.Region = "cn-north-1", "cn-northwest-1"
		}, home: Home{AccountID: "222222222222", Region: "cn-northwest-1"}},
		{name: "govcloud", give: func(r *Request) {
			r.Source.Region, r.Destination.Region = "us-gov-west-1", "us-gov-east-1"
		}, home: Home{AccountID: "222222222222", Region: "us-gov-east-1"}},
		{name: "basic point in time", give: func(r *Request) {
			r.Task.TaskMode, r.Task.VerifyMode = "BASIC", "POINT_IN_TIME_CONSISTENT"
		}, home: TestHome},
		{name: "prefix with space and parens", give: func(r *Request) { r.Destination.Prefix = "my photos (2026)/" }, home: TestHome},
		{name: "dotted bucket", give: func(r *Request) { r.Destination.Bucket = "team.b.media" }, home: TestHome},
		{name: "kms key arns of the source account and region", give: func(r *Request) {
			r.Source.KMSKeyArns = []string{testKeyArn(r.Source.Region, r.Source.AccountID),
				"arn:aws:kms:" + r.Source.Region + ":" + r.Source.AccountID + ":key/mrk-1234abcd12ab34cd56ef1234567890ab"}
		}, home: TestHome},
		{name: "hyphen next to period", give: func(r *Request) { r.Destination.Bucket = "team-.b" }, home: TestHome},
		{name: "digits and dots, not four groups", give: func(r *Request) { r.Destination.Bucket = "1.2.3" }, home: TestHome},
		{name: "exclude with inner wildcard", give: func(r *Request) { r.Task.Excludes = []string{"*/tmp", "*.temp"} }, home: TestHome},
		{name: "region newer than the SDK, listed by the deployment", give: func(r *Request) { r.Source.Region = "ap-northeast-9" },
			home: Home{AccountID: "222222222222", Region: "ap-northeast-1", ExtraRegions: []string{"ap-northeast-9"}}},
		{name: "dsmigrate runs in a region newer than the SDK", give: func(r *Request) { r.Source.Region, r.Destination.Region = "ap-northeast-9", "ap-northeast-9" },
			home: Home{AccountID: "222222222222", Region: "ap-northeast-9"}},
		{name: "report in another bucket", give: func(r *Request) {
			r.Task.Report = &Report{Bucket: "team-b-reports", Prefix: "audit/", Level: ReportSuccessesAndErrors}
		}, home: TestHome},
		{name: "report beside the destination prefix", give: func(r *Request) {
			r.Destination.Prefix = "data/"
			r.Task.Report = &Report{Bucket: r.Destination.Bucket, Prefix: "reports/", Level: ReportSummaryOnly}
		}, home: TestHome},
		{name: "region the SDK knows outside the usual name shapes", give: func(r *Request) {
			r.Source.Region, r.Destination.Region = "eusc-de-east-1", "eusc-de-east-1"
		}, home: Home{AccountID: "222222222222", Region: "eusc-de-east-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullRequest(t)
			tt.give(r)
			if err := r.Validate(tt.home); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	r, err := Decode(readFixture(t, "invalid-rules.json"))
	if err != nil {
		t.Fatalf("Decode: got %v, want nil", err)
	}
	err = r.Validate(TestHome)
	got := fieldsOf(t, err)
	want := []string{"migrationId", "source.bucket", "source.accountId", "source.region",
		"source.prefix", "source.prefix",
		"destination.bucket", "destination.region", "destination.storageClass",
		"task.verifyMode", "task.includes[0]", "task.includes[0]", "task.excludes[0]"}
	if !slices.Equal(got, want) {
		t.Errorf("got fields %q, want %q", got, want)
	}
	if msg := err.Error(); !strings.Contains(msg, "13 problem(s)") {
		t.Errorf("got message %q, want it to count 13 problems", msg)
	}
}

func TestValidateNil(t *testing.T) {
	var r *Request
	if got := fieldsOf(t, r.Validate(TestHome)); !slices.Equal(got, []string{"(request)"}) {
		t.Errorf("got %q, want [(request)]", got)
	}
}

func TestInvalidUnknownFieldFixture(t *testing.T) {
	_, err := Decode(readFixture(t, "invalid-unknown-field.json"))
	if got, want := fieldsOf(t, err), []string{"source.Bucket", "extra"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"valid-full.json", "valid-minimal.json"} {
		t.Run(name, func(t *testing.T) {
			r, err := Decode(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			r.Normalize("media-run-1")
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(Marshal(r)): got %v, want nil", err)
			}
			if !reflect.DeepEqual(back, r) {
				t.Errorf("got %+v, want %+v", back, r)
			}
		})
	}
}

// TestRetiredFields: a request written for an earlier version that still names the role
// in account A or an external id is refused with what to do, not "not a known field".
func TestRetiredFields(t *testing.T) {
	tests := []struct {
		name, give, wantField, wantText string
	}{
		{"policy role", `"policyRoleArn":"arn:aws:iam::111111111111:role/dsmigrate-source-access"`, "source.policyRoleArn", "derived from source.accountId"},
		{"external id", `"externalId":"dsmigrate-7f3c"`, "source.externalId", "no external id is used"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := `{"source":{"bucket":"team-a-media","accountId":"111111111111","region":"ap-northeast-1",` + tt.give +
				`},"destination":{"bucket":"team-b-media","region":"ap-northeast-1"}}`
			_, err := Decode([]byte(raw))
			if got := fieldsOf(t, err); !slices.Equal(got, []string{tt.wantField}) {
				t.Fatalf("got fields %q, want [%s]", got, tt.wantField)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.wantText) || !strings.Contains(msg, "remove the field") {
				t.Errorf("got %q, want it to say %q and to remove the field", msg, tt.wantText)
			}
		})
	}
}

func TestCheckDeployment(t *testing.T) {
	no := false
	tests := []struct {
		name       string
		give       func(r *Request)
		deployment Deployment
		wantFields []string
		wantText   []string
	}{
		{name: "plain copy", give: func(r *Request) {}},
		{name: "remove refused", give: func(r *Request) { r.Task.PreserveDeletedFiles = "REMOVE" },
			wantFields: []string{"task.preserveDeletedFiles"}, wantText: []string{SettingAllowRemove, "PRESERVE"}},
		{name: "remove allowed", give: func(r *Request) { r.Task.PreserveDeletedFiles = "REMOVE" },
			deployment: Deployment{AllowRemove: true}},
		{name: "standing grant refused", give: func(r *Request) { r.Cleanup.RevokeBucketPolicy = &no },
			wantFields: []string{"cleanup.revokeBucketPolicy"}, wantText: []string{SettingAllowStandingGrant}},
		{name: "standing grant allowed", give: func(r *Request) { r.Cleanup.RevokeBucketPolicy = &no },
			deployment: Deployment{AllowStandingGrant: true}},
		{name: "both refused at once", give: func(r *Request) {
			r.Task.PreserveDeletedFiles = "REMOVE"
			r.Cleanup.RevokeBucketPolicy = &no
		}, deployment: Deployment{}, wantFields: []string{"task.preserveDeletedFiles", "cleanup.revokeBucketPolicy"}},
		{name: "one allowed, the other refused", give: func(r *Request) {
			r.Task.PreserveDeletedFiles = "REMOVE"
			r.Cleanup.RevokeBucketPolicy = &no
		}, deployment: Deployment{AllowRemove: true}, wantFields: []string{"cleanup.revokeBucketPolicy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullRequest(t)
			tt.give(r)
			r.Normalize("media-run-1")
			err := r.CheckDeployment(tt.deployment)
			if got := fieldsOf(t, err); !slices.Equal(got, tt.wantFields) {
				t.Fatalf("got fields %q, want %q (error: %v)", got, tt.wantFields, err)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to name %q", err.Error(), w)
				}
			}
		})
	}
}

func TestModeAndDeleteResources(t *testing.T) {
	no := false
	tests := []struct {
		name      string
		change    func(r *Request)
		wantField string // "" = valid
	}{
		{"mode left out", func(r *Request) {}, ""},
		{"mode migrate", func(r *Request) { r.Mode = ModeMigrate }, ""},
		{"mode teardown", func(r *Request) { r.Mode = ModeTeardown }, ""},
		{"mode unknown", func(r *Request) { r.Mode = "destroy" }, "mode"},
		{"deleteResources", func(r *Request) { r.Cleanup.DeleteResources = true }, ""},
		{"deleteResources with a standing grant", func(r *Request) { r.Cleanup.DeleteResources, r.Cleanup.RevokeBucketPolicy = true, &no }, "cleanup.deleteResources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullRequest(t)
			r.Cleanup = Cleanup{}
			tt.change(r)
			err := r.Validate(TestHome)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantField+":") {
				t.Errorf("got %v, want a problem with %s", err, tt.wantField)
			}
		})
	}
}

// testKeyArn is a KMS key ARN of the aws partition.
func testKeyArn(region, account string) string {
	return "arn:aws:kms:" + region + ":" + account + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
}
