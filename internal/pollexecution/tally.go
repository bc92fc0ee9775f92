package pollexecution

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// ModeTally is the mode of the TallyShards state.
const ModeTally = "tally"

// maxShardCause bounds what one failed shard adds to the ShardsFailedError message, so
// that 64 failed shards stay within Step Functions' 32,768 characters for a cause
// (ExecutionFailedEventDetails, Step Functions API Reference).
const maxShardCause = 300

// Invoke is the function's entry point: mode tally adds up the shards (Tally), the default
// mode polls one execution (Handle).
func (h *Handler) Invoke(ctx context.Context, in Input) (*execution.Progress, error) {
	if in.Mode == ModeTally {
		return h.Tally(ctx, in)
	}
	return h.Handle(ctx, in)
}

// Tally adds up the results of the RunShards Map: the files and bytes of every shard, the
// earliest start and the last poll, and one line per shard. When a shard failed, it
// returns a ShardsFailedError that names each failed shard with its error, once every
// shard has finished. It calls nothing.
func (h *Handler) Tally(ctx context.Context, in Input) (*execution.Progress, error) {
	out, err := tally(in.Shards)
	if err != nil {
		return nil, awserror.Fail(ctx, "pollexecution", err, "mode", ModeTally)
	}
	slog.InfoContext(ctx, "shards tallied", "shards", len(out.Shards), "filesTransferred", out.FilesTransferred,
		"bytesTransferred", out.BytesTransferred, "elapsedSeconds", out.ElapsedSeconds)
	return out, nil
}

func tally(shards []execution.ShardResult) (*execution.Progress, error) {
	if len(shards) == 0 {
		v := &failure.ValidationError{}
		v.Add("shards", "must hold the results of the RunShards Map, one per shard (got none)")
		return nil, v
	}
	out := &execution.Progress{Status: execution.ShardSucceeded, Done: true}
	var first, last time.Time
	var failed []string
	for _, s := range shards {
		line := execution.ShardProgress{Index: s.Shard.Index, Folders: s.Shard.Folders, Rest: s.Shard.Rest, Status: s.Status}
		if s.Task != nil {
			line.TaskArn, line.TaskExecutionArn = s.Task.TaskArn, s.Task.TaskExecutionArn
		}
		if s.Status == execution.ShardSkipped {
			line.TaskArn, line.TaskExecutionArn = s.Shard.TaskArn, s.Shard.LastExecutionArn
		}
		if p := s.Progress; p != nil {
			line.FilesTransferred, line.BytesTransferred = p.FilesTransferred, p.BytesTransferred
			out.FilesTransferred += p.FilesTransferred
			out.BytesTransferred += p.BytesTransferred
			out.FilesVerified += p.FilesVerified
			out.EstimatedFilesToTransfer += p.EstimatedFilesToTransfer
			out.EstimatedBytesToTransfer += p.EstimatedBytesToTransfer
			if t, err := time.Parse(time.RFC3339, p.StartTime); err == nil && (first.IsZero() || t.Before(first)) {
				first = t
			}
			if t, err := time.Parse(time.RFC3339, p.PolledAt); err == nil && t.After(last) {
				last = t
			}
		}
		if s.Status != execution.ShardSucceeded && s.Status != execution.ShardSkipped {
			f := execution.Failure{Error: "(no error recorded)"}
			if s.Failure != nil {
				f = *s.Failure
			}
			line.Error = f.Error
			failed = append(failed, fmt.Sprintf("shard %d (%s): %s: %s", s.Shard.Index, failure.Cut(describe(s.Shard.Shard), 100), failure.Cut(f.Error, 64),
				failure.Cut(strings.TrimSpace(f.Message()), maxShardCause)))
		}
		out.Shards = append(out.Shards, line)
	}
	if !first.IsZero() {
		out.StartTime = first.UTC().Format(time.RFC3339)
		out.PolledAt = last.UTC().Format(time.RFC3339)
		out.ElapsedSeconds = int64(max(0, last.Sub(first)).Seconds())
	}
	if out.EstimatedBytesToTransfer > 0 {
		out.PercentDone = 100
	}
	if len(failed) > 0 {
		return nil, &failure.ShardsFailedError{Message: fmt.Sprintf(
			"%d of %d shards failed, after every shard had finished: %s. The other shards' data is copied. Fix what each error names, then start the migration again with the same migrationId: only the shards that did not succeed run again",
			len(failed), len(shards), strings.Join(failed, "; "))}
	}
	return out, nil
}

// describe names a shard's part of the source: its folders, or "the rest".
func describe(s execution.Shard) string {
	if s.Rest {
		return "everything outside the other shards' folders"
	}
	const shown = 3
	if len(s.Folders) > shown {
		return strings.Join(s.Folders[:shown], ", ") + fmt.Sprintf(" and %d more folders", len(s.Folders)-shown)
	}
	return strings.Join(s.Folders, ", ")
}
