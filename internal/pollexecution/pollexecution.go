// Package pollexecution is the step the state machine runs in a loop: it describes the
// DataSync task execution, reports its progress, and says how long to wait before the next
// poll (waitpolicy). SUCCESS ends the loop; ERROR is a TransferFailedError.
package pollexecution

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/waitpolicy"
)

// DataSyncAPI is what pollexecution calls of DataSync.
type DataSyncAPI interface {
	DescribeTaskExecution(ctx context.Context, params *datasync.DescribeTaskExecutionInput, optFns ...func(*datasync.Options)) (*datasync.DescribeTaskExecutionOutput, error)
}

var _ DataSyncAPI = (*datasync.Client)(nil)

// Handler runs the pollexecution step.
type Handler struct {
	// AccountID is account B; an execution of another account is refused ("" skips).
	AccountID string
	DataSync  DataSyncAPI
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Input is the step input: the execution and the previous poll's output (nil at first);
// in mode tally (TallyShards), the results of the RunShards Map.
type Input struct {
	Mode             string                  `json:"mode,omitempty"`
	TaskExecutionArn string                  `json:"taskExecutionArn"`
	Previous         *execution.Progress     `json:"previous"`
	Shards           []execution.ShardResult `json:"shards,omitempty"`
	// Plan is the shards as PlanShards left them ($.preflight.shards): their folders.
	Plan []execution.Shard `json:"plan,omitempty"`
}

// executionArn is the shape of a DataSync task execution ARN.
var executionArn = regexp.MustCompile(`^arn:aws[a-z-]*:datasync:[a-z0-9-]+:[0-9]{12}:task/task-[0-9a-z]+/execution/exec-[0-9a-z]+$`)

// Handle polls once. On error it returns exactly one of the failure types.
func (h *Handler) Handle(ctx context.Context, in Input) (*execution.Progress, error) {
	out, err := h.handle(ctx, in)
	if err != nil {
		return nil, awserror.Fail(ctx, "pollexecution", err, "taskExecutionArn", in.TaskExecutionArn)
	}
	slog.InfoContext(ctx, "task execution polled", "taskExecutionArn", out.TaskExecutionArn, "status", out.Status,
		"percentDone", out.PercentDone, "bytesTransferred", out.BytesTransferred, "nextWaitSeconds", out.NextWaitSeconds)
	return out, nil
}

func (h *Handler) handle(ctx context.Context, in Input) (*execution.Progress, error) {
	if !executionArn.MatchString(in.TaskExecutionArn) {
		v := &failure.ValidationError{}
		v.Add("taskExecutionArn", "must be a DataSync task execution ARN arn:aws:datasync:<region>:<account>:task/task-<id>/execution/exec-<id> as StartTask returns it (got %q)", in.TaskExecutionArn)
		return nil, v
	}
	if h.AccountID != "" && strings.Split(in.TaskExecutionArn, ":")[4] != h.AccountID {
		v := &failure.ValidationError{}
		v.Add("taskExecutionArn", "must be an execution in account %s, where dsmigrate runs (got %q)", h.AccountID, in.TaskExecutionArn)
		return nil, v
	}
	d, err := h.DataSync.DescribeTaskExecution(ctx, &datasync.DescribeTaskExecutionInput{TaskExecutionArn: aws.String(in.TaskExecutionArn)})
	if err != nil {
		return nil, awserror.Classify(err, awserror.Call{Action: "datasync:DescribeTaskExecution", Resource: in.TaskExecutionArn}, awserror.Precondition)
	}
	if d.Status == dstypes.TaskExecutionStatusError {
		return nil, transferFailed(in.TaskExecutionArn, d)
	}

	now := h.now()
	start := now
	switch {
	case d.StartTime != nil:
		start = *d.StartTime
	case in.Previous != nil:
		if t, err := time.Parse(time.RFC3339, in.Previous.StartTime); err == nil {
			start = t
		}
	}
	cur := waitpolicy.Observation{
		At: now, Start: start, Status: string(d.Status),
		BytesDone: d.BytesTransferred, BytesTotal: d.EstimatedBytesToTransfer,
		FilesDone: d.FilesTransferred, FilesTotal: d.EstimatedFilesToTransfer,
	}
	out := &execution.Progress{
		TaskExecutionArn:         in.TaskExecutionArn,
		Status:                   string(d.Status),
		Done:                     d.Status == dstypes.TaskExecutionStatusSuccess,
		FilesTransferred:         d.FilesTransferred,
		BytesTransferred:         d.BytesTransferred,
		EstimatedFilesToTransfer: d.EstimatedFilesToTransfer,
		EstimatedBytesToTransfer: d.EstimatedBytesToTransfer,
		FilesVerified:            d.FilesVerified,
		PercentDone:              percent(d),
		PolledAt:                 now.UTC().Format(time.RFC3339),
		StartTime:                start.UTC().Format(time.RFC3339),
		ElapsedSeconds:           int64(max(0, now.Sub(start)).Seconds()),
	}
	if d.TaskReportConfig != nil {
		out.ReportStatus = string(dstypes.PhaseStatusPending)
		if d.ReportResult != nil && d.ReportResult.Status != "" {
			out.ReportStatus = string(d.ReportResult.Status)
		}
		if out.Done && out.ReportStatus == string(dstypes.PhaseStatusPending) && !reportOverdue(d, now) {
			// The transfer is done and DataSync is still uploading the task report: wait
			// for it, so that the record links a report that is there and the config role
			// (which uploads it) is not deleted under it by cleanup.deleteResources.
			out.Done, out.NextWaitSeconds = false, reportPollSeconds
			return out, nil
		}
	}
	if !out.Done {
		wait := waitpolicy.Next(previous(in.Previous), cur)
		out.NextWaitSeconds = int64(math.Ceil(wait.Seconds()))
	}
	return out, nil
}

// A successful execution with a task report is done when DataSync's ReportResult is no
// longer PENDING (DescribeTaskExecution ReportResult: "Indicates whether DataSync created
// a complete task report for your transfer"), polled every reportPollSeconds, and at the
// latest reportWait after the execution ended: the migration does not hang on a report.
const (
	reportPollSeconds = 5
	reportWait        = 10 * time.Minute
)

func reportOverdue(d *datasync.DescribeTaskExecutionOutput, now time.Time) bool {
	return d.EndTime != nil && now.Sub(*d.EndTime) > reportWait
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// previous rebuilds the last observation from the previous poll output.
func previous(p *execution.Progress) *waitpolicy.Observation {
	if p == nil {
		return nil
	}
	at, err := time.Parse(time.RFC3339, p.PolledAt)
	if err != nil {
		return nil
	}
	start, err := time.Parse(time.RFC3339, p.StartTime)
	if err != nil {
		start = at
	}
	return &waitpolicy.Observation{
		At: at, Start: start, Status: p.Status,
		BytesDone: p.BytesTransferred, BytesTotal: p.EstimatedBytesToTransfer,
		FilesDone: p.FilesTransferred, FilesTotal: p.EstimatedFilesToTransfer,
	}
}

// percent is the progress in bytes, or in files when the byte estimate is unknown,
// rounded to 0.1; 100 on SUCCESS.
func percent(d *datasync.DescribeTaskExecutionOutput) float64 {
	var p float64
	switch {
	case d.Status == dstypes.TaskExecutionStatusSuccess:
		return 100
	case d.EstimatedBytesToTransfer > 0:
		p = 100 * float64(d.BytesTransferred) / float64(d.EstimatedBytesToTransfer)
	case d.EstimatedFilesToTransfer > 0:
		p = 100 * float64(d.FilesTransferred) / float64(d.EstimatedFilesToTransfer)
	}
	return math.Min(100, math.Round(p*10)/10)
}

// transferFailed carries DataSync's error code and detail, and the phase statuses.
func transferFailed(arn string, d *datasync.DescribeTaskExecutionOutput) error {
	e := &failure.TransferFailedError{TaskExecutionArn: arn}
	var phases []string
	if r := d.Result; r != nil {
		e.ErrorCode, e.ErrorDetail = aws.ToString(r.ErrorCode), aws.ToString(r.ErrorDetail)
		for _, p := range []struct {
			name   string
			status dstypes.PhaseStatus
		}{{"prepare", r.PrepareStatus}, {"transfer", r.TransferStatus}, {"verify", r.VerifyStatus}} {
			if p.status != "" {
				phases = append(phases, p.name+" "+string(p.status))
			}
		}
	}
	if d.FilesFailed != nil {
		f := d.FilesFailed
		if n := f.Prepare + f.Transfer + f.Verify + f.Delete; n > 0 {
			phases = append(phases, fmt.Sprintf("%d files failed", n))
		}
	}
	if len(phases) > 0 {
		e.ErrorDetail = strings.TrimSpace(e.ErrorDetail + " (" + strings.Join(phases, ", ") + ")")
	}
	return e
}
