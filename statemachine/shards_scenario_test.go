package statemachine

import (
	"encoding/json"
	"testing"
	"time"
)

// A sharded migration with cleanup.revokeBucketPolicy = false keeps the grant and ends
// with the shards' summary: it has no $.task, which the unsharded Summarize reads (a path
// to a missing field is States.Runtime, which fails the execution after the data is
// copied).
func TestScenarioShardsNoRevokeRequested(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	var pre map[string]any
	if err := json.Unmarshal(fixture(t, "preflight.json"), &pre); err != nil {
		t.Fatal(err)
	}
	req := pre["request"].(map[string]any)
	req["cleanup"] = map[string]any{"revokeBucketPolicy": false}
	task := req["task"].(map[string]any)
	delete(task, "includes")
	task["shards"] = map[string]any{"prefixes": []string{"2024/"}, "maxParallel": 8}
	shards := []map[string]any{{"index": 0, "folders": []string{"2024/"}, "skip": false}}
	pre["shards"] = shards
	mocks["Preflight"] = []mock{ok(t, pre)}
	delete(mocks, "RevokeBucketPolicy")
	delete(mocks, "StartTask")
	delete(mocks, "PollExecution")
	mocks["PlanShards"] = []mock{ok(t, shards)}
	mocks["StartShardTask"] = []mock{ok(t, fixture(t, "starttask.json"))}
	mocks["PollShard"] = []mock{ok(t, poll("SUCCESS", 30*time.Second, 1200, 12_000_000, 1200, 12_000_000, 0))}
	mocks["TallyShards"] = []mock{ok(t, poll("SUCCESS", 30*time.Second, 1200, 12_000_000, 1200, 12_000_000, 0))}
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	if r.code != 0 {
		t.Fatalf("exit code %d (path %v, last %+v), want 0", r.code, r.path(), r.last())
	}
	p := r.path()
	if got := p[len(p)-5:]; got[0] != "CheckRecord" || got[1] != "ChooseSummary" || got[2] != "SummarizeShards" || got[3] != "PublishSucceeded" || got[4] != "Succeeded" {
		t.Errorf("got path %v, want it to end CheckRecord, ChooseSummary, SummarizeShards, PublishSucceeded, Succeeded", p)
	}
	var out map[string]any
	if err := json.Unmarshal(r.last().Output, &out); err != nil {
		t.Fatal(err)
	}
	if lookup(out, "bucketPolicy.revoke") != nil || lookup(out, "bucketPolicy.statementIds") == nil || lookup(out, "shards") == nil {
		t.Errorf("got output %v, want the statement ids, no revoke and the shards", out)
	}
}
