package preflight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/handlertest"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

// fakeS3 is one account's S3 as preflight sees it; calls are recorded in log.
type fakeS3 struct {
	name         string
	log          *[]string
	getOwnership func(bucket string) (*s3.GetBucketOwnershipControlsOutput, error)
	getPolicy    func(bucket string) (*s3.GetBucketPolicyOutput, error)
	// keys are the source bucket's object keys, listed by ListObjectsV2.
	keys []string
	// encryption answers GetBucketEncryption (nil: SSE-S3).
	encryption func(bucket string) (*s3.GetBucketEncryptionOutput, error)
	// classes are storage classes by key (STANDARD when absent).
	classes map[string]s3types.ObjectStorageClass
	// versioning, payer and objectLock are the bucket settings a plan reads.
	versioning s3types.BucketVersioningStatus
	payer      s3types.Payer
	objectLock bool
}

func (f *fakeS3) GetBucketVersioning(_ context.Context, in *s3.GetBucketVersioningInput, _ ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	*f.log = append(*f.log, f.name+":GetBucketVersioning:"+aws.ToString(in.Bucket))
	return &s3.GetBucketVersioningOutput{Status: f.versioning}, nil
}

func (f *fakeS3) GetBucketRequestPayment(_ context.Context, in *s3.GetBucketRequestPaymentInput, _ ...func(*s3.Options)) (*s3.GetBucketRequestPaymentOutput, error) {
	*f.log = append(*f.log, f.name+":GetBucketRequestPayment:"+aws.ToString(in.Bucket))
	payer := f.payer
	if payer == "" {
		payer = s3types.PayerBucketOwner
	}
	return &s3.GetBucketRequestPaymentOutput{Payer: payer}, nil
}

func (f *fakeS3) GetObjectLockConfiguration(_ context.Context, in *s3.GetObjectLockConfigurationInput, _ ...func(*s3.Options)) (*s3.GetObjectLockConfigurationOutput, error) {
	*f.log = append(*f.log, f.name+":GetObjectLockConfiguration:"+aws.ToString(in.Bucket))
	if !f.objectLock {
		return nil, apiError(404, "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket")
	}
	return &s3.GetObjectLockConfigurationOutput{ObjectLockConfiguration: &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled}}, nil
}

// ListObjectsV2 lists f.keys as S3 does with a prefix and a delimiter, two per page.
func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	*f.log = append(*f.log, f.name+":ListObjectsV2:"+aws.ToString(in.Bucket)+":prefix="+aws.ToString(in.Prefix)+":delimiter="+aws.ToString(in.Delimiter))
	var entries []string // keys and common prefixes, in order
	for _, k := range f.keys {
		rest, ok := strings.CutPrefix(k, aws.ToString(in.Prefix))
		if !ok {
			continue
		}
		if d := aws.ToString(in.Delimiter); d != "" {
			if i := strings.Index(rest, d); i >= 0 {
				cp := aws.ToString(in.Prefix) + rest[:i+len(d)]
				if len(entries) == 0 || entries[len(entries)-1] != cp {
					entries = append(entries, cp)
				}
				continue
			}
		}
		entries = append(entries, k)
	}
	start := 0
	if t := aws.ToString(in.ContinuationToken); t != "" {
		start, _ = strconv.Atoi(t)
	}
	end := min(start+2, len(entries))
	out := &s3.ListObjectsV2Output{}
	for _, e := range entries[start:end] {
		if strings.HasSuffix(e, aws.ToString(in.Delimiter)) && aws.ToString(in.Delimiter) != "" {
			out.CommonPrefixes = append(out.CommonPrefixes, s3types.CommonPrefix{Prefix: aws.String(e)})
		} else {
			out.Contents = append(out.Contents, s3types.Object{Key: aws.String(e), Size: aws.Int64(int64(len(e))), StorageClass: f.classes[e]})
		}
	}
	if end < len(entries) {
		out.IsTruncated, out.NextContinuationToken = aws.Bool(true), aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func (f *fakeS3) GetBucketOwnershipControls(_ context.Context, in *s3.GetBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	*f.log = append(*f.log, f.name+":GetBucketOwnershipControls:"+aws.ToString(in.Bucket)+":owner="+aws.ToString(in.ExpectedBucketOwner))
	return f.getOwnership(aws.ToString(in.Bucket))
}

func (f *fakeS3) GetBucketEncryption(_ context.Context, in *s3.GetBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error) {
	*f.log = append(*f.log, f.name+":GetBucketEncryption:"+aws.ToString(in.Bucket))
	if f.encryption != nil {
		return f.encryption(aws.ToString(in.Bucket))
	}
	return &s3.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
		ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}}, nil
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

