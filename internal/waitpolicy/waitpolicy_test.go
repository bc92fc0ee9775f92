package waitpolicy

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// lagTarget is the completion-lag target: max(30 s, 2 % of the duration).
func lagTarget(d time.Duration) time.Duration { return max(30*time.Second, d/50) }

func TestSteadyTargets(t *testing.T) {
	for _, d := range steadyDurations {
		tr := steady(durName(d)+" steady", d)
		t.Run(tr.name, func(t *testing.T) {
			got := simulate(tr, Next)
			if want := lagTarget(got.duration); got.lag > want || got.lag < 0 {
				t.Errorf("lag: got %v, want within [0, %v]", got.lag, want)
			}
			if d == 2*hour {
				if got.polls > 15 {
					t.Errorf("polls: got %d, want ≤ 15", got.polls)
				}
				if got.lag > 30*time.Second {
					t.Errorf("lag: got %v, want ≤ 30s", got.lag)
				}
			}
			if ev := historyEvents(got.polls); ev > 25000/4 {
				t.Errorf("history events: got %d, want ≤ %d", ev, 25000/4)
			}
		})
	}
}

// TestIrregularBounds checks what holds for every irregular transfer: the run ends, and
// the history stays far below the 25,000 events limit.
func TestIrregularBounds(t *testing.T) {
	for _, d := range steadyDurations {
		for _, tr := range irregular(d) {
			t.Run(tr.name, func(t *testing.T) {
				got := simulate(tr, Next)
				if ev := historyEvents(got.polls); ev > 25000/2 {
					t.Errorf("history events: got %d, want ≤ %d", ev, 25000/2)
				}
				if got.lag < 0 {
					t.Errorf("lag: got %v, want ≥ 0", got.lag)
				}
			})
		}
	}
}

// historyEvents estimates the Step Functions history of an execution with n polls:
// 9 events per poll iteration plus about 60 for the other states.
func historyEvents(polls int) int { return 9*polls + 60 }

