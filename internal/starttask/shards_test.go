package starttask

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/handlertest"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

// shardRequest is the valid request with two shard folders and no include filter.
func shardRequest() request.Request {
	r := requesttest.Valid()
	r.Task.Includes = nil
	r.Task.Shards = &request.Shards{Prefixes: []string{"2024/", "2025/"}, MaxParallel: 8}
	return r
}

var testShards = []execution.Shard{
	{Index: 0, Folders: []string{"2024/"}},
	{Index: 1, Folders: []string{"2025/"}},
	{Index: 2, Rest: true},
}

func tagsOf(tags []dstypes.TagListEntry) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func TestShardTasks(t *testing.T) {
	f := &fakeDataSync{}
	h := newHandler(f, logGroup)
	for _, s := range testShards {
		if _, err := h.Handle(context.Background(), Input{Request: shardRequest(), Locations: locations(), Shard: &s, Shards: testShards}); err != nil {
			t.Fatal(err)
		}
	}
	want := []struct{ name, include, exclude, shard string }{
		{"dsmigrate-media-2026-11-shard-0", "/2024", "*.tmp", "0"},
		{"dsmigrate-media-2026-11-shard-1", "/2025", "*.tmp", "1"},
		{"dsmigrate-media-2026-11-shard-2", "", "*.tmp|/2024|/2025", "2"},
	}
	if len(f.tasks) != len(want) {
		t.Fatalf("got %d tasks, want %d", len(f.tasks), len(want))
	}
	for i, w := range want {
		task := f.tasks[i]
		tags := tagsOf(task.in.Tags)
		if aws.ToString(task.in.Name) != w.name || filterValues(task.in.Includes) != w.include || filterValues(task.in.Excludes) != w.exclude ||
			tags["dsmigrate:shard"] != w.shard || tags["dsmigrate:migration-id"] != "media-2026-11" {
			t.Errorf("task %d: got %s include %q exclude %q tags %v, want %+v", i, aws.ToString(task.in.Name),
				filterValues(task.in.Includes), filterValues(task.in.Excludes), tags, w)
		}
		if got := tagsOf(task.executions[0].start.Tags)["dsmigrate:shard"]; got != w.shard {
			t.Errorf("task %d: got execution shard tag %q, want %q", i, got, w.shard)
		}
	}
	// A re-run finds each shard's task by its name and tags and reuses its running execution.
	f.calls = nil
	out, err := h.Handle(context.Background(), Input{Request: shardRequest(), Locations: locations(), Shard: &testShards[1], Shards: testShards})
	if err != nil {
		t.Fatal(err)
	}
	if out.TaskArn != f.tasks[1].arn || out.ExecutionStarted || slices.Contains(f.calls, "CreateTask") {
		t.Errorf("got %+v after calls %v, want shard 1's task and execution reused", out, f.calls)
	}
}

