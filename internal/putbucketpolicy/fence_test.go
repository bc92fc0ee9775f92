package putbucketpolicy

// Two writers of one source bucket policy, interleaved step by step: the interleavings are
// injected through the fake S3 (a writer stops right after its read) and a shared fake
// clock (a writer's wait before its read-back), so nothing here depends on timing.

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

// sharedTime is the time both writers see.
type sharedTime struct {
	mu  sync.Mutex
	now time.Time
}

func (s *sharedTime) get() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func (s *sharedTime) advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

// writerClock is one writer's clock: the shared time, and a hook run once when the writer
// starts its wait before the read-back.
type writerClock struct {
	t       *sharedTime
	onSleep func()
}

func (c *writerClock) Now() time.Time { return c.t.get() }

func (c *writerClock) Sleep(_ context.Context, d time.Duration) error {
	if f := c.onSleep; f != nil {
		c.onSleep = nil
		f()
	}
	c.t.advance(d)
	return nil
}

// sharedS3 is one bucket policy that both writers read and write.
type sharedS3 struct {
	mu     sync.Mutex
	policy string
}

// writerS3 is one writer's view of it: a hook runs once right after a read (the writer
// holds the policy it read and has not written yet), and how long each write's context
// had left is recorded (0: no deadline).
type writerS3 struct {
	s        *sharedS3
	afterGet func()
	puts     int
	timeLeft []time.Duration
}

func (w *writerS3) GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	w.s.mu.Lock()
	p := w.s.policy
	w.s.mu.Unlock()
	if f := w.afterGet; f != nil {
		w.afterGet = nil
		f()
	}
	if p == "" {
		return nil, &smithy.OperationError{ServiceID: "S3", OperationName: "GetBucketPolicy", Err: &smithy.GenericAPIError{Code: "NoSuchBucketPolicy"}}
	}
	return &s3.GetBucketPolicyOutput{Policy: aws.String(p)}, nil
}

func (w *writerS3) write(ctx context.Context, p string) {
	w.puts++
	var left time.Duration
	if d, ok := ctx.Deadline(); ok {
		left = time.Until(d)
	}
	w.timeLeft = append(w.timeLeft, left)
	w.s.mu.Lock()
	w.s.policy = p
	w.s.mu.Unlock()
}

func (w *writerS3) PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, _ ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	w.write(ctx, aws.ToString(in.Policy))
	return &s3.PutBucketPolicyOutput{}, nil
}

func (w *writerS3) DeleteBucketPolicy(ctx context.Context, _ *s3.DeleteBucketPolicyInput, _ ...func(*s3.Options)) (*s3.DeleteBucketPolicyOutput, error) {
	w.write(ctx, "")
	return &s3.DeleteBucketPolicyOutput{}, nil
}

type writerAssumer struct{ s3 *writerS3 }

func (a writerAssumer) AssumeS3(context.Context, sourceaccess.Params) (S3API, error) {
	return a.s3, nil
}

type writer struct {
	h     *Handler
	s3    *writerS3
	clock *writerClock
}

// writers returns two handlers of the deployed function's settings on one policy.
func writers(s *sharedS3, t *sharedTime) (w1, w2 writer) {
	mk := func() writer {
		h, _, _ := setup(nil)
		w := writer{h: h, s3: &writerS3{s: s}, clock: &writerClock{t: t}}
		h.Assumer = writerAssumer{w.s3}
		h.Config.SettleDelay = DefaultSettleDelay
		h.clk = w.clock
		return w
	}
	return mk(), mk()
}

// otherGrant is another migration's grant on the same bucket.
func otherGrant() Input {
	in := grantInput()
	in.Request.MigrationID = "other-run"
	in.Roles.TransferRole.Arn = strings.ReplaceAll(in.Roles.TransferRole.Arn, "media-2026-11", "other-run")
	in.Roles.ConfigRole.Arn = strings.ReplaceAll(in.Roles.ConfigRole.Arn, "media-2026-11", "other-run")
	return in
}

var (
	ourSids   = naming.SidsFor("media-2026-11").All()
	otherSids = naming.SidsFor("other-run").All()
)

// has reports whether the policy holds every Sid of sids.
func has(policyText string, sids []string) bool {
	_, missing := splitSids(policyText, sids)
	return len(missing) == 0
}

