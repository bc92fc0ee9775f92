package awserror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/handlertest"
)

// sdkError wraps apiErr the way the SDK returns it: operation error → response error.
func sdkError(service, operation string, status int, apiErr error) error {
	return &smithy.OperationError{
		ServiceID:     service,
		OperationName: operation,
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
				Err:      apiErr,
			},
			RequestID: "req-1",
		},
	}
}

func generic(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

func TestClassify(t *testing.T) {
	s3Denied := `User: arn:aws:sts::111111111111:assumed-role/dsmigrate-source-access/dsmigrate-m1 is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::team-a-media" because no identity-based policy allows the s3:PutBucketPolicy action`
	iamDenied := `User: arn:aws:sts::222222222222:assumed-role/fn/dsmigrate-createroles is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::222222222222:role/dsmigrate-m1-transfer because no identity-based policy allows the iam:CreateRole action`
	stsDenied := `User: arn:aws:sts::222222222222:assumed-role/fn/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/dsmigrate-source-access`
	call := Call{Principal: "arn:aws:iam::222222222222:role/fn", Action: "s3:GetBucketPolicy", Resource: "arn:aws:s3:::team-a-media"}

	tests := []struct {
		name          string
		give          error
		call          Call
		otherwise     Otherwise
		wantType      string
		wantPrincipal string
		wantAction    string
		wantResource  string
		wantIn        []string
	}{
		{name: "nil", give: nil, wantType: ""},
		{name: "s3 SlowDown", give: sdkError("S3", "PutBucketPolicy", 503, generic("SlowDown", "Please reduce your request rate.")), wantType: "TransientError", wantIn: []string{"SlowDown"}},
		{name: "iam Throttling", give: sdkError("IAM", "CreateRole", 400, generic("Throttling", "Rate exceeded")), wantType: "TransientError"},
		{name: "datasync ThrottlingException", give: sdkError("DataSync", "CreateTask", 400, generic("ThrottlingException", "Rate exceeded")), wantType: "TransientError"},
		{name: "TooManyRequestsException", give: sdkError("DataSync", "ListTasks", 429, generic("TooManyRequestsException", "")), wantType: "TransientError"},
		{name: "RequestLimitExceeded", give: sdkError("STS", "AssumeRole", 400, generic("RequestLimitExceeded", "")), wantType: "TransientError"},
		{name: "s3 InternalError 500", give: sdkError("S3", "GetBucketPolicy", 500, generic("InternalError", "We encountered an internal error.")), wantType: "TransientError"},
		{name: "unknown code 502", give: sdkError("S3", "GetBucketPolicy", 502, generic("BadGateway", "")), wantType: "TransientError"},
		{name: "datasync InternalException modeled", give: sdkError("DataSync", "DescribeTaskExecution", 500, &dstypes.InternalException{Message: strPtr("internal")}), wantType: "TransientError"},
		{name: "iam ServiceFailure", give: sdkError("IAM", "GetRole", 500, &iamtypes.ServiceFailureException{Message: strPtr("x")}), wantType: "TransientError"},
		{name: "retry exhausted", give: &smithy.OperationError{ServiceID: "S3", OperationName: "PutBucketPolicy", Err: &retry.MaxAttemptsError{Attempt: 3, Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}}, Err: generic("SlowDown", "")}}}}, wantType: "TransientError"},
		{name: "context deadline", give: &smithy.OperationError{ServiceID: "S3", OperationName: "GetBucketPolicy", Err: fmt.Errorf("send: %w", context.DeadlineExceeded)}, wantType: "TransientError"},
		{name: "canceled", give: &smithy.OperationError{ServiceID: "S3", OperationName: "GetBucketPolicy", Err: &smithy.CanceledError{Err: context.Canceled}}, wantType: "TransientError"},
		{name: "connection refused", give: &smithy.OperationError{ServiceID: "S3", OperationName: "GetBucketPolicy", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}, wantType: "TransientError"},
		{
			name: "s3 AccessDenied with full message", give: sdkError("S3", "PutBucketPolicy", 403, generic("AccessDenied", s3Denied)), call: Call{Action: "s3:PutBucketPolicy", Resource: "arn:aws:s3:::team-a-media"},
			wantType: "PermissionError", wantPrincipal: "arn:aws:sts::111111111111:assumed-role/dsmigrate-source-access/dsmigrate-m1", wantAction: "s3:PutBucketPolicy", wantResource: "arn:aws:s3:::team-a-media",
			wantIn: []string{"grant s3:PutBucketPolicy on arn:aws:s3:::team-a-media"},
		},
		{
			name: "iam AccessDenied", give: sdkError("IAM", "CreateRole", 403, generic("AccessDenied", iamDenied)),
			wantType: "PermissionError", wantPrincipal: "arn:aws:sts::222222222222:assumed-role/fn/dsmigrate-createroles", wantAction: "iam:CreateRole", wantResource: "arn:aws:iam::222222222222:role/dsmigrate-m1-transfer",
		},
		{
			name: "sts AccessDenied uses caller grant", give: sdkError("STS", "AssumeRole", 403, generic("AccessDenied", stsDenied)), call: Call{Grant: "let the function role assume it in its trust policy"},
			wantType: "PermissionError", wantPrincipal: "arn:aws:sts::222222222222:assumed-role/fn/x", wantAction: "sts:AssumeRole", wantResource: "arn:aws:iam::111111111111:role/dsmigrate-source-access",
			wantIn: []string{"let the function role assume it in its trust policy"},
		},
		{
			name: "s3 bare Access Denied takes the call", give: sdkError("S3", "GetBucketPolicy", 403, generic("AccessDenied", "Access Denied")), call: call,
			wantType: "PermissionError", wantPrincipal: call.Principal, wantAction: "s3:GetBucketPolicy", wantResource: "arn:aws:s3:::team-a-media",
			wantIn: []string{`"AccessDenied: Access Denied"`},
		},
		{
			name: "datasync AccessDeniedException, action from operation", give: sdkError("DataSync", "CreateTask", 400, generic("AccessDeniedException", "not allowed")), call: Call{Resource: "*"},
			wantType: "PermissionError", wantAction: "datasync:CreateTask", wantResource: "*",
		},
		{name: "UnauthorizedOperation", give: sdkError("EC2", "DescribeVpcs", 403, generic("UnauthorizedOperation", "You are not authorized")), wantType: "PermissionError", wantAction: "ec2:DescribeVpcs"},
		{name: "bare 403 without code body", give: sdkError("S3", "HeadBucket", 403, generic("Forbidden", "")), call: Call{Resource: "arn:aws:s3:::b"}, wantType: "PermissionError", wantAction: "s3:HeadBucket", wantIn: []string{"Forbidden"}},
		{name: "NoSuchBucket defaults to precondition", give: sdkError("S3", "GetBucketPolicy", 404, &s3types.NoSuchBucket{Message: strPtr("The specified bucket does not exist")}), call: call, wantType: "PreconditionError", wantIn: []string{"s3:GetBucketPolicy on arn:aws:s3:::team-a-media failed", "NoSuchBucket"}},
		{name: "caller chooses NotReady", give: sdkError("DataSync", "CreateLocationS3", 400, &dstypes.InvalidRequestException{Message: strPtr("Unable to assume role")}), otherwise: notReady, wantType: "NotReadyError", wantIn: []string{"Unable to assume role"}},
		{name: "already a failure passes through", give: fmt.Errorf("ctx: %w", &failure.NotReadyError{Message: "x"}), wantType: "NotReadyError"},
		{name: "plain error becomes otherwise", give: errors.New("boom"), otherwise: transient, wantType: "TransientError", wantIn: []string{"boom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.give, tt.call, tt.otherwise)
			if tt.wantType == "" {
				if got != nil {
					t.Fatalf("got %v, want nil", got)
				}
				return
			}
			if name := failure.Name(got); name != tt.wantType {
				t.Fatalf("got %s (%v), want %s", name, got, tt.wantType)
			}
			if pe, ok := got.(*failure.PermissionError); ok {
				if tt.wantPrincipal != "" && pe.Principal != tt.wantPrincipal {
					t.Errorf("principal: got %q, want %q", pe.Principal, tt.wantPrincipal)
				}
				if tt.wantAction != "" && pe.Action != tt.wantAction {
					t.Errorf("action: got %q, want %q", pe.Action, tt.wantAction)
				}
				if tt.wantResource != "" && pe.Resource != tt.wantResource {
					t.Errorf("resource: got %q, want %q", pe.Resource, tt.wantResource)
				}
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(got.Error(), s) {
					t.Errorf("message %q does not contain %q", got.Error(), s)
				}
			}
		})
	}
}

