// Package starttask is the step that gets (by name and tag) or creates the DataSync task
// of a migration and starts one execution of it, unless one is already queued or running:
// a retried start must not queue a duplicate copy.
package starttask

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/dsresource"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// DataSyncAPI is what starttask calls of DataSync.
type DataSyncAPI interface {
	ListTasks(ctx context.Context, params *datasync.ListTasksInput, optFns ...func(*datasync.Options)) (*datasync.ListTasksOutput, error)
	ListTagsForResource(ctx context.Context, params *datasync.ListTagsForResourceInput, optFns ...func(*datasync.Options)) (*datasync.ListTagsForResourceOutput, error)
	DescribeTask(ctx context.Context, params *datasync.DescribeTaskInput, optFns ...func(*datasync.Options)) (*datasync.DescribeTaskOutput, error)
	CreateTask(ctx context.Context, params *datasync.CreateTaskInput, optFns ...func(*datasync.Options)) (*datasync.CreateTaskOutput, error)
	ListTaskExecutions(ctx context.Context, params *datasync.ListTaskExecutionsInput, optFns ...func(*datasync.Options)) (*datasync.ListTaskExecutionsOutput, error)
	StartTaskExecution(ctx context.Context, params *datasync.StartTaskExecutionInput, optFns ...func(*datasync.Options)) (*datasync.StartTaskExecutionOutput, error)
	// DescribeTaskExecution tells PlanShards when each execution of a shard's task
	// started, to find its last one (ListTaskExecutions gives no times).
	DescribeTaskExecution(ctx context.Context, params *datasync.DescribeTaskExecutionInput, optFns ...func(*datasync.Options)) (*datasync.DescribeTaskExecutionOutput, error)
}

var _ DataSyncAPI = (*datasync.Client)(nil)

// RoleTask is the naming.RoleTagKey value of a task.
const RoleTask = "task"

// Config is the deployment's part of the step.
type Config struct {
	Home request.Home
	// Prefix is the deployment's name prefix: tasks are named <prefix>-<id> and tagged
	// naming.DeploymentTagKey=<prefix>, and so are the executions this step starts.
	Prefix string
	// Deployment is checked again here, where PreserveDeletedFiles takes effect, so that
	// invoking this function directly cannot start a REMOVE the deployment does not allow.
	Deployment request.Deployment
	// LogGroupArn is the CloudWatch log group for task logs; "" means no task logging.
	LogGroupArn string
}

// Handler runs the starttask step.
type Handler struct {
	Config   Config
	DataSync DataSyncAPI
}

// Input is the step input.
type Input struct {
	// Mode is "" for StartTask and StartShardTask, ModePlan for PlanShards.
	Mode      string              `json:"mode,omitempty"`
	Request   request.Request     `json:"request"`
	Locations execution.Locations `json:"locations"`
	// Shard is the shard whose task StartShardTask starts (nil: the unsharded task).
	Shard *execution.Shard `json:"shard,omitempty"`
	// Shards are every shard of the migration ($.preflight.shards): PlanShards plans them,
	// and the rest shard's task leaves out their folders.
	Shards []execution.Shard `json:"shards,omitempty"`
}

// Invoke is the function's entry point: a plan request (request.ModePlan) returns what a
// migration would do with the task(s) (Preview), mode plan the shard plan (Plan), the
// default mode the task and its execution (Handle).
func (h *Handler) Invoke(ctx context.Context, in Input) (any, error) {
	if in.Request.Mode == request.ModePlan {
		return h.Preview(ctx, in)
	}
	if in.Mode == ModePlan {
		return h.Plan(ctx, in)
	}
	return h.Handle(ctx, in)
}

// Handle gets or creates the task and starts or reuses an execution. On error it returns
// exactly one of the failure types.
func (h *Handler) Handle(ctx context.Context, in Input) (*execution.Task, error) {
	out, err := h.handle(ctx, in)
	if err != nil {
		return nil, awserror.Fail(ctx, "starttask", err, "migrationId", in.Request.MigrationID)
	}
	slog.InfoContext(ctx, "task execution running", "migrationId", in.Request.MigrationID,
		"taskArn", out.TaskArn, "taskCreated", out.TaskCreated, "taskExecutionArn", out.TaskExecutionArn, "executionStarted", out.ExecutionStarted)
	return out, nil
}

