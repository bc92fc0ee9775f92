package preflight

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

var update = flag.Bool("update", false, "rewrite testdata/output.json")

func TestMain(m *testing.M) {
	flag.Parse()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// fakeS3 is one account's S3 as preflight sees it; calls are recorded in log.
type fakeS3 struct {
	name         string
	log          *[]string
	getOwnership func(bucket string) (*s3.GetBucketOwnershipControlsOutput, error)
	getPolicy    func(bucket string) (*s3.GetBucketPolicyOutput, error)
}

func (f *fakeS3) GetBucketOwnershipControls(_ context.Context, in *s3.GetBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	*f.log = append(*f.log, f.name+":GetBucketOwnershipControls:"+aws.ToString(in.Bucket)+":owner="+aws.ToString(in.ExpectedBucketOwner))
	return f.getOwnership(aws.ToString(in.Bucket))
}

func (f *fakeS3) GetBucketPolicy(_ context.Context, in *s3.GetBucketPolicyInput, _ ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	*f.log = append(*f.log, f.name+":GetBucketPolicy:"+aws.ToString(in.Bucket))
	return f.getPolicy(aws.ToString(in.Bucket))
}

type fakeAssumer struct {
	log    *[]string
	client S3API
	err    error
	params []sourceaccess.Params
}

func (f *fakeAssumer) AssumeS3(_ context.Context, p sourceaccess.Params) (S3API, error) {
	*f.log = append(*f.log, "sts:AssumeRole:"+p.RoleArn)
	f.params = append(f.params, p)
	return f.client, f.err
}

func enforced(string) (*s3.GetBucketOwnershipControlsOutput, error) {
	return &s3.GetBucketOwnershipControlsOutput{OwnershipControls: &s3types.OwnershipControls{
		Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}},
	}}, nil
}

func noPolicy(string) (*s3.GetBucketPolicyOutput, error) {
	return nil, apiError(404, "NoSuchBucketPolicy", "The bucket policy does not exist")
}

func apiError(status int, code, msg string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "Op", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
			Err:      &smithy.GenericAPIError{Code: code, Message: msg},
		},
	}}
}

type world struct {
	log     []string
	source  *fakeS3
	dest    *fakeS3
	assumer *fakeAssumer
	h       *Handler
}

func newWorld() *world {
	w := &world{}
	w.source = &fakeS3{name: "A", log: &w.log, getOwnership: enforced, getPolicy: noPolicy}
	w.dest = &fakeS3{name: "B", log: &w.log, getOwnership: enforced, getPolicy: noPolicy}
	w.assumer = &fakeAssumer{log: &w.log, client: w.source}
	w.h = &Handler{
		Config: Config{
			Env:                    requesttest.Env,
			RolePrefix:             "dsmigrate",
			LocationsCallerRoleArn: "arn:aws:iam::222222222222:role/dsmigrate-createlocations",
		},
		S3:      w.dest,
		Assumer: w.assumer,
	}
	return w
}

func validInput() Input {
	return Input{Request: requesttest.ValidJSON(), ExecutionName: requesttest.ExecutionName}
}

func TestHandleValid(t *testing.T) {
	w := newWorld()
	foreign := `{"Version":"2012-10-17","Statement":[{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"}]}`
	w.source.getPolicy = func(string) (*s3.GetBucketPolicyOutput, error) {
		return &s3.GetBucketPolicyOutput{Policy: aws.String(foreign)}, nil
	}
	got, err := w.h.Handle(context.Background(), validInput())
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if got.SourcePolicyBytes != len(foreign) || got.SourcePolicyStatements != 1 {
		t.Errorf("got %d bytes %d statements, want %d and 1", got.SourcePolicyBytes, got.SourcePolicyStatements, len(foreign))
	}
	want := []string{
		"sts:AssumeRole:arn:aws:iam::111111111111:role/dsmigrate-source-access",
		"A:GetBucketOwnershipControls:team-a-media:owner=111111111111",
		"A:GetBucketPolicy:team-a-media",
		"B:GetBucketOwnershipControls:team-b-media:owner=222222222222",
	}
	if strings.Join(w.log, "\n") != strings.Join(want, "\n") {
		t.Errorf("got calls\n%s\nwant\n%s", strings.Join(w.log, "\n"), strings.Join(want, "\n"))
	}
	p := w.assumer.params[0]
	if p.ExternalID != "dsmigrate-7f3c" || p.MigrationID != "media-2026-11" || p.Region != "ap-northeast-1" {
		t.Errorf("got assume params %+v, want external id, migration id and source region", p)
	}
}

