package localrun

// The scale benchmark (make bench-scale; docs/develop.md, "Scale benchmark"): what sharding
// buys in wall time when each DataSync execution is capped in bandwidth, and what a
// sharded migration costs in state transitions and history events. It runs only with
// DSMIGRATE_BENCH_SCALE=1 and prints key=value lines.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/statemachine"
)

const (
	// benchPrefixes top-level folders of benchObjectsPerPrefix objects of benchObjectSize
	// bytes each, copied at benchBytesPerSecond per DataSync execution: one task needs
	// 128 s, eight shards 16 s each. The transfer must dwarf the ~20 s every migration
	// spends outside it (setup, the bucket-policy step's waits) for the whole-execution
	// ratio to show what sharding does.
	benchPrefixes         = 8
	benchObjectsPerPrefix = 8
	benchObjectSize       = 2 << 20
	benchBytesPerSecond   = 1 << 20
)

func TestBenchScale(t *testing.T) {
	if os.Getenv("DSMIGRATE_BENCH_SCALE") != "1" {
		t.Skip("the scale benchmark runs with DSMIGRATE_BENCH_SCALE=1 (make bench-scale)")
	}
	env := e2eEnv(t, Options{})
	var objs []SampleObject
	for p := range benchPrefixes {
		for i := range benchObjectsPerPrefix {
			objs = append(objs, SampleObject{Key: fmt.Sprintf("p%d/object-%d.bin", p, i), Size: benchObjectSize, Seed: uint64(100*p + i + 1)})
		}
	}
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, objs)
	total := int64(len(objs)) * benchObjectSize
	fmt.Printf("scale.prefixes=%d\nscale.objects=%d\nscale.bytes=%d\nscale.transferBytesPerSecond=%d\n", benchPrefixes, len(objs), total, benchBytesPerSecond)

	slowTransfer(t, env, benchBytesPerSecond)
	one := benchRun(t, env, env.NewRequest("scale-one", src, "", dst, "one/"), "scale-one")
	benchVerify(t, env, src, "", dst, "one/", len(objs))
	req := env.NewRequest("scale-shards", src, "", dst, "shards/")
	req.Task.Shards = &request.Shards{ByTopLevelPrefix: true, MaxParallel: 8}
	sharded := benchRun(t, env, req, "scale-shards")
	benchVerify(t, env, src, "", dst, "shards/", len(objs))

	oneTransfer, shardedTransfer := transferPhase(t, one), transferPhase(t, sharded)
	fmt.Printf("scale.unsharded.seconds=%.1f\nscale.unsharded.transfer.seconds=%.1f\nscale.unsharded.fixed.seconds=%.1f\n",
		one.Duration.Seconds(), oneTransfer.Seconds(), (one.Duration - oneTransfer).Seconds())
	fmt.Printf("scale.sharded.seconds=%.1f\nscale.sharded.transfer.seconds=%.1f\nscale.sharded.fixed.seconds=%.1f\nscale.sharded.shards=%d\n",
		sharded.Duration.Seconds(), shardedTransfer.Seconds(), (sharded.Duration - shardedTransfer).Seconds(), count(sharded.StatesEntered(), "StartShardTask"))
	for _, m := range []struct{ key, id string }{{"unsharded", "scale-one"}, {"sharded", "scale-shards"}} {
		span, longest, n := datasyncSpan(t, env, m.id)
		fmt.Printf("scale.%s.datasync.executions=%d\nscale.%s.datasync.seconds=%.1f\nscale.%s.datasync.longest.seconds=%.1f\n",
			m.key, n, m.key, span.Seconds(), m.key, longest.Seconds())
	}
	fmt.Println("scale.note=the fixed part of both runs holds the bucket-policy step's waits (about 10 s for the grant, 10 s for the revoke) and the setup states; the transfer part runs from StartTask or PlanShards to CheckCleanup")
	fmt.Printf("ratio.shards=%.3f\nratio.shards.transfer=%.3f\nratio.shards.ideal=%.3f\n",
		sharded.Duration.Seconds()/one.Duration.Seconds(), shardedTransfer.Seconds()/oneTransfer.Seconds(), 1.0/benchPrefixes)

	// The history of a migration with 8 and with 64 shards (request.MaxShardTasks): n-1
	// folders of tiny objects and one object beside them, which the rest shard copies.
	slowTransfer(t, env, 0)
	for _, n := range []int{8, request.MaxShardTasks} {
		base := fmt.Sprintf("h%d/", n)
		objs := []SampleObject{{Key: base + "top.txt", Size: 100, Seed: uint64(n)}}
		for f := range n - 1 {
			objs = append(objs, SampleObject{Key: fmt.Sprintf("%sf%02d/o.bin", base, f), Size: 1 << 10, Seed: uint64(1000*n + f)})
		}
		if err := Upload(benchCtx(t), env.Source.S3, src, objs); err != nil {
			t.Fatal(err)
		}
		req := env.NewRequest(fmt.Sprintf("history-%d", n), src, base, dst, base)
		req.Task.Shards = &request.Shards{ByTopLevelPrefix: true}
		res := benchRun(t, env, req, fmt.Sprintf("history-%d", n))
		benchVerify(t, env, src, base, dst, base, len(objs))
		h, err := res.History()
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Children) != n {
			t.Errorf("got %d child executions, want %d shards", len(h.Children), n)
		}
		key := fmt.Sprintf("history.shards%d", n)
		fmt.Printf("%s.transitions=%d\n%s.parent=%d\n%s.children=%d\n%s.largestChild=%d\n%s.inline=%d\n%s.limit=%d\n",
			key, res.Transitions(), key, h.Parent, key, len(h.Children), key, h.LargestChild(), key, h.Inline, key, statemachine.HistoryLimit)
	}
}

func benchCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// benchRun runs a migration that must succeed.
func benchRun(t *testing.T, env *Environment, req request.Request, name string) *Result {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	res, err := env.Run(benchCtx(t), body, name)
	if err != nil {
		t.Fatalf("run %s: %v", name, err)
	}
	t.Logf("%s: succeeded=%v in %s, %d transitions", name, res.Succeeded, res.Duration.Round(time.Millisecond), res.Transitions())
	mustSucceed(t, res)
	return res
}

// benchVerify compares every object under the source prefix with its copy, byte for byte.
func benchVerify(t *testing.T, env *Environment, src, srcPrefix, dst, dstPrefix string, want int) {
	t.Helper()
	v, err := Verify(benchCtx(t), env.Source.S3, env.Destination.S3, src, srcPrefix, dst, dstPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() || v.Objects != want {
		t.Fatalf("got %+v under %s, want %d identical objects", v, dstPrefix, want)
	}
}

// transferPhase is the time from entering the state that starts the DataSync work
// (StartTask, or PlanShards for a sharded migration) to entering CheckCleanup: the
// tasks' runs and polls, without the setup and the revoke.
func transferPhase(t *testing.T, res *Result) time.Duration {
	t.Helper()
	var from, to time.Time
	for _, ev := range res.Events {
		if ev.Event != "StateEntered" || ev.Index != nil {
			continue
		}
		switch ev.State {
		case "StartTask", "PlanShards":
			if from.IsZero() {
				from = ev.At
			}
		case "CheckCleanup":
			to = ev.At
		}
	}
	if from.IsZero() || to.Before(from) {
		t.Fatalf("%s: no StartTask or PlanShards before CheckCleanup", res.ExecutionName)
	}
	return to.Sub(from)
}

// datasyncSpan is what the simulator's DataSync did for migration id: from the first
// execution's start to the last one's end, the longest execution, and how many ran.
func datasyncSpan(t *testing.T, env *Environment, id string) (span, longest time.Duration, n int) {
	t.Helper()
	tasks := map[string]bool{}
	for _, arn := range shardTasks(t, env, id) {
		tasks[arn] = true
	}
	st, err := env.Sim.State(benchCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var first, last time.Time
	for _, e := range executions(st) {
		if !tasks[e.TaskArn] || e.End.IsZero() {
			continue
		}
		n++
		if first.IsZero() || e.Start.Before(first) {
			first = e.Start
		}
		if e.End.After(last) {
			last = e.End
		}
		longest = max(longest, e.End.Sub(e.Start))
	}
	return last.Sub(first), longest, n
}