// A task with a shard's name whose tags say otherwise (no shard tag, or another shard) is
// not that shard's task.
func TestShardTaskNeedsItsTag(t *testing.T) {
	f := &fakeDataSync{}
	h := newHandler(f, logGroup)
	in := Input{Request: shardRequest(), Locations: locations(), Shard: &testShards[0]}
	want := h.desired(context.Background(), in.Request, in.Locations, in.Shard, testShards)
	impostor := *want
	impostor.Tags = slices.DeleteFunc(slices.Clone(want.Tags), func(t dstypes.TagListEntry) bool { return aws.ToString(t.Key) == "dsmigrate:shard" })
	f.tasks = append(f.tasks, &fakeTask{in: &impostor, arn: "arn:aws:datasync:ap-northeast-1:222222222222:task/task-99999999999999999"})
	out, err := h.Handle(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !out.TaskCreated || out.TaskArn == f.tasks[0].arn {
		t.Errorf("got %+v, want a new task, not the one without a shard tag", out)
	}
}

// addShardTask gives the fake the task StartShardTask would create for shards[i] of r,
// with the executions given (their ARNs are set here).
func addShardTask(f *fakeDataSync, h *Handler, r request.Request, shards []execution.Shard, i int, execs ...fakeExecution) {
	in := h.desired(context.Background(), r, locations(), &shards[i], shards)
	task := &fakeTask{in: in, arn: aws.ToString(in.Name)}
	for j := range execs {
		e := execs[j]
		e.arn = task.arn + "/execution/" + string(rune('a'+j))
		task.executions = append(task.executions, &e)
	}
	f.tasks = append(f.tasks, task)
}

// skips lists the Skip flags of a plan.
func skips(plan []execution.Shard) []bool {
	var out []bool
	for _, s := range plan {
		out = append(out, s.Skip)
	}
	return out
}

func TestPlan(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(int64(1_800_000_000+s), 0) }
	tests := []struct {
		name       string
		executions [][]fakeExecution // per shard; nil: no task
		wantSkip   []bool
	}{
		{"first run: no tasks", [][]fakeExecution{nil, nil, nil}, []bool{false, false, false}},
		{"one shard failed: resume the others' success",
			[][]fakeExecution{{{status: "SUCCESS", started: at(1), ended: at(9)}}, {{status: "ERROR", started: at(2), ended: at(3)}}, {{status: "SUCCESS", started: at(1), ended: at(8)}}},
			[]bool{true, false, true}},
		{"a success that ended before the failed shard started may be older: it runs again",
			[][]fakeExecution{{{status: "SUCCESS", started: at(1), ended: at(2)}}, {{status: "ERROR", started: at(50), ended: at(51)}}, {{status: "SUCCESS", started: at(49), ended: at(60)}}},
			[]bool{false, false, true}},
		{"one shard never got a task",
			[][]fakeExecution{{{status: "SUCCESS", started: at(1), ended: at(2)}}, {{status: "SUCCESS", started: at(1), ended: at(2)}}, nil},
			[]bool{true, true, false}},
		{"every shard succeeded: run them all again",
			[][]fakeExecution{{{status: "SUCCESS", started: at(1), ended: at(2)}}, {{status: "SUCCESS", started: at(1), ended: at(2)}}, {{status: "SUCCESS", started: at(1), ended: at(2)}}},
			[]bool{false, false, false}},
		{"the last execution counts, by start time, not list order",
			[][]fakeExecution{{{status: "SUCCESS", started: at(5), ended: at(9)}, {status: "ERROR", started: at(2)}}, {{status: "SUCCESS", started: at(1)}, {status: "ERROR", started: at(3)}}, {{status: "SUCCESS", started: at(1), ended: at(9)}}},
			[]bool{true, false, true}},
		{"a queued execution is the last, although it has not started",
			[][]fakeExecution{{{status: "SUCCESS", started: at(5), ended: at(9)}, {status: "QUEUED"}}, {{status: "ERROR", started: at(1)}}, {{status: "SUCCESS", started: at(1), ended: at(9)}}},
			[]bool{false, false, true}},
		{"a failure that never started gives no time: no success is known to be of its run",
			[][]fakeExecution{{{status: "SUCCESS", started: at(1), ended: at(9)}}, {{status: "ERROR"}}, {{status: "SUCCESS", started: at(1), ended: at(9)}}},
			[]bool{false, false, false}},
		{"a shard still running is not skipped",
			[][]fakeExecution{{{status: "TRANSFERRING", started: at(1)}}, {{status: "SUCCESS", started: at(1), ended: at(9)}}, {{status: "SUCCESS", started: at(1), ended: at(9)}}},
			[]bool{false, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDataSync{}
			h := newHandler(f, logGroup)
			r := shardRequest()
			for i, execs := range tt.executions {
				if execs != nil {
					addShardTask(f, h, r, testShards, i, execs...)
				}
			}
			out, err := h.Plan(context.Background(), Input{Mode: ModePlan, Request: r, Shards: testShards})
			if err != nil {
				t.Fatal(err)
			}
			skip := skips(out)
			for i, s := range out {
				if s.Index != testShards[i].Index || !slices.Equal(s.Folders, testShards[i].Folders) || s.Rest != testShards[i].Rest {
					t.Errorf("shard %d: got %+v, want %+v with only Skip set", i, s, testShards[i])
				}
			}
			if !slices.Equal(skip, tt.wantSkip) {
				t.Errorf("got skip %v, want %v", skip, tt.wantSkip)
			}
			if slices.ContainsFunc(f.calls, func(c string) bool { return c == "CreateTask" || c == "StartTaskExecution" }) {
				t.Errorf("got calls %v, want reads only", f.calls)
			}
		})
	}
}

func TestPlanRefusesBadShards(t *testing.T) {
	tests := []struct {
		name   string
		shards []execution.Shard
		field  string
	}{
		{"none", nil, "shards"},
		{"an index beyond the bound", []execution.Shard{{Index: 64, Folders: []string{"a/"}}}, "shards[0].index"},
		{"a shard without folders", []execution.Shard{{Index: 0}}, "shards[0].folders"},
		{"a folder that is not one", []execution.Shard{{Index: 0, Folders: []string{"a"}}}, "shards[0].folders[0]"},
		{"a folder with a filter separator", []execution.Shard{{Index: 0, Folders: []string{"a|/b/"}}}, "shards[0].folders[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDataSync{}
			_, err := newHandler(f, logGroup).Plan(context.Background(), Input{Mode: ModePlan, Request: shardRequest(), Shards: tt.shards})
			var v *failure.ValidationError
			if !errors.As(err, &v) || !requesttest.HasField(v, tt.field) || len(f.calls) > 0 {
				t.Errorf("got %v after calls %v, want a ValidationError naming %s and no call", err, f.calls, tt.field)
			}
		})
	}
}

