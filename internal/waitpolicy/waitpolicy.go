// Package waitpolicy chooses how long the state machine waits before it polls a DataSync
// task execution again. It is a pure function of the last two observations.
//
// Each poll costs about 9 Step Functions history events (Wait 2, Task 5, Choice 2) and an
// execution may hold at most 25,000, so polling must be sparse on long transfers; but the
// poll that sees SUCCESS should come soon after the real end. The policy:
//
//   - QUEUED, LAUNCHING, PREPARING (one phase), CANCELLING and unknown statuses: back off
//     from Floor by ×1.5 per poll, at most PreTransferCap (10 % of the elapsed time, 30 s to 10 min).
//   - TRANSFERRING, first look: Floor (a rate needs two observations).
//   - TRANSFERRING with progress: estimate the rate (the faster of the rate since the last
//     poll and the average since the start, so that an error polls early rather than late),
//     and the time left from bytes (files when the byte estimate is 0). When the end is
//     near (within TailCap) aim right at it; otherwise wait AimFraction of the time left,
//     so that each poll re-aims with a fresher estimate. A wait is at most
//     GrowthLimit × the elapsed time and at most Cap.
//   - TRANSFERRING without progress (stalled, or no estimate yet): back off, at most
//     LagCap (2 % of the elapsed time, at least 30 s).
//   - VERIFYING, or everything transferred: back off from Floor, at most TailCap.
//   - SUCCESS, ERROR: 0.
//
// Every wait is at least MinWait: Floor, or 0.4 % of the elapsed time, which bounds the
// number of polls of any execution (see TestWaitPolicyReport for the numbers).
package waitpolicy

import "time"

// Bounds of every wait.
const (
	// Floor is the shortest wait.
	Floor = 10 * time.Second
	// Cap is the longest wait.
	Cap = 2 * time.Hour
	// Backoff is the growth factor between two waits of the same phase.
	Backoff = 1.5
	// AimFraction is the part of the estimated time left that one wait covers when the end
	// is not near.
	AimFraction = 0.8
	// GrowthLimit bounds a wait by this multiple of the time the execution has run, so a
	// slow start cannot cause a long sleep.
	GrowthLimit = 3.0
)

// DataSync task execution statuses.
const (
	StatusQueued       = "QUEUED"
	StatusLaunching    = "LAUNCHING"
	StatusPreparing    = "PREPARING"
	StatusTransferring = "TRANSFERRING"
	StatusVerifying    = "VERIFYING"
	StatusSuccess      = "SUCCESS"
	StatusError        = "ERROR"
	StatusCancelling   = "CANCELLING"
)

// Observation is one poll of a task execution.
type Observation struct {
	At         time.Time // when the poll was made
	Start      time.Time // when the execution started
	Status     string
	BytesDone  int64 // BytesTransferred
	BytesTotal int64 // EstimatedBytesToTransfer
	FilesDone  int64 // FilesTransferred
	FilesTotal int64 // EstimatedFilesToTransfer
}

// MinWait is the shortest wait after elapsed: Floor, or 0.4 % of elapsed. It bounds the
// polls of any execution of length T by about 250·(1 + ln(T / 2500 s)).
func MinWait(elapsed time.Duration) time.Duration { return max(Floor, elapsed/250) }

// TailCap is the longest wait near the end: 30 s, or 0.4 % of elapsed on long executions.
func TailCap(elapsed time.Duration) time.Duration { return max(30*time.Second, elapsed/250) }

// LagCap is the longest wait while progress cannot be predicted: 30 s, or 2 % of elapsed.
func LagCap(elapsed time.Duration) time.Duration { return max(30*time.Second, elapsed/50) }

// PreTransferCap is the longest wait before the transfer starts: 10 % of elapsed,
// between 30 s and 10 min.
func PreTransferCap(elapsed time.Duration) time.Duration {
	return min(10*time.Minute, max(30*time.Second, elapsed/10))
}

// Next returns how long to wait before the next poll after observing cur (prev is the
// observation before it, nil on the first poll). It returns 0 for a final status.
func Next(prev *Observation, cur Observation) time.Duration {
	elapsed := max(0, cur.At.Sub(cur.Start))
	var w time.Duration
	switch cur.Status {
	case StatusSuccess, StatusError:
		return 0
	case StatusTransferring:
		w = transferring(prev, cur, elapsed)
	case StatusVerifying:
		w = backoff(prev, cur, TailCap(elapsed))
	default:
		w = backoff(prev, cur, PreTransferCap(elapsed))
	}
	return clamp(w, MinWait(elapsed), Cap)
}

// backoff grows the previous wait by Backoff while the phase stays the same.
func backoff(prev *Observation, cur Observation, limit time.Duration) time.Duration {
	if prev == nil || phase(prev.Status) != phase(cur.Status) || !cur.At.After(prev.At) {
		return Floor
	}
	return min(limit, time.Duration(Backoff*float64(cur.At.Sub(prev.At))))
}

func transferring(prev *Observation, cur Observation, elapsed time.Duration) time.Duration {
	if prev == nil || prev.Status != StatusTransferring || !cur.At.After(prev.At) {
		// One look at the transfer gives no rate: look again soon.
		return Floor
	}
	done, total, prevDone := cur.BytesDone, cur.BytesTotal, prev.BytesDone
	if total <= 0 || done <= 0 {
		done, total, prevDone = cur.FilesDone, cur.FilesTotal, prev.FilesDone
	}
	switch {
	case total <= 0 || done <= 0 || done <= prevDone:
		// No estimate yet, or stalled since the last poll: no prediction.
		return backoff(prev, cur, LagCap(elapsed))
	case done >= total:
		// Everything estimated is transferred; the status changes soon.
		return backoff(prev, cur, TailCap(elapsed))
	}
	// The faster of the recent and the average rate: an error makes us poll early, not late.
	rate := max(float64(done)/elapsed.Seconds(), float64(done-prevDone)/cur.At.Sub(prev.At).Seconds())
	left := min(float64(total-done)/rate, 1e9) // seconds; bounded to stay a valid Duration
	if left <= TailCap(elapsed).Seconds() {
		return seconds(left)
	}
	return seconds(min(AimFraction*left, GrowthLimit*elapsed.Seconds()))
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// phase groups the statuses before the transfer into one phase: the backoff goes on
// from QUEUED to LAUNCHING to PREPARING.
func phase(status string) string {
	switch status {
	case StatusQueued, StatusLaunching, StatusPreparing:
		return StatusQueued
	}
	return status
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}
