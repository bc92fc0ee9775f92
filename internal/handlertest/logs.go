package handlertest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// LogRecorder is a slog.Handler that keeps every record, for tests that check what a
// handler logs.
type LogRecorder struct {
	mu      sync.Mutex
	Records []slog.Record
}

// Enabled implements slog.Handler.
func (r *LogRecorder) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler.
func (r *LogRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Records = append(r.Records, rec.Clone())
	return nil
}

// WithAttrs implements slog.Handler (attributes are not needed by the tests).
func (r *LogRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }

// WithGroup implements slog.Handler.
func (r *LogRecorder) WithGroup(string) slog.Handler { return r }

// AtLevel returns the records at level.
func (r *LogRecorder) AtLevel(level slog.Level) []slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []slog.Record
	for _, rec := range r.Records {
		if rec.Level == level {
			out = append(out, rec)
		}
	}
	return out
}

// ErrorLoggedOnce runs handle, which must fail, with the slog default logger writing to a
// LogRecorder, and checks that the failure is logged exactly once at error level (by
// awserror.Fail at the handler's boundary) and with lowerCamel attribute keys.
func ErrorLoggedOnce(t *testing.T, handle func() error) {
	t.Helper()
	rec := &LogRecorder{}
	prev := slog.Default()
	slog.SetDefault(slog.New(rec))
	defer slog.SetDefault(prev)
	if err := handle(); err == nil {
		t.Fatal("got nil, want an error")
	}
	errs := rec.AtLevel(slog.LevelError)
	if len(errs) != 1 {
		t.Fatalf("got %d error records, want 1", len(errs))
	}
	errs[0].Attrs(func(a slog.Attr) bool {
		if k := a.Key; k == "" || k[0] < 'a' || k[0] > 'z' || strings.ContainsAny(k, "_- .") {
			t.Errorf("got key %q, want lowerCamel", k)
		}
		return true
	})
}
