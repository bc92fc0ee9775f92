// Package server is the simulator's HTTP front end: one endpoint for IAM, STS, S3,
// DataSync, KMS and Step Functions' ListExecutions. It takes the service from the SigV4 credential scope, identifies the caller
// by the access key id, applies injected faults, and dispatches to the service handler.
// Paths under /_sim/ are the admin API (plain JSON, no SigV4).
package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/datasync"
	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// DataSync is what the server needs from the DataSync service (internal/sim/datasync):
// its HTTP handler and a state dump for GET /_sim/state.
type DataSync struct {
	Handler http.Handler
	State   func() datasync.State
}

// Server routes simulator requests.
type Server struct {
	store    *store.Store
	datasync *DataSync
	states   *stepFunctions
	faults   *faults
	calls    *callLog
	events   *eventLog
	log      *slog.Logger
}

// New builds a server over st. ds may be nil (DataSync requests then fail with
// UnknownOperationException).
func New(st *store.Store, ds *DataSync, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{store: st, datasync: ds, states: newStepFunctions(), faults: newFaults(), calls: &callLog{}, events: &eventLog{}, log: log}
}

// InjectFault adds a fault as POST /_sim/faults does.
func (s *Server) InjectFault(f store.FaultConfig) error { return s.faults.add(f) }

// caller is an authenticated request's identity.
type caller struct {
	sig       sigV4
	principal identity.Principal
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.admin(w, r)
		return
	}
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	sig, ok, malformed := parseSigV4(r)
	service := sig.Service
	if !ok {
		service = guessService(r)
	}
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	op := operationOf(service, r)
	defer func() {
		s.log.Debug("request", "service", service, "operation", op, "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "ms", time.Since(start).Milliseconds())
	}()
	var c caller
	var authErr *store.Error
	switch {
	case malformed:
		authErr = store.Errf("IncompleteSignature", "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.")
	case !ok:
		authErr = store.Errf("MissingAuthenticationToken", "Request is missing Authentication Token")
	default:
		c.sig = sig
		authErr = s.authenticate(&c)
	}
	defer func() {
		s.calls.add(Call{Service: service, Operation: op, Caller: c.principal.Arn, Status: rec.status})
	}()
	switch service {
	case "iam", "sts":
		s.serveQuery(rec, r, service, c, authErr, reqID)
	case "s3":
		s.serveS3(rec, r, c, authErr, reqID)
	case "datasync":
		s.serveDataSync(rec, r, c, authErr)
	case "states":
		s.serveStates(rec, r, c, authErr)
	case "kms":
		s.serveKMS(rec, r, c, authErr)
	case "events":
		s.serveEvents(rec, r, c, authErr)
	default:
		writeQueryError(rec, "sts", reqID, 400, "Sender", "UnknownService", "The service '"+service+"' is not simulated.")
	}
}

// authenticate resolves the access key to a principal.
func (s *Server) authenticate(c *caller) *store.Error {
	cred, ok := s.store.Credential(c.sig.AccessKeyID)
	if !ok {
		return store.Errf("InvalidClientTokenId", "The security token included in the request is invalid.")
	}
	if cred.SessionToken != "" {
		if c.sig.Token != cred.SessionToken {
			return store.Errf("InvalidClientTokenId", "The security token included in the request is invalid.")
		}
		if s.store.Now().After(cred.Expiration) {
			return store.Errf("ExpiredToken", "The security token included in the request is expired")
		}
	}
	c.principal = cred.Principal
	return nil
}

// guessService picks a protocol to answer an unsigned request in.
func guessService(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); strings.HasPrefix(t, "TrentService.") {
		return "kms"
	} else if strings.HasPrefix(t, "AWSEvents.") {
		return "events"
	} else if t != "" {
		return "datasync"
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return "sts"
	}
	return "s3"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
