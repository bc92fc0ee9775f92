package waitpolicy

import (
	"fmt"
	"math"
	"time"
)

// A simulated task execution: QUEUED, LAUNCHING and PREPARING for fixed times, then
// TRANSFERRING at rate(t) bytes per second until total bytes are moved, then VERIFYING
// for a fixed time, then SUCCESS.
type transfer struct {
	name      string
	queued    time.Duration
	launching time.Duration
	preparing time.Duration
	total     float64 // bytes
	fileSize  float64 // bytes per file
	// rate is the transfer rate at t seconds after TRANSFERRING began.
	rate func(t float64) float64
	// estimate is the EstimatedBytesToTransfer DataSync reports when done bytes are
	// transferred t seconds after TRANSFERRING began (nil: total, known from the start).
	estimate  func(t, done float64) float64
	verifying time.Duration
	noBytes   bool // report only file counts (bytes estimate 0)

	// computed by init
	steps  []float64 // cumulative bytes per second of transfer
	xferS  float64   // seconds of TRANSFERRING
	endAll time.Duration
}

func (tr *transfer) init() {
	tr.steps = tr.steps[:0]
	done := 0.0
	t := 0.0
	for done < tr.total {
		done += tr.rate(t)
		tr.steps = append(tr.steps, math.Min(done, tr.total))
		t++
		if t > 400*86400 {
			panic("transfer does not end: " + tr.name)
		}
	}
	tr.xferS = t
	tr.endAll = tr.transferStart() + time.Duration(t*float64(time.Second)) + tr.verifying
}

func (tr *transfer) transferStart() time.Duration { return tr.queued + tr.launching + tr.preparing }

// end is when the execution reaches SUCCESS, counted from its start.
func (tr *transfer) end() time.Duration { return tr.endAll }

func (tr *transfer) observe(start time.Time, at time.Duration) Observation {
	o := Observation{At: start.Add(at), Start: start}
	ts := tr.transferStart()
	switch {
	case at < tr.queued:
		o.Status = StatusQueued
		return o
	case at < tr.queued+tr.launching:
		o.Status = StatusLaunching
		return o
	case at < ts:
		o.Status = StatusPreparing
		return o
	case at >= tr.endAll:
		o.Status = StatusSuccess
	case at >= tr.endAll-tr.verifying:
		o.Status = StatusVerifying
	default:
		o.Status = StatusTransferring
	}
	x := (at - ts).Seconds()
	done := tr.total
	if i := int(x); i < len(tr.steps) {
		prev := 0.0
		if i > 0 {
			prev = tr.steps[i-1]
		}
		done = prev + (tr.steps[i]-prev)*(x-float64(i))
	}
	est := tr.total
	if tr.estimate != nil && done < tr.total {
		est = math.Max(done, math.Min(tr.total, tr.estimate(x, done)))
	}
	o.BytesDone, o.BytesTotal = int64(done), int64(est)
	o.FilesDone, o.FilesTotal = int64(done/tr.fileSize), int64(est/tr.fileSize)
	if tr.noBytes {
		o.BytesDone, o.BytesTotal = 0, 0
	}
	return o
}

// result of running one poll policy over one transfer.
type result struct {
	polls    int
	lag      time.Duration
	duration time.Duration
	maxWait  time.Duration
}

// overhead is the time one poll iteration takes besides the wait (Lambda, transitions).
const overhead = 500 * time.Millisecond

// firstPoll is when the state machine first polls after StartTask.
const firstPoll = 2 * time.Second

type policyFunc func(prev *Observation, cur Observation) time.Duration

func simulate(tr *transfer, next policyFunc) result {
	tr.init()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := firstPoll
	var prev *Observation
	res := result{duration: tr.end()}
	for {
		cur := tr.observe(start, at)
		res.polls++
		if cur.Status == StatusSuccess {
			res.lag = at - tr.end()
			return res
		}
		w := next(prev, cur)
		if w <= 0 {
			panic(fmt.Sprintf("%s: wait %v at %v in %s", tr.name, w, at, cur.Status))
		}
		res.maxWait = max(res.maxWait, w)
		prev = &cur
		at += w + overhead
		if res.polls > 1_000_000 {
			panic("too many polls: " + tr.name)
		}
	}
}

// fixed30 polls every 30 s.
func fixed30(_ *Observation, _ Observation) time.Duration { return 30 * time.Second }

// backoff15 waits 15 s, then ×1.5 per poll up to 300 s.
func backoff15(prev *Observation, cur Observation) time.Duration {
	if prev == nil {
		return 15 * time.Second
	}
	last := cur.At.Sub(prev.At) - overhead
	return min(300*time.Second, time.Duration(1.5*float64(last)))
}

const (
	gib    = 1 << 30
	minute = 60.0
	hour   = 3600.0
	day    = 86400.0
)

// steady moves everything in d seconds of TRANSFERRING at a constant rate.
func steady(name string, d float64) *transfer {
	return &transfer{
		name: name, launching: 20 * time.Second, preparing: 40 * time.Second,
		total: d * 50e6, fileSize: 4e6,
		rate:      func(float64) float64 { return 50e6 },
		verifying: 10*time.Second + time.Duration(d*0.005*float64(time.Second)),
	}
}

// irregular variants of a transfer whose nominal TRANSFERRING time is d seconds.
func irregular(d float64) []*transfer {
	label := func(kind string) string { return fmt.Sprintf("%s %s", durName(d), kind) }
	base := func(kind string) *transfer { t := steady(label(kind), d); return t }
	r := 50e6

	bursts := base("bursts")
	bursts.rate = func(t float64) float64 {
		if int(t/(d/10))%2 == 1 {
			return 3 * r
		}
		return r / 2
	}
	stall := base("stall")
	stall.rate = func(t float64) float64 {
		if t > 0.4*d && t < 0.6*d {
			return 0
		}
		return r
	}
	slow := base("slow start")
	slow.rate = func(t float64) float64 { return r * math.Min(1, 0.05+t/(0.3*d)) }
	late := base("late speedup")
	late.rate = func(t float64) float64 {
		if t > 0.6*d {
			return 4 * r
		}
		return r
	}
	revise := base("estimate grows")
	revise.estimate = func(t, done float64) float64 { return done + r*(0.05*d+t) }
	files := base("files only")
	files.noBytes = true
	queued := base("queued 10 min")
	queued.queued = 10 * time.Minute
	return []*transfer{bursts, stall, slow, late, revise, files, queued}
}

func durName(d float64) string {
	switch {
	case d >= day:
		return fmt.Sprintf("%gd", d/day)
	case d >= hour:
		return fmt.Sprintf("%gh", d/hour)
	default:
		return fmt.Sprintf("%gmin", d/minute)
	}
}

var steadyDurations = []float64{1 * minute, 10 * minute, 2 * hour, 24 * hour, 7 * day}