// fakeSFN lists the running executions of the state machine in pages of pageSize.
type fakeSFN struct {
	log      *[]string
	running  int
	pageSize int
	err      error
}

func (f *fakeSFN) ListExecutions(_ context.Context, in *sfn.ListExecutionsInput, _ ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error) {
	*f.log = append(*f.log, "states:ListExecutions:"+aws.ToString(in.StateMachineArn)+":"+string(in.StatusFilter))
	if f.err != nil {
		return nil, f.err
	}
	start := 0
	if in.NextToken != nil {
		fmt.Sscan(*in.NextToken, &start)
	}
	size := f.pageSize
	if size == 0 {
		size = int(in.MaxResults)
	}
	out := &sfn.ListExecutionsOutput{}
	for i := start; i < f.running && i < start+size; i++ {
		out.Executions = append(out.Executions, sfntypes.ExecutionListItem{Name: aws.String(fmt.Sprintf("run-%d", i))})
	}
	if start+size < f.running {
		out.NextToken = aws.String(fmt.Sprint(start + size))
	}
	return out, nil
}

const stateMachineArn = "arn:aws:states:ap-northeast-1:222222222222:stateMachine:dsmigrate"

type world struct {
	log     []string
	source  *fakeS3
	dest    *fakeS3
	sfn     *fakeSFN
	assumer *fakeAssumer
	h       *Handler
}

