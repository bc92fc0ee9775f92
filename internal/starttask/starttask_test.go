package starttask

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/dsresource"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/handlertest"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

type fakeTask struct {
	in         *datasync.CreateTaskInput
	arn        string
	executions []*fakeExecution
	// denied: the function's policy does not let it read this task's tags (another
	// deployment's task), so DataSync answers AccessDeniedException.
	denied bool
}

type fakeExecution struct {
	arn    string
	status dstypes.TaskExecutionStatus
	start  *datasync.StartTaskExecutionInput
	// started and ended are the execution's StartTime and EndTime (DescribeTaskExecution);
	// zero: none.
	started, ended time.Time
}

// fakeDataSync keeps tasks and executions like DataSync. start, when set, replaces
// StartTaskExecution.
type fakeDataSync struct {
	calls []string
	tasks []*fakeTask
	start func(in *datasync.StartTaskExecutionInput) (*datasync.StartTaskExecutionOutput, error)
}

func (f *fakeDataSync) task(taskArn string) *fakeTask {
	for _, t := range f.tasks {
		if t.arn == taskArn {
			return t
		}
	}
	return nil
}

func (f *fakeDataSync) ListTasks(_ context.Context, in *datasync.ListTasksInput, _ ...func(*datasync.Options)) (*datasync.ListTasksOutput, error) {
	f.calls = append(f.calls, "ListTasks")
	out := &datasync.ListTasksOutput{}
	for _, t := range f.tasks {
		out.Tasks = append(out.Tasks, dstypes.TaskListEntry{TaskArn: aws.String(t.arn), Name: t.in.Name, Status: dstypes.TaskStatusAvailable})
	}
	return out, nil
}

func (f *fakeDataSync) ListTagsForResource(_ context.Context, in *datasync.ListTagsForResourceInput, _ ...func(*datasync.Options)) (*datasync.ListTagsForResourceOutput, error) {
	f.calls = append(f.calls, "ListTagsForResource")
	t := f.task(aws.ToString(in.ResourceArn))
	if t.denied {
		return nil, &smithy.OperationError{ServiceID: "DataSync", OperationName: "ListTagsForResource", Err: &smithy.GenericAPIError{Code: "AccessDeniedException",
			Message: "User: arn:aws:sts::222222222222:assumed-role/dsmigrate-fn-starttask/x is not authorized to perform: datasync:ListTagsForResource on resource: " + t.arn}}
	}
	return &datasync.ListTagsForResourceOutput{Tags: t.in.Tags}, nil
}

func (f *fakeDataSync) DescribeTask(_ context.Context, in *datasync.DescribeTaskInput, _ ...func(*datasync.Options)) (*datasync.DescribeTaskOutput, error) {
	f.calls = append(f.calls, "DescribeTask")
	t := f.task(aws.ToString(in.TaskArn))
	return &datasync.DescribeTaskOutput{
		TaskArn: aws.String(t.arn), Name: t.in.Name, SourceLocationArn: t.in.SourceLocationArn, DestinationLocationArn: t.in.DestinationLocationArn,
		TaskMode: t.in.TaskMode, Options: t.in.Options, Includes: t.in.Includes, Excludes: t.in.Excludes, TaskReportConfig: t.in.TaskReportConfig, Status: dstypes.TaskStatusAvailable,
	}, nil
}

func (f *fakeDataSync) CreateTask(_ context.Context, in *datasync.CreateTaskInput, _ ...func(*datasync.Options)) (*datasync.CreateTaskOutput, error) {
	f.calls = append(f.calls, "CreateTask")
	t := &fakeTask{in: in, arn: fmt.Sprintf("arn:aws:datasync:ap-northeast-1:222222222222:task/task-%017d", len(f.tasks))}
	f.tasks = append(f.tasks, t)
	return &datasync.CreateTaskOutput{TaskArn: aws.String(t.arn)}, nil
}

func (f *fakeDataSync) ListTaskExecutions(_ context.Context, in *datasync.ListTaskExecutionsInput, _ ...func(*datasync.Options)) (*datasync.ListTaskExecutionsOutput, error) {
	f.calls = append(f.calls, "ListTaskExecutions")
	out := &datasync.ListTaskExecutionsOutput{}
	for _, e := range f.task(aws.ToString(in.TaskArn)).executions {
		out.TaskExecutions = append(out.TaskExecutions, dstypes.TaskExecutionListEntry{TaskExecutionArn: aws.String(e.arn), Status: e.status})
	}
	return out, nil
}

