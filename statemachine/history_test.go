package statemachine

// The history count (CountHistory) and the bound it puts on sharded migrations: with the
// RunShards Map DISTRIBUTED, each shard's polls go to a child execution's history, so the
// parent's history does not grow with them and no single history passes 25,000 events.

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/waitpolicy"
)

// entered turns a path of top-level states into driver events.
func entered(states ...string) []Entry {
	out := make([]Entry, len(states))
	for i, s := range states {
		out[i] = Entry{Event: "StateEntered", State: s}
	}
	return out
}

// shardIteration is the states one shard's iteration enters: polls polls of its DataSync
// execution, the last one seeing SUCCESS.
func shardIteration(index, polls int) []Entry {
	states := []string{"CheckShardSkip", "StartShardTask"}
	for i := range polls {
		states = append(states, "PollShard", "CheckShardProgress")
		if i < polls-1 {
			states = append(states, "WaitForShard")
		}
	}
	states = append(states, "ShardSucceeded")
	out := entered(states...)
	for i := range out {
		out[i].Index = &index
	}
	return out
}

// shardedMigration is a successful sharded migration's events: shards iterations of polls
// polls each, run one after another (the count does not depend on the interleaving).
func shardedMigration(shards, polls int) []Entry {
	out := entered("Start", "ChooseMode", "Preflight", "CreateRoles", "PutBucketPolicy", "CreateLocations", "ChooseTransfer", "PlanShards", "RunShards")
	for i := range shards {
		out = append(out, shardIteration(i, polls)...)
	}
	return append(out, entered("TallyShards", "CheckCleanup", "RevokeBucketPolicy", "AfterCleanup", "SummarizeShards", "Succeeded")...)
}

// childEvents is one shard's child execution with n polls: ExecutionStarted and
// ExecutionSucceeded, CheckShardSkip (Choice, 2), StartShardTask (Task, 5), n × PollShard
// (Task, 5) and CheckShardProgress (Choice, 2), n-1 × WaitForShard (Wait, 2), ShardSucceeded
// (Pass, 2).
func childEvents(n int) int { return 2 + 2 + 5 + 7*n + 2*(n-1) + 2 }

// parentEvents is the parent execution of a sharded migration: ExecutionStarted and
// ExecutionSucceeded; the Tasks Preflight, CreateRoles, PutBucketPolicy, CreateLocations,
// PlanShards, TallyShards, RevokeBucketPolicy (5 each); RunShards (4: MapStateEntered,
// MapRunStarted, MapRunSucceeded, MapStateExited); Start, ChooseMode, ChooseTransfer,
// CheckCleanup, AfterCleanup, SummarizeShards, Succeeded (2 each).
const parentEvents = 2 + 7*5 + 4 + 7*2

// withMode returns the definition with RunShards' ProcessorConfig.Mode replaced.
func withMode(t *testing.T, mode string) []byte {
	t.Helper()
	old := []byte(`"Mode": "DISTRIBUTED"`)
	if bytes.Count(definition, old) != 1 {
		t.Fatalf("the definition does not hold %s exactly once", old)
	}
	return bytes.Replace(definition, old, []byte(`"Mode": "`+mode+`"`), 1)
}

