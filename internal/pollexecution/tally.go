package pollexecution

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// ModeTally is the mode of the TallyShards state.
const ModeTally = "tally"

// maxShardCause bounds what one failed shard's DataSync error adds to the
// ShardsFailedError message, so that 64 failed shards stay within Step Functions' 32,768
// characters for a cause (ExecutionFailedEventDetails, Step Functions API Reference).
const maxShardCause = 300

// cutEscaped cuts s (failure.Cut) so that it takes at most max bytes once JSON-escaped:
// the cause of a Lambda error is the function's error response as JSON (aws-lambda-go),
// where a quote takes two characters and a control character or <, >, & six.
func cutEscaped(s string, max int) string {
	for n := max; ; {
		c := failure.Cut(s, n)
		b, _ := json.Marshal(c)
		over := len(b) - 2 - max
		if over <= 0 {
			return c
		}
		if n -= over; n <= len("…") {
			return "…"
		}
	}
}

// Invoke is the function's entry point: mode tally adds up the shards (Tally), the default
// mode polls one execution (Handle).
func (h *Handler) Invoke(ctx context.Context, in Input) (*execution.Progress, error) {
	if in.Mode == ModeTally {
		return h.Tally(ctx, in)
	}
	return h.Handle(ctx, in)
}

// Tally adds up the results of the RunShards Map: the files and bytes of every shard, the
// earliest start and the last poll. When a shard failed, it returns a ShardsFailedError
// that names each failed shard with its folders, its error and, when DataSync ran it,
// DataSync's error code and detail (read again with DescribeTaskExecution: the Map's
// results keep only error names, to stay small).
func (h *Handler) Tally(ctx context.Context, in Input) (*execution.Progress, error) {
	out, err := h.tally(ctx, in.Shards, in.Plan)
	if err != nil {
		return nil, awserror.Fail(ctx, "pollexecution", err, "mode", ModeTally)
	}
	slog.InfoContext(ctx, "shards tallied", "shards", len(in.Shards), "filesTransferred", out.FilesTransferred,
		"bytesTransferred", out.BytesTransferred, "elapsedSeconds", out.ElapsedSeconds)
	return out, nil
}

func (h *Handler) tally(ctx context.Context, shards []execution.ShardResult, plan []execution.Shard) (*execution.Progress, error) {
	if len(shards) == 0 {
		v := &failure.ValidationError{}
		v.Add("shards", "must hold the results of the RunShards Map, one per shard (got none)")
		return nil, v
	}
	// Done, so 100 %, as PollExecution's percent gives on SUCCESS, also when the shards
	// copied nothing (an empty source).
	out := &execution.Progress{Status: execution.ShardSucceeded, Done: true, PercentDone: 100}
	var first, last time.Time
	var failed []string
	for _, s := range shards {
		out.FilesTransferred += s.FilesTransferred
		out.BytesTransferred += s.BytesTransferred
		out.FilesVerified += s.FilesVerified
		if t, err := time.Parse(time.RFC3339, s.StartTime); err == nil && (first.IsZero() || t.Before(first)) {
			first = t
		}
		if t, err := time.Parse(time.RFC3339, s.PolledAt); err == nil && t.After(last) {
			last = t
		}
		if s.Status == execution.ShardSucceeded || s.Status == execution.ShardSkipped {
			continue
		}
		name := s.Error
		if name == "" {
			name = "(no error recorded)"
		}
		line := fmt.Sprintf("shard %d (%s): %s", s.Index, cutEscaped(describe(s.Index, plan), 100), cutEscaped(name, 64))
		if detail := h.executionError(ctx, s.TaskExecutionArn); detail != "" {
			line += ": " + cutEscaped(detail, maxShardCause)
		}
		failed = append(failed, line)
	}
	out.EstimatedFilesToTransfer, out.EstimatedBytesToTransfer = out.FilesTransferred, out.BytesTransferred
	if !first.IsZero() {
		out.StartTime = first.UTC().Format(time.RFC3339)
		out.PolledAt = last.UTC().Format(time.RFC3339)
		out.ElapsedSeconds = int64(max(0, last.Sub(first)).Seconds())
	}
	if len(failed) > 0 {
		return nil, &failure.ShardsFailedError{Message: fmt.Sprintf(
			"%d of %d shards failed, after every shard had finished: %s. The other shards' data is copied. Fix what each error names (a shard's child execution in the RunShards Map Run shows its whole error), then start the migration again with the same migrationId: only the shards that did not succeed run again",
			len(failed), len(shards), strings.Join(failed, "; "))}
	}
	return out, nil
}

// executionError is DataSync's error code and detail of a failed shard's execution ("" when
// the shard failed before DataSync ran it, or the execution cannot be read).
func (h *Handler) executionError(ctx context.Context, arn string) string {
	if arn == "" || h.DataSync == nil {
		return ""
	}
	d, err := h.DataSync.DescribeTaskExecution(ctx, &datasync.DescribeTaskExecutionInput{TaskExecutionArn: aws.String(arn)})
	if err != nil {
		slog.WarnContext(ctx, "cannot read a failed shard's execution", "taskExecutionArn", arn, "error", err.Error())
		return ""
	}
	var tf *failure.TransferFailedError
	if errors.As(transferFailed(arn, d), &tf) && (tf.ErrorCode != "" || tf.ErrorDetail != "") {
		return fmt.Sprintf("DataSync execution %s ended %s: %s: %s", arn, d.Status, orUnknown(tf.ErrorCode), orUnknown(tf.ErrorDetail))
	}
	return fmt.Sprintf("DataSync execution %s is %s", arn, d.Status)
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// describe names a shard's part of the source: its folders, or "the rest".
func describe(index int, plan []execution.Shard) string {
	for _, s := range plan {
		if s.Index != index {
			continue
		}
		if s.Rest {
			return "everything outside the other shards' folders"
		}
		const shown = 3
		if len(s.Folders) > shown {
			return strings.Join(s.Folders[:shown], ", ") + fmt.Sprintf(" and %d more folders", len(s.Folders)-shown)
		}
		return strings.Join(s.Folders, ", ")
	}
	return "unknown folders"
}
