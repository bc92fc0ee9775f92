// Package failure holds the error types that cross the Lambda boundary.
//
// aws-lambda-go reports the bare Go type name of a returned error as the error name that
// Step Functions matches in Retry and Catch (`*NotReadyError` becomes "NotReadyError").
// Handlers therefore return one of these pointer types at the boundary, never a wrapper.
package failure

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Name is the Step Functions error name of err as aws-lambda-go reports it: the bare name
// of its Go type (aws-lambda-go lambda/errors.go), "" for nil. A wrapper shows up as its
// own type's name ("wrapError" for fmt.Errorf with %w).
func Name(err error) string {
	if err == nil {
		return ""
	}
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// FieldError is one broken rule of the request: the JSON path of the field and the rule.
type FieldError struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

func (f FieldError) String() string { return f.Field + ": " + f.Rule }

// ValidationError says the request is invalid. It lists every broken rule at once.
type ValidationError struct {
	Fields []FieldError
	// Subject is what was invalid, "migration request" when empty (a batch says "batch").
	Subject string
}

// Bounds of what a ValidationError shows. Step Functions keeps at most 32,768 characters
// of an error's cause (ExecutionFailedEventDetails and TaskFailedEventDetails, "cause":
// "Maximum length of 32768", AWS Step Functions API Reference), and the cause of a Lambda
// error is the JSON of the error response, in which the message is escaped. A request can
// hold tens of thousands of problems (one per unknown field), so the message shows the
// first ones and counts the rest: at most MaxMessageBytes once JSON-escaped, and each
// problem at most MaxProblemBytes, which leaves room for what a Fail state adds around it.
const (
	MaxMessageBytes = 16 * 1024
	MaxProblemBytes = 1024
)

func (e *ValidationError) Error() string {
	shown, omitted := e.Summary(MaxMessageBytes)
	subject := e.Subject
	if subject == "" {
		subject = "migration request"
	}
	msg := fmt.Sprintf("invalid %s (%d problem(s)): %s", subject, len(e.Fields), strings.Join(shown, "; "))
	if omitted > 0 {
		msg += fmt.Sprintf("; and %d more problem(s) not shown", omitted)
	}
	return msg
}

// Summary returns the problems to show, in order, each cut to MaxProblemBytes, as many as
// fit in budget bytes once JSON-escaped (at least one), and how many it left out.
func (e *ValidationError) Summary(budget int) (shown []string, omitted int) {
	used := 0
	for i, f := range e.Fields {
		s := Cut(f.String(), MaxProblemBytes)
		n := escapedLen(s) + len("; ")
		if i > 0 && used+n > budget {
			return shown, len(e.Fields) - i
		}
		used += n
		shown = append(shown, s)
	}
	return shown, 0
}

// Cut shortens s to at most max bytes of valid UTF-8, marking a cut with "…".
func Cut(s string, max int) string {
	s = strings.ToValidUTF8(s, "\ufffd")
	if len(s) <= max {
		return s
	}
	const mark = "…"
	end := max - len(mark)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + mark
}

// escapedLen is the length of s as a JSON string (encoding/json, as aws-lambda-go writes
// the error response), without the quotes.
func escapedLen(s string) int {
	b, _ := json.Marshal(s)
	return len(b) - 2
}

// Add records one broken rule.
func (e *ValidationError) Add(field, format string, args ...any) {
	e.Fields = append(e.Fields, FieldError{Field: field, Rule: fmt.Sprintf(format, args...)})
}

// OrNil returns e when it holds a broken rule and nil otherwise.
func (e *ValidationError) OrNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// PreconditionError says the accounts are not in the state the request needs
// (a bucket missing or in another region, ACLs enabled, no room in the bucket policy,
// a foreign statement using our Sid, a role with a foreign trust policy, a cross-account
// bucket access role). Retrying does not help; the message says what to change.
type PreconditionError struct {
	Message string
}

func (e *PreconditionError) Error() string { return e.Message }

// PermissionError says AWS denied a call: which principal lacked which action on which
// resource, and what to grant.
type PermissionError struct {
	Principal string
	Action    string
	Resource  string
	Message   string
}

func (e *PermissionError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("%s is not allowed to call %s on %s", orUnknown(e.Principal), orUnknown(e.Action), orUnknown(e.Resource))
}

// NotReadyError says a resource we just created is not usable yet (IAM propagation).
// The state machine retries it for a bounded time.
type NotReadyError struct {
	Message string
}

func (e *NotReadyError) Error() string { return e.Message }

// TransientError is throttling, a 5xx or a timeout: retried with backoff and jitter.
type TransientError struct {
	Message string
}

func (e *TransientError) Error() string { return e.Message }

// TransferFailedError says the DataSync task execution ended in ERROR.
type TransferFailedError struct {
	TaskExecutionArn string
	ErrorCode        string
	ErrorDetail      string
}

func (e *TransferFailedError) Error() string {
	return fmt.Sprintf("DataSync task execution %s ended in ERROR: %s: %s. "+
		"Fix what ErrorCode and ErrorDetail name (and the task's CloudWatch log, when task logging is on): typically objects the transfer role cannot read (KMS keys of the source bucket, objects owned by another account) or the destination storage class; "+
		"then start a new execution with the same migrationId: the task is reused and, with transferMode CHANGED, only what is missing is copied",
		e.TaskExecutionArn, orUnknown(e.ErrorCode), orUnknown(e.ErrorDetail))
}

// ShardsFailedError says that shards of a sharded migration failed once every shard had
// finished; the message names each failed shard with its own error. The shards that
// succeeded are copied, and a re-run with the same migration id runs only the others.
type ShardsFailedError struct {
	Message string
}

func (e *ShardsFailedError) Error() string { return e.Message }

// MigrationRunningError says a teardown found an execution of the migration's task queued
// or running, and deleted nothing.
type MigrationRunningError struct {
	Message string
}

func (e *MigrationRunningError) Error() string { return e.Message }

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// Names lists the Step Functions error names that this package's types produce.
// A test checks it against the types and against the state machine definition.
var Names = []string{
	"ValidationError",
	"PreconditionError",
	"PermissionError",
	"NotReadyError",
	"TransientError",
	"TransferFailedError",
	"ShardsFailedError",
	"MigrationRunningError",
}