func TestCountHistory(t *testing.T) {
	one := 1
	tests := []struct {
		name    string
		def     []byte
		give    []Entry
		want    History
		wantErr string
	}{
		{name: "an unsharded migration with 3 polls is historyForPolls(3)",
			give: entered(successPath...), want: History{Parent: historyForPolls(3), Inline: historyForPolls(3)}},
		{name: "2 shards of 1 and 3 polls: two children, the Map's four events in the parent",
			give: slices.Concat(shardedMigration(1, 1), shardIteration(1, 3)),
			want: History{Parent: parentEvents, Children: []int{childEvents(1), childEvents(3)}, Inline: parentEvents + childEvents(1) + childEvents(3)}},
		{name: "the same with RunShards INLINE: one history",
			def:  withMode(t, "INLINE"),
			give: slices.Concat(shardedMigration(1, 1), shardIteration(1, 3)),
			want: History{Parent: parentEvents + childEvents(1) + childEvents(3), Inline: parentEvents + childEvents(1) + childEvents(3)}},
		{name: "a retried attempt adds three events, a Fail state one",
			give: slices.Concat(entered("Start", "ChooseMode", "Preflight"), []Entry{{Event: "TaskRetried", State: "Preflight"}, {Event: "StateExited", State: "Preflight"}}, entered("Failed")),
			want: History{Parent: 2 + 2 + 2 + 5 + 3 + 1, Inline: 2 + 2 + 2 + 5 + 3 + 1}},
		{name: "a retried shard task counts in its child",
			give: slices.Concat(entered("RunShards"), shardIteration(0, 1), []Entry{{Event: "TaskRetried", State: "PollShard", Index: new(int)}}),
			want: History{Parent: 2 + 4, Children: []int{childEvents(1) + 3}, Inline: 2 + 4 + childEvents(1) + 3}},
		{name: "an unknown state", give: entered("Start", "Elsewhere"), wantErr: "state Elsewhere is not in the definition"},
		{name: "a shard state without its index", give: entered("PollShard"), wantErr: "exactly for the states inside a Map"},
		{name: "a top-level state with an index", give: []Entry{{Event: "StateEntered", State: "Preflight", Index: &one}}, wantErr: "exactly for the states inside a Map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := tt.def
			if def == nil {
				def = definition
			}
			got, err := countHistory(def, tt.give)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Parent != tt.want.Parent || !slices.Equal(got.Children, tt.want.Children) || got.Inline != tt.want.Inline {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// maxPolls is the most polls of one DataSync execution that runs for d: every wait is at
// least waitpolicy.MinWait of the time elapsed.
func maxPolls(d time.Duration) int {
	n := 1 // the first poll, right after StartTask
	for elapsed := time.Duration(0); elapsed < d; elapsed += waitpolicy.MinWait(elapsed) {
		n++
	}
	return n
}

// TestShardHistoryBound: a migration of request.MaxShardTasks (64) shards whose DataSync
// executions each need many polls. In one history (an INLINE Map) the polls of all shards
// add up past the 25,000-event limit; with RunShards DISTRIBUTED, as the definition has it,
// the parent's history is the same whatever the polls, and each shard's child stays under
// the limit.
func TestShardHistoryBound(t *testing.T) {
	const shards = 64
	// The polls of one long shard: what the irregular transfers of the wait-policy tests
	// may take (12,500 events at about 9 per poll: ~1,300), and the most polls MinWait
	// allows in 30 days.
	polls := []int{1, 1_300, maxPolls(30 * 24 * time.Hour)}
	if p := polls[2]; p < polls[1] || p > 2_500 {
		t.Fatalf("maxPolls(30 days) = %d, want between 1,300 and 2,500 (waitpolicy.MinWait changed?)", p)
	}
	for _, n := range polls {
		h, err := CountHistory(shardedMigration(shards, n))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d shards × %d polls: parent %d events, each child %d, one INLINE history %d (limit %d)",
			shards, n, h.Parent, h.LargestChild(), h.Inline, HistoryLimit)
		if h.Parent != parentEvents {
			t.Errorf("%d polls: got %d parent events, want %d whatever the polls", n, h.Parent, parentEvents)
		}
		if len(h.Children) != shards || h.LargestChild() != childEvents(n) {
			t.Errorf("%d polls: got children %v, want %d of %d events", n, h.Children, shards, childEvents(n))
		}
		if n > 1 && h.Inline <= HistoryLimit {
			t.Errorf("%d polls: an INLINE Map would hold %d events, want more than %d (else the bound shows nothing)", n, h.Inline, HistoryLimit)
		}
		if h.Largest() > HistoryLimit {
			t.Errorf("%d polls: the largest history of the definition as written holds %d events, over the limit of %d: RunShards must be DISTRIBUTED",
				n, h.Largest(), HistoryLimit)
		}
	}
	// The same count on the definition with RunShards INLINE passes the limit.
	h, err := countHistory(withMode(t, "INLINE"), shardedMigration(shards, polls[1]))
	if err != nil {
		t.Fatal(err)
	}
	if h.Largest() <= HistoryLimit || len(h.Children) != 0 {
		t.Errorf("INLINE: got largest history %d with %d children, want one history over %d", h.Largest(), len(h.Children), HistoryLimit)
	}
}