func (f *fakeDataSync) StartTaskExecution(_ context.Context, in *datasync.StartTaskExecutionInput, _ ...func(*datasync.Options)) (*datasync.StartTaskExecutionOutput, error) {
	f.calls = append(f.calls, "StartTaskExecution")
	if f.start != nil {
		return f.start(in)
	}
	t := f.task(aws.ToString(in.TaskArn))
	e := &fakeExecution{arn: fmt.Sprintf("%s/execution/exec-%017d", t.arn, len(t.executions)), status: dstypes.TaskExecutionStatusLaunching, start: in,
		started: time.Unix(int64(1_800_000_000+len(t.executions)), 0)}
	t.executions = append(t.executions, e)
	return &datasync.StartTaskExecutionOutput{TaskExecutionArn: aws.String(e.arn)}, nil
}

func (f *fakeDataSync) DescribeTaskExecution(_ context.Context, in *datasync.DescribeTaskExecutionInput, _ ...func(*datasync.Options)) (*datasync.DescribeTaskExecutionOutput, error) {
	f.calls = append(f.calls, "DescribeTaskExecution")
	arn := aws.ToString(in.TaskExecutionArn)
	for _, t := range f.tasks {
		for _, e := range t.executions {
			if e.arn == arn {
				// The filters the execution ran with: the task's, or those its start
				// overrode.
				inc, exc := t.in.Includes, t.in.Excludes
				if e.start != nil && e.start.Includes != nil {
					inc = e.start.Includes
				}
				if e.start != nil && e.start.Excludes != nil {
					exc = e.start.Excludes
				}
				var started *time.Time // none given: not started yet
				if !e.started.IsZero() {
					started = aws.Time(e.started)
				}
				var ended *time.Time
				if !e.ended.IsZero() {
					ended = aws.Time(e.ended)
				}
				return &datasync.DescribeTaskExecutionOutput{TaskExecutionArn: aws.String(arn), Status: e.status, StartTime: started, EndTime: ended,
					Includes: inc, Excludes: exc}, nil
			}
		}
	}
	return nil, &smithy.GenericAPIError{Code: "InvalidRequestException", Message: "no such execution " + arn}
}

func locations() execution.Locations {
	return execution.Locations{
		SourceLocationArn:      "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-00000000000000000",
		DestinationLocationArn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-00000000000000001",
	}
}

func newHandler(f *fakeDataSync, logGroup string) *Handler {
	return &Handler{Config: Config{Home: requesttest.Home, Prefix: "dsmigrate", LogGroupArn: logGroup}, DataSync: f}
}

const logGroup = "arn:aws:logs:ap-northeast-1:222222222222:log-group:/dsmigrate/tasks:*"