func TestParseDenied(t *testing.T) {
	tests := []struct {
		give                string
		wantP, wantA, wantR string
		wantOK              bool
	}{
		{give: `User: arn:aws:iam::1:user/a is not authorized to perform: iam:GetRole on resource: role x`, wantP: "arn:aws:iam::1:user/a", wantA: "iam:GetRole", wantR: "role", wantOK: true},
		{give: `User: arn:aws:iam::1:user/a is not authorized to perform: datasync:ListTasks`, wantP: "arn:aws:iam::1:user/a", wantA: "datasync:ListTasks", wantOK: true},
		{give: `User: u is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::1:role/r.`, wantP: "u", wantA: "sts:AssumeRole", wantR: "arn:aws:iam::1:role/r", wantOK: true},
		{give: `Access Denied`},
	}
	for _, tt := range tests {
		p, a, r, ok := ParseDenied(tt.give)
		if p != tt.wantP || a != tt.wantA || r != tt.wantR || ok != tt.wantOK {
			t.Errorf("ParseDenied(%q) = %q %q %q %v, want %q %q %q %v", tt.give, p, a, r, ok, tt.wantP, tt.wantA, tt.wantR, tt.wantOK)
		}
	}
}

func TestCodeStatusHeader(t *testing.T) {
	err := sdkError("S3", "GetBucketOwnershipControls", 301, generic("PermanentRedirect", "wrong endpoint"))
	var re *awshttp.ResponseError
	errors.As(err, &re)
	re.Response.Header.Set("X-Amz-Bucket-Region", "eu-west-1")
	if got := Code(err); got != "PermanentRedirect" {
		t.Errorf("Code: got %q, want PermanentRedirect", got)
	}
	if got := StatusCode(err); got != 301 {
		t.Errorf("StatusCode: got %d, want 301", got)
	}
	if got := Header(err, "x-amz-bucket-region"); got != "eu-west-1" {
		t.Errorf("Header: got %q, want eu-west-1", got)
	}
	if !HasCode(err, "NoSuchBucket", "PermanentRedirect") || HasCode(err, "NoSuchBucket") {
		t.Errorf("HasCode wrong for %v", err)
	}
	if Code(errors.New("x")) != "" || StatusCode(errors.New("x")) != 0 {
		t.Errorf("plain error must have no code and no status")
	}
}

