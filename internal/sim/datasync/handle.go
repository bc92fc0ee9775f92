package datasync

import (
	"context"
	"net/http"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// Handle runs one DataSync operation (op is the X-Amz-Target suffix, e.g.
// "CreateLocationS3") for caller and returns the HTTP status and JSON body.
func (s *Service) Handle(ctx context.Context, caller identity.Principal, op string, body []byte) (int, []byte) {
	return http.StatusBadRequest, errBody("InvalidRequestException", "not implemented yet: "+op, "")
}

type store struct{}

func newStore() *store { return &store{} }