func TestCreateStartThenReuse(t *testing.T) {
	f := &fakeDataSync{}
	h := newHandler(f, logGroup)
	in := Input{Request: requesttest.Valid(), Locations: locations()}

	first, err := h.Handle(context.Background(), in)
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if !first.TaskCreated || !first.ExecutionStarted {
		t.Errorf("got %+v, want task created and execution started", first)
	}
	c := f.tasks[0].in
	if aws.ToString(c.Name) != "dsmigrate-media-2026-11" || c.TaskMode != dstypes.TaskModeEnhanced ||
		aws.ToString(c.CloudWatchLogGroupArn) != logGroup || c.Options.LogLevel != dstypes.LogLevelBasic ||
		c.Options.VerifyMode != dstypes.VerifyModeOnlyFilesTransferred || c.Options.PreserveDeletedFiles != dstypes.PreserveDeletedFilesPreserve {
		t.Errorf("got CreateTask %+v options %+v, want the request's settings", c, c.Options)
	}
	if len(c.Includes) != 1 || aws.ToString(c.Includes[0].Value) != "/2026*" || c.Includes[0].FilterType != dstypes.FilterTypeSimplePattern {
		t.Errorf("got includes %+v, want one SIMPLE_PATTERN /2026*", c.Includes)
	}
	if f.tasks[0].executions[0].start.OverrideOptions != nil {
		t.Errorf("got override options on a new task, want none")
	}
	for what, tags := range map[string][]dstypes.TagListEntry{"task": c.Tags, "execution": f.tasks[0].executions[0].start.Tags} {
		got := map[string]string{}
		for _, t := range tags {
			got[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if got[naming.DeploymentTagKey] != "dsmigrate" || got[naming.TagKey] != "media-2026-11" {
			t.Errorf("%s: got tags %v, want the deployment and the migration id", what, got)
		}
	}

	// The state machine retries the step (e.g. after a timeout): the running execution is reused.
	f.calls = nil
	second, err := h.Handle(context.Background(), in)
	if err != nil {
		t.Fatalf("rerun: got %v, want nil", err)
	}
	if second.TaskCreated || second.ExecutionStarted || second.TaskExecutionArn != first.TaskExecutionArn || second.TaskArn != first.TaskArn {
		t.Errorf("rerun: got %+v, want the same task and execution reused", second)
	}
	for _, call := range f.calls {
		if call == "CreateTask" || call == "StartTaskExecution" {
			t.Errorf("rerun: got %s, want nothing new", call)
		}
	}

	// Once the execution has ended, a new run of the same migration starts a new execution.
	f.tasks[0].executions[0].status = dstypes.TaskExecutionStatusSuccess
	third, err := h.Handle(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if third.TaskCreated || !third.ExecutionStarted || third.TaskExecutionArn == first.TaskExecutionArn {
		t.Errorf("after success: got %+v, want a new execution of the same task", third)
	}
	if len(f.tasks) != 1 {
		t.Errorf("got %d tasks, want 1", len(f.tasks))
	}
}

func TestReusesEachRunningStatus(t *testing.T) {
	for _, status := range dsresource.Running {
		t.Run(string(status), func(t *testing.T) {
			f := &fakeDataSync{}
			h := newHandler(f, "")
			in := Input{Request: requesttest.Valid(), Locations: locations()}
			first, err := h.Handle(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			f.tasks[0].executions[0].status = status
			got, err := h.Handle(context.Background(), in)
			if err != nil || got.ExecutionStarted || got.TaskExecutionArn != first.TaskExecutionArn {
				t.Errorf("got %+v %v, want execution %s reused", got, err, first.TaskExecutionArn)
			}
		})
	}
}

func TestPrefersRunningOverQueued(t *testing.T) {
	f := &fakeDataSync{}
	h := newHandler(f, "")
	in := Input{Request: requesttest.Valid(), Locations: locations()}
	if _, err := h.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	task := f.tasks[0]
	task.executions[0].status = dstypes.TaskExecutionStatusQueued
	task.executions = append(task.executions, &fakeExecution{arn: task.arn + "/execution/exec-running", status: dstypes.TaskExecutionStatusTransferring})
	got, err := h.Handle(context.Background(), in)
	if err != nil || got.TaskExecutionArn != task.arn+"/execution/exec-running" {
		t.Errorf("got %+v %v, want the transferring execution", got, err)
	}
}

func TestNoLogGroupTurnsLoggingOff(t *testing.T) {
	f := &fakeDataSync{}
	if _, err := newHandler(f, "").Handle(context.Background(), Input{Request: requesttest.Valid(), Locations: locations()}); err != nil {
		t.Fatal(err)
	}
	c := f.tasks[0].in
	if c.Options.LogLevel != dstypes.LogLevelOff || c.CloudWatchLogGroupArn != nil {
		t.Errorf("got log level %s and group %v, want OFF and none", c.Options.LogLevel, c.CloudWatchLogGroupArn)
	}
}

func TestChangedOptionsAreOverridden(t *testing.T) {
	f := &fakeDataSync{}
	h := newHandler(f, "")
	in := Input{Request: requesttest.Valid(), Locations: locations()}
	if _, err := h.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	f.tasks[0].executions[0].status = dstypes.TaskExecutionStatusSuccess
	in.Request.Task.OverwriteMode = "NEVER"
	in.Request.Task.Excludes = nil
	if _, err := h.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	start := f.tasks[0].executions[1].start
	// The task's exclude filter is overridden by an empty one: a start that gives none
	// runs with the task's.
	if start.OverrideOptions == nil || start.OverrideOptions.OverwriteMode != dstypes.OverwriteModeNever || start.Excludes == nil || len(start.Excludes) != 0 {
		t.Errorf("got start %+v, want OverrideOptions with NEVER and an empty exclude list", start)
	}
}

func TestExistingTaskWithOtherLocations(t *testing.T) {
	f := &fakeDataSync{}
	h := newHandler(f, "")
	in := Input{Request: requesttest.Valid(), Locations: locations()}
	if _, err := h.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	in.Locations.DestinationLocationArn = "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-0000000000000000f"
	_, err := h.Handle(context.Background(), in)
	if failure.Name(err) != "PreconditionError" || !strings.Contains(err.Error(), "loc-0000000000000000f") {
		t.Errorf("got %v, want a PreconditionError naming the locations", err)
	}
}

func TestTaskWithOurNameButNotOurTag(t *testing.T) {
	f := &fakeDataSync{}
	f.tasks = []*fakeTask{{arn: "arn:aws:datasync:ap-northeast-1:222222222222:task/task-foreign", in: &datasync.CreateTaskInput{Name: aws.String("dsmigrate-media-2026-11"),
		Tags: []dstypes.TagListEntry{{Key: aws.String(naming.TagKey), Value: aws.String("someone-else")}}}}}
	got, err := newHandler(f, "").Handle(context.Background(), Input{Request: requesttest.Valid(), Locations: locations()})
	if err != nil || !got.TaskCreated || got.TaskArn == "arn:aws:datasync:ap-northeast-1:222222222222:task/task-foreign" {
		t.Errorf("got %+v %v, want a new task, the foreign one untouched", got, err)
	}
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		give     error
		wantType string
	}{
		{give: &smithy.OperationError{ServiceID: "DataSync", OperationName: "StartTaskExecution", Err: &smithy.GenericAPIError{Code: "ThrottlingException"}}, wantType: "TransientError"},
		{give: &smithy.OperationError{ServiceID: "DataSync", OperationName: "StartTaskExecution", Err: &dstypes.InvalidRequestException{Message: aws.String("Cannot start: 50 executions already queued")}}, wantType: "PreconditionError"},
		{give: &smithy.OperationError{ServiceID: "DataSync", OperationName: "StartTaskExecution", Err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}}, wantType: "PermissionError"},
	}
	for _, tt := range tests {
		t.Run(tt.wantType, func(t *testing.T) {
			f := &fakeDataSync{start: func(*datasync.StartTaskExecutionInput) (*datasync.StartTaskExecutionOutput, error) {
				return nil, tt.give
			}}
			_, err := newHandler(f, "").Handle(context.Background(), Input{Request: requesttest.Valid(), Locations: locations()})
			if failure.Name(err) != tt.wantType {
				t.Errorf("got %s (%v), want %s", failure.Name(err), err, tt.wantType)
			}
		})
	}
}

func TestGolden(t *testing.T) {
	handlertest.Run(t, "input.json", "output.json", newHandler(&fakeDataSync{}, logGroup).Handle)
}

func TestBadInputsCallNothing(t *testing.T) {
	requesttest.RefusesBadRequests(t, func(r request.Request) ([]string, error) {
		f := &fakeDataSync{}
		_, err := newHandler(f, "").Handle(context.Background(), Input{Request: r, Locations: locations()})
		return f.calls, err
	})
	f := &fakeDataSync{}
	_, err := newHandler(f, "").Handle(context.Background(), Input{Request: requesttest.Valid()})
	if v, ok := err.(*failure.ValidationError); !ok || !requesttest.HasField(v, "locations.sourceLocationArn") || len(f.calls) != 0 {
		t.Errorf("missing locations: got %v and calls %v, want a ValidationError and no call", err, f.calls)
	}
}

func TestErrorLoggedOnce(t *testing.T) {
	f := &fakeDataSync{start: func(*datasync.StartTaskExecutionInput) (*datasync.StartTaskExecutionOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "ThrottlingException"}
	}}
	handlertest.ErrorLoggedOnce(t, func() error {
		_, err := newHandler(f, "").Handle(context.Background(), Input{Request: requesttest.Valid(), Locations: locations()})
		return err
	})
}

// Another deployment in the account has a task of the same name (a prefix of the same
// name is impossible, but a task renamed or made by hand is not): its tags cannot be read
// with this deployment's policy, so it is skipped and this deployment makes its own.
func TestSkipsAnotherDeploymentsTask(t *testing.T) {
	f := &fakeDataSync{}
	foreign := &datasync.CreateTaskInput{Name: aws.String("dsmigrate-media-2026-11"),
		SourceLocationArn: aws.String("arn:aws:datasync:ap-northeast-1:222222222222:location/loc-other-a"), DestinationLocationArn: aws.String("arn:aws:datasync:ap-northeast-1:222222222222:location/loc-other-b"),
		Tags: []dstypes.TagListEntry{{Key: aws.String(naming.DeploymentTagKey), Value: aws.String("other")}, {Key: aws.String(naming.TagKey), Value: aws.String("media-2026-11")}, {Key: aws.String(naming.RoleTagKey), Value: aws.String(RoleTask)}}}
	readable := *foreign
	readable.Tags = []dstypes.TagListEntry{{Key: aws.String(naming.DeploymentTagKey), Value: aws.String("third")}, {Key: aws.String(naming.TagKey), Value: aws.String("media-2026-11")}, {Key: aws.String(naming.RoleTagKey), Value: aws.String(RoleTask)}}
	f.tasks = []*fakeTask{
		{in: foreign, arn: "arn:aws:datasync:ap-northeast-1:222222222222:task/task-other", denied: true},
		{in: &readable, arn: "arn:aws:datasync:ap-northeast-1:222222222222:task/task-third"},
	}
	got, err := newHandler(f, "").Handle(context.Background(), Input{Request: requesttest.Valid(), Locations: locations()})
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if !got.TaskCreated || got.TaskArn == f.tasks[0].arn || got.TaskArn == f.tasks[1].arn {
		t.Errorf("got %+v, want a new task of this deployment", got)
	}
	if len(f.tasks[0].executions)+len(f.tasks[1].executions) != 0 {
		t.Errorf("another deployment's task was started")
	}
}

// TestRemoveOnlyWhenTheDeploymentAllowsIt: starttask, where PreserveDeletedFiles takes
// effect, refuses REMOVE itself unless the deployment allows it, without calling DataSync.
func TestRemoveOnlyWhenTheDeploymentAllowsIt(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("allowRemove=%v", allow), func(t *testing.T) {
			f := &fakeDataSync{}
			h := newHandler(f, "")
			h.Config.Deployment.AllowRemove = allow
			in := Input{Request: requesttest.Valid(), Locations: locations()}
			in.Request.Task.PreserveDeletedFiles = "REMOVE"
			_, err := h.Handle(context.Background(), in)
			if allow {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				if got := f.tasks[0].in.Options.PreserveDeletedFiles; got != dstypes.PreserveDeletedFilesRemove {
					t.Errorf("got PreserveDeletedFiles %s, want REMOVE", got)
				}
				return
			}
			v, ok := err.(*failure.ValidationError)
			if !ok || !requesttest.HasField(v, "task.preserveDeletedFiles") || !strings.Contains(err.Error(), request.SettingAllowRemove) {
				t.Fatalf("got %T %v, want a ValidationError on task.preserveDeletedFiles naming %s", err, err, request.SettingAllowRemove)
			}
			if len(f.calls) != 0 {
				t.Errorf("got calls %v, want none", f.calls)
			}
		})
	}
}