// Invoke dispatches on the mode.
func TestInvokeModes(t *testing.T) {
	h := newHandler(&fakeDataSync{}, logGroup)
	plan, err := h.Invoke(context.Background(), Input{Mode: ModePlan, Request: shardRequest(), Shards: testShards})
	if _, ok := plan.([]execution.Shard); err != nil || !ok {
		t.Errorf("plan mode: got %T %v, want the shards", plan, err)
	}
	task, err := h.Invoke(context.Background(), Input{Request: requesttest.Valid(), Locations: locations()})
	if _, ok := task.(*execution.Task); err != nil || !ok {
		t.Errorf("default mode: got %T %v, want an *execution.Task", task, err)
	}
}

// A shard's earlier success counts only when its task ran with the filters the shard has
// now: after the folders changed between two runs, shard 0 names another folder and the
// rest shard leaves out other folders, so neither is skipped, while shard 1, unchanged,
// resumes as before. A changed exclude pattern likewise runs every shard again.
func TestPlanSkipsOnlySuccessesWithTheSameFilters(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	status := []dstypes.TaskExecutionStatus{"SUCCESS", "SUCCESS", "SUCCESS"}
	status[1] = "ERROR"
	tests := []struct {
		name     string
		change   func(r *request.Request, shards []execution.Shard)
		wantSkip []bool
	}{
		{"same request", func(*request.Request, []execution.Shard) {}, []bool{true, false, true}},
		{"shard 0 names another folder", func(r *request.Request, shards []execution.Shard) {
			r.Task.Shards.Prefixes[0] = "2026/"
			shards[0].Folders = []string{"2026/"}
		}, []bool{false, false, false}},
		{"another exclude pattern", func(r *request.Request, _ []execution.Shard) {
			r.Task.Excludes = []string{"*.bak"}
		}, []bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDataSync{}
			h := newHandler(f, logGroup)
			before := shardRequest()
			for i := range testShards {
				addShardTask(f, h, before, testShards, i, fakeExecution{status: status[i], started: at, ended: at.Add(time.Minute)})
			}
			now := shardRequest()
			now.Task.Shards.Prefixes = slices.Clone(now.Task.Shards.Prefixes)
			shards := slices.Clone(testShards)
			tt.change(&now, shards)
			out, err := h.Plan(context.Background(), Input{Mode: ModePlan, Request: now, Shards: shards})
			if err != nil {
				t.Fatal(err)
			}
			if skip := skips(out); !slices.Equal(skip, tt.wantSkip) {
				t.Errorf("got skip %v, want %v", skip, tt.wantSkip)
			}
		})
	}
}

// A shard that no include pattern reaches gets no task: without an include filter, its
// task would copy everything in its part of the source.
func TestShardWithoutIncludeRefused(t *testing.T) {
	for _, shard := range []execution.Shard{testShards[1], testShards[2]} {
		f := &fakeDataSync{}
		r := shardRequest()
		r.Task.Shards = &request.Shards{ByTopLevelPrefix: true, MaxParallel: 8}
		r.Task.Includes = []string{"/2024/a/"}
		_, err := newHandler(f, logGroup).Handle(context.Background(), Input{Request: r, Locations: locations(), Shard: &shard, Shards: testShards})
		var v *failure.ValidationError
		if !errors.As(err, &v) || !requesttest.HasField(v, "shard") || len(f.calls) > 0 {
			t.Errorf("shard %d: got %v after calls %v, want a ValidationError naming shard and no call", shard.Index, err, f.calls)
		}
	}
}

// After a run in which every shard succeeded, a folder added to the shards shifts the
// rest shard to a new index: the old successes are as old as that run, so every shard
// runs again, not only the new ones.
func TestPlanAfterAFolderIsAdded(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	f := &fakeDataSync{}
	h := newHandler(f, logGroup)
	before := shardRequest()
	for i := range testShards {
		addShardTask(f, h, before, testShards, i, fakeExecution{status: "SUCCESS", started: at, ended: at.Add(time.Minute)})
	}
	now := shardRequest()
	now.Task.Shards.Prefixes = []string{"2024/", "2025/", "2026/"}
	shards := []execution.Shard{testShards[0], testShards[1], {Index: 2, Folders: []string{"2026/"}}, {Index: 3, Rest: true}}
	out, err := h.Plan(context.Background(), Input{Mode: ModePlan, Request: now, Shards: shards})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out {
		if s.Skip {
			t.Errorf("got shard %d skipped, want every shard to run (%+v)", s.Index, out)
		}
	}
}

