package statemachine

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/batch"
)

func TestCheckBatchPlaceholders(t *testing.T) {
	if err := CheckBatchPlaceholders(batchDefinition); err != nil {
		t.Fatalf("the batch definition: %v", err)
	}
	tests := []struct{ name, give, wantErr string }{
		{"not JSON", "{", "not a JSON object"},
		{"a step's placeholder missing", strings.ReplaceAll(string(batchDefinition), "${BatchFunctionArn}", "arn:aws:lambda:us-east-1:111111111111:function:x"), "want exactly"},
		{"an unknown placeholder", strings.Replace(string(batchDefinition), "${MigrationStateMachineArn}", "${OtherArn}", 1), "want exactly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckBatchPlaceholders([]byte(tt.give))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

type aslState struct {
	Type           string
	Resource       string
	MaxConcurrency int
	Retry          []struct{ MaxAttempts *int }
	ItemProcessor  *struct {
		ProcessorConfig struct{ Mode string }
		StartAt         string
		States          map[string]aslState
	}
}

// TestBatchLaneHistoryAtMaxMigrations bounds the history of one lane (a child execution of
// the DISTRIBUTED RunLanes Map) that runs batch.MaxMigrations items, every one failing and
// every Lambda attempt retried as often as the definition allows: the worst path of an
// item is its iteration's two MapIteration events, the Choice (2), the child's Task (6: a
// service integration's TaskStateEntered, TaskScheduled, TaskStarted, TaskSubmitted,
// TaskFailed, TaskStateExited) and DescribeFailure (5, and 3 per retry); the lane adds its
// two execution events and the inner Map's four. It must stay under HistoryLimit.
func TestBatchLaneHistoryAtMaxMigrations(t *testing.T) {
	var def struct{ States map[string]aslState }
	// (PrepareBatch's Retry is read for the INLINE comparison below.)
	if err := json.Unmarshal(batchDefinition, &def); err != nil {
		t.Fatal(err)
	}
	outer := def.States["RunLanes"]
	if outer.ItemProcessor == nil || outer.ItemProcessor.ProcessorConfig.Mode != "DISTRIBUTED" {
		t.Fatalf("RunLanes must be a DISTRIBUTED Map: its lanes' histories are their own")
	}
	lane := outer.ItemProcessor.States["RunLane"]
	if lane.ItemProcessor == nil || lane.MaxConcurrency != 1 {
		t.Fatalf("RunLane must be a Map with MaxConcurrency 1, got %+v", lane)
	}
	states := lane.ItemProcessor.States
	retries := func(s aslState) int {
		n := 0
		for _, r := range s.Retry {
			a := 3 // the default MaxAttempts
			if r.MaxAttempts != nil {
				a = *r.MaxAttempts
			}
			n += a
		}
		return n
	}
	perItem := 2 + 2 + 6 + 5 + 3*retries(states["DescribeFailure"])
	if states["RunMigration"].Resource != "arn:aws:states:::states:startExecution.sync:2" || len(states["RunMigration"].Retry) != 0 {
		t.Fatalf("RunMigration must start the child with startExecution.sync:2 and never retry it (a retry would meet ExecutionAlreadyExists), got %+v", states["RunMigration"])
	}
	got := 2 + 4 + batch.MaxMigrations*perItem
	t.Logf("lane of %d failing items: at most %d history events (%d per item)", batch.MaxMigrations, got, perItem)
	// Were RunLanes INLINE, every lane's events would be the batch's own: PrepareBatch and
	// ReportBatch (5 each, 3 per retry), CheckBatch and the end (2 + 1), RunLanes (4), per
	// lane its two MapIteration events and its inner Map (4), per item as above.
	fixed := 2 + 2*(5+3*retries(def.States["PrepareBatch"])) + 3 + 4
	t.Logf("with RunLanes INLINE (one item per lane) the batch's history would pass %d events at %d items", HistoryLimit, (HistoryLimit-fixed)/(perItem+6)+1)
	if got >= HistoryLimit {
		t.Errorf("a lane of %d items may reach %d history events, want fewer than %d: lower batch.MaxMigrations", batch.MaxMigrations, got, HistoryLimit)
	}
}
