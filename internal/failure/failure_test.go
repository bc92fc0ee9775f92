package failure

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
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
}

// lambdaErrorName is how aws-lambda-go names a returned error (lambda/errors.go).
func lambdaErrorName(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

func TestNamesMatchTypes(t *testing.T) {
	var got []string
	for _, err := range produced {
		got = append(got, lambdaErrorName(err))
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