// The plan's log line says how many shards it skips.
func TestPlanLogsTheSkippedShards(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	f := &fakeDataSync{}
	h := newHandler(f, logGroup)
	r := shardRequest()
	for i, status := range []dstypes.TaskExecutionStatus{"SUCCESS", "ERROR", "SUCCESS"} {
		addShardTask(f, h, r, testShards, i, fakeExecution{status: status, started: at, ended: at.Add(time.Minute)})
	}
	rec := &handlertest.LogRecorder{}
	prev := slog.Default()
	slog.SetDefault(slog.New(rec))
	defer slog.SetDefault(prev)
	if _, err := h.Plan(context.Background(), Input{Mode: ModePlan, Request: r, Shards: testShards}); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, l := range rec.AtLevel(slog.LevelInfo) {
		if l.Message != "shards planned" {
			continue
		}
		l.Attrs(func(a slog.Attr) bool {
			if a.Value.Kind() == slog.KindInt64 {
				got[a.Key] = a.Value.Int64()
			}
			return true
		})
	}
	if got["shards"] != 3 || got["skipped"] != 2 {
		t.Errorf("got %v, want 3 shards, 2 skipped", got)
	}
}

// A plan takes as many shards as a migration may have, request.MaxShardTasks (64), and
// no more.
func TestPlanTakesUpToMaxShardTasks(t *testing.T) {
	var shards []execution.Shard
	for i := range 65 {
		shards = append(shards, execution.Shard{Index: i, Folders: []string{fmt.Sprintf("f%02d/", i)}})
	}
	h := newHandler(&fakeDataSync{}, logGroup)
	out, err := h.Plan(context.Background(), Input{Mode: ModePlan, Request: shardRequest(), Shards: shards[:64]})
	if err != nil || len(out) != 64 {
		t.Errorf("64 shards: got %d shards, %v, want them planned", len(out), err)
	}
	_, err = h.Plan(context.Background(), Input{Mode: ModePlan, Request: shardRequest(), Shards: shards})
	var v *failure.ValidationError
	if !errors.As(err, &v) || !requesttest.HasField(v, "shards") {
		t.Errorf("65 shards: got %v, want a ValidationError naming shards", err)
	}
}

// A shard index out of range is refused with the range it must lie in.
func TestPlanNamesTheIndexRange(t *testing.T) {
	_, err := newHandler(&fakeDataSync{}, logGroup).Plan(context.Background(),
		Input{Mode: ModePlan, Request: shardRequest(), Shards: []execution.Shard{{Index: 64, Folders: []string{"a/"}}}})
	var v *failure.ValidationError
	if !errors.As(err, &v) || !strings.Contains(err.Error(), "must be between 0 and 63 (got 64)") {
		t.Errorf("got %v, want the index refused as not between 0 and 63", err)
	}
}

// A run that changed the folders and the exclude pattern starts the existing shard tasks
// with the new filters as overrides; when one shard then fails, the next plan resumes
// that run: its successes count by the filters their executions ran with, which
// DescribeTaskExecution gives, not by the filters the tasks were created with.
func TestPlanReadsTheFiltersAnExecutionRanWith(t *testing.T) {
	f := &fakeDataSync{}
	h := newHandler(f, logGroup)
	old := shardRequest()
	old.Task.Shards.Prefixes = []string{"2026/", "2025/"}
	old.Task.Excludes = []string{"*.bak"}
	oldShards := []execution.Shard{{Index: 0, Folders: []string{"2026/"}}, testShards[1], testShards[2]}
	for i := range oldShards {
		if _, err := h.Handle(context.Background(), Input{Request: old, Locations: locations(), Shard: &oldShards[i], Shards: oldShards}); err != nil {
			t.Fatal(err)
		}
		f.tasks[i].executions[0].status = dstypes.TaskExecutionStatusSuccess
	}
	now := shardRequest()
	for i := range testShards {
		if _, err := h.Handle(context.Background(), Input{Request: now, Locations: locations(), Shard: &testShards[i], Shards: testShards}); err != nil {
			t.Fatal(err)
		}
	}
	for i, status := range []dstypes.TaskExecutionStatus{"SUCCESS", "ERROR", "SUCCESS"} {
		e := f.tasks[i].executions[1]
		if e.start.Excludes == nil {
			t.Fatalf("shard %d: got a start without exclude overrides, want the new filters", i)
		}
		e.status, e.ended = status, e.started.Add(time.Minute)
	}
	out, err := h.Plan(context.Background(), Input{Mode: ModePlan, Request: now, Shards: testShards})
	if err != nil {
		t.Fatal(err)
	}
	if skip := skips(out); !slices.Equal(skip, []bool{true, false, true}) {
		t.Errorf("got skip %v, want shards 0 and 2 skipped", skip)
	}
}
