package pollexecution

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
)

func shardResult(i int, status string, files, bytes int64, start, polled string) execution.ShardResult {
	r := execution.ShardResult{
		Shard:  execution.PlannedShard{Shard: execution.Shard{Index: i, Folders: []string{"f" + string(rune('0'+i)) + "/"}}},
		Status: status,
		Task:   &execution.Task{TaskArn: "task-" + string(rune('0'+i)), TaskExecutionArn: "exec-" + string(rune('0'+i))},
	}
	if status == execution.ShardSucceeded {
		r.Progress = &execution.Progress{Status: "SUCCESS", Done: true, FilesTransferred: files, BytesTransferred: bytes,
			EstimatedFilesToTransfer: files, EstimatedBytesToTransfer: bytes, FilesVerified: files, StartTime: start, PolledAt: polled}
	}
	return r
}

func TestTallyAddsUpTheShards(t *testing.T) {
	skipped := execution.ShardResult{Shard: execution.PlannedShard{Shard: execution.Shard{Index: 2, Rest: true}, TaskArn: "task-2", LastExecutionArn: "exec-old"},
		Status: execution.ShardSkipped}
	out, err := (&Handler{}).Invoke(context.Background(), Input{Mode: ModeTally, Shards: []execution.ShardResult{
		shardResult(0, execution.ShardSucceeded, 3, 300, "2026-12-01T10:00:10Z", "2026-12-01T10:05:00Z"),
		shardResult(1, execution.ShardSucceeded, 4, 4000, "2026-12-01T10:00:00Z", "2026-12-01T10:03:00Z"),
		skipped,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FilesTransferred != 7 || out.BytesTransferred != 4300 || out.FilesVerified != 7 || out.EstimatedBytesToTransfer != 4300 ||
		out.StartTime != "2026-12-01T10:00:00Z" || out.PolledAt != "2026-12-01T10:05:00Z" || out.ElapsedSeconds != 300 ||
		out.Status != "SUCCESS" || !out.Done || out.PercentDone != 100 {
		t.Errorf("got %+v, want the sums, the earliest start, the last poll and SUCCESS", out)
	}
	if len(out.Shards) != 3 || out.Shards[1].BytesTransferred != 4000 || out.Shards[2].Status != "SKIPPED" || out.Shards[2].TaskExecutionArn != "exec-old" {
		t.Errorf("got shards %+v, want one line each, the skipped one with its earlier execution", out.Shards)
	}
}

func TestTallyFailsNamingEveryFailedShard(t *testing.T) {
	bad := shardResult(1, execution.ShardFailed, 0, 0, "", "")
	bad.Failure = &execution.Failure{Error: "TransferFailedError", Cause: `{"errorType":"TransferFailedError","errorMessage":"DataSync task execution exec-1 ended in ERROR: S3AccessDenied"}`}
	worse := shardResult(3, execution.ShardFailed, 0, 0, "", "")
	worse.Failure = &execution.Failure{Error: "States.Timeout", Cause: ""}
	_, err := (&Handler{}).Tally(context.Background(), Input{Mode: ModeTally, Shards: []execution.ShardResult{
		shardResult(0, execution.ShardSucceeded, 1, 1, "2026-12-01T10:00:00Z", "2026-12-01T10:01:00Z"), bad,
		shardResult(2, execution.ShardSucceeded, 1, 1, "2026-12-01T10:00:00Z", "2026-12-01T10:01:00Z"), worse,
	}})
	var sf *failure.ShardsFailedError
	if !errors.As(err, &sf) {
		t.Fatalf("got %v, want a ShardsFailedError", err)
	}
	for _, want := range []string{"2 of 4 shards failed", "shard 1 (f1/): TransferFailedError: DataSync task execution exec-1 ended in ERROR: S3AccessDenied",
		"shard 3 (f3/): States.Timeout", "same migrationId"} {
		if !strings.Contains(sf.Message, want) {
			t.Errorf("got %q, want %q in it", sf.Message, want)
		}
	}
	if strings.Contains(sf.Message, "shard 0") || strings.Contains(sf.Message, "errorType") {
		t.Errorf("got %q, want only the failed shards, with their messages unwrapped", sf.Message)
	}
}

// Every shard of the largest migration failing with a long error still fits Step
// Functions' 32,768 characters for a cause.
func TestTallyCauseFitsTheLimit(t *testing.T) {
	var shards []execution.ShardResult
	for i := range 64 {
		r := shardResult(i, execution.ShardFailed, 0, 0, "", "")
		r.Shard.Folders = []string{strings.Repeat("x", 1023) + "/", "b/", "c/", "d/"}
		r.Failure = &execution.Failure{Error: strings.Repeat("E", 100), Cause: strings.Repeat("é", 5000)}
		shards = append(shards, r)
	}
	_, err := tally(shards)
	if n := utf8.RuneCountInString(err.Error()); n > 32768 {
		t.Errorf("got a cause of %d characters, want at most 32,768", n)
	}
}

func TestTallyRefusesNoShards(t *testing.T) {
	_, err := (&Handler{}).Tally(context.Background(), Input{Mode: ModeTally})
	var v *failure.ValidationError
	if !errors.As(err, &v) || v.Fields[0].Field != "shards" {
		t.Errorf("got %v, want a ValidationError naming shards", err)
	}
}