// A request that leaves task.logLevel out gets BASIC logging where the deployment has a
// task log group (OFF without one, TestNoLogGroupTurnsLoggingOff).
func TestLogGroupGivesBasicLoggingByDefault(t *testing.T) {
	f := &fakeDataSync{}
	r := requesttest.Valid()
	r.Task.LogLevel = ""
	if _, err := newHandler(f, logGroup).Handle(context.Background(), Input{Request: r, Locations: locations()}); err != nil {
		t.Fatal(err)
	}
	if c := f.tasks[0].in; c.Options.LogLevel != dstypes.LogLevelBasic || aws.ToString(c.CloudWatchLogGroupArn) != logGroup {
		t.Errorf("got log level %s and group %v, want BASIC and %s", c.Options.LogLevel, aws.ToString(c.CloudWatchLogGroupArn), logGroup)
	}
}

// A task's mode cannot change once it is created: a task of this migration in BASIC mode
// cannot run a request for ENHANCED.
func TestExistingTaskWithAnotherMode(t *testing.T) {
	f := &fakeDataSync{}
	h := newHandler(f, "")
	in := Input{Request: requesttest.Valid(), Locations: locations()}
	in.Request.Task.TaskMode = "BASIC"
	if _, err := h.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	f.tasks[0].executions[0].status = dstypes.TaskExecutionStatusSuccess
	in.Request.Task.TaskMode = "ENHANCED"
	_, err := h.Handle(context.Background(), in)
	if failure.Name(err) != "PreconditionError" || !strings.Contains(err.Error(), "task mode BASIC") {
		t.Errorf("got %v, want a PreconditionError naming the task's mode", err)
	}
	if len(f.tasks[0].executions) != 1 {
		t.Errorf("got %d executions, want none started", len(f.tasks[0].executions))
	}
}

