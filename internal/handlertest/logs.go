package handlertest

import (
	"context"
	"log/slog"
	"sync"
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

// Keys returns the attribute keys of rec.
func Keys(rec slog.Record) []string {
	var keys []string
	rec.Attrs(func(a slog.Attr) bool {
		keys = append(keys, a.Key)
		return true
	})
	return keys
}