func (h *Handler) handle(ctx context.Context, in Input) (*execution.Task, error) {
	r := in.Request
	if err := h.validate(in); err != nil {
		return nil, err
	}
	want := h.desired(ctx, r, in.Locations, in.Shard, in.Shards)

	taskArn, existing, err := h.find(ctx, r.MigrationID, in.Shard)
	if err != nil {
		return nil, err
	}
	out := &execution.Task{TaskArn: taskArn}
	var overrides *datasync.StartTaskExecutionInput
	if taskArn == "" {
		created, err := h.DataSync.CreateTask(ctx, want)
		if err != nil {
			return nil, awserror.Classify(err, awserror.Call{Action: "datasync:CreateTask", Resource: aws.ToString(want.SourceLocationArn)}, awserror.Precondition)
		}
		out.TaskArn, out.TaskCreated = aws.ToString(created.TaskArn), true
	} else if overrides, err = compare(existing, want); err != nil {
		return nil, err
	}

	running, err := h.running(ctx, out.TaskArn)
	if err != nil {
		return nil, err
	}
	if running != "" {
		out.TaskExecutionArn = running
		return out, nil
	}
	// The execution carries the deployment's tags too: pollexecution may describe only
	// executions tagged with its deployment.
	start := &datasync.StartTaskExecutionInput{TaskArn: aws.String(out.TaskArn), Tags: []dstypes.TagListEntry{
		{Key: aws.String(naming.DeploymentTagKey), Value: aws.String(h.Config.Prefix)},
		{Key: aws.String(naming.TagKey), Value: aws.String(r.MigrationID)},
	}}
	if in.Shard != nil {
		start.Tags = append(start.Tags, dstypes.TagListEntry{Key: aws.String(naming.ShardTagKey), Value: aws.String(strconv.Itoa(in.Shard.Index))})
	}
	if overrides != nil {
		start.OverrideOptions, start.Includes, start.Excludes = overrides.OverrideOptions, overrides.Includes, overrides.Excludes
		start.TaskReportConfig = overrides.TaskReportConfig
	}
	started, err := h.DataSync.StartTaskExecution(ctx, start)
	if err != nil {
		return nil, awserror.Classify(err, awserror.Call{Action: "datasync:StartTaskExecution", Resource: out.TaskArn}, awserror.Precondition)
	}
	out.TaskExecutionArn, out.ExecutionStarted = aws.ToString(started.TaskExecutionArn), true
	return out, nil
}

func (h *Handler) validate(in Input) error {
	v := &failure.ValidationError{}
	for _, err := range []error{in.Request.Validate(h.Config.Home), in.Request.CheckDeployment(h.Config.Deployment)} {
		if err == nil {
			continue
		}
		rv, ok := err.(*failure.ValidationError)
		if !ok {
			return err
		}
		v.Fields = append(v.Fields, rv.Fields...)
	}
	if in.Shard != nil {
		checkShard(v, "shard", *in.Shard)
		if in.Shard.Rest && len(in.Shards) == 0 {
			v.Add("shards", "must list every shard of the migration for the rest shard, whose task leaves out their folders")
		}
		// A task without an include filter copies everything: a shard none of the
		// request's include patterns reaches must not get one (Preflight leaves it out).
		if inc, _ := in.Request.Task.ShardFilters(in.Shard.Folders, in.Shard.Rest, execution.AllFolders(in.Shards)); len(in.Request.Task.Includes) > 0 && inc == "" {
			v.Add("shard", "copies nothing: no pattern of task.includes lies in its part of the source, and its task would copy everything without an include filter")
		}
	}
	for _, l := range []struct{ field, value string }{
		{"locations.sourceLocationArn", in.Locations.SourceLocationArn},
		{"locations.destinationLocationArn", in.Locations.DestinationLocationArn},
	} {
		if !strings.HasPrefix(l.value, "arn:") || !strings.Contains(l.value, ":datasync:") || !strings.Contains(l.value, ":location/") {
			v.Add(l.field, "must be a DataSync location ARN as CreateLocations returns it (got %q)", l.value)
		}
	}
	return v.OrNil()
}