// hasNone reports whether the policy holds none of sids.
func hasNone(policyText string, sids []string) bool {
	present, _ := splitSids(policyText, sids)
	return len(present) == 0
}

// stopAfterRead makes w stop right after its next read until resume is closed; read is
// closed when it has read.
func stopAfterRead(w writer) (read, resume chan struct{}) {
	read, resume = make(chan struct{}), make(chan struct{})
	w.s3.afterGet = func() {
		close(read)
		<-resume
	}
	return read, resume
}

// waitRead waits until the background writer has read, failing the test when it
// returned without reading.
func waitRead(t *testing.T, read, done chan struct{}, err *error) {
	t.Helper()
	select {
	case <-read:
	case <-done:
		t.Fatalf("the second writer returned before reading: %v", *err)
	}
}

// run runs in in the background; done is closed when it has returned.
func run(w writer, in Input) (done chan struct{}, err *error) {
	done, err = make(chan struct{}), new(error)
	go func() {
		defer close(done)
		_, *err = w.h.Handle(context.Background(), in)
	}()
	return done, err
}

func isTransient(err error) bool {
	_, ok := err.(*failure.TransientError)
	return ok
}

// The observed failure: the second migration read the policy before the first one's
// write and wrote after the first one's read-back; both read-backs passed and the first
// grant was lost. Now the second writer, whose read is older than WriteWindow by then,
// does not write; the state machine runs it again and both grants are in the policy.
func TestConcurrentGrantsSlowSecondWriterDoesNotWrite(t *testing.T) {
	s, clock := &sharedS3{policy: foreign}, &sharedTime{now: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)}
	w1, w2 := writers(s, clock)
	read, resume := stopAfterRead(w2)
	done, err2 := run(w2, otherGrant())
	waitRead(t, read, done, err2)
	if _, err := w1.h.Handle(context.Background(), grantInput()); err != nil {
		t.Fatalf("first grant: got %v, want it written and read back", err)
	}
	close(resume)
	<-done
	if !isTransient(*err2) || w2.s3.puts != 0 {
		t.Fatalf("second grant, read before the first write and resumed after its read-back: got %T %v after %d writes, want a TransientError and no write", *err2, *err2, w2.s3.puts)
	}
	if !has(s.policy, ourSids) {
		t.Fatalf("got policy %s, want the first grant kept", s.policy)
	}
	if _, err := w2.h.Handle(context.Background(), otherGrant()); err != nil {
		t.Fatalf("second grant, run again: got %v", err)
	}
	if !has(s.policy, ourSids) || !has(s.policy, otherSids) || !has(s.policy, []string{"TeamRead", "DenyHTTP"}) {
		t.Errorf("got policy %s, want both grants and the foreign statements", s.policy)
	}
}

// The second writer writes within its window, after the first one's write and before its
// read-back: the first one's read-back sees its statements gone and the step runs again.
func TestConcurrentGrantsOverwrittenGrantIsSeen(t *testing.T) {
	s, clock := &sharedS3{policy: foreign}, &sharedTime{now: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)}
	w1, w2 := writers(s, clock)
	read, resume := stopAfterRead(w2)
	done, err2 := run(w2, otherGrant())
	waitRead(t, read, done, err2)
	w1.clock.onSleep = func() { // w1 has written; w2 writes over it, within its window
		close(resume)
		<-done
	}
	_, err1 := w1.h.Handle(context.Background(), grantInput())
	if *err2 != nil || w2.s3.puts != 1 {
		t.Fatalf("second grant: got %v after %d writes, want it written once", *err2, w2.s3.puts)
	}
	if !isTransient(err1) {
		t.Fatalf("first grant, overwritten before its read-back: got %T %v, want TransientError", err1, err1)
	}
	if _, err := w1.h.Handle(context.Background(), grantInput()); err != nil {
		t.Fatalf("first grant, run again: got %v", err)
	}
	if !has(s.policy, ourSids) || !has(s.policy, otherSids) {
		t.Errorf("got policy %s, want both grants", s.policy)
	}
}

