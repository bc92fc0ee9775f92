package failure

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"
)

// produced is one value of every exported error type of this package.
var produced = []error{
	&ValidationError{Fields: []FieldError{{Field: "source.bucket", Rule: "required"}}},
	&PreconditionError{Message: "m"},
	&PermissionError{Principal: "p", Action: "a", Resource: "r"},
	&NotReadyError{Message: "m"},
	&TransientError{Message: "m"},
	&TransferFailedError{TaskExecutionArn: "arn", ErrorCode: "c", ErrorDetail: "d"},
	&ShardsFailedError{Message: "m"},
	&MigrationRunningError{Message: "m"},
}

func TestNamesMatchTypes(t *testing.T) {
	var got []string
	for _, err := range produced {
		got = append(got, Name(err))
		if err.Error() == "" {
			t.Errorf("%T has an empty message", err)
		}
	}
	if !slices.Equal(got, Names) {
		t.Errorf("got type names %v, want Names %v", got, Names)
	}
}

func TestValidationErrorOrNil(t *testing.T) {
	var v ValidationError
	if v.OrNil() != nil {
		t.Errorf("got %v, want nil for no fields", v.OrNil())
	}
	v.Add("source.bucket", "must be %d chars", 3)
	err := v.OrNil()
	if err == nil || err.Error() != "invalid migration request (1 problem(s)): source.bucket: must be 3 chars" {
		t.Errorf("got %v, want the field and the rule", err)
	}
}

func TestPermissionErrorWithoutMessage(t *testing.T) {
	got := (&PermissionError{Action: "s3:GetObject"}).Error()
	want := "(unknown) is not allowed to call s3:GetObject on (unknown)"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The Cause an operator reads for a failed transfer carries DataSync's code and detail and
// says what to do next.
func TestTransferFailedErrorSaysWhatToDo(t *testing.T) {
	got := (&TransferFailedError{TaskExecutionArn: "arn:exec", ErrorCode: "S3ObjectAccessDenied", ErrorDetail: "Access denied on photos/a.jpg"}).Error()
	for _, want := range []string{"arn:exec", "S3ObjectAccessDenied", "Access denied on photos/a.jpg", "start a new execution with the same migrationId", "only what is missing is copied"} {
		if !strings.Contains(got, want) {
			t.Errorf("got %q, want it to contain %q", got, want)
		}
	}
}

// TestEveryErrorTypeIsListed parses this package and checks that every type with an
// Error method is in produced (and so in Names): a new type cannot miss the ASL check.
func TestEveryErrorTypeIsListed(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "failure.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || fn.Name.Name != "Error" {
			continue
		}
		recv := fn.Recv.List[0].Type
		if star, ok := recv.(*ast.StarExpr); ok {
			recv = star.X
		}
		declared = append(declared, recv.(*ast.Ident).Name)
	}
	slices.Sort(declared)
	want := slices.Clone(Names)
	slices.Sort(want)
	if !slices.Equal(declared, want) {
		t.Errorf("got error types %v declared, want exactly Names %v", declared, want)
	}
}

// TestValidationErrorIsBounded: however many problems a request has, and however long
// each is, the error response aws-lambda-go sends (the Cause Step Functions keeps, at most
// 32,768 characters) stays under the limit, shows the first problems and counts the rest.
func TestValidationErrorIsBounded(t *testing.T) {
	tests := []struct {
		name      string
		give      func(v *ValidationError)
		wantShown string
		wantMore  bool
	}{
		{name: "20,000 unknown fields", give: func(v *ValidationError) {
			for i := range 20000 {
				v.Add(fmt.Sprintf("x%05d", i), "is not a known field; known fields: cleanup, destination, migrationId, source, task")
			}
		}, wantShown: "x00000: is not a known field", wantMore: true},
		{name: "one huge value", give: func(v *ValidationError) {
			v.Add("source.bucket", "may hold only lowercase letters (got %q)", strings.Repeat("A", 200000))
		}, wantShown: "source.bucket: may hold only lowercase letters", wantMore: false},
		{name: "escapes that grow sixfold", give: func(v *ValidationError) {
			for range 5000 {
				v.Add(strings.Repeat("<", 300), "is not a known field")
			}
		}, wantShown: `\u003c`, wantMore: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &ValidationError{}
			tt.give(v)
			msg := v.Error()
			// What aws-lambda-go sends for a returned error (lambda/invoke_loop.go).
			payload, err := json.Marshal(map[string]string{"errorMessage": msg, "errorType": "ValidationError"})
			if err != nil {
				t.Fatal(err)
			}
			if len(payload) > 32768 || len(msg) > MaxMessageBytes+200 {
				t.Errorf("got a %d-byte message, %d-byte error response; want at most 32768", len(msg), len(payload))
			}
			if !strings.Contains(string(payload), tt.wantShown) {
				t.Errorf("got %.200q, want it to show %q", msg, tt.wantShown)
			}
			if got := strings.Contains(msg, "more problem(s) not shown"); got != tt.wantMore {
				t.Errorf("says more not shown: got %v, want %v (%.200q…)", got, tt.wantMore, msg[max(0, len(msg)-200):])
			}
			if !strings.Contains(msg, fmt.Sprintf("(%d problem(s))", len(v.Fields))) {
				t.Errorf("got %.120q, want the total count %d", msg, len(v.Fields))
			}
		})
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		give string
		max  int
		want string
	}{
		{give: "abc", max: 3, want: "abc"},
		{give: "abcdef", max: 5, want: "ab…"},
		{give: "ééé", max: 6, want: "ééé"},
		{give: "éééé", max: 6, want: "é…"},
		{give: "a\xffb", max: 10, want: "a\uFFFDb"},
	}
	for _, tt := range tests {
		if got := Cut(tt.give, tt.max); got != tt.want || len(got) > tt.max && len(tt.give) > tt.max {
			t.Errorf("Cut(%q, %d): got %q, want %q", tt.give, tt.max, got, tt.want)
		}
	}
}

func TestNameOfValueAndNil(t *testing.T) {
	if got := Name(nil); got != "" {
		t.Errorf("Name(nil) = %q, want empty", got)
	}
	if got := Name(valueError{}); got != "valueError" {
		t.Errorf("Name(value) = %q, want valueError", got)
	}
}

// valueError is an error with a value receiver: aws-lambda-go names it after its type too.
type valueError struct{}

func (valueError) Error() string { return "value" }