// desired is the CreateTask input the request asks for: the migration's task, or one
// shard's (its own name, tag and filters, request.TaskOptions.ShardFilters).
func (h *Handler) desired(ctx context.Context, r request.Request, locs execution.Locations, shard *execution.Shard, all []execution.Shard) *datasync.CreateTaskInput {
	t := r.Task
	logLevel := t.EffectiveLogLevel(h.Config.LogGroupArn != "")
	if h.Config.LogGroupArn == "" && logLevel != string(dstypes.LogLevelOff) {
		slog.WarnContext(ctx, "task.logLevel needs a task log group, and this deployment has none; task logging is off",
			"migrationId", r.MigrationID, "logLevel", logLevel)
		logLevel = string(dstypes.LogLevelOff)
	}
	in := &datasync.CreateTaskInput{
		Name:                   aws.String(naming.TaskName(h.Config.Prefix, r.MigrationID)),
		SourceLocationArn:      aws.String(locs.SourceLocationArn),
		DestinationLocationArn: aws.String(locs.DestinationLocationArn),
		TaskMode:               dstypes.TaskMode(t.TaskMode),
		// Only the options the request controls are set; metadata options (Atime, Mtime,
		// Uid, Gid, PosixPermissions, ObjectTags) keep DataSync's defaults, which suit
		// S3 to S3 in both task modes. BytesPerSecond does not apply to ENHANCED.
		Options: &dstypes.Options{
			VerifyMode:           dstypes.VerifyMode(t.VerifyMode),
			OverwriteMode:        dstypes.OverwriteMode(t.OverwriteMode),
			TransferMode:         dstypes.TransferMode(t.TransferMode),
			PreserveDeletedFiles: dstypes.PreserveDeletedFiles(t.PreserveDeletedFiles),
			LogLevel:             dstypes.LogLevel(logLevel),
		},
		Includes: filter(t.IncludeFilter()),
		Excludes: filter(t.ExcludeFilter()),
		Tags: []dstypes.TagListEntry{
			{Key: aws.String(naming.DeploymentTagKey), Value: aws.String(h.Config.Prefix)},
			{Key: aws.String(naming.TagKey), Value: aws.String(r.MigrationID)},
			{Key: aws.String(naming.RoleTagKey), Value: aws.String(RoleTask)},
		},
	}
	if h.Config.LogGroupArn != "" {
		in.CloudWatchLogGroupArn = aws.String(h.Config.LogGroupArn)
	}
	in.TaskReportConfig = h.reportConfig(r)
	if shard != nil {
		include, exclude := t.ShardFilters(shard.Folders, shard.Rest, execution.AllFolders(all))
		in.Name = aws.String(naming.ShardTaskName(h.Config.Prefix, r.MigrationID, shard.Index))
		in.Includes, in.Excludes = filter(include), filter(exclude)
		in.Tags = append(in.Tags, dstypes.TagListEntry{Key: aws.String(naming.ShardTagKey), Value: aws.String(strconv.Itoa(shard.Index))})
	}
	return in
}