func newWorld() *world {
	w := &world{}
	w.source = &fakeS3{name: "A", log: &w.log, getOwnership: enforced, getPolicy: noPolicy}
	w.dest = &fakeS3{name: "B", log: &w.log, getOwnership: enforced, getPolicy: noPolicy}
	w.assumer = &fakeAssumer{log: &w.log, client: w.source}
	w.sfn = &fakeSFN{log: &w.log, running: 1}
	w.h = &Handler{
		Config: Config{
			Home:                     requesttest.Home,
			RolePrefix:               "dsmigrate",
			LocationsCallerRoleArn:   "arn:aws:iam::222222222222:role/dsmigrate-fn-createlocations",
			MaxLiveMigrations:        20,
			MaxGrantsPerSourceBucket: 4,
			StateMachineArn:          stateMachineArn,
		},
		S3:      w.dest,
		SFN:     w.sfn,
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
		"states:ListExecutions:" + stateMachineArn + ":RUNNING",
		"sts:AssumeRole:arn:aws:iam::111111111111:role/dsmigrate-source-read",
		"A:GetBucketOwnershipControls:team-a-media:owner=111111111111",
		"A:GetBucketEncryption:team-a-media",
		"A:GetBucketPolicy:team-a-media",
		"B:GetBucketOwnershipControls:team-b-media:owner=222222222222",
		"B:GetBucketEncryption:team-b-media",
	}
	if strings.Join(w.log, "\n") != strings.Join(want, "\n") {
		t.Errorf("got calls\n%s\nwant\n%s", strings.Join(w.log, "\n"), strings.Join(want, "\n"))
	}
	p := w.assumer.params[0]
	if p.MigrationID != "media-2026-11" || p.Region != "ap-northeast-1" {
		t.Errorf("got assume params %+v, want migration id and source region", p)
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
	handlertest.Run(t, "input.json", "output.json", newWorld().h.Handle)
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
				w.assumer.err = apiError(403, "AccessDenied", "User: arn:aws:sts::222222222222:assumed-role/fn/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/dsmigrate-source-read")
			},
			wantType: "PermissionError", wantIn: []string{"sts:AssumeRole", "arn:aws:iam::111111111111:role/dsmigrate-source-read",
				"trust arn:aws:iam::222222222222:role/dsmigrate-fn-preflight", "source-access stack"},
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
			wantType: "PermissionError", wantIn: []string{"arn:aws:iam::111111111111:role/dsmigrate-source-read", "s3:GetBucketPolicy", "arn:aws:s3:::team-a-media"},
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
			if got := failure.Name(err); got != tt.wantType {
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

// TestErrorLoggedOnce checks the boundary logs a failure exactly once, with lowerCamel keys.
func TestErrorLoggedOnce(t *testing.T) {
	w := newWorld()
	w.source.getPolicy = func(string) (*s3.GetBucketPolicyOutput, error) { return nil, apiError(503, "SlowDown", "") }
	handlertest.ErrorLoggedOnce(t, func() error {
		_, err := w.h.Handle(context.Background(), validInput())
		return err
	})
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

// TestDeploymentRefusesRemoveAndStandingGrant: options the deployment does not allow are
// refused with a ValidationError naming the field and the setting, before any AWS call.
func TestDeploymentRefusesRemoveAndStandingGrant(t *testing.T) {
	tests := []struct {
		name       string
		set        map[string]any
		deployment request.Deployment
		wantFields []string
	}{
		{name: "remove", set: map[string]any{"preserveDeletedFiles": "REMOVE"}, wantFields: []string{"task.preserveDeletedFiles"}},
		{name: "standing grant", set: map[string]any{"revokeBucketPolicy": false}, wantFields: []string{"cleanup.revokeBucketPolicy"}},
		{name: "both, with another problem", set: map[string]any{"preserveDeletedFiles": "REMOVE", "revokeBucketPolicy": false, "migrationId": "-bad-"},
			wantFields: []string{"migrationId", "task.preserveDeletedFiles", "cleanup.revokeBucketPolicy"}},
		{name: "remove allowed", set: map[string]any{"preserveDeletedFiles": "REMOVE"}, deployment: request.Deployment{AllowRemove: true}},
		{name: "standing grant allowed", set: map[string]any{"revokeBucketPolicy": false}, deployment: request.Deployment{AllowStandingGrant: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string]any
			_ = json.Unmarshal(requesttest.ValidJSON(), &doc)
			for k, v := range tt.set {
				switch k {
				case "preserveDeletedFiles":
					doc["task"].(map[string]any)[k] = v
				case "revokeBucketPolicy":
					doc["cleanup"] = map[string]any{k: v}
				default:
					doc[k] = v
				}
			}
			raw, _ := json.Marshal(doc)
			w := newWorld()
			w.h.Config.Deployment = tt.deployment
			_, err := w.h.Handle(context.Background(), Input{Request: raw, ExecutionName: requesttest.ExecutionName})
			if tt.wantFields == nil {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			v, ok := err.(*failure.ValidationError)
			if !ok {
				t.Fatalf("got %T %v, want *failure.ValidationError", err, err)
			}
			var got []string
			for _, f := range v.Fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantFields, ",") {
				t.Errorf("got fields %v, want %v", got, tt.wantFields)
			}
			if len(w.log) != 0 {
				t.Errorf("got calls %v, want none", w.log)
			}
		})
	}
}

// TestLiveMigrationsCap: past dsmigrate:maxLiveMigrations running executions (this one
// included) the migration is refused before anything in account A is touched; the count
// stops once the cap is exceeded, whatever the number of pages.
func TestLiveMigrationsCap(t *testing.T) {
	tests := []struct {
		name      string
		running   int
		pageSize  int
		max       int
		wantErr   bool
		wantPages int
	}{
		{name: "alone", running: 1, max: 1, wantPages: 1},
		{name: "at the cap", running: 20, max: 20, wantPages: 1},
		{name: "one over", running: 21, max: 20, wantErr: true, wantPages: 1},
		{name: "over, paged", running: 50, pageSize: 7, max: 20, wantErr: true, wantPages: 3},
		{name: "at the cap, paged", running: 14, pageSize: 7, max: 14, wantPages: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.sfn.running, w.sfn.pageSize = tt.running, tt.pageSize
			w.h.Config.MaxLiveMigrations = tt.max
			_, err := w.h.Handle(context.Background(), validInput())
			pages := 0
			for _, c := range w.log {
				if strings.HasPrefix(c, "states:ListExecutions:") {
					pages++
				}
			}
			if pages != tt.wantPages {
				t.Errorf("got %d ListExecutions calls, want %d", pages, tt.wantPages)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if got := failure.Name(err); got != "PreconditionError" {
				t.Fatalf("got %s (%v), want PreconditionError", got, err)
			}
			for _, s := range []string{stateMachineArn, "dsmigrate:maxLiveMigrations", fmt.Sprint(tt.max), "raise"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not contain %q", err.Error(), s)
				}
			}
			if len(w.assumer.params) != 0 {
				t.Errorf("assumed %v, want nothing touched in account A", w.assumer.params)
			}
		})
	}
}

func TestLiveMigrationsCountDenied(t *testing.T) {
	w := newWorld()
	w.sfn.err = apiError(400, "AccessDeniedException", "User: arn:aws:sts::222222222222:assumed-role/dsmigrate-fn-preflight/x is not authorized to perform: states:ListExecutions on resource: "+stateMachineArn)
	_, err := w.h.Handle(context.Background(), validInput())
	if got := failure.Name(err); got != "PermissionError" {
		t.Fatalf("got %s (%v), want PermissionError", got, err)
	}
	if !strings.Contains(err.Error(), "states:ListExecutions") {
		t.Errorf("got %q, want the action named", err)
	}
}

// grantPolicy is a source bucket policy with the statements of migrations ids, granted by
// the deployment with the given role prefix, and one statement of the bucket's owners.
func grantPolicy(prefix string, ids ...string) string {
	stmts := []string{`{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"}`}
	for _, id := range ids {
		sids := naming.SidsFor(id)
		transfer := "arn:aws:iam::222222222222:role/" + naming.TransferRoleName(prefix, id)
		caller := "arn:aws:iam::222222222222:role/" + naming.FunctionRoleName(prefix, "createlocations")
		stmts = append(stmts,
			fmt.Sprintf(`{"Sid":%q,"Effect":"Allow","Principal":{"AWS":%q},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-a-media"}`, sids.CreateLocation, caller),
			fmt.Sprintf(`{"Sid":%q,"Effect":"Allow","Principal":{"AWS":[%q]},"Action":"s3:GetBucketLocation","Resource":"arn:aws:s3:::team-a-media"}`, sids.BucketAccess, transfer),
			fmt.Sprintf(`{"Sid":%q,"Effect":"Allow","Principal":{"AWS":[%q]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"}`, sids.ObjectAccess, transfer))
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// TestGrantsPerSourceBucketCap: the grants of this deployment's other migrations count;
// a re-run of a migration whose grant is there and another deployment's grants do not.
func TestGrantsPerSourceBucketCap(t *testing.T) {
	ours := []string{"m1", "m2", "m3", "m4"}
	tests := []struct {
		name    string
		policy  string
		wantErr bool
	}{
		{name: "three others", policy: grantPolicy("dsmigrate", ours[:3]...)},
		{name: "four others", policy: grantPolicy("dsmigrate", ours...), wantErr: true},
		{name: "three others and this one (re-run)", policy: grantPolicy("dsmigrate", append(slices.Clone(ours[:3]), "media-2026-11")...)},
		{name: "four of another deployment", policy: grantPolicy("other", ours...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.source.getPolicy = policyText(tt.policy)
			_, err := w.h.Handle(context.Background(), validInput())
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if got := failure.Name(err); got != "PreconditionError" {
				t.Fatalf("got %s (%v), want PreconditionError", got, err)
			}
			for _, s := range []string{"team-a-media", "m1, m2, m3, m4", "dsmigrate:maxGrantsPerSourceBucket = 4", "raise"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not contain %q", err.Error(), s)
				}
			}
		})
	}
}

// TestDeletedPrincipalInTheSourcePolicy: S3 shows a deleted user or role named in a bucket
// policy as its unique id and refuses to save a policy naming it, so a statement of
// someone else's naming one is refused before anything changes; a statement of this
// migration naming one (its role deleted since an earlier run) is replaced by the grant.
func TestDeletedPrincipalInTheSourcePolicy(t *testing.T) {
	sids := naming.SidsFor("media-2026-11")
	stmt := func(sid, principal string) string {
		return fmt.Sprintf(`{"Sid":%q,"Effect":"Allow","Principal":{"AWS":[%q]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"}`, sid, principal)
	}
	tests := []struct {
		name, statement string
		wantErr         bool
	}{
		{name: "another team's statement naming a deleted role", statement: stmt("TeamRead", "AROA3XFRBF535PLBIFPI4"), wantErr: true},
		{name: "another team's statement naming a deleted user", statement: stmt("TeamRead", "AIDA3XFRBF535PLBIFPI4"), wantErr: true},
		{name: "another migration's statement naming its deleted role", statement: stmt(naming.SidsFor("m1").ObjectAccess, "AROA3XFRBF535PLBIFPI4"), wantErr: true},
		{name: "this migration's statement naming its deleted role", statement: stmt(sids.ObjectAccess, "AROA3XFRBF535PLBIFPI4")},
		{name: "an existing role", statement: stmt("TeamRead", "arn:aws:iam::333333333333:role/reader")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.source.getPolicy = policyText(`{"Version":"2012-10-17","Statement":[` + tt.statement + `]}`)
			_, err := w.h.Handle(context.Background(), validInput())
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if failure.Name(err) != "PreconditionError" || !strings.Contains(err.Error(), "3XFRBF535PLBIFPI4") || !strings.Contains(err.Error(), "remove that principal") {
				t.Errorf("got %s: %v, want a PreconditionError naming the unique id and the fix", failure.Name(err), err)
			}
		})
	}
}