func TestNext(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	obs := func(s float64, status string, done, total int64) Observation {
		return Observation{At: at(s), Start: start, Status: status, BytesDone: done, BytesTotal: total}
	}
	p := func(o Observation) *Observation { return &o }
	tests := []struct {
		name string
		prev *Observation
		give Observation
		want time.Duration
	}{
		{name: "success", give: obs(100, StatusSuccess, 1, 1), want: 0},
		{name: "error", give: obs(100, StatusError, 0, 1), want: 0},
		{name: "first poll queued", give: obs(2, StatusQueued, 0, 0), want: Floor},
		{name: "launching after queued goes on backing off", prev: p(obs(2, StatusQueued, 0, 0)), give: obs(20, StatusLaunching, 0, 0), want: 27 * time.Second},
		{name: "cancelling restarts backoff", prev: p(obs(200, StatusTransferring, 1, 10)), give: obs(300, StatusCancelling, 1, 10), want: Floor},
		{name: "preparing backs off ×1.5", prev: p(obs(20, StatusPreparing, 0, 0)), give: obs(40, StatusPreparing, 0, 0), want: 30 * time.Second},
		{name: "preparing capped at 10 % of elapsed", prev: p(obs(2000, StatusPreparing, 0, 0)), give: obs(3000, StatusPreparing, 0, 0), want: 300 * time.Second},
		{name: "unknown status backs off", prev: p(obs(20, "NEW", 0, 0)), give: obs(30, "NEW", 0, 0), want: 15 * time.Second},
		{name: "transferring near the end aims at it", prev: p(obs(1000, StatusTransferring, 900, 1000)), give: obs(1010, StatusTransferring, 990, 1000), want: 10 * time.Second / 9},
		{name: "transferring far from the end: 80 % of time left", prev: p(obs(9000, StatusTransferring, 100, 100000)), give: obs(10000, StatusTransferring, 1100, 100000), want: time.Duration(0.8 * 98900 * float64(time.Second))},
		{name: "growth limit 3× elapsed", prev: p(obs(90, StatusTransferring, 1, 1000000)), give: obs(100, StatusTransferring, 2, 1000000), want: 300 * time.Second},
		{name: "first look at transferring", prev: p(obs(90, StatusPreparing, 0, 0)), give: obs(100, StatusTransferring, 1, 1000000), want: Floor},
		{name: "stalled backs off within 2 % of elapsed", prev: p(obs(5000, StatusTransferring, 500, 1000)), give: obs(6000, StatusTransferring, 500, 1000), want: 120 * time.Second},
		{name: "no estimate yet", prev: p(obs(60, StatusTransferring, 0, 0)), give: obs(70, StatusTransferring, 0, 0), want: 15 * time.Second},
		{name: "all bytes done", prev: p(obs(60, StatusTransferring, 5, 10)), give: obs(70, StatusTransferring, 10, 10), want: 15 * time.Second},
		{name: "verifying starts at floor", prev: p(obs(60, StatusTransferring, 5, 10)), give: obs(70, StatusVerifying, 10, 10), want: Floor},
		{name: "verifying capped", prev: p(obs(100, StatusVerifying, 10, 10)), give: obs(130, StatusVerifying, 10, 10), want: 30 * time.Second},
		{name: "long execution floor is 0.4 % of elapsed", prev: p(obs(99990, StatusVerifying, 10, 10)), give: obs(100000, StatusVerifying, 10, 10), want: 400 * time.Second},
		{name: "cap", prev: p(obs(10*86400, StatusTransferring, 1, 1e12)), give: obs(20*86400, StatusTransferring, 2, 1e12), want: Cap},
		{name: "files when bytes are 0", prev: &Observation{At: at(1000), Start: start, Status: StatusTransferring, FilesDone: 900, FilesTotal: 1000},
			give: Observation{At: at(1010), Start: start, Status: StatusTransferring, FilesDone: 990, FilesTotal: 1000}, want: 10 * time.Second / 9},
		{name: "clock skew: poll before start", give: obs(-5, StatusQueued, 0, 0), want: Floor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Next(tt.prev, tt.give)
			want := tt.want
			if want > 0 {
				want = clamp(want, MinWait(max(0, tt.give.At.Sub(start))), Cap)
			}
			if got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// TestWaitPolicyReport prints polls and completion lag per simulated transfer for our
// policy, fixed 30 s polling and 15 s ×1.5 backoff capped at 300 s, and the history
// estimate of a 30-day transfer. Run: go test ./internal/waitpolicy -run TestWaitPolicyReport -v
func TestWaitPolicyReport(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-26s %10s | %6s %8s %9s | %6s %8s | %6s %8s\n", "transfer", "duration", "polls", "lag", "maxWait", "30s", "lag", "15×1.5", "lag")
	row := func(tr *transfer) {
		ours := simulate(tr, Next)
		f := simulate(tr, fixed30)
		bo := simulate(tr, backoff15)
		fmt.Fprintf(&b, "%-26s %10s | %6d %8s %9s | %6d %8s | %6d %8s\n", tr.name, short(ours.duration),
			ours.polls, short(ours.lag), short(ours.maxWait), f.polls, short(f.lag), bo.polls, short(bo.lag))
	}
	for _, d := range steadyDurations {
		row(steady(durName(d)+" steady", d))
	}
	for _, d := range steadyDurations {
		for _, tr := range irregular(d) {
			row(tr)
		}
	}
	long := steady("30d steady", 30*day)
	lr := simulate(long, Next)
	stalled := steady("30d mostly stalled", 30*day)
	stalled.rate = func(t float64) float64 {
		if t < 29*day {
			return 1 // 1 byte per second: always "moving", never predictable
		}
		return 50e6
	}
	sr := simulate(stalled, Next)
	fmt.Fprintf(&b, "\n30-day transfer, steady: %d polls ≈ %d history events (limit 25,000); fixed 30 s would need %d polls ≈ %d events\n",
		lr.polls, historyEvents(lr.polls), int(lr.duration/(30*time.Second)), historyEvents(int(lr.duration/(30*time.Second))))
	fmt.Fprintf(&b, "30-day transfer, crawling for 29 days: %d polls ≈ %d history events, lag %s\n", sr.polls, historyEvents(sr.polls), short(sr.lag))
	t.Log(b.String())
	if historyEvents(sr.polls) > 25000 {
		t.Errorf("30-day crawl: got %d history events, want ≤ 25000", historyEvents(sr.polls))
	}
}

func short(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1fd", d.Hours()/24)
	case d >= time.Hour:
		return fmt.Sprintf("%.1fh", d.Hours())
	case d >= time.Minute:
		return fmt.Sprintf("%.1fm", d.Minutes())
	default:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
}

func BenchmarkNext(b *testing.B) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	prev := Observation{At: start.Add(time.Hour), Start: start, Status: StatusTransferring, BytesDone: 1e9, BytesTotal: 1e12}
	cur := Observation{At: start.Add(2 * time.Hour), Start: start, Status: StatusTransferring, BytesDone: 2e9, BytesTotal: 1e12}
	for b.Loop() {
		Next(&prev, cur)
	}
}

// BenchmarkSimulated2h reports polls and lag of a steady 2 h transfer as metrics.
func BenchmarkSimulated2h(b *testing.B) {
	var r result
	for b.Loop() {
		r = simulate(steady("2h steady", 2*hour), Next)
	}
	b.ReportMetric(float64(r.polls), "polls")
	b.ReportMetric(r.lag.Seconds(), "lag-s")
}
