package putbucketpolicy

import (
	"context"
	"fmt"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// Two migrations that grant on one source bucket at the same time both read, change and
// write the whole bucket policy, and S3 offers no conditional write for bucket policies
// (PutBucketPolicy has no If-Match), so the second write can drop the first one's
// statements. The step used to wait a fixed 2 s after its write and read the policy back,
// assuming every other writer's read-modify-write took less than that; under load one took
// longer, both read-backs passed and one migration's grant was lost.
//
// The step now bounds that window instead of assuming it:
//
//   - a write is sent only while the policy it was built from was read at most WriteWindow
//     ago, and with a context that ends when that window does, so neither a slow step nor
//     the SDK's own retries send it later (the step fails with TransientError and the state
//     machine runs it again, which reads and merges again);
//   - the read-back comes DefaultSettleDelay (WriteWindow + settleMargin) after the write.
//
// Any dsmigrate writer that read the policy before our write therefore sends its write
// within WriteWindow of that read, so before our read-back: if it dropped our statements,
// the read-back sees it and the step runs again. A writer that reads after our write keeps
// our statements (Merge and RevokeOurs keep every statement that is not theirs). So no
// dsmigrate grant is lost, whatever the timing, as long as a sent request reaches S3 and
// its effect shows in GetBucketPolicy within settleMargin. A lost grant of another
// migration cannot happen silently either: that migration's own read-back catches it.
//
// Other ways considered: a lock per source bucket (an object written with S3's
// If-None-Match in a bucket of account B, or serialization in Step Functions) needs a
// store every deployment must own and grant on, and a lease on it still needs this same
// rule, since a holder whose lease ran out must not write. Checking and repairing our
// statements again in later steps would need the steps that run in account B to read the
// source policy in account A, which the roles do not allow on purpose, and a repair comes
// after DataSync has already been denied. Statements that another team's tool writes
// within our (now bounded, and normally sub-second) read-to-write window can still be
// overwritten: only a conditional write could prevent that, and S3 has none for bucket
// policies.
const (
	// WriteWindow is how old a read may be for a write built from it to be sent.
	WriteWindow = 5 * time.Second
	// settleMargin is what a sent write may take to reach S3 and show in a read.
	settleMargin = 5 * time.Second
	// DefaultSettleDelay is the SettleDelay of the deployed function.
	DefaultSettleDelay = WriteWindow + settleMargin
)

// clock is the time the step reads and sleeps by; tests give a fake one.
type clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (h *Handler) clock() clock {
	if h.clk != nil {
		return h.clk
	}
	return realClock{}
}

// writeWithin runs write, a change built from the policy read at b.readAt, only within
// WriteWindow of that read and with a context that ends when the window does.
func (h *Handler) writeWithin(ctx context.Context, b *bucket, write func(context.Context) error) error {
	left := b.readAt.Add(WriteWindow).Sub(h.clock().Now())
	if left <= 0 {
		return &failure.TransientError{Message: fmt.Sprintf(
			"dsmigrate read the policy of source bucket %s %s ago, longer than the %s within which it writes a change built from a read (another writer may have changed it since); retry",
			b.name, (WriteWindow - left).Round(time.Millisecond), WriteWindow)}
	}
	ctx, cancel := context.WithTimeout(ctx, left)
	defer cancel()
	return write(ctx)
}
