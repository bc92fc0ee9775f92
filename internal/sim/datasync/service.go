package datasync

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// Options configures a Service.
type Options struct {
	// Workers is the number of objects an execution copies at once (default 8).
	Workers int
	// Phases are the AWS-like lengths of the execution phases before scaling by
	// Settings.TimeScale. Zero values take the defaults (see DefaultPhases).
	Phases Phases
	// MaxQueued is how many executions may wait behind a running one (default 50).
	MaxQueued int
	// Log receives one line per finished execution with its throughput
	// (default slog.Default()).
	Log *slog.Logger
	// ListAhead is how many objects an Enhanced execution has listed and prepared ahead
	// of the ones it has copied (default 1,000, one listing page): its estimates grow
	// while it transfers.
	ListAhead int
}

// Phases are the simulated lengths of an execution's phases at TimeScale 1.
type Phases struct {
	Queued    time.Duration // minimum time an execution shows QUEUED
	Launching time.Duration
	Preparing time.Duration // on top of the real listing time
	Verifying time.Duration // on top of the real verification time
	// Reporting is how long after an execution ends its task report is uploaded
	// (ReportResult PENDING meanwhile).
	Reporting time.Duration
}

// DefaultPhases are roughly what an S3-to-S3 Enhanced execution shows on AWS.
var DefaultPhases = Phases{Queued: 1 * time.Second, Launching: 20 * time.Second,
	Preparing: 10 * time.Second, Verifying: 5 * time.Second, Reporting: 5 * time.Second}

// Service is the simulated DataSync endpoint of one region.
type Service struct {
	b    Backend
	opts Options
	log  *slog.Logger

	mu sync.Mutex
	st *store

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New builds the service. Close stops its goroutines.
func New(b Backend, opts Options) *Service {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = 50
	}
	if opts.ListAhead <= 0 {
		opts.ListAhead = 1000
	}
	if opts.Phases.Queued == 0 {
		opts.Phases.Queued = DefaultPhases.Queued
	}
	if opts.Phases.Launching == 0 {
		opts.Phases.Launching = DefaultPhases.Launching
	}
	if opts.Phases.Preparing == 0 {
		opts.Phases.Preparing = DefaultPhases.Preparing
	}
	if opts.Phases.Verifying == 0 {
		opts.Phases.Verifying = DefaultPhases.Verifying
	}
	if opts.Phases.Reporting == 0 {
		opts.Phases.Reporting = DefaultPhases.Reporting
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{b: b, opts: opts, log: log, st: newStore(), ctx: ctx, cancel: cancel}
}

// Close stops every running execution and waits for its goroutines.
func (s *Service) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// ServeHTTP serves one DataSync request. The server must have authenticated the caller
// and stored it with identity.WithPrincipal; without one the request is refused.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	caller, ok := identity.PrincipalFrom(r.Context())
	if !ok {
		writeJSON(w, http.StatusBadRequest, errBody("UnrecognizedClientException",
			"The security token included in the request is invalid.", ""))
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, found := strings.CutPrefix(target, "FmrsService.")
	if !found {
		writeJSON(w, http.StatusBadRequest, errBody("UnknownOperationException", "", ""))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errBody("SerializationException", err.Error(), ""))
		return
	}
	status, resp := s.Handle(r.Context(), caller, op, body)
	writeJSON(w, status, resp)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if status >= 300 {
		var e struct {
			Type string `json:"__type"`
		}
		if json.Unmarshal(body, &e) == nil && e.Type != "" {
			w.Header().Set("X-Amzn-ErrorType", e.Type)
		}
	}
	w.WriteHeader(status)
	w.Write(body)
}

func errBody(typ, msg, code string) []byte {
	m := map[string]string{"__type": typ, "message": msg}
	if code != "" {
		m["errorCode"] = code
	}
	b, _ := json.Marshal(m)
	return b
}
