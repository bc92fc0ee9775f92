package awserror

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// transient and notReady are Otherwise functions for the tests: a result of another type
// shows that Classify did not fall through to otherwise.
func transient(message string) error { return &failure.TransientError{Message: message} }
func notReady(message string) error  { return &failure.NotReadyError{Message: message} }

// notRetryable is an error that tells the SDK's retryer not to retry it
// (retry.RetryableError's interface, answered false).
type notRetryable struct{}

func (notRetryable) Error() string        { return "not retryable" }
func (notRetryable) RetryableError() bool { return false }

// Every code that means "denied" is a PermissionError even when the service answers with
// HTTP 400 (IAM, STS, DataSync and EC2 do), so the 403 fallback cannot hide a missing row.
func TestClassifyDeniedCodeIsPermissionAt400(t *testing.T) {
	tests := []struct {
		name string
		give string
	}{
		{name: "S3 and IAM deny", give: "AccessDenied"},
		{name: "DataSync and JSON protocols deny", give: "AccessDeniedException"},
		{name: "EC2 denies", give: "UnauthorizedOperation"},
		{name: "unauthorized access", give: "UnauthorizedAccess"},
		{name: "SNS-style authorization error", give: "AuthorizationError"},
		{name: "S3 access to the account disabled", give: "AllAccessDisabled"},
		{name: "STS credentials not valid in this account", give: "InvalidClientTokenId"},
		{name: "credentials unknown to the service", give: "UnrecognizedClientException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(sdkError("STS", "GetCallerIdentity", 400, generic(tt.give, "no")), Call{}, transient)
			pe, ok := got.(*failure.PermissionError)
			if !ok {
				t.Fatalf("got %T (%v), want *failure.PermissionError", got, got)
			}
			if pe.Action != "sts:GetCallerIdentity" {
				t.Errorf("action: got %q, want sts:GetCallerIdentity", pe.Action)
			}
			if !strings.Contains(pe.Message, tt.give+": no") {
				t.Errorf("message %q does not quote AWS's %q", pe.Message, tt.give+": no")
			}
		})
	}
}

// Every code the SDK does not retry by itself but a later retry can fix is a TransientError,
// even with HTTP 400 and an error the service did not mark as a server fault.
func TestClassifyTransientCodeAt400(t *testing.T) {
	tests := []struct {
		name string
		give string
	}{
		{name: "S3 internal error", give: "InternalError"},
		{name: "query protocol internal failure", give: "InternalFailure"},
		{name: "DataSync internal exception", give: "InternalException"},
		{name: "internal server error", give: "InternalServerError"},
		{name: "S3 service unavailable", give: "ServiceUnavailable"},
		{name: "JSON protocol service unavailable", give: "ServiceUnavailableException"},
		{name: "IAM service failure", give: "ServiceFailure"},
		{name: "S3 conflicting conditional operation in progress", give: "OperationAborted"},
		{name: "IAM concurrent modification", give: "ConcurrentModification"},
		{name: "concurrent modification exception", give: "ConcurrentModificationException"},
		{name: "STS identity provider unreachable", give: "IDPCommunicationError"},
		{name: "KMS internal exception", give: "KMSInternalException"},
		{name: "KMS dependency timeout", give: "DependencyTimeoutException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sdkError("S3", "PutBucketPolicy", 400, generic(tt.give, "try again"))
			if !IsTransient(err) {
				t.Errorf("IsTransient(%s at HTTP 400) = false, want true", tt.give)
			}
			got := Classify(err, Call{}, Precondition)
			if _, ok := got.(*failure.TransientError); !ok {
				t.Fatalf("got %T (%v), want *failure.TransientError", got, got)
			}
			if !strings.Contains(got.Error(), "retry later: "+tt.give+": try again") {
				t.Errorf("message %q does not say to retry and quote AWS", got.Error())
			}
		})
	}
}

