package pollexecution

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/handlertest"
	"github.com/dsmigrate/dsmigrate/internal/waitpolicy"
)

const execArn = "arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123456789abcdef0/execution/exec-0123456789abcdef0"

type fakeDataSync struct {
	calls    []string
	describe func() (*datasync.DescribeTaskExecutionOutput, error)
}

func (f *fakeDataSync) DescribeTaskExecution(_ context.Context, in *datasync.DescribeTaskExecutionInput, _ ...func(*datasync.Options)) (*datasync.DescribeTaskExecutionOutput, error) {
	f.calls = append(f.calls, "DescribeTaskExecution:"+aws.ToString(in.TaskExecutionArn))
	return f.describe()
}

var (
	start = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	now   = start.Add(10 * time.Minute)
)

func handler(d *datasync.DescribeTaskExecutionOutput, err error) (*Handler, *fakeDataSync) {
	f := &fakeDataSync{describe: func() (*datasync.DescribeTaskExecutionOutput, error) { return d, err }}
	return &Handler{AccountID: "222222222222", DataSync: f, Now: func() time.Time { return now }}, f
}

func TestProgress(t *testing.T) {
	prev := &execution.Progress{TaskExecutionArn: execArn, Status: "TRANSFERRING", BytesTransferred: 100 << 20, EstimatedBytesToTransfer: 1 << 30,
		PolledAt: start.Add(5 * time.Minute).Format(time.RFC3339), StartTime: start.Format(time.RFC3339)}
	d := &datasync.DescribeTaskExecutionOutput{
		Status: dstypes.TaskExecutionStatusTransferring, StartTime: aws.Time(start),
		BytesTransferred: 256 << 20, EstimatedBytesToTransfer: 1 << 30, FilesTransferred: 10, EstimatedFilesToTransfer: 40, FilesVerified: 3,
	}
	h, f := handler(d, nil)
	got, err := h.Handle(context.Background(), Input{TaskExecutionArn: execArn, Previous: prev})
	if err != nil {
		t.Fatal(err)
	}
	if got.Done || got.PercentDone != 25 || got.ElapsedSeconds != 600 || got.StartTime != "2026-11-27T03:00:00Z" || got.PolledAt != "2026-11-27T03:10:00Z" {
		t.Errorf("got %+v, want 25 %% after 600 s, not done", got)
	}
	want := waitpolicy.Next(previous(prev), waitpolicy.Observation{At: now, Start: start, Status: "TRANSFERRING",
		BytesDone: 256 << 20, BytesTotal: 1 << 30, FilesDone: 10, FilesTotal: 40})
	if got.NextWaitSeconds != int64(want.Seconds()+0.999) || got.NextWaitSeconds <= 0 {
		t.Errorf("got wait %d s, want %v from the wait policy with the previous observation", got.NextWaitSeconds, want)
	}
	if len(f.calls) != 1 {
		t.Errorf("got calls %v, want one describe", f.calls)
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		name string
		give datasync.DescribeTaskExecutionOutput
		want float64
	}{
		{name: "bytes", give: datasync.DescribeTaskExecutionOutput{Status: "TRANSFERRING", BytesTransferred: 1, EstimatedBytesToTransfer: 3}, want: 33.3},
		{name: "files when bytes unknown", give: datasync.DescribeTaskExecutionOutput{Status: "TRANSFERRING", FilesTransferred: 1, EstimatedFilesToTransfer: 8}, want: 12.5},
		{name: "files when bytes unknown, several done", give: datasync.DescribeTaskExecutionOutput{Status: "TRANSFERRING", FilesTransferred: 3, EstimatedFilesToTransfer: 8}, want: 37.5},
		{name: "nothing known", give: datasync.DescribeTaskExecutionOutput{Status: "LAUNCHING"}, want: 0},
		{name: "estimate exceeded", give: datasync.DescribeTaskExecutionOutput{Status: "TRANSFERRING", BytesTransferred: 5, EstimatedBytesToTransfer: 4}, want: 100},
		{name: "success with empty source", give: datasync.DescribeTaskExecutionOutput{Status: "SUCCESS"}, want: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percent(&tt.give); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFirstPollWithoutStartTime(t *testing.T) {
	h, _ := handler(&datasync.DescribeTaskExecutionOutput{Status: dstypes.TaskExecutionStatusQueued}, nil)
	got, err := h.Handle(context.Background(), Input{TaskExecutionArn: execArn})
	if err != nil {
		t.Fatal(err)
	}
	if got.StartTime != got.PolledAt || got.ElapsedSeconds != 0 || got.NextWaitSeconds != int64(waitpolicy.Floor.Seconds()) {
		t.Errorf("got %+v, want start = now and the floor wait", got)
	}
}

func TestSuccessIsDone(t *testing.T) {
	h, _ := handler(&datasync.DescribeTaskExecutionOutput{Status: dstypes.TaskExecutionStatusSuccess, StartTime: aws.Time(start),
		BytesTransferred: 10, EstimatedBytesToTransfer: 10, FilesTransferred: 2, EstimatedFilesToTransfer: 2, FilesVerified: 2}, nil)
	got, err := h.Handle(context.Background(), Input{TaskExecutionArn: execArn})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Done || got.PercentDone != 100 || got.NextWaitSeconds != 0 {
		t.Errorf("got %+v, want done, 100 %%, no wait", got)
	}
}

func TestErrorIsTransferFailed(t *testing.T) {
	d := &datasync.DescribeTaskExecutionOutput{Status: dstypes.TaskExecutionStatusError, Result: &dstypes.TaskExecutionResultDetail{
		ErrorCode: aws.String("S3AccessDenied"), ErrorDetail: aws.String("Access denied on s3://team-a-media/photos/a.jpg"),
		PrepareStatus: dstypes.PhaseStatusSuccess, TransferStatus: dstypes.PhaseStatusError,
	}, FilesFailed: &dstypes.TaskExecutionFilesFailedDetail{Transfer: 3}}
	h, _ := handler(d, nil)
	_, err := h.Handle(context.Background(), Input{TaskExecutionArn: execArn})
	e, ok := err.(*failure.TransferFailedError)
	if !ok {
		t.Fatalf("got %T %v, want *failure.TransferFailedError", err, err)
	}
	if e.ErrorCode != "S3AccessDenied" || e.TaskExecutionArn != execArn {
		t.Errorf("got %+v, want the code and the ARN", e)
	}
	for _, s := range []string{"Access denied on s3://team-a-media/photos/a.jpg", "transfer ERROR", "3 files failed"} {
		if !strings.Contains(e.Error(), s) {
			t.Errorf("message %q does not contain %q", e.Error(), s)
		}
	}
}

func TestAWSErrors(t *testing.T) {
	tests := []struct {
		give     error
		wantType string
	}{
		{give: &smithy.OperationError{ServiceID: "DataSync", OperationName: "DescribeTaskExecution", Err: &smithy.GenericAPIError{Code: "ThrottlingException"}}, wantType: "TransientError"},
		{give: &smithy.OperationError{ServiceID: "DataSync", OperationName: "DescribeTaskExecution", Err: &dstypes.InternalException{Message: aws.String("x")}}, wantType: "TransientError"},
		{give: &smithy.OperationError{ServiceID: "DataSync", OperationName: "DescribeTaskExecution", Err: &dstypes.InvalidRequestException{Message: aws.String("execution not found")}}, wantType: "PreconditionError"},
		{give: &smithy.OperationError{ServiceID: "DataSync", OperationName: "DescribeTaskExecution", Err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}}, wantType: "PermissionError"},
	}
	for _, tt := range tests {
		t.Run(tt.wantType, func(t *testing.T) {
			h, _ := handler(nil, tt.give)
			_, err := h.Handle(context.Background(), Input{TaskExecutionArn: execArn})
			if got := failure.Name(err); got != tt.wantType {
				t.Errorf("got %s (%v), want %s", got, err, tt.wantType)
			}
		})
	}
}

func TestBadInputCallsNothing(t *testing.T) {
	for _, give := range []string{"", "exec-1", "arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123456789abcdef0", "arn:aws:s3:::bucket", strings.ReplaceAll(execArn, "222222222222", "111111111111")} {
		h, f := handler(nil, nil)
		_, err := h.Handle(context.Background(), Input{TaskExecutionArn: give})
		v, ok := err.(*failure.ValidationError)
		if !ok || len(v.Fields) != 1 || v.Fields[0].Field != "taskExecutionArn" || len(f.calls) != 0 {
			t.Errorf("%q: got %v and calls %v, want a ValidationError naming taskExecutionArn and no call", give, err, f.calls)
		}
	}
}

// TestGolden runs testdata/<name>-input.json against a fixed DataSync answer.
func TestGolden(t *testing.T) {
	answers := map[string]*datasync.DescribeTaskExecutionOutput{
		"first": {Status: dstypes.TaskExecutionStatusLaunching, StartTime: aws.Time(start)},
		"transferring": {Status: dstypes.TaskExecutionStatusTransferring, StartTime: aws.Time(start),
			BytesTransferred: 3 << 30, EstimatedBytesToTransfer: 10 << 30, FilesTransferred: 3000, EstimatedFilesToTransfer: 10000},
		"success": {Status: dstypes.TaskExecutionStatusSuccess, StartTime: aws.Time(start),
			BytesTransferred: 10 << 30, EstimatedBytesToTransfer: 10 << 30, FilesTransferred: 10000, EstimatedFilesToTransfer: 10000, FilesVerified: 10000},
	}
	for name, d := range answers {
		t.Run(name, func(t *testing.T) {
			h, _ := handler(d, nil)
			handlertest.Run(t, name+"-input.json", name+"-output.json", h.Handle)
		})
	}
}

func TestErrorLoggedOnce(t *testing.T) {
	h, _ := handler(&datasync.DescribeTaskExecutionOutput{Status: dstypes.TaskExecutionStatusError}, nil)
	handlertest.ErrorLoggedOnce(t, func() error {
		_, err := h.Handle(context.Background(), Input{TaskExecutionArn: execArn})
		return err
	})
}

// The detail of a TransferFailedError is DataSync's error detail, followed in parentheses
// by the phases that report a status and the number of files that failed in all phases.
func TestTransferFailedDetail(t *testing.T) {
	code, detail := aws.String("S3AccessDenied"), aws.String("Access denied")
	tests := []struct {
		name string
		give datasync.DescribeTaskExecutionOutput
		want string
	}{
		{"detail alone", datasync.DescribeTaskExecutionOutput{Result: &dstypes.TaskExecutionResultDetail{ErrorCode: code, ErrorDetail: detail}},
			"Access denied"},
		{"files failed in every phase", datasync.DescribeTaskExecutionOutput{Result: &dstypes.TaskExecutionResultDetail{ErrorCode: code, ErrorDetail: detail},
			FilesFailed: &dstypes.TaskExecutionFilesFailedDetail{Prepare: 1, Transfer: 20, Verify: 300, Delete: 4000}},
			"Access denied (4321 files failed)"},
		{"no file failed", datasync.DescribeTaskExecutionOutput{Result: &dstypes.TaskExecutionResultDetail{ErrorCode: code, ErrorDetail: detail,
			VerifyStatus: dstypes.PhaseStatusError}, FilesFailed: &dstypes.TaskExecutionFilesFailedDetail{}},
			"Access denied (verify ERROR)"},
		{"no detail, no result", datasync.DescribeTaskExecutionOutput{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *failure.TransferFailedError
			if !errors.As(transferFailed(execArn, &tt.give), &e) || e.ErrorDetail != tt.want {
				t.Errorf("got %+v, want detail %q", e, tt.want)
			}
		})
	}
}

// While DataSync shows no start time yet, each poll keeps the one the first poll took.
func TestLaterPollWithoutStartTimeKeepsTheFirst(t *testing.T) {
	prev := &execution.Progress{TaskExecutionArn: execArn, Status: "QUEUED",
		PolledAt: start.Add(5 * time.Minute).Format(time.RFC3339), StartTime: start.Format(time.RFC3339)}
	h, _ := handler(&datasync.DescribeTaskExecutionOutput{Status: dstypes.TaskExecutionStatusLaunching}, nil)
	got, err := h.Handle(context.Background(), Input{TaskExecutionArn: execArn, Previous: prev})
	if err != nil {
		t.Fatal(err)
	}
	if got.StartTime != "2026-11-27T03:00:00Z" || got.ElapsedSeconds != 600 {
		t.Errorf("got start %s after %d s, want 2026-11-27T03:00:00Z after 600 s", got.StartTime, got.ElapsedSeconds)
	}
}

// A successful execution with a task report is done once DataSync's ReportResult leaves
// PENDING, or when the report is overdue; one without a report has no report status.
func TestSuccessWaitsForTheTaskReport(t *testing.T) {
	report := &dstypes.TaskReportConfig{OutputType: dstypes.ReportOutputTypeSummaryOnly}
	tests := []struct {
		name       string
		config     *dstypes.TaskReportConfig
		result     *dstypes.ReportResult
		ended      time.Time
		wantDone   bool
		wantStatus string
	}{
		{"no report", nil, nil, now.Add(-time.Minute), true, ""},
		{"report not started", report, nil, now.Add(-time.Minute), false, "PENDING"},
		{"report pending", report, &dstypes.ReportResult{Status: dstypes.PhaseStatusPending}, now.Add(-time.Minute), false, "PENDING"},
		{"report written", report, &dstypes.ReportResult{Status: dstypes.PhaseStatusSuccess}, now.Add(-time.Minute), true, "SUCCESS"},
		{"report failed", report, &dstypes.ReportResult{Status: dstypes.PhaseStatusError}, now.Add(-time.Minute), true, "ERROR"},
		{"report overdue", report, &dstypes.ReportResult{Status: dstypes.PhaseStatusPending}, now.Add(-reportWait - time.Second), true, "PENDING"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := handler(&datasync.DescribeTaskExecutionOutput{Status: dstypes.TaskExecutionStatusSuccess, StartTime: aws.Time(start), EndTime: aws.Time(tt.ended),
				BytesTransferred: 10, EstimatedBytesToTransfer: 10, TaskReportConfig: tt.config, ReportResult: tt.result}, nil)
			got, err := h.Handle(context.Background(), Input{TaskExecutionArn: execArn})
			if err != nil {
				t.Fatal(err)
			}
			if got.Done != tt.wantDone || got.ReportStatus != tt.wantStatus || (!got.Done && got.NextWaitSeconds != reportPollSeconds) {
				t.Errorf("got done %v, report status %q, wait %d; want done %v, %q", got.Done, got.ReportStatus, got.NextWaitSeconds, tt.wantDone, tt.wantStatus)
			}
		})
	}
}