// A re-run of an unchanged request starts the task as it is: no option or filter is
// overridden.
func TestUnchangedRequestStartsWithoutOverrides(t *testing.T) {
	f := &fakeDataSync{}
	h := newHandler(f, logGroup)
	in := Input{Request: requesttest.Valid(), Locations: locations()}
	if _, err := h.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	f.tasks[0].executions[0].status = dstypes.TaskExecutionStatusSuccess
	got, err := h.Handle(context.Background(), in)
	if err != nil || !got.ExecutionStarted {
		t.Fatalf("got %+v %v, want a new execution", got, err)
	}
	if start := f.tasks[0].executions[1].start; start.OverrideOptions != nil || start.Includes != nil || start.Excludes != nil {
		t.Errorf("got start options %+v includes %v excludes %v, want no overrides", start.OverrideOptions, start.Includes, start.Excludes)
	}
}

// A filter the task never had is not sent when other settings change: only a filter the
// request dropped is overridden by an empty list (TestChangedOptionsAreOverridden).
func TestChangedOptionsLeaveAbsentFiltersOut(t *testing.T) {
	f := &fakeDataSync{}
	h := newHandler(f, "")
	in := Input{Request: requesttest.Valid(), Locations: locations()}
	in.Request.Task.Excludes = nil
	if _, err := h.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	f.tasks[0].executions[0].status = dstypes.TaskExecutionStatusSuccess
	in.Request.Task.OverwriteMode = "NEVER"
	if _, err := h.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	start := f.tasks[0].executions[1].start
	if start.OverrideOptions == nil || start.OverrideOptions.OverwriteMode != dstypes.OverwriteModeNever || start.Excludes != nil ||
		filterValues(start.Includes) != "/2026*" {
		t.Errorf("got start %+v, want the new overwrite mode, the include filter and no exclude list", start)
	}
}

