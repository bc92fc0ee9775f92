package localrun

import (
	"encoding/json"
	"time"

	"github.com/dsmigrate/dsmigrate/statemachine"
)

// Result is the outcome of one execution.
type Result struct {
	ExecutionName string
	Succeeded     bool
	Output        json.RawMessage // ExecutionSucceeded output
	Error, Cause  string          // ExecutionFailed
	Events        []Event
	// Started is when the driver reported the execution's first state (the execution
	// start); Launched is when the driver process was started (Node's start-up before).
	Started, Launched time.Time
	// Duration is from the execution start to its last event; Wall includes the driver's
	// start-up and exit.
	Duration, Wall time.Duration
	// FirstByte is the time from the execution start to the first byte the simulator's
	// DataSync copied (0 when none was seen).
	FirstByte time.Duration
}

// StatesEntered lists the states in the order they were entered.
func (r *Result) StatesEntered() []string {
	var s []string
	for _, ev := range r.Events {
		if ev.Event == "StateEntered" {
			s = append(s, ev.State)
		}
	}
	return s
}

// Transitions counts state transitions as Step Functions bills them (one per state entered).
func (r *Result) Transitions() int { return len(r.StatesEntered()) }

// History counts the history events Step Functions would record for the execution: the
// parent's, each child execution's of the DISTRIBUTED RunShards Map, and what one history
// would hold with the Map INLINE (statemachine.CountHistory).
func (r *Result) History() (statemachine.History, error) {
	entries := make([]statemachine.Entry, 0, len(r.Events))
	for _, ev := range r.Events {
		entries = append(entries, statemachine.Entry{Event: ev.Event, State: ev.State, Index: ev.Index})
	}
	return statemachine.CountHistory(entries)
}

// StateOutput returns the output of the last exit of a state.
func (r *Result) StateOutput(state string) json.RawMessage {
	for i := len(r.Events) - 1; i >= 0; i-- {
		if ev := r.Events[i]; ev.Event == "StateExited" && ev.State == state {
			return ev.Output
		}
	}
	return nil
}

// TaskFailures lists the TaskFailed events of a state (retries included).
func (r *Result) TaskFailures(state string) []Event {
	var out []Event
	for _, ev := range r.Events {
		if ev.Event == "TaskFailed" && (state == "" || ev.State == state) {
			out = append(out, ev)
		}
	}
	return out
}