func TestClassifyFallbacks(t *testing.T) {
	call := Call{Action: "s3:GetBucketPolicy", Resource: "arn:aws:s3:::team-a-media"}
	tests := []struct {
		name      string
		give      error
		call      Call
		otherwise Otherwise
		want      string // the failure type
		wantMsg   string // the whole message
	}{
		{
			// A modeled error (not one the SDK retries on its own) at HTTP 429 Too Many Requests
			// is still throttling.
			name: "HTTP 429 is throttling whatever the body", give: sdkError("DataSync", "StartTaskExecution", 429, &dstypes.InvalidRequestException{Message: strPtr("slow down")}),
			want: "TransientError", wantMsg: "datasync:StartTaskExecution failed with a temporary error (AWS retries were exhausted or the time ran out), retry later: InvalidRequestException: slow down",
		},
		{
			// The SDK's retryer skips an error that says it is not retryable; a 500 from such a
			// call is still the service's failure, which a later attempt can get past.
			name: "HTTP 500 is a server error even when the error declines the SDK's retries", give: sdkError("S3", "GetBucketPolicy", 500, notRetryable{}),
			want: "TransientError",
		},
		{
			name: "HTTP 501 is a server error", give: sdkError("S3", "GetBucketPolicy", 501, &s3types.NoSuchBucket{Message: strPtr("x")}),
			want: "TransientError",
		},
		{
			name: "HTTP 499 is not transient", give: sdkError("S3", "GetBucketPolicy", 499, generic("Odd", "m")), otherwise: notReady,
			want: "NotReadyError", wantMsg: "s3:GetBucketPolicy failed: Odd: m",
		},
		{
			// S3 answers a request signed with a skewed clock with 403 RequestTimeTooSkewed:
			// fixing the clock, not a grant, helps.
			name: "403 RequestTimeTooSkewed is not a denied call", give: sdkError("S3", "GetBucketPolicy", 403, generic("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")), call: call,
			want: "PreconditionError", wantMsg: "s3:GetBucketPolicy on arn:aws:s3:::team-a-media failed: RequestTimeTooSkewed: The difference between the request time and the current time is too large.",
		},
		{
			name: "a wrapped context.Canceled is the end of the invocation's time", give: fmt.Errorf("get policy: %w", context.Canceled),
			want: "TransientError",
		},
		{
			name: "a network timeout", give: &smithy.OperationError{ServiceID: "S3", OperationName: "GetBucketPolicy", Err: &net.DNSError{Err: "i/o timeout", IsTimeout: true}},
			want: "TransientError",
		},
		{
			name: "a server-fault API error with an unknown code at HTTP 400", give: sdkError("DataSync", "CreateTask", 400, &smithy.GenericAPIError{Code: "Wobble", Message: "m", Fault: smithy.FaultServer}),
			want: "TransientError",
		},
		{
			name: "a client-fault API error with an unknown code at HTTP 400", give: sdkError("DataSync", "CreateTask", 400, &smithy.GenericAPIError{Code: "Wobble", Message: "m", Fault: smithy.FaultClient}),
			want: "PreconditionError", wantMsg: "datasync:CreateTask failed: Wobble: m",
		},
		{
			name: "the call's action names the call, not the SDK operation", give: sdkError("S3", "HeadBucket", 404, generic("NotFound", "")), call: call,
			want: "PreconditionError", wantMsg: "s3:GetBucketPolicy on arn:aws:s3:::team-a-media failed: NotFound (HTTP 404)",
		},
		{
			name: "without a call action the SDK operation names it", give: sdkError("Service Catalog", "DescribeProduct", 404, generic("ResourceNotFoundException", "no product")),
			want: "PreconditionError", wantMsg: "servicecatalog:DescribeProduct failed: ResourceNotFoundException: no product",
		},
		{
			name: "a code without message or status", give: generic("NoSuchKey", ""), call: Call{Resource: "arn:aws:s3:::b/k"},
			want: "PreconditionError", wantMsg: "the AWS call on arn:aws:s3:::b/k failed: NoSuchKey",
		},
		{
			name: "a plain error keeps its text", give: errors.New("disk full"),
			want: "PreconditionError", wantMsg: "the AWS call failed: disk full",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.give, tt.call, tt.otherwise)
			if failure.Name(got) != tt.want {
				t.Fatalf("got %s (%v), want %s", failure.Name(got), got, tt.want)
			}
			if tt.wantMsg != "" && got.Error() != tt.wantMsg {
				t.Errorf("message:\n got %q\nwant %q", got.Error(), tt.wantMsg)
			}
		})
	}
}

// A code that means "denied" is never transient, even when the service marks it as its
// own fault: retrying cannot grant a permission.
func TestIsTransientDeniedServerFault(t *testing.T) {
	err := sdkError("DataSync", "CreateTask", 400, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no", Fault: smithy.FaultServer})
	if IsTransient(err) {
		t.Errorf("IsTransient(server-fault AccessDeniedException) = true, want false")
	}
	if IsTransient(nil) {
		t.Errorf("IsTransient(nil) = true, want false")
	}
}

// A failure that a deeper layer already chose crosses the boundary as that very value,
// whatever wraps it, so Step Functions sees the name the deeper layer meant.
func TestBoundaryPassesWrappedFailuresUnchanged(t *testing.T) {
	tests := []struct {
		name string
		give error
	}{
		{name: "ValidationError", give: &failure.ValidationError{Fields: []failure.FieldError{{Field: "sourceBucket", Rule: "is required"}}}},
		{name: "PreconditionError", give: &failure.PreconditionError{Message: "bucket has ACLs"}},
		{name: "PermissionError", give: &failure.PermissionError{Message: "denied"}},
		{name: "NotReadyError", give: &failure.NotReadyError{Message: "role not yet usable"}},
		{name: "TransientError", give: &failure.TransientError{Message: "throttled"}},
		{name: "TransferFailedError", give: &failure.TransferFailedError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Wrapped twice, with an access-denied SDK error's text around it, which must not
			// re-classify it.
			wrapped := fmt.Errorf("putbucketpolicy: %w", fmt.Errorf("AccessDenied HTTP 403: %w", tt.give))
			if got := Boundary(wrapped); got != tt.give {
				t.Errorf("got %T %v, want the wrapped %T itself", got, got, tt.give)
			}
			if got := Classify(wrapped, Call{}, transient); got != tt.give {
				t.Errorf("Classify: got %T %v, want the wrapped %T itself", got, got, tt.give)
			}
			if failure.Name(Boundary(wrapped)) != tt.name {
				t.Errorf("Name: got %q, want %q", failure.Name(Boundary(wrapped)), tt.name)
			}
		})
	}
}

func TestHasCodeWithoutCode(t *testing.T) {
	if HasCode(errors.New("x"), "", "NoSuchBucket") {
		t.Errorf("an error without a code matched the empty code")
	}
	if Message(errors.New("x")) != "" {
		t.Errorf("a plain error has no AWS message")
	}
	if got := Message(generic("NoSuchBucket", "The specified bucket does not exist")); got != "The specified bucket does not exist" {
		t.Errorf("Message: got %q", got)
	}
	if got := Header(errors.New("x"), "X-Amz-Bucket-Region"); got != "" {
		t.Errorf("Header of a plain error: got %q, want empty", got)
	}
}
