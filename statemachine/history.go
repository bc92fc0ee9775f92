package statemachine

import (
	"encoding/json"
	"fmt"
	"slices"
)

// HistoryLimit is the most events one Standard execution's history may hold; an execution
// that would pass it fails (Step Functions developer guide, "Step Functions service
// quotas", quotas related to state machine executions: maximum execution history size,
// 25,000 events, a hard quota).
const HistoryLimit = 25_000

// Entry is one event of the local driver that the history count reads (docs/develop.md,
// "Local Step Functions"): "StateEntered" or "TaskRetried" (other events are ignored). Index
// is the Map iteration of a state inside a Map's ItemProcessor, nil at the top level.
type Entry struct {
	Event string
	State string
	Index *int
}

// History is what Step Functions would record for one execution of the definition.
type History struct {
	// Parent is the events of the execution itself. A DISTRIBUTED Map adds four:
	// MapStateEntered, MapRunStarted, MapRunSucceeded (or MapRunFailed), MapStateExited;
	// its iterations are child executions with histories of their own. An INLINE Map adds
	// MapStateEntered, MapStateStarted, MapStateSucceeded, MapStateExited and, per
	// iteration, MapIterationStarted, MapIterationSucceeded and the iteration's states.
	Parent int
	// Children is the events of each child execution of a DISTRIBUTED Map, in the order
	// their iterations first appear: ExecutionStarted, ExecutionSucceeded and the
	// iteration's states.
	Children []int
	// Inline is what one history would hold if every Map ran INLINE: Parent and, for each
	// child, its states and the two MapIteration events that replace the child's two
	// Execution events.
	Inline int
}

// Largest is the largest single history of the execution as the definition runs it: the
// one HistoryLimit applies to.
func (h History) Largest() int {
	return max(h.Parent, slices.Max(append([]int{0}, h.Children...)))
}

// LargestChild is the largest child execution's history (0 without children).
func (h History) LargestChild() int { return slices.Max(append([]int{0}, h.Children...)) }

// CountHistory counts the history events of an execution of the definition from the
// driver's events (aws-local-stepfunctions runs a DISTRIBUTED Map's iterations inline and
// marks their events with the iteration's index). Per state entered: a Task 5
// (TaskStateEntered, one attempt's three events, TaskStateExited; our Tasks name a Lambda
// function ARN as Resource, whose attempt events are LambdaFunctionScheduled,
// LambdaFunctionStarted, LambdaFunctionSucceeded or LambdaFunctionFailed, where a service
// integration records TaskScheduled, TaskStarted, TaskSucceeded), a retried attempt 3 more, a
// Fail state 1 (FailStateEntered), a Map 4 (above), any other state 2 (<Type>StateEntered,
// <Type>StateExited); per execution 2 (ExecutionStarted, ExecutionSucceeded or
// ExecutionFailed). The event types are those of the Step Functions API reference
// (HistoryEvent, "type", which lists MapRunStarted, MapRunSucceeded and MapRunFailed beside
// the MapState and MapIteration events). The developer guide says that in Inline mode Step
// Functions adds the iterations' history to the parent workflow's history (Map state, "Map
// state processing modes"), and that in Distributed mode each child workflow execution has
// an execution history of its own, separate from the parent's (Using Map state in
// Distributed mode); "Redriving Map Runs" names the MapStateEntered and MapStateExited
// events of the Distributed Map in the parent's history.
func CountHistory(entries []Entry) (History, error) { return countHistory(definition, entries) }

// states of a definition by name: their type and, for a state of a Map's iteration, the
// Map and its processor mode.
type stateInfo struct {
	Type, Map, Mode string
}

func stateTypes(def []byte) (map[string]stateInfo, error) {
	type processor struct {
		ProcessorConfig struct{ Mode string }
		States          map[string]struct{ Type string }
	}
	var m struct {
		States map[string]struct {
			Type          string
			ItemProcessor *processor
			Iterator      *processor
		}
	}
	if err := json.Unmarshal(def, &m); err != nil {
		return nil, fmt.Errorf("read the definition: %w", err)
	}
	out := map[string]stateInfo{}
	for name, s := range m.States {
		out[name] = stateInfo{Type: s.Type}
		p := s.ItemProcessor
		if p == nil {
			p = s.Iterator
		}
		if p == nil {
			continue
		}
		mode := p.ProcessorConfig.Mode
		if mode == "" {
			mode = "INLINE" // the Map state's default processing mode
		}
		out[name] = stateInfo{Type: s.Type, Mode: mode}
		for inner, is := range p.States {
			out[inner] = stateInfo{Type: is.Type, Map: name, Mode: mode}
		}
	}
	return out, nil
}

func countHistory(def []byte, entries []Entry) (History, error) {
	info, err := stateTypes(def)
	if err != nil {
		return History{}, err
	}
	h := History{Parent: 2}
	type iteration struct {
		Map   string
		Index int
	}
	child := map[iteration]int{} // position in h.Children, or in inline
	var inline []int             // events of the iterations of INLINE Maps
	for _, e := range entries {
		var n int
		switch e.Event {
		case "StateEntered":
			s, ok := info[e.State]
			if !ok {
				return History{}, fmt.Errorf("state %s is not in the definition", e.State)
			}
			switch s.Type {
			case "Task":
				n = 5
			case "Fail":
				n = 1
			case "Map":
				n = 4
			default:
				n = 2
			}
		case "TaskRetried":
			n = 3
		default:
			continue
		}
		s := info[e.State]
		if (s.Map != "") != (e.Index != nil) {
			return History{}, fmt.Errorf("event %s of %s: an iteration index is given exactly for the states inside a Map (index %v, Map %q)", e.Event, e.State, e.Index, s.Map)
		}
		if s.Map == "" {
			h.Parent += n
			continue
		}
		it := iteration{s.Map, *e.Index}
		list := &h.Children
		if s.Mode != "DISTRIBUTED" {
			list = &inline
		}
		i, seen := child[it]
		if !seen {
			i = len(*list)
			child[it] = i
			*list = append(*list, 2) // ExecutionStarted/Succeeded, or MapIterationStarted/Succeeded
		}
		(*list)[i] += n
	}
	for _, n := range inline {
		h.Parent += n
	}
	h.Inline = h.Parent
	for _, n := range h.Children {
		h.Inline += n
	}
	return h, nil
}
