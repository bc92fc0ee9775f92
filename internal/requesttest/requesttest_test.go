package requesttest

import (
	"errors"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

func TestValidIsValid(t *testing.T) {
	r := Valid()
	if err := r.Validate(Home); err != nil {
		t.Fatalf("got %v, want the fixture valid", err)
	}
}

func TestBadRequestsAreBad(t *testing.T) {
	cases := BadRequests()
	if len(cases) < 30 {
		t.Fatalf("got %d cases, want at least 30", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			r, err := request.Decode(c.Raw)
			if err == nil {
				r.Normalize(ExecutionName)
				err = r.Validate(Home)
			}
			var v *failure.ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("got %v, want a ValidationError", err)
			}
			if !HasField(v, c.WantField) {
				t.Errorf("got %v, want field %s named", v, c.WantField)
			}
		})
	}
}
