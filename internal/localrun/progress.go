package localrun

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/execution"
)

// Reporter prints the run's progress on a writer (stderr): states as they are entered,
// retries, and a bar of files and bytes from each poll.
type Reporter struct {
	W     io.Writer
	TTY   bool // redraw the bar in place
	Quiet bool
	start time.Time
	bar   bool // a bar is on the current line
	seen  map[string]bool
	// shards is the last poll of each shard of a sharded migration, by Map iteration.
	shards map[int]*execution.Progress
}

// NewReporter returns a reporter for w; TTY is detected for *os.File.
func NewReporter(w io.Writer) *Reporter {
	r := &Reporter{W: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			r.TTY = true
		}
	}
	return r
}

func (r *Reporter) printf(format string, args ...any) {
	if r.Quiet || r.W == nil {
		return
	}
	if r.bar {
		fmt.Fprintln(r.W)
		r.bar = false
	}
	fmt.Fprintf(r.W, format, args...)
}

// Event shows one driver event.
func (r *Reporter) Event(ev Event) {
	if r.start.IsZero() {
		r.start = ev.At
	}
	at := ev.At.Sub(r.start).Seconds()
	switch ev.Event {
	case "StateEntered":
		if r.seen[ev.State] {
			return // a loop state again: the bar shows the loop
		}
		if r.seen == nil {
			r.seen = map[string]bool{}
		}
		r.seen[ev.State] = true
		r.printf("%6.1fs  ▶ %s\n", at, ev.State)
	case "TaskFailed":
		r.printf("%6.1fs    ✗ %s: %s: %s\n", at, ev.State, ev.Error, oneLine(ev.Cause, 160))
	case "TaskRetried":
		r.printf("%6.1fs    ↻ %s: retry %d\n", at, ev.State, ev.Attempt)
	case "TaskCaught":
		r.printf("%6.1fs    ↳ %s: caught, next %s\n", at, ev.State, ev.Next)
	case "StateExited":
		if ev.Index != nil {
			r.shardExited(at, *ev.Index, ev)
			return
		}
		p := execution.ProgressOf(ev.Output)
		if p == nil || !r.isPoll(ev) {
			return
		}
		r.drawBar(at, p)
	case "ChildExecutionStarted":
		r.printf("%6.1fs    ▷ child execution %s started\n", at, ev.Name)
	case "ExecutionSucceeded":
		r.printf("%6.1fs  ✔ execution succeeded\n", at)
	case "ExecutionFailed":
		r.printf("%6.1fs  ✘ execution failed: %s: %s\n", at, ev.Error, oneLine(ev.Cause, 200))
	}
}

func (r *Reporter) drawBar(at float64, p *execution.Progress) {
	if r.Quiet || r.W == nil {
		return
	}
	const width = 30
	frac := 0.0
	if p.EstimatedBytesToTransfer > 0 {
		frac = float64(p.BytesTransferred) / float64(p.EstimatedBytesToTransfer)
	} else if p.PercentDone > 0 {
		frac = p.PercentDone / 100
	}
	if p.Done {
		frac = 1
	}
	frac = min(max(frac, 0), 1)
	n := int(frac * width)
	line := fmt.Sprintf("%6.1fs    [%s%s] %3.0f%%  %s  %s",
		at, strings.Repeat("█", n), strings.Repeat("░", width-n), frac*100, p.Counts(), p.Status)
	if r.TTY {
		fmt.Fprintf(r.W, "\r\033[K%s", line)
		r.bar = true
		return
	}
	fmt.Fprintln(r.W, line)
}

// shardExited shows what a state of a shard's iteration returned: a poll updates one bar
// that adds up every shard; the iteration's result prints a line for the shard.
func (r *Reporter) shardExited(at float64, index int, ev Event) {
	// A batch's migration (the batch state machine's lanes) rather than a shard.
	var m struct {
		MigrationID, ExecutionName, Status, Error string
	}
	if json.Unmarshal(ev.Output, &m) == nil && m.MigrationID != "" && m.ExecutionName != "" && m.Status != "" {
		if m.Error != "" {
			m.Status += ": " + m.Error
		}
		r.printf("%6.1fs    migration %s (%s): %s\n", at, m.MigrationID, m.ExecutionName, m.Status)
		return
	}
	var res execution.ShardResult
	if json.Unmarshal(ev.Output, &res) == nil && res.Status != "" {
		detail := ""
		switch {
		case res.Error != "":
			detail = ": " + res.Error
		case res.Status == execution.ShardSucceeded:
			detail = fmt.Sprintf("  %d files  %s", res.FilesTransferred, execution.FormatBytes(res.BytesTransferred))
		}
		r.printf("%6.1fs    shard %d: %s%s\n", at, res.Index, res.Status, detail)
		return
	}
	p := execution.ProgressOf(ev.Output)
	if p == nil || !r.isPoll(ev) {
		return
	}
	if r.shards == nil {
		r.shards = map[int]*execution.Progress{}
	}
	r.shards[index] = p
	sum := &execution.Progress{}
	done := 0
	for _, s := range r.shards {
		sum.Add(s)
		if s.Done {
			done++
		}
	}
	sum.Status = fmt.Sprintf("%d of %d shards polled done", done, len(r.shards))
	r.drawBar(at, sum)
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// isPoll tells the poll step's exit from the exit of other states that carry $.progress.
func (r *Reporter) isPoll(ev Event) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(ev.Output, &top) != nil {
		return false
	}
	_, direct := top["taskExecutionArn"]
	_, nested := top["progress"]
	return direct || (nested && strings.Contains(strings.ToLower(ev.State), "poll"))
}
