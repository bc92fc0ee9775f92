package statemachine

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// putEventsResource is the Resource of Step Functions' optimized EventBridge integration
// (https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html).
const putEventsResource = "arn:aws:states:::events:putEvents"

// TestPublishStates: the states that put the outgoing events put one entry on the
// deployment's bus with this package's EventSource, keep nothing in the document
// (ResultPath null, so the worst-case document does not grow), retry a failed put a few
// times, and then carry on to where they would have gone anyway: a migration's outcome
// is decided before its event is put.
func TestPublishStates(t *testing.T) {
	m := load(t)
	want := map[string]struct{ detailType, next string }{
		"PublishSucceeded":       {"Migration Succeeded", "Succeeded"},
		"PublishFailed":          {"Migration Failed", "ChooseFailState"},
		"PublishFailedUnchecked": {"Migration Failed", "ChooseFailState"},
	}
	var got []string
	for name, s := range m.States {
		if s.Type == "Task" && s.Resource == putEventsResource {
			got = append(got, name)
		}
	}
	slices.Sort(got)
	if wantNames := slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(got, wantNames) {
		t.Errorf("events:putEvents states: got %v, want %v", got, wantNames)
	}
	for name, w := range want {
		s := m.States[name]
		var params struct {
			Entries []struct {
				EventBusName, Source, DetailType string
				Detail                           map[string]any
			}
		}
		b, _ := json.Marshal(s.Parameters)
		if err := json.Unmarshal(b, &params); err != nil || len(params.Entries) != 1 {
			t.Errorf("%s: Parameters %s, want one entry", name, b)
			continue
		}
		e := params.Entries[0]
		if e.EventBusName != "${"+EventBusPlaceholder+"}" || e.Source != EventSource || e.DetailType != w.detailType {
			t.Errorf("%s: entry on %q from %q, %q; want on ${%s} from %q, %q", name, e.EventBusName, e.Source, e.DetailType, EventBusPlaceholder, EventSource, w.detailType)
		}
		for _, k := range []string{"migrationId", "status", "executionArn.$", "execution.$"} {
			if _, ok := e.Detail[k]; !ok {
				if _, ok := e.Detail[k+".$"]; !ok {
					t.Errorf("%s: detail has no %s", name, k)
				}
			}
		}
		// PublishSucceeded runs on the summary: each path it reads is a key Summarize and
		// SummarizeShards write (internal/execution does not check it against Document).
		if name == "PublishSucceeded" {
			for k, v := range e.Detail {
				p, isPath := v.(string)
				if !strings.HasSuffix(k, ".$") || !isPath || strings.HasPrefix(p, "$$") {
					continue
				}
				for _, summarize := range []string{"Summarize", "SummarizeShards"} {
					if _, ok := m.States[summarize].Parameters[strings.TrimPrefix(p, "$.")+".$"]; !ok {
						if _, ok := m.States[summarize].Parameters[strings.TrimPrefix(p, "$.")]; !ok {
							t.Errorf("%s: detail %s reads %s, which %s does not write", name, k, p, summarize)
						}
					}
				}
			}
		}
		if s.ResultPath != nil {
			t.Errorf("%s: ResultPath %q, want null (the event's result is not kept)", name, *s.ResultPath)
		}
		if len(s.Retry) != 1 || !slices.Equal(s.Retry[0].ErrorEquals, []string{"States.TaskFailed"}) || s.Retry[0].MaxAttempts == nil || *s.Retry[0].MaxAttempts > 3 {
			t.Errorf("%s: Retry %+v, want States.TaskFailed at most 3 times", name, s.Retry)
		}
		if len(s.Catch) != 1 || !slices.Equal(s.Catch[0].ErrorEquals, []string{"States.ALL"}) || s.Catch[0].Next != w.next || s.Catch[0].ResultPath != "" {
			t.Errorf("%s: Catch %+v, want States.ALL to %s with ResultPath null", name, s.Catch, w.next)
		}
		if s.Next != w.next {
			t.Errorf("%s: Next %s, want %s", name, s.Next, w.next)
		}
	}
}