// reportConfig is the TaskReportConfig of the request's task.report (nil without one):
// DataSync uploads each execution's report under the migration's folder in the report
// bucket, as the config role (AWS DataSync User Guide, "Monitoring your transfers with
// task reports"; API Reference, TaskReportConfig and ReportDestinationS3). Level
// SUMMARY_ONLY is OutputType SUMMARY_ONLY; the others are OutputType STANDARD with that
// ReportLevel.
func (h *Handler) reportConfig(r request.Request) *dstypes.TaskReportConfig {
	rep := r.Task.Report
	if rep == nil {
		return nil
	}
	partition := h.Config.Home.ARNPartition()
	c := &dstypes.TaskReportConfig{
		Destination: &dstypes.ReportDestination{S3: &dstypes.ReportDestinationS3{
			S3BucketArn:         aws.String(policy.BucketArn(partition, rep.Bucket)),
			Subdirectory:        aws.String(rep.Folder(r.MigrationID)),
			BucketAccessRoleArn: aws.String(naming.RoleArn(partition, h.Config.Home.AccountID, h.Config.Prefix, naming.ConfigRoleName(h.Config.Prefix, r.MigrationID))),
		}},
		OutputType: dstypes.ReportOutputTypeStandard,
	}
	if rep.Level == request.ReportSummaryOnly {
		c.OutputType = dstypes.ReportOutputTypeSummaryOnly
	} else {
		c.ReportLevel = dstypes.ReportLevel(rep.Level)
	}
	return c
}

// sameReport reports whether an existing task's report configuration is the one wanted.
func sameReport(got, want *dstypes.TaskReportConfig) bool {
	if got == nil || want == nil {
		return got == want
	}
	dest := func(c *dstypes.TaskReportConfig) dstypes.ReportDestinationS3 {
		if c.Destination == nil || c.Destination.S3 == nil {
			return dstypes.ReportDestinationS3{}
		}
		return *c.Destination.S3
	}
	g, w := dest(got), dest(want)
	return got.OutputType == want.OutputType && got.ReportLevel == want.ReportLevel &&
		aws.ToString(g.S3BucketArn) == aws.ToString(w.S3BucketArn) && aws.ToString(g.Subdirectory) == aws.ToString(w.Subdirectory) &&
		aws.ToString(g.BucketAccessRoleArn) == aws.ToString(w.BucketAccessRoleArn)
}

func filter(value string) []dstypes.FilterRule {
	if value == "" {
		return nil
	}
	return []dstypes.FilterRule{{FilterType: dstypes.FilterTypeSimplePattern, Value: aws.String(value)}}
}

// find returns this migration's task (or the shard's): named naming.TaskName (or
// ShardTaskName) and tagged with this deployment, the id and the shard (an unsharded task
// has no shard tag). A task whose tags this function may not read (its policy allows only
// this deployment's tasks) is another deployment's or another team's, and skipped.
func (h *Handler) find(ctx context.Context, id string, shard *execution.Shard) (string, *datasync.DescribeTaskOutput, error) {
	name, shardTag := naming.TaskName(h.Config.Prefix, id), ""
	if shard != nil {
		name, shardTag = naming.ShardTaskName(h.Config.Prefix, id, shard.Index), strconv.Itoa(shard.Index)
	}
	p := datasync.NewListTasksPaginator(h.DataSync, &datasync.ListTasksInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", nil, awserror.Classify(err, awserror.Call{Action: "datasync:ListTasks", Resource: "*"}, awserror.Precondition)
		}
		for _, e := range page.Tasks {
			if aws.ToString(e.Name) != name {
				continue
			}
			taskArn := aws.ToString(e.TaskArn)
			tags, err := dsresource.Tags(ctx, h.DataSync, taskArn)
			if errors.Is(err, dsresource.ErrNotOurs) {
				slog.DebugContext(ctx, "skipping a task whose tags this deployment may not read", "taskArn", taskArn)
				continue
			}
			if err != nil {
				return "", nil, err
			}
			if tags[naming.DeploymentTagKey] != h.Config.Prefix || tags[naming.TagKey] != id || tags[naming.RoleTagKey] != RoleTask ||
				tags[naming.ShardTagKey] != shardTag {
				continue
			}
			d, err := h.DataSync.DescribeTask(ctx, &datasync.DescribeTaskInput{TaskArn: aws.String(taskArn)})
			if err != nil {
				return "", nil, awserror.Classify(err, awserror.Call{Action: "datasync:DescribeTask", Resource: taskArn}, awserror.Precondition)
			}
			return taskArn, d, nil
		}
	}
	return "", nil, nil
}

