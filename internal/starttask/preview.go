package starttask

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// Preview answers a plan request (request.ModePlan): for the task, or each shard's task
// when Shards are given, whether a migration would create it, reuse it or stop at it, and
// whether it would start an execution or reuse a queued or running one. It reads only
// (ListTasks, ListTagsForResource, DescribeTask, ListTaskExecutions). A location the plan
// would create has an empty ARN in Locations: a task found for the migration then has
// other locations, which is the conflict the migration would meet.
func (h *Handler) Preview(ctx context.Context, in Input) (*execution.Task, error) {
	out, err := h.preview(ctx, in)
	if err != nil {
		return nil, awserror.Fail(ctx, "starttask", err, "migrationId", in.Request.MigrationID, "mode", request.ModePlan)
	}
	slog.InfoContext(ctx, "task planned", "migrationId", in.Request.MigrationID, "resources", len(out.Plan))
	return out, nil
}

func (h *Handler) preview(ctx context.Context, in Input) (*execution.Task, error) {
	r := in.Request
	v := &failure.ValidationError{}
	for _, err := range []error{r.Validate(h.Config.Home), r.CheckDeployment(h.Config.Deployment)} {
		var fields *failure.ValidationError
		if errors.As(err, &fields) {
			v.Fields = append(v.Fields, fields.Fields...)
		} else if err != nil {
			return nil, err
		}
	}
	for i, s := range in.Shards {
		checkShard(v, fmt.Sprintf("shards[%d]", i), s)
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	shards := []*execution.Shard{nil}
	if len(in.Shards) > 0 {
		shards = shards[:0]
		for i := range in.Shards {
			shards = append(shards, &in.Shards[i])
		}
	}
	out := &execution.Task{}
	for _, sh := range shards {
		name := naming.TaskName(h.Config.Prefix, r.MigrationID)
		if sh != nil {
			name = naming.ShardTaskName(h.Config.Prefix, r.MigrationID, sh.Index)
		}
		task := execution.PlannedResource{Kind: "task", Name: name}
		run := execution.PlannedResource{Kind: "taskExecution", Name: name, Action: execution.PlanCreate, Reason: "a new execution of the task"}
		taskArn, existing, err := h.find(ctx, r.MigrationID, sh)
		var pre *failure.PreconditionError
		if err != nil && !errors.As(err, &pre) {
			return nil, err
		}
		task.Arn = taskArn
		switch {
		case pre != nil:
			task.Action, task.Reason = execution.PlanConflict, pre.Message
		case taskArn == "":
			task.Action, task.Reason = execution.PlanCreate, fmt.Sprintf("no task of this migration named %s", name)
		default:
			want := h.desired(ctx, r, in.Locations, sh, in.Shards)
			overrides, err := compare(existing, want)
			switch {
			case errors.As(err, &pre):
				task.Action, task.Reason = execution.PlanConflict, pre.Message
			case err != nil:
				return nil, err
			case overrides != nil:
				task.Action, task.Reason = execution.PlanReuse, "the task of this migration from an earlier run; the execution overrides its options or filters with the request's"
			default:
				task.Action, task.Reason = execution.PlanReuse, "the task of this migration from an earlier run, with the request's options and filters"
			}
			running, err := h.running(ctx, taskArn)
			if err != nil {
				return nil, err
			}
			if running != "" {
				run.Arn, run.Action, run.Reason = running, execution.PlanReuse, "an execution of the task is queued or running: the migration follows it instead of starting another"
			}
		}
		if task.Action == execution.PlanConflict {
			run.Action, run.Reason = execution.PlanConflict, "the task cannot be used"
		}
		task.Reason, run.Reason = execution.PlanText(task.Reason), execution.PlanText(run.Reason)
		out.Plan = append(out.Plan, task, run)
	}
	return out, nil
}
