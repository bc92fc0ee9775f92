package starttask

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/dsresource"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// ModePlan is the mode of the PlanShards state.
const ModePlan = "plan"

// Plan finds each shard's task (by name and tag) and its last execution (a queued or
// running one first), and returns the shards with Skip set on those that do not run again:
// a re-run with the same migration id that finds its last run unfinished skips the shards
// that succeeded in that run (the rules are in plan). When every shard succeeded last
// time, or the shards or filters changed, every shard runs again, as a re-run of an
// unsharded migration does (a task run again copies what changed since, TransferMode
// CHANGED). Plan reads only.
func (h *Handler) Plan(ctx context.Context, in Input) ([]execution.Shard, error) {
	out, err := h.plan(ctx, in)
	if err != nil {
		return nil, awserror.Fail(ctx, "starttask", err, "migrationId", in.Request.MigrationID, "mode", ModePlan)
	}
	skipped := 0
	for _, s := range out {
		if s.Skip {
			skipped++
		}
	}
	slog.InfoContext(ctx, "shards planned", "migrationId", in.Request.MigrationID, "shards", len(out), "skipped", skipped)
	return out, nil
}

func (h *Handler) plan(ctx context.Context, in Input) ([]execution.Shard, error) {
	v := &failure.ValidationError{}
	if err := in.Request.Validate(h.Config.Home); err != nil {
		return nil, err
	}
	if len(in.Shards) == 0 || len(in.Shards) > request.MaxShardTasks {
		v.Add("shards", "must list 1 to %d shards, as Preflight returns them (got %d)", request.MaxShardTasks, len(in.Shards))
	}
	for i, s := range in.Shards {
		checkShard(v, fmt.Sprintf("shards[%d]", i), s)
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	// Each shard's last execution, and what the plan needs of it.
	type lastRun struct {
		ran, succeeded, otherFilters bool
		start, end                   time.Time // end: EndTime, else StartTime; zero when unknown
	}
	last := make([]lastRun, len(in.Shards))
	all := execution.AllFolders(in.Shards)
	for i, sh := range in.Shards {
		taskArn, task, err := h.find(ctx, in.Request.MigrationID, &sh)
		if err != nil {
			return nil, err
		}
		if taskArn == "" {
			continue
		}
		d, err := h.last(ctx, taskArn)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue
		}
		l := lastRun{ran: true, succeeded: d.Status == dstypes.TaskExecutionStatusSuccess}
		if d.StartTime != nil {
			l.start, l.end = *d.StartTime, *d.StartTime
		}
		if d.EndTime != nil {
			l.end = *d.EndTime
		}
		// A success counts only when it copied what this shard copies now: a shard's
		// index names other folders when the folders or the request's filters changed
		// between the runs, and its task then ran with other filters. DescribeTaskExecution
		// gives an execution's filters (DataSync API Reference, DescribeTaskExecution:
		// Includes, Excludes); an execution that shows none ran with its task's
		// (StartTaskExecution: filters given there apply to that execution only).
		include, exclude := in.Request.Task.ShardFilters(sh.Folders, sh.Rest, all)
		ranInclude, ranExclude := d.Includes, d.Excludes
		if ranInclude == nil {
			ranInclude = task.Includes
		}
		if ranExclude == nil {
			ranExclude = task.Excludes
		}
		l.otherFilters = filterValues(ranInclude) != include || filterValues(ranExclude) != exclude
		last[i] = l
	}
	// Resume only an unfinished run of this same migration, and skip only successes of
	// that run. A success is as old as the last run in which every shard succeeded (after
	// it every shard ran again), so it is not skipped merely for being the shard's last:
	//   - a shard that ran with other filters means the shards changed: every shard runs;
	//   - when a shard's last execution (with its present filters) did not succeed, or is
	//     still queued or running, that run is unfinished, and it started at or before
	//     the earliest such execution started (T). A success that ended after T belongs
	//     to it (when that run planned, every success it saw had ended), and is skipped;
	//     one that ended before may be older, and runs again;
	//   - when the only unfinished shards never ran (no task, or a task never started),
	//     the shards that succeeded are skipped;
	//   - when every shard succeeded, every shard runs again.
	var threshold time.Time // T; zero when no shard's last execution failed or runs
	failed, neverRan, otherFilters, anyRan := false, false, false, false
	for _, l := range last {
		switch {
		case !l.ran:
			neverRan = true
		case l.otherFilters:
			otherFilters = true
		case !l.succeeded:
			failed = true
			if !l.start.IsZero() && (threshold.IsZero() || l.start.Before(threshold)) {
				threshold = l.start
			}
		}
		anyRan = anyRan || l.ran
	}
	out := make([]execution.Shard, len(in.Shards))
	for i, sh := range in.Shards {
		l := last[i]
		done := l.ran && l.succeeded && !l.otherFilters
		switch {
		case otherFilters || !anyRan:
			done = false
		case failed:
			// A failed or running execution that has not started yet gives no T: no
			// success is known to be of its run.
			done = done && !threshold.IsZero() && l.end.After(threshold)
		case neverRan:
		default:
			done = false // every shard succeeded: all run again
		}
		sh.Skip = done
		out[i] = sh
	}
	return out, nil
}