// compare checks that an existing task can run this request: same locations and task mode
// (they cannot be overridden). Options and filters that differ are returned as overrides
// for StartTaskExecution; nil when the task already has the request's settings.
func compare(d *datasync.DescribeTaskOutput, want *datasync.CreateTaskInput) (*datasync.StartTaskExecutionInput, error) {
	taskArn := aws.ToString(d.TaskArn)
	if aws.ToString(d.SourceLocationArn) != aws.ToString(want.SourceLocationArn) || aws.ToString(d.DestinationLocationArn) != aws.ToString(want.DestinationLocationArn) {
		return nil, &failure.PreconditionError{Message: fmt.Sprintf(
			"DataSync task %s of this migration copies %s to %s, not the locations of this run (%s to %s); delete the task or use another migrationId",
			taskArn, aws.ToString(d.SourceLocationArn), aws.ToString(d.DestinationLocationArn), aws.ToString(want.SourceLocationArn), aws.ToString(want.DestinationLocationArn))}
	}
	if d.TaskMode != "" && d.TaskMode != want.TaskMode {
		return nil, &failure.PreconditionError{Message: fmt.Sprintf(
			"DataSync task %s of this migration runs in task mode %s, the request asks for %s, and a task's mode cannot change; delete the task or use another migrationId",
			taskArn, d.TaskMode, want.TaskMode)}
	}
	got := d.Options
	if got == nil {
		got = &dstypes.Options{}
	}
	w := want.Options
	same := got.VerifyMode == w.VerifyMode && got.OverwriteMode == w.OverwriteMode && got.TransferMode == w.TransferMode &&
		got.PreserveDeletedFiles == w.PreserveDeletedFiles && got.LogLevel == w.LogLevel &&
		sameFilters(d.Includes, want.Includes) && sameFilters(d.Excludes, want.Excludes)
	// A report the task lacks, or has elsewhere, is given to this execution
	// (StartTaskExecution TaskReportConfig overrides the task's for that execution). A task
	// with a report the request no longer asks for keeps reporting: an execution cannot
	// turn the task's report off.
	report := want.TaskReportConfig != nil && !sameReport(d.TaskReportConfig, want.TaskReportConfig)
	if same && !report {
		return nil, nil
	}
	start := &datasync.StartTaskExecutionInput{}
	if !same {
		start.OverrideOptions, start.Includes, start.Excludes = w, override(d.Includes, want.Includes), override(d.Excludes, want.Excludes)
	}
	if report {
		start.TaskReportConfig = want.TaskReportConfig
	}
	return start, nil
}

// override is the filter a start gives to run with want instead of the task's filter got.
// A start without a filter runs with the task's (StartTaskExecution: Includes and Excludes
// apply to that execution only), so a filter the request no longer has is overridden by
// an empty list (FilterList: "Minimum number of 0 items", DataSync API Reference), which
// the SDK sends as [], not left out.
func override(got, want []dstypes.FilterRule) []dstypes.FilterRule {
	if len(want) == 0 && len(got) > 0 {
		return []dstypes.FilterRule{}
	}
	return want
}

func sameFilters(a, b []dstypes.FilterRule) bool {
	return slices.EqualFunc(a, b, func(x, y dstypes.FilterRule) bool {
		return x.FilterType == y.FilterType && aws.ToString(x.Value) == aws.ToString(y.Value)
	})
}

// running returns an execution of the task that is queued or running, or "".
func (h *Handler) running(ctx context.Context, taskArn string) (string, error) {
	p := datasync.NewListTaskExecutionsPaginator(h.DataSync, &datasync.ListTaskExecutionsInput{TaskArn: aws.String(taskArn)})
	queued := ""
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", awserror.Classify(err, awserror.Call{Action: "datasync:ListTaskExecutions", Resource: taskArn}, awserror.Precondition)
		}
		for _, e := range page.TaskExecutions {
			switch {
			case e.Status == dstypes.TaskExecutionStatusQueued:
				if queued == "" {
					queued = aws.ToString(e.TaskExecutionArn)
				}
			case slices.Contains(dsresource.Running, e.Status):
				return aws.ToString(e.TaskExecutionArn), nil
			}
		}
	}
	return queued, nil
}
