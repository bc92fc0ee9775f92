package server

import (
	"encoding/json"
	"net/http"

	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// jsonProtocolError writes an error of a JSON-protocol service (Step Functions: JSON 1.0;
// KMS, EventBridge: JSON 1.1): the error type in x-amzn-ErrorType and in the body's
// __type, which the SDK's deserializers read.
func jsonProtocolError(w http.ResponseWriter, contentType string, status int, typ, msg string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("x-amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// jsonProtocolAuthError answers a request whose signature or credentials failed with the
// error a JSON-protocol service gives, and reports whether it did (authErr not nil).
func jsonProtocolAuthError(w http.ResponseWriter, contentType string, authErr *store.Error) bool {
	if authErr == nil {
		return false
	}
	switch authErr.Code {
	case "InvalidClientTokenId":
		jsonProtocolError(w, contentType, 400, "UnrecognizedClientException", "The security token included in the request is invalid.")
	case "ExpiredToken":
		jsonProtocolError(w, contentType, 400, "ExpiredTokenException", "The security token included in the request is expired")
	default:
		jsonProtocolError(w, contentType, 400, "IncompleteSignatureException", authErr.Message)
	}
	return true
}