// checkShard applies the rules Preflight's shards follow, for a shard given to the function
// directly.
func checkShard(v *failure.ValidationError, field string, s execution.Shard) {
	if s.Index < 0 || s.Index >= request.MaxShardTasks {
		v.Add(field+".index", "must be between 0 and %d (got %d)", request.MaxShardTasks-1, s.Index)
	}
	if !s.Rest && len(s.Folders) == 0 {
		v.Add(field+".folders", "must name at least one folder (only the rest shard may have none)")
	}
	for j, f := range s.Folders {
		if problem := request.CheckDiscoveredFolder(f); problem != "" || !strings.HasSuffix(f, "/") {
			v.Add(fmt.Sprintf("%s.folders[%d]", field, j), "must be a folder under source.prefix ending in '/' (got %q)", f)
		}
	}
}

// last describes the task's execution that started last (nil when it has none).
// DataSync's ListTaskExecutions returns no start times, so each execution is described; a
// shard's task has one execution per run.
func (h *Handler) last(ctx context.Context, taskArn string) (*datasync.DescribeTaskExecutionOutput, error) {
	var last *datasync.DescribeTaskExecutionOutput
	var lastStart int64 = -1
	p := datasync.NewListTaskExecutionsPaginator(h.DataSync, &datasync.ListTaskExecutionsInput{TaskArn: aws.String(taskArn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awserror.Classify(err, awserror.Call{Action: "datasync:ListTaskExecutions", Resource: taskArn}, awserror.Precondition)
		}
		for _, e := range page.TaskExecutions {
			arn := aws.ToString(e.TaskExecutionArn)
			d, err := h.DataSync.DescribeTaskExecution(ctx, &datasync.DescribeTaskExecutionInput{TaskExecutionArn: aws.String(arn)})
			if err != nil {
				return nil, awserror.Classify(err, awserror.Call{Action: "datasync:DescribeTaskExecution", Resource: arn}, awserror.Precondition)
			}
			start := int64(0)
			switch {
			case slices.Contains(dsresource.Running, d.Status):
				// Queued or running is the last, whatever its start time says (a queued
				// execution may have none yet): the shard is not finished.
				start = math.MaxInt64
			case d.StartTime != nil:
				start = d.StartTime.UnixNano()
			}
			if start > lastStart {
				last, lastStart = d, start
			}
		}
	}
	return last, nil
}

// filterValues is a filter list as one value, patterns joined with '|' ("" for none), as
// request.TaskOptions.ShardFilters gives it.
func filterValues(rules []dstypes.FilterRule) string {
	var values []string
	for _, r := range rules {
		if v := aws.ToString(r.Value); v != "" {
			values = append(values, v)
		}
	}
	return strings.Join(values, "|")
}
