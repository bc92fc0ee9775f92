package localrun

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// A batch's progress names its child executions and its migrations, not shards.
func TestReporterBatchLines(t *testing.T) {
	var b strings.Builder
	r := NewReporter(&b)
	at := time.Now()
	zero, one := 0, 1
	r.Event(Event{Event: "ChildExecutionStarted", State: "RunMigration", Name: "b_m1_1", Index: &zero, At: at})
	r.Event(Event{Event: "StateExited", State: "Migrated", Index: &zero, At: at,
		Output: json.RawMessage(`{"migrationId":"m1","index":0,"executionName":"b_m1_1","status":"SUCCEEDED","child":{}}`)})
	r.Event(Event{Event: "StateExited", State: "DescribeFailure", Index: &one, At: at,
		Output: json.RawMessage(`{"migrationId":"m2","index":1,"executionName":"b_m2_1","status":"FAILED","error":"PreconditionError"}`)})
	got := b.String()
	for _, want := range []string{"child execution b_m1_1 started", "migration m1 (b_m1_1): SUCCEEDED", "migration m2 (b_m2_1): FAILED: PreconditionError"} {
		if !strings.Contains(got, want) {
			t.Errorf("got %q, want a line with %q", got, want)
		}
	}
	if strings.Contains(got, "shard") {
		t.Errorf("got %q, want no shard lines for a batch", got)
	}
}
