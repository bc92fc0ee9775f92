package statemachine

// Long transfers: the poll loop driven by a scripted DataSync progress curve, with every
// wait chosen by the real internal/waitpolicy.Next. They show what a migration costs in
// state transitions and how far it stays from the 25,000 history-event limit.

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/waitpolicy"
)

// historyLimit is Step Functions Standard's hard limit of events per execution.
const historyLimit = 25_000

// progressCurve is a DataSync task execution of a given duration: LAUNCHING for a minute,
// PREPARING (estimates appear at its end) for 1 % of the duration (at least 2 minutes),
// TRANSFERRING at a constant rate until 97 %, then VERIFYING, then SUCCESS.
type progressCurve struct {
	duration   time.Duration
	bytesTotal int64
	filesTotal int64
}

func (c progressCurve) at(elapsed time.Duration) (status string, bytes, files, bytesTotal, filesTotal int64) {
	prepared := max(2*time.Minute, c.duration/100)
	transferred := c.duration * 97 / 100
	switch {
	case elapsed >= c.duration:
		return "SUCCESS", c.bytesTotal, c.filesTotal, c.bytesTotal, c.filesTotal
	case elapsed >= transferred:
		return "VERIFYING", c.bytesTotal, c.filesTotal, c.bytesTotal, c.filesTotal
	case elapsed >= prepared:
		f := float64(elapsed-prepared) / float64(transferred-prepared)
		return "TRANSFERRING", int64(f * float64(c.bytesTotal)), int64(f * float64(c.filesTotal)), c.bytesTotal, c.filesTotal
	case elapsed >= time.Minute:
		return "PREPARING", 0, 0, 0, 0
	default:
		return "LAUNCHING", 0, 0, 0, 0
	}
}

// script polls the curve as the state machine does (first poll right after StartTask,
// then after each wait the policy chose) and returns the PollExecution outputs and the
// waits between them.
func (c progressCurve) script(t *testing.T) (polls []map[string]any, waits []int) {
	t.Helper()
	var prev *waitpolicy.Observation
	elapsed := time.Duration(0)
	for {
		status, bytes, files, bytesTotal, filesTotal := c.at(elapsed)
		if status == "SUCCESS" {
			polls = append(polls, poll(status, elapsed, files, bytes, filesTotal, bytesTotal, 0))
			return polls, waits
		}
		cur := waitpolicy.Observation{
			At: transferStart.Add(elapsed), Start: transferStart, Status: status,
			BytesDone: bytes, BytesTotal: bytesTotal, FilesDone: files, FilesTotal: filesTotal,
		}
		seconds := int(math.Ceil(waitpolicy.Next(prev, cur).Seconds()))
		if seconds < 1 {
			t.Fatalf("waitpolicy.Next returned %d s at %s (%s): want at least 1 s", seconds, elapsed, status)
		}
		polls = append(polls, poll(status, elapsed, files, bytes, filesTotal, bytesTotal, seconds))
		waits = append(waits, seconds)
		if h := historyForPolls(len(polls)); h > historyLimit {
			t.Fatalf("a %s transfer needs more than %d polls (%d history events > %d) with waitpolicy.Next: the waits do not grow enough", c.duration, len(polls), h, historyLimit)
		}
		prev = &cur
		elapsed += time.Duration(seconds) * time.Second
	}
}

// transitionsForPolls is the state transitions of a successful migration with n polls and
// no retry: 8 setup states (ChooseMode and ChooseTransfer among them), (PollExecution,
// CheckProgress) n times, WaitForTransfer n-1 times, then CheckCleanup,
// RevokeBucketPolicy, AfterCleanup, CheckDeleteResources, CheckRecord, ChooseSummary, Summarize,
// PublishSucceeded, Succeeded.
func transitionsForPolls(n int) int { return 8 + 2*n + (n - 1) + 9 }