// task.report becomes the task's TaskReportConfig: the migration's folder in the report
// bucket, the config role, and the level as OutputType and ReportLevel. A task created
// without a report gets it as an override of the next execution only, and a task that
// already reports there is started without one.
func TestTaskReportConfig(t *testing.T) {
	f := &fakeDataSync{}
	h := newHandler(f, logGroup)
	in := Input{Request: requesttest.Valid(), Locations: locations()}
	if _, err := h.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if c := f.tasks[0].in.TaskReportConfig; c != nil {
		t.Fatalf("got TaskReportConfig %+v without task.report, want none", c)
	}
	f.tasks[0].executions[0].status = dstypes.TaskExecutionStatusSuccess

	in.Request.Task.Report = &request.Report{Bucket: "team-b-reports", Prefix: "audit/", Level: request.ReportSuccessesAndErrors}
	if _, err := h.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	c := f.tasks[0].executions[1].start.TaskReportConfig
	if c == nil {
		t.Fatal("the task has no report and the request asks for one: got no TaskReportConfig on StartTaskExecution")
	}
	s3 := c.Destination.S3
	if got, want := fmt.Sprintf("%s %s %s %s %s", aws.ToString(s3.S3BucketArn), aws.ToString(s3.Subdirectory), aws.ToString(s3.BucketAccessRoleArn), c.OutputType, c.ReportLevel),
		"arn:aws:s3:::team-b-reports audit/media-2026-11/ arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-config STANDARD SUCCESSES_AND_ERRORS"; got != want {
		t.Errorf("got report config %q, want %q", got, want)
	}
	if o := f.tasks[0].executions[1].start.OverrideOptions; o != nil {
		t.Errorf("got OverrideOptions %+v, want none: only the report differs", o)
	}

	f2 := &fakeDataSync{}
	in.Request.Task.Report.Level = request.ReportSummaryOnly
	if _, err := newHandler(f2, logGroup).Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if c := f2.tasks[0].in.TaskReportConfig; c == nil || c.OutputType != dstypes.ReportOutputTypeSummaryOnly || c.ReportLevel != "" {
		t.Fatalf("got CreateTask TaskReportConfig %+v, want OutputType SUMMARY_ONLY without a ReportLevel", c)
	}
	f2.tasks[0].executions[0].status = dstypes.TaskExecutionStatusSuccess
	if _, err := newHandler(f2, logGroup).Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if c := f2.tasks[0].executions[1].start.TaskReportConfig; c != nil {
		t.Errorf("got TaskReportConfig %+v on the start of a task that already reports there, want none", c)
	}
}
