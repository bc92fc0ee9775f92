// Package awserror turns an error of an AWS SDK call into one of the failure types that
// cross the Lambda boundary: throttling, 5xx and timeouts become *failure.TransientError,
// access denied becomes *failure.PermissionError naming the principal, the action and the
// resource, and anything else becomes the failure type the caller chooses.
package awserror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// Call describes the AWS call that failed. Action and Resource name what was attempted
// ("s3:GetBucketPolicy", "arn:aws:s3:::team-a-media"); Principal is the caller when known.
// They are used when AWS's message does not name them itself. Grant, when set, replaces
// the generic advice on what to grant.
type Call struct {
	Principal string
	Action    string
	Resource  string
	Grant     string
}

// Otherwise builds the failure returned for an error that is neither transient nor a
// permission problem. The message already says which call failed and what AWS said.
type Otherwise func(message string) error

// Precondition is an Otherwise that returns *failure.PreconditionError.
func Precondition(message string) error { return &failure.PreconditionError{Message: message} }

// permissionCodes are the error codes AWS services use for a denied call.
var permissionCodes = map[string]bool{
	"AccessDenied":                true,
	"AccessDeniedException":       true,
	"UnauthorizedOperation":       true,
	"UnauthorizedAccess":          true,
	"AuthorizationError":          true,
	"AllAccessDisabled":           true,
	"InvalidClientTokenId":        true, // STS/IAM: the credentials are not valid in this account
	"UnrecognizedClientException": true,
}

// transientCodes are codes the SDK's default retryer does not list but that are
// nevertheless worth retrying: service-side failures with a 4xx/5xx status that may be
// modeled (DataSync InternalException) or S3's generic ones.
var transientCodes = map[string]bool{
	"InternalError":                   true,
	"InternalFailure":                 true,
	"InternalException":               true,
	"InternalServerError":             true,
	"ServiceUnavailable":              true,
	"ServiceUnavailableException":     true,
	"ServiceFailure":                  true,
	"OperationAborted":                true, // S3: a conflicting conditional operation is in progress
	"ConcurrentModification":          true, // IAM
	"ConcurrentModificationException": true,
	"IDPCommunicationError":           true,
	// KMS (AWS KMS API Reference, errors of CreateGrant, ListGrants, RevokeGrant,
	// DescribeKey): KMSInternalException "The request was rejected because an internal
	// exception occurred. The request can be retried.", DependencyTimeoutException "The
	// system timed out while trying to fulfill the request. You can retry the request."
	"KMSInternalException":       true,
	"DependencyTimeoutException": true,
}

// Classify maps err to a failure type. An error that already is one of the failure types
// is returned unchanged; nil stays nil.
func Classify(err error, call Call, otherwise Otherwise) error {
	if err == nil {
		return nil
	}
	if f := asFailure(err); f != nil {
		return f
	}
	what := describe(err, call)
	code, msg := Code(err), Message(err)
	status := StatusCode(err)

	switch {
	case permissionCodes[code] || (status == 403 && code != "RequestTimeTooSkewed"):
		return permission(err, call, code, msg)
	case IsTransient(err):
		return &failure.TransientError{Message: what + " failed with a temporary error (AWS retries were exhausted or the time ran out), retry later: " + detail(err)}
	}
	if otherwise == nil {
		otherwise = Precondition
	}
	return otherwise(what + " failed: " + detail(err))
}

// IsTransient reports whether err is throttling, a 5xx, a timeout, a connection error or
// the end of the invocation's time: errors that retrying later can fix.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var canceled interface{ CanceledError() bool }
	if errors.As(err, &canceled) && canceled.CanceledError() {
		return true
	}
	code := Code(err)
	if transientCodes[code] {
		return true
	}
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return true
	}
	if s := StatusCode(err); s >= 500 || s == 429 {
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorFault() == smithy.FaultServer && !permissionCodes[code] {
		return true
	}
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return true
	}
	var timeout interface{ Timeout() bool }
	return errors.As(err, &timeout) && timeout.Timeout()
}

// Code returns the AWS error code of err ("NoSuchBucket", "AccessDenied"), or "".
func Code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// Message returns AWS's error message of err, or "".
func Message(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorMessage()
	}
	return ""
}

// StatusCode returns the HTTP status of the response that carried err, or 0.
func StatusCode(err error) int {
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) && respErr.Response != nil && respErr.Response.Response != nil {
		return respErr.HTTPStatusCode()
	}
	return 0
}

// Header returns a header of the response that carried err, or "".
func Header(err error, name string) string {
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) && respErr.Response != nil && respErr.Response.Response != nil {
		return respErr.Response.Header.Get(name)
	}
	return ""
}