// historyForPolls is historyEvents for the same migration: execution start and end;
// 5 events per Task (6 setup and revoke, n polls, PublishSucceeded), 2 per other state.
func historyForPolls(n int) int {
	return 2 + 2*2 /*Start, ChooseMode*/ + 5*5 /*setup tasks*/ + 2 /*ChooseTransfer*/ + 5*n + 2*n /*CheckProgress*/ + 2*(n-1) /*Wait*/ + 5 /*Revoke*/ + 5 /*PublishSucceeded*/ + 2*7 /*CheckCleanup, AfterCleanup, CheckDeleteResources, CheckRecord, ChooseSummary, Summarize, Succeeded*/
}

func TestScenarioLongTransfers(t *testing.T) {
	const gbps5 = 5e9 / 8 // bytes per second of one task without an agent
	tests := []struct {
		name  string
		curve progressCurve
	}{
		{"2h", progressCurve{duration: 2 * time.Hour, bytesTotal: int64(2 * 3600 * gbps5 * 0.9), filesTotal: 3_000_000}},
		{"7d", progressCurve{duration: 7 * 24 * time.Hour, bytesTotal: int64(7 * 86400 * gbps5 * 0.9), filesTotal: 400_000_000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			polls, waits := tt.curve.script(t)
			mocks := happyMocks(t)
			mocks["PollExecution"] = nil
			for _, p := range polls {
				mocks["PollExecution"] = append(mocks["PollExecution"], ok(t, p))
			}
			r := runDriver(t, fixture(t, "request.json"), mocks, nil)
			if r.code != 0 {
				t.Fatalf("exit code %d, want 0; last %+v", r.code, r.last())
			}
			var loop []string
			for i := range polls {
				loop = append(loop, "PollExecution", "CheckProgress")
				if i < len(polls)-1 {
					loop = append(loop, "WaitForTransfer")
				}
			}
			checkPath(t, r, concat(setupPath, loop, []string{"CheckCleanup", "RevokeBucketPolicy", "AfterCleanup", "CheckDeleteResources", "CheckRecord", "ChooseSummary", "Summarize", "PublishSucceeded", "Succeeded"}))
			if got := r.waits(); !slices.Equal(got, waits) {
				t.Errorf("the Wait state asked for %v, want the policy's %v", got, waits)
			}
			total := 0
			for _, w := range waits {
				total += w
			}
			end := int(tt.curve.duration.Seconds())
			if total < end || total-waits[len(waits)-1] >= end {
				t.Errorf("waits add up to %d s: the last poll must be the first at or after the end (%d s)", total, end)
			}
			if got, want := r.transitions(), transitionsForPolls(len(polls)); got != want {
				t.Errorf("transitions %d, want %d", got, want)
			}
			if got, want := r.historyEvents(), historyForPolls(len(polls)); got != want {
				t.Errorf("history events %d, want %d", got, want)
			}
			if h := r.historyEvents(); h > historyLimit {
				t.Errorf("~%d history events, over the limit of %d", h, historyLimit)
			}
			t.Logf("%s transfer: %d polls, waits %d..%d s, end noticed %d s late, %d state transitions ($%.4f), ~%d history events",
				tt.name, len(polls), slices.Min(waits), slices.Max(waits), total-end, r.transitions(), float64(r.transitions())*0.025/1000, r.historyEvents())
		})
	}
}

// A 30-day transfer is not run through the interpreter (the counts are the formulas the
// 2 h and 7 d runs check); its history must stay under the limit.
func TestThirtyDayHistoryEstimate(t *testing.T) {
	c := progressCurve{duration: 30 * 24 * time.Hour, bytesTotal: int64(30 * 86400 * 5e9 / 8 * 0.9), filesTotal: 1_500_000_000}
	polls, waits := c.script(t)
	n := len(polls)
	h := historyForPolls(n)
	if h > historyLimit {
		t.Errorf("~%d history events for 30 days, over the limit of %d", h, historyLimit)
	}
	t.Logf("30 d transfer: %d polls, waits %d..%d s, %d state transitions ($%.4f), ~%d history events (limit %d)",
		n, slices.Min(waits), slices.Max(waits), transitionsForPolls(n), float64(transitionsForPolls(n))*0.025/1000, h, historyLimit)
}