// A source bucket policy in AWS's recommended form, with unquoted number and boolean
// condition values, is a valid policy: preflight must read it, not ask to "fix" it.
func TestHandleUnquotedConditionValues(t *testing.T) {
	w := newWorld()
	tls := `{"Version":"2012-10-17","Statement":[{"Sid":"EnforceTLSv12orHigher","Effect":"Deny","Principal":{"AWS":"*"},"Action":["s3:*"],"Resource":["arn:aws:s3:::team-a-media","arn:aws:s3:::team-a-media/*"],"Condition":{"NumericLessThan":{"s3:TlsVersion":1.2}}},{"Sid":"DenyHTTP","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::team-a-media/*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}`
	w.source.getPolicy = func(string) (*s3.GetBucketPolicyOutput, error) {
		return &s3.GetBucketPolicyOutput{Policy: aws.String(tls)}, nil
	}
	got, err := w.h.Handle(context.Background(), validInput())
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if got.SourcePolicyStatements != 2 {
		t.Errorf("got %d statements, want 2", got.SourcePolicyStatements)
	}
}

// TestGolden runs the fixture input and compares the output with testdata/output.json.
func TestGolden(t *testing.T) {
	w := newWorld()
	var in Input
	requesttest.ReadJSON(t, "input.json", &in)
	got, err := w.h.Handle(context.Background(), in)
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	requesttest.Golden(t, "output.json", got, *update)
}

func TestBadRequestsCallNothing(t *testing.T) {
	for _, c := range requesttest.BadRequests() {
		t.Run(c.Name, func(t *testing.T) {
			w := newWorld()
			_, err := w.h.Handle(context.Background(), Input{Request: c.Raw, ExecutionName: requesttest.ExecutionName})
			v, ok := err.(*failure.ValidationError)
			if !ok {
				t.Fatalf("got %T %v, want *failure.ValidationError", err, err)
			}
			if !requesttest.HasField(v, c.WantField) {
				t.Errorf("got %v, want field %s named", v, c.WantField)
			}
			if len(w.log) != 0 {
				t.Errorf("got calls %v, want none", w.log)
			}
		})
	}
}

// TestPolicySizeMeasuredAsTheLimit: Preflight reports the source policy's size the way the
// 20 KB limit is checked (without whitespace, policy.Size), and accepts or refuses an
// indented policy exactly as the grant's merge will.
func TestPolicySizeMeasuredAsTheLimit(t *testing.T) {
	indented := func(resource string) string {
		return "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"TeamRead\",\n      \"Effect\": \"Allow\",\n" +
			"      \"Principal\": {\"AWS\": \"arn:aws:iam::333333333333:root\"},\n      \"Action\": \"s3:GetObject\",\n" +
			"      \"Resource\": \"arn:aws:s3:::team-a-media/" + resource + "\"\n    }\n  ]\n}\n" + strings.Repeat("\n", 3000)
	}
	w := newWorld()
	w.source.getPolicy = policyText(indented("*"))
	got, err := w.h.Handle(context.Background(), validInput())
	if err != nil {
		t.Fatal(err)
	}
	if want := policy.Size(indented("*")); got.SourcePolicyBytes != want || want >= len(indented("*")) {
		t.Errorf("sourcePolicyBytes: got %d, want %d (the policy without whitespace; %d with it)", got.SourcePolicyBytes, want, len(indented("*")))
	}

	// The largest resource that still fits once our statements are merged.
	merged, err := policy.Merge(indented(""), ours(w.h))
	if err != nil {
		t.Fatal(err)
	}
	fit := policy.MaxBucketPolicyBytes - policy.Size(merged)
	for _, tt := range []struct {
		pad     int
		wantErr bool
	}{{fit, false}, {fit + 1, true}} {
		w := newWorld()
		text := indented(strings.Repeat("x", tt.pad))
		w.source.getPolicy = policyText(text)
		_, err := w.h.Handle(context.Background(), validInput())
		_, mergeErr := policy.Merge(text, ours(w.h))
		if (err != nil) != tt.wantErr || (mergeErr != nil) != tt.wantErr {
			t.Errorf("policy of %d bytes (%d without whitespace): preflight %v, merge %v; want refused %v by both", len(text), policy.Size(text), err, mergeErr, tt.wantErr)
		}
	}
}

// ours is the statements the grant adds for the valid request.
func ours(h *Handler) []policy.Statement {
	id := requesttest.Valid().MigrationID
	return policy.SourceBucketStatements("aws", naming.SidsFor(id), "team-a-media", "photos/",
		naming.RoleArn("aws", "222222222222", h.Config.RolePrefix, naming.TransferRoleName(h.Config.RolePrefix, id)),
		h.Config.LocationsCallerRoleArn)
}