// HasCode reports whether err carries one of the AWS error codes.
func HasCode(err error, codes ...string) bool {
	code := Code(err)
	if code == "" {
		return false
	}
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	return false
}

// deniedPattern matches AWS's "User: X is not authorized to perform: Y on resource: Z"
// (S3 quotes the resource; some services leave out the resource part).
var deniedPattern = regexp.MustCompile(`User: (\S+) is not authorized to perform: ([A-Za-z0-9-]+:[A-Za-z0-9*]+)(?: on resource: "?([^"\s]+))?`)

// ParseDenied reads principal, action and resource out of AWS's access-denied message.
// ok is false when the message does not have that form.
func ParseDenied(message string) (principal, action, resource string, ok bool) {
	m := deniedPattern.FindStringSubmatch(message)
	if m == nil {
		return "", "", "", false
	}
	return m[1], m[2], strings.TrimRight(m[3], `".,;`), true
}

func permission(err error, call Call, code, msg string) error {
	p := &failure.PermissionError{Principal: call.Principal, Action: call.Action, Resource: call.Resource}
	if p.Action == "" {
		p.Action = actionOf(err)
	}
	if principal, action, resource, ok := ParseDenied(msg); ok {
		p.Principal = principal
		p.Action = action
		if resource != "" {
			p.Resource = resource
		}
	}
	grant := call.Grant
	if grant == "" {
		grant = fmt.Sprintf("grant %s on %s to %s (in its identity policy, and in the resource policy when the resource is in another account), and check that no SCP, permissions boundary or explicit Deny blocks it",
			orUnknown(p.Action), orUnknown(p.Resource), orUnknown(p.Principal))
	}
	awsSaid := code
	if msg != "" {
		awsSaid += ": " + msg
	}
	p.Message = fmt.Sprintf("access denied: %s may not call %s on %s (AWS said %q); %s",
		orUnknown(p.Principal), orUnknown(p.Action), orUnknown(p.Resource), awsSaid, grant)
	return p
}

// actionOf derives "service:Operation" from the SDK's operation error.
func actionOf(err error) string {
	var opErr *smithy.OperationError
	if !errors.As(err, &opErr) {
		return ""
	}
	return strings.ToLower(strings.ReplaceAll(opErr.ServiceID, " ", "")) + ":" + opErr.OperationName
}

func describe(err error, call Call) string {
	action := call.Action
	if action == "" {
		action = actionOf(err)
	}
	if action == "" {
		action = "the AWS call"
	}
	if call.Resource != "" {
		return action + " on " + call.Resource
	}
	return action
}

// detail is AWS's code and message, or the error text when there is no API error.
func detail(err error) string {
	code, msg := Code(err), Message(err)
	switch {
	case code != "" && msg != "":
		return code + ": " + msg
	case code != "":
		if s := StatusCode(err); s != 0 {
			return fmt.Sprintf("%s (HTTP %d)", code, s)
		}
		return code
	}
	return err.Error()
}

func asFailure(err error) error {
	var (
		v  *failure.ValidationError
		pc *failure.PreconditionError
		pe *failure.PermissionError
		nr *failure.NotReadyError
		tr *failure.TransientError
		tf *failure.TransferFailedError
		sf *failure.ShardsFailedError
		mr *failure.MigrationRunningError
	)
	switch {
	case errors.As(err, &v):
		return v
	case errors.As(err, &pc):
		return pc
	case errors.As(err, &pe):
		return pe
	case errors.As(err, &nr):
		return nr
	case errors.As(err, &tr):
		return tr
	case errors.As(err, &tf):
		return tf
	case errors.As(err, &sf):
		return sf
	case errors.As(err, &mr):
		return mr
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// Boundary returns err as it must leave a handler: one of the failure pointer types itself,
// never a wrapper (aws-lambda-go names the error after its Go type). A failure inside a
// wrapper is unwrapped; anything else is classified, with PreconditionError for what is
// neither transient nor a denied call.
func Boundary(err error) error {
	return Classify(err, Call{}, Precondition)
}

// Fail is how a step's Lambda handler returns an error: err as Boundary makes it, logged
// once, at the boundary, as "<step> failed" with its Step Functions error name
// (errorName), its message (error) and attrs (lowerCamel key-value pairs such as
// "migrationId", id).
func Fail(ctx context.Context, step string, err error, attrs ...any) error {
	err = Boundary(err)
	slog.ErrorContext(ctx, step+" failed", append([]any{"errorName", failure.Name(err), "error", err.Error()}, attrs...)...)
	return err
}
