package localrun

import (
	"slices"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/sim/server"
)

// The driver's events of a sharded run become the parent's history and one child's per
// shard index; the other driver events add nothing.
func TestResultHistory(t *testing.T) {
	zero, one := 0, 1
	r := &Result{Events: []Event{
		{Event: "StateEntered", State: "PlanShards"},
		{Event: "StateExited", State: "PlanShards"},
		{Event: "StateEntered", State: "RunShards"},
		{Event: "MapIterationStarted", State: "RunShards", Index: &zero},
		{Event: "StateEntered", State: "CheckShardSkip", Index: &zero},
		{Event: "StateEntered", State: "CheckShardSkip", Index: &one},
		{Event: "StateEntered", State: "ShardSkipped", Index: &one},
		{Event: "StateEntered", State: "StartShardTask", Index: &zero},
		{Event: "TaskRetried", State: "StartShardTask", Index: &zero},
		{Event: "StateEntered", State: "Succeeded"},
		{Event: "ExecutionSucceeded"},
	}}
	h, err := r.History()
	if err != nil {
		t.Fatal(err)
	}
	// Parent: 2 + PlanShards 5 + RunShards 4 + Succeeded 2. Shard 0: 2 + Choice 2 + Task 5 +
	// retry 3. Shard 1: 2 + Choice 2 + Pass 2.
	if want := []int{12, 6}; h.Parent != 13 || !slices.Equal(h.Children, want) || h.Inline != 13+12+6 {
		t.Errorf("got %+v, want parent 13, children %v, inline %d", h, want, 13+12+6)
	}
	r.Events = append(r.Events, Event{Event: "StateEntered", State: "NoSuchState"})
	if _, err := r.History(); err == nil {
		t.Error("got no error for a state the definition does not have")
	}
}

func TestMutating(t *testing.T) {
	calls := []server.Call{
		{Service: "s3", Operation: "GetBucketPolicy"}, {Service: "s3", Operation: "ListObjectsV2"},
		{Service: "datasync", Operation: "DescribeTask"}, {Service: "sts", Operation: "AssumeRole"},
		{Service: "s3", Operation: "HeadBucket"}, {Service: "sts", Operation: "GetCallerIdentity"},
		{Service: "s3", Operation: "PutBucketPolicy"}, {Service: "iam", Operation: "CreateRole"},
		{Service: "datasync", Operation: "StartTaskExecution"}, {Service: "s3", Operation: "Unsupported"},
		{Service: "iam", Operation: "TagRole"},
	}
	var got []string
	for _, c := range Mutating(calls) {
		got = append(got, c.Operation)
	}
	if want := []string{"PutBucketPolicy", "CreateRole", "StartTaskExecution", "Unsupported", "TagRole"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