func TestMigrationIDFromExecutionName(t *testing.T) {
	w := newWorld()
	var doc map[string]any
	_ = json.Unmarshal(requesttest.ValidJSON(), &doc)
	delete(doc, "migrationId")
	raw, _ := json.Marshal(doc)
	got, err := w.h.Handle(context.Background(), Input{Request: raw, ExecutionName: "Nightly Run #7"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Request.MigrationID != "nightly-run-7" {
		t.Errorf("got id %q, want nightly-run-7", got.Request.MigrationID)
	}
}

func TestFailures(t *testing.T) {
	ownership := func(o s3types.ObjectOwnership) func(string) (*s3.GetBucketOwnershipControlsOutput, error) {
		return func(string) (*s3.GetBucketOwnershipControlsOutput, error) {
			return &s3.GetBucketOwnershipControlsOutput{OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: o}}}}, nil
		}
	}
	fail := func(err error) func(string) (*s3.GetBucketOwnershipControlsOutput, error) {
		return func(string) (*s3.GetBucketOwnershipControlsOutput, error) { return nil, err }
	}
	redirect := apiError(301, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint.")
	var re *awshttp.ResponseError
	errors.As(redirect, &re)
	re.Response.Header.Set("X-Amz-Bucket-Region", "eu-west-1")

	tests := []struct {
		name     string
		setup    func(w *world)
		wantType string
		wantIn   []string
	}{
		{
			name: "assume role denied",
			setup: func(w *world) {
				w.assumer.err = apiError(403, "AccessDenied", "User: arn:aws:sts::222222222222:assumed-role/fn/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/dsmigrate-source-access")
			},
			wantType: "PermissionError", wantIn: []string{"sts:AssumeRole", "sts:ExternalId"},
		},
		{
			name:     "source ACLs enabled",
			setup:    func(w *world) { w.source.getOwnership = ownership(s3types.ObjectOwnershipObjectWriter) },
			wantType: "PreconditionError", wantIn: []string{"source bucket team-a-media", "ObjectWriter", "disable ACLs", "BucketOwnerEnforced"},
		},
		{
			name: "destination without ownership controls",
			setup: func(w *world) {
				w.dest.getOwnership = fail(apiError(404, "OwnershipControlsNotFoundError", "The bucket ownership controls were not found"))
			},
			wantType: "PreconditionError", wantIn: []string{"destination bucket team-b-media", "disable ACLs"},
		},
		{
			name: "source bucket missing",
			setup: func(w *world) {
				w.source.getOwnership = fail(apiError(404, "NoSuchBucket", "The specified bucket does not exist"))
			},
			wantType: "PreconditionError", wantIn: []string{"source bucket team-a-media does not exist", "ap-northeast-1", "111111111111"},
		},
		{
			name:     "source bucket in another region (301)",
			setup:    func(w *world) { w.source.getOwnership = fail(redirect) },
			wantType: "PreconditionError", wantIn: []string{"team-a-media is not in region ap-northeast-1 but in region eu-west-1", "source.region"},
		},
		{
			name: "destination bucket in another region (signature region)",
			setup: func(w *world) {
				w.dest.getOwnership = fail(apiError(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; the region 'ap-northeast-1' is wrong; expecting 'us-west-2'"))
			},
			wantType: "PreconditionError", wantIn: []string{"destination bucket team-b-media is not in region ap-northeast-1 but in region us-west-2"},
		},
		{
			name: "throttled",
			setup: func(w *world) {
				w.source.getPolicy = func(string) (*s3.GetBucketPolicyOutput, error) { return nil, apiError(503, "SlowDown", "reduce") }
			},
			wantType: "TransientError",
		},
		{
			name: "policy read denied",
			setup: func(w *world) {
				w.source.getPolicy = func(string) (*s3.GetBucketPolicyOutput, error) {
					return nil, apiError(403, "AccessDenied", "Access Denied")
				}
			},
			wantType: "PermissionError", wantIn: []string{"arn:aws:iam::111111111111:role/dsmigrate-source-access", "s3:GetBucketPolicy", "arn:aws:s3:::team-a-media"},
		},
		{
			name: "foreign statement uses our Sid",
			setup: func(w *world) {
				w.source.getPolicy = policyText(`{"Version":"2012-10-17","Statement":[{"Sid":"DsmmediaX2026X11RolesBucketAccess","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::team-a-media"}]}`)
			},
			wantType: "PreconditionError", wantIn: []string{"DsmmediaX2026X11RolesBucketAccess", "will not overwrite"},
		},
		{
			name: "policy full",
			setup: func(w *world) {
				var stmts []string
				for i := 0; len(strings.Join(stmts, ",")) < 20*1024-600; i++ {
					stmts = append(stmts, fmt.Sprintf(`{"Sid":"Other%03d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/x%03d/*"}`, i, i))
				}
				w.source.getPolicy = policyText(`{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`)
			},
			wantType: "PreconditionError", wantIn: []string{"over S3's limit of 20480"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			tt.setup(w)
			_, err := w.h.Handle(context.Background(), validInput())
			if got := requesttest.ErrorName(err); got != tt.wantType {
				t.Fatalf("got %s (%v), want %s", got, err, tt.wantType)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not contain %q", err.Error(), s)
				}
			}
		})
	}
}

func policyText(s string) func(string) (*s3.GetBucketPolicyOutput, error) {
	return func(string) (*s3.GetBucketPolicyOutput, error) {
		return &s3.GetBucketPolicyOutput{Policy: aws.String(s)}, nil
	}
}

// typeName is the error name aws-lambda-go reports; a wrapper would show up as such.

// TestErrorLoggedOnce checks the boundary logs a failure exactly once, with lowerCamel keys.
func TestErrorLoggedOnce(t *testing.T) {
	rec := &requesttest.LogRecorder{}
	prev := slog.Default()
	slog.SetDefault(slog.New(rec))
	defer slog.SetDefault(prev)

	w := newWorld()
	w.source.getPolicy = func(string) (*s3.GetBucketPolicyOutput, error) { return nil, apiError(503, "SlowDown", "") }
	if _, err := w.h.Handle(context.Background(), validInput()); err == nil {
		t.Fatal("got nil, want an error")
	}
	errs := rec.AtLevel(slog.LevelError)
	if len(errs) != 1 {
		t.Fatalf("got %d error records, want 1", len(errs))
	}
	for _, k := range requesttest.Keys(errs[0]) {
		if k == "" || k[0] < 'a' || k[0] > 'z' || strings.ContainsAny(k, "_- ") {
			t.Errorf("got key %q, want lowerCamel", k)
		}
	}
}

// FuzzHandle feeds arbitrary raw requests to preflight: it never panics, returns either an
// output or one of the failure types itself, and calls nothing for an invalid request.
func FuzzHandle(f *testing.F) {
	f.Add(requesttest.ValidJSON(), "media-run-1")
	for _, c := range requesttest.BadRequests() {
		f.Add(c.Raw, "run")
	}
	f.Add([]byte(`{"source":{"bucket":"a.b-c"},"destination":{}}`), "")
	f.Fuzz(func(t *testing.T, raw []byte, name string) {
		w := newWorld()
		out, err := w.h.Handle(context.Background(), Input{Request: raw, ExecutionName: name})
		switch e := err.(type) {
		case nil:
			if out == nil || out.Request == nil || out.Request.MigrationID == "" {
				t.Fatalf("got output %+v, want a normalized request", out)
			}
		case *failure.ValidationError:
			if len(e.Fields) == 0 || len(w.log) != 0 {
				t.Fatalf("got %v with calls %v, want fields and no call", e, w.log)
			}
		case *failure.PreconditionError, *failure.PermissionError, *failure.TransientError, *failure.NotReadyError:
		default:
			t.Fatalf("got %T %v, want one of the failure types", err, err)
		}
	})
}

// TestHostileRequests sends every hostile request to the function and classifies the
// answer (clear, vague, wrongly accepted, crash); all must be clear refusals that call
// nothing. The tally is logged (go test -v -run TestHostileRequests).
func TestHostileRequests(t *testing.T) {
	cases := requesttest.HostileRequests()
	if len(cases) < 40 {
		t.Fatalf("got %d hostile requests, want at least 40", len(cases))
	}
	tally := requesttest.Tally{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			verdict := func() (v string) {
				defer func() {
					if recover() != nil {
						v = requesttest.Crash
					}
				}()
				w := newWorld()
				_, err := w.h.Handle(context.Background(), Input{Request: c.Raw, ExecutionName: requesttest.ExecutionName})
				v = requesttest.ClassifyError(c, err, len(w.log))
				if v != requesttest.Clear {
					msg := fmt.Sprint(err)
					t.Errorf("got %s: %.300s (calls %v); want a ValidationError naming %s and saying %q", v, msg, w.log, c.WantField, c.WantIn)
				}
				return v
			}()
			tally.Add(verdict, c.Name)
		})
	}
	t.Logf("Preflight on %d hostile requests:\n%s", len(cases), tally)
}