// A grant that reads before our revoke and would write after it: without the window it
// would put our statements back after our revoke succeeded (a grant left behind that no
// one knows about). It does not write, and runs again on the revoked policy.
func TestGrantDoesNotUndoAConcurrentRevoke(t *testing.T) {
	s, clock := &sharedS3{policy: foreign}, &sharedTime{now: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)}
	w1, w2 := writers(s, clock)
	if _, err := w1.h.Handle(context.Background(), grantInput()); err != nil {
		t.Fatal(err)
	}
	read, resume := stopAfterRead(w2)
	done, err2 := run(w2, otherGrant())
	waitRead(t, read, done, err2)
	if _, err := w1.h.Handle(context.Background(), revokeInput()); err != nil {
		t.Fatalf("revoke: got %v", err)
	}
	close(resume)
	<-done
	if !isTransient(*err2) || w2.s3.puts != 0 {
		t.Fatalf("grant resumed after the revoke's read-back: got %T %v after %d writes, want a TransientError and no write", *err2, *err2, w2.s3.puts)
	}
	if _, err := w2.h.Handle(context.Background(), otherGrant()); err != nil {
		t.Fatal(err)
	}
	if !hasNone(s.policy, ourSids) || !has(s.policy, otherSids) {
		t.Errorf("got policy %s, want the revoked grant gone and the other one there", s.policy)
	}
}

// The deployed step reads the policy back 10 s after its write: the 5 s within which any
// other writer's write built from an earlier read is sent, and 5 s for it to show.
func TestDeployedReadBackComesTenSecondsAfterTheWrite(t *testing.T) {
	clock := &sharedTime{now: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)}
	s := &sharedS3{policy: foreign}
	w, _ := writers(s, clock)
	var wroteAt time.Time
	w.clock.onSleep = func() { wroteAt = clock.get() }
	if _, err := w.h.Handle(context.Background(), grantInput()); err != nil {
		t.Fatal(err)
	}
	if got := clock.get().Sub(wroteAt); wroteAt.IsZero() || got != 10*time.Second {
		t.Errorf("got the read-back %v after the write, want 10s", got)
	}
}

// A step whose own read-modify-write stalls past WriteWindow writes nothing, and every
// write it sends carries a context that ends with the window (so the SDK's retries do not
// send it later either).
func TestWriteWindow(t *testing.T) {
	clock := &sharedTime{now: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)}
	t.Run("stalled after the read", func(t *testing.T) {
		s := &sharedS3{policy: foreign}
		w, _ := writers(s, clock)
		w.s3.afterGet = func() { clock.advance(WriteWindow) }
		_, err := w.h.Handle(context.Background(), grantInput())
		if !isTransient(err) || w.s3.puts != 0 || s.policy != foreign {
			t.Fatalf("got %T %v after %d writes, want a TransientError, no write and the policy unchanged", err, err, w.s3.puts)
		}
	})
	t.Run("stalled 2 s past the window", func(t *testing.T) {
		s := &sharedS3{policy: foreign}
		w, _ := writers(s, clock)
		w.s3.afterGet = func() { clock.advance(7 * time.Second) }
		_, err := w.h.Handle(context.Background(), grantInput())
		if !isTransient(err) || w.s3.puts != 0 {
			t.Fatalf("got %T %v after %d writes, want a TransientError and no write", err, err, w.s3.puts)
		}
		want := "dsmigrate read the policy of source bucket " + grantInput().Request.Source.Bucket + " 7s ago, longer than the 5s within which it writes a change built from a read"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to say %q", err, want)
		}
	})
	for _, tt := range []struct {
		name   string
		policy string // the policy before the grant
		revoke bool   // measure the revoke after the grant
	}{
		{"grant", foreign, false},
		{"revoke writing the policy", foreign, true},
		{"revoke deleting the policy", "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &sharedS3{policy: tt.policy}
			w, _ := writers(s, clock)
			in := grantInput()
			if tt.revoke {
				if _, err := w.h.Handle(context.Background(), in); err != nil {
					t.Fatal(err)
				}
				w.s3.timeLeft, in = nil, revokeInput()
			}
			w.s3.afterGet = func() { clock.advance(2 * time.Second) } // 3 s of the window left
			if _, err := w.h.Handle(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			if len(w.s3.timeLeft) != 1 {
				t.Fatalf("got %d writes, want 1", len(w.s3.timeLeft))
			}
			if left := w.s3.timeLeft[0]; left <= 0 || left > WriteWindow-2*time.Second {
				t.Errorf("got a write context with %v left, want it to end with the window, %v after the read", left, WriteWindow-2*time.Second)
			}
		})
	}
}
