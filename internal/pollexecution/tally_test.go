package pollexecution

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// describer answers DescribeTaskExecution from a table of executions.
type describer map[string]*datasync.DescribeTaskExecutionOutput

func (d describer) DescribeTaskExecution(_ context.Context, in *datasync.DescribeTaskExecutionInput, _ ...func(*datasync.Options)) (*datasync.DescribeTaskExecutionOutput, error) {
	out, ok := d[aws.ToString(in.TaskExecutionArn)]
	if !ok {
		return nil, errors.New("no such execution")
	}
	return out, nil
}

var plan = []execution.Shard{
	{Index: 0, Folders: []string{"2024/"}}, {Index: 1, Folders: []string{"2025/"}},
	{Index: 2, Folders: []string{"a/", "b/", "c/", "d/"}}, {Index: 3, Rest: true},
}

func TestTallyAddsUpTheShards(t *testing.T) {
	out, err := (&Handler{}).Invoke(context.Background(), Input{Mode: ModeTally, Plan: plan, Shards: []execution.ShardResult{
		{Index: 0, Status: "SUCCESS", FilesTransferred: 3, BytesTransferred: 300, FilesVerified: 3, StartTime: "2026-12-01T10:00:10Z", PolledAt: "2026-12-01T10:05:00Z"},
		{Index: 1, Status: "SUCCESS", FilesTransferred: 4, BytesTransferred: 4000, FilesVerified: 4, StartTime: "2026-12-01T10:00:00Z", PolledAt: "2026-12-01T10:03:00Z"},
		{Index: 2, Status: "SKIPPED"},
		{Index: 3, Status: "SUCCESS"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FilesTransferred != 7 || out.BytesTransferred != 4300 || out.FilesVerified != 7 || out.EstimatedBytesToTransfer != 4300 ||
		out.StartTime != "2026-12-01T10:00:00Z" || out.PolledAt != "2026-12-01T10:05:00Z" || out.ElapsedSeconds != 300 ||
		out.Status != "SUCCESS" || !out.Done || out.PercentDone != 100 {
		t.Errorf("got %+v, want the sums, the earliest start, the last poll and SUCCESS", out)
	}
}

func TestTallyFailsNamingEveryFailedShard(t *testing.T) {
	const exec1 = "arn:aws:datasync:ap-northeast-1:222222222222:task/task-1/execution/exec-1"
	h := &Handler{DataSync: describer{exec1: {Status: dstypes.TaskExecutionStatusError,
		Result: &dstypes.TaskExecutionResultDetail{ErrorCode: aws.String("S3AccessDenied"), ErrorDetail: aws.String("cannot read 2025/x")}}}}
	_, err := h.Tally(context.Background(), Input{Mode: ModeTally, Plan: plan, Shards: []execution.ShardResult{
		{Index: 0, Status: "SUCCESS", FilesTransferred: 1},
		{Index: 1, Status: "FAILED", Error: "TransferFailedError", TaskExecutionArn: exec1},
		{Index: 2, Status: "FAILED", Error: "PermissionError"},
		{Index: 3, Status: "SUCCESS"},
	}})
	var sf *failure.ShardsFailedError
	if !errors.As(err, &sf) {
		t.Fatalf("got %v, want a ShardsFailedError", err)
	}
	for _, want := range []string{"2 of 4 shards failed",
		"shard 1 (2025/): TransferFailedError: DataSync execution " + exec1 + " ended ERROR: S3AccessDenied: cannot read 2025/x",
		"; shard 2 (a/, b/, c/ and 1 more folders): PermissionError. The other", "same migrationId"} {
		if !strings.Contains(sf.Message, want) {
			t.Errorf("got %q, want %q in it", sf.Message, want)
		}
	}
	if strings.Contains(sf.Message, "shard 0") || strings.Contains(sf.Message, "shard 3") {
		t.Errorf("got %q, want only the failed shards", sf.Message)
	}
}

// Every shard of the largest migration failing with a long error still fits Step
// Functions' 32,768 characters for a cause. The cause of a Lambda error is the function's
// error response as JSON (aws-lambda-go), in which quotes, backslashes, control characters
// and <, >, & of DataSync's error text are escaped, some to six characters.
func TestTallyCauseFitsTheLimit(t *testing.T) {
	for name, detail := range map[string]string{
		"long":                      strings.Repeat("é", 5000),
		"quoted":                    strings.Repeat(`"x"`, 2000),
		"escaped to six characters": strings.Repeat("<\x01>&", 2000),
	} {
		t.Run(name, func(t *testing.T) {
			d := describer{}
			var shards []execution.ShardResult
			var big []execution.Shard
			for i := range 64 {
				arn := "arn:aws-us-gov:datasync:us-gov-west-1:222222222222:task/task-0123456789abcdef0/execution/exec-" + strings.Repeat("0", 17) + string(rune('a'+i%26))
				d[arn] = &datasync.DescribeTaskExecutionOutput{Status: dstypes.TaskExecutionStatusError,
					Result: &dstypes.TaskExecutionResultDetail{ErrorCode: aws.String(strings.Repeat(`C"`, 250)), ErrorDetail: aws.String(detail)}}
				shards = append(shards, execution.ShardResult{Index: i, Status: "FAILED", Error: strings.Repeat(`E"`, 128), TaskExecutionArn: arn})
				big = append(big, execution.Shard{Index: i, Folders: []string{strings.Repeat("x", 1023) + "/", "b/", "c/", "d/"}})
			}
			_, err := (&Handler{DataSync: d}).tally(context.Background(), shards, big)
			cause, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": "ShardsFailedError"})
			if n := utf8.RuneCount(cause); n > 32768 {
				t.Errorf("got a cause of %d characters, want at most 32,768", n)
			}
			if !strings.Contains(err.Error(), "shard 63 (") {
				t.Errorf("got %q, want every failed shard named", err.Error())
			}
		})
	}
}

func TestTallyRefusesNoShards(t *testing.T) {
	_, err := (&Handler{}).Tally(context.Background(), Input{Mode: ModeTally})
	var v *failure.ValidationError
	if !errors.As(err, &v) || v.Fields[0].Field != "shards" {
		t.Errorf("got %v, want a ValidationError naming shards", err)
	}
}

func TestCutEscaped(t *testing.T) {
	tests := []struct {
		give string
		max  int
	}{
		{strings.Repeat("a", 500), 64},
		{strings.Repeat(`"`, 500), 64},
		{strings.Repeat("<", 500), 64},
		{strings.Repeat("\x01", 500), 5},
		{"short", 64},
		{strings.Repeat("a", 64), 64},
		{strings.Repeat(`"`, 32), 64},
	}
	for _, tt := range tests {
		got := cutEscaped(tt.give, tt.max)
		b, _ := json.Marshal(got)
		if len(b)-2 > tt.max || !utf8.ValidString(got) || (len(tt.give) <= tt.max && got != tt.give) {
			t.Errorf("cutEscaped(%.10q…, %d) = %q (%d bytes escaped), want at most %d", tt.give, tt.max, got, len(b)-2, tt.max)
		}
	}
}

// A failed shard's line gives DataSync's error code and detail, "(unknown)" for the one
// DataSync left empty, and the execution's status alone when it gave neither.
func TestTallyNamesWhatDataSyncGave(t *testing.T) {
	arn := func(i int) string {
		return fmt.Sprintf("arn:aws:datasync:ap-northeast-1:222222222222:task/task-%d/execution/exec-%d", i, i)
	}
	d := describer{
		arn(0): {Status: dstypes.TaskExecutionStatusError, Result: &dstypes.TaskExecutionResultDetail{ErrorCode: aws.String("S3AccessDenied")}},
		arn(1): {Status: dstypes.TaskExecutionStatusError, Result: &dstypes.TaskExecutionResultDetail{ErrorDetail: aws.String("cannot read 2025/x")}},
		arn(2): {Status: dstypes.TaskExecutionStatusError},
	}
	var shards []execution.ShardResult
	for i := range 3 {
		shards = append(shards, execution.ShardResult{Index: i, Status: "FAILED", Error: "TransferFailedError", TaskExecutionArn: arn(i)})
	}
	_, err := (&Handler{DataSync: d}).Tally(context.Background(), Input{Mode: ModeTally, Plan: plan, Shards: shards})
	for _, want := range []string{
		"DataSync execution " + arn(0) + " ended ERROR: S3AccessDenied: (unknown)",
		"DataSync execution " + arn(1) + " ended ERROR: (unknown): cannot read 2025/x",
		"DataSync execution " + arn(2) + " is ERROR",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q in it", err, want)
		}
	}
}

// A shard is described by its folders, up to three by name.
func TestDescribeNamesUpToThreeFolders(t *testing.T) {
	for _, tt := range []struct {
		folders []string
		want    string
	}{
		{[]string{"a/", "b/", "c/"}, "a/, b/, c/"},
		{[]string{"a/", "b/", "c/", "d/", "e/"}, "a/, b/, c/ and 2 more folders"},
	} {
		if got := describe(7, []execution.Shard{{Index: 7, Folders: tt.folders}}); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

// A sharded migration whose shards copied nothing (an empty source) is 100 % done, as an
// unsharded one is (percent: 100 on SUCCESS).
func TestTallyOfNothingCopiedIsDone(t *testing.T) {
	out, err := (&Handler{}).Tally(context.Background(), Input{Mode: ModeTally, Plan: plan, Shards: []execution.ShardResult{
		{Index: 0, Status: "SUCCESS", StartTime: "2026-12-01T10:00:00Z", PolledAt: "2026-12-01T10:01:00Z"},
		{Index: 1, Status: "SKIPPED"},
	}})
	if err != nil || !out.Done || out.PercentDone != 100 || out.FilesTransferred != 0 || out.BytesTransferred != 0 {
		t.Errorf("got %+v %v, want done, 100 %%, nothing transferred", out, err)
	}
}