func strPtr(s string) *string { return &s }

func TestBoundary(t *testing.T) {
	tests := []struct {
		name string
		give error
		want string
	}{
		{name: "wrapped failure is unwrapped", give: fmt.Errorf("step: %w", &failure.PreconditionError{Message: "m"}), want: "PreconditionError"},
		{name: "throttling", give: sdkError("S3", "GetBucketPolicy", 503, generic("SlowDown", "")), want: "TransientError"},
		{name: "plain", give: errors.New("bug"), want: "PreconditionError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Boundary(tt.give)
			if failure.Name(got) != tt.want {
				t.Errorf("got %s (%T), want %s", failure.Name(got), got, tt.want)
			}
		})
	}
}

func TestFailLogsOnceAndReturnsTheFailureType(t *testing.T) {
	rec := &handlertest.LogRecorder{}
	prev := slog.Default()
	slog.SetDefault(slog.New(rec))
	defer slog.SetDefault(prev)

	err := Fail(context.Background(), "createroles", fmt.Errorf("get role: %w", sdkError("IAM", "GetRole", 503, generic("ServiceUnavailable", "try later"))), "migrationId", "media")
	if _, ok := err.(*failure.TransientError); !ok {
		t.Fatalf("got %T (%v), want *failure.TransientError itself", err, err)
	}
	recs := rec.AtLevel(slog.LevelError)
	if len(recs) != 1 || len(rec.Records) != 1 {
		t.Fatalf("got %d records (%d at error level), want 1 at error level", len(rec.Records), len(recs))
	}
	if got, want := recs[0].Message, "createroles failed"; got != want {
		t.Errorf("message: got %q, want %q", got, want)
	}
	got := map[string]string{}
	recs[0].Attrs(func(a slog.Attr) bool {
		got[a.Key] = a.Value.String()
		return true
	})
	want := map[string]string{"errorName": "TransientError", "error": err.Error(), "migrationId": "media"}
	if !maps.Equal(got, want) {
		t.Errorf("attributes: got %v, want %v", got, want)
	}
}
