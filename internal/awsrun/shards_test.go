package awsrun

import (
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

const testMapRun = "arn:aws:states:ap-northeast-1:222222222222:mapRun:dsmigrate/Shards:0123"

func poll(files, estimated int64, status string) string {
	return `{"taskExecutionArn":"arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123/execution/exec-0123","status":"` + status +
		`","filesTransferred":` + itoa(files) + `,"estimatedFilesToTransfer":` + itoa(estimated) + `,"polledAt":"2026-11-27T03:23:06Z"}`
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A sharded migration's shards run as child executions of a Map Run: watch lists them and
// adds up their last polls in one line.
func TestWatchShards(t *testing.T) {
	running := status(types.ExecutionStatusRunning)
	parent := []types.HistoryEvent{entered(2, "Start"), entered(10, "RunShards"),
		{Id: 11, Type: types.HistoryEventTypeMapRunStarted, MapRunStartedEventDetails: &types.MapRunStartedEventDetails{MapRunArn: aws.String(testMapRun)}}}
	h := &harness{fake: scripted([]*sfn.DescribeExecutionOutput{running, running, withEnd(status(types.ExecutionStatusSucceeded), "{}", "", "")}, nil, [][]types.HistoryEvent{parent})}
	parentHistory := h.fake.history
	children := map[string][]string{ // child ARN -> its polls, one per watch round
		testExecution + "-shard-0": {poll(2, 10, "TRANSFERRING"), poll(10, 10, "SUCCESS")},
		testExecution + "-shard-1": {poll(5, 8, "TRANSFERRING"), poll(6, 8, "TRANSFERRING")},
	}
	round := map[string]int{}
	h.fake.history = func(in *sfn.GetExecutionHistoryInput) (*sfn.GetExecutionHistoryOutput, error) {
		polls, ok := children[aws.ToString(in.ExecutionArn)]
		if !ok {
			return parentHistory(in)
		}
		i := min(round[aws.ToString(in.ExecutionArn)], len(polls)-1)
		round[aws.ToString(in.ExecutionArn)]++
		return &sfn.GetExecutionHistoryOutput{Events: []types.HistoryEvent{
			{Id: 7, LambdaFunctionSucceededEventDetails: &types.LambdaFunctionSucceededEventDetails{Output: aws.String(polls[i])}},
			entered(5, "PollShard"),
		}}, nil
	}
	listed := 0
	h.fake.list = func(in *sfn.ListExecutionsInput) (*sfn.ListExecutionsOutput, error) {
		if aws.ToString(in.MapRunArn) != testMapRun {
			t.Errorf("ListExecutions: got map run %q, want %q", aws.ToString(in.MapRunArn), testMapRun)
		}
		listed++
		first := types.ExecutionStatusRunning
		if listed > 1 {
			first = types.ExecutionStatusSucceeded
		}
		return &sfn.ListExecutionsOutput{Executions: []types.ExecutionListItem{
			{ExecutionArn: aws.String(testExecution + "-shard-0"), Status: first},
			{ExecutionArn: aws.String(testExecution + "-shard-1"), Status: types.ExecutionStatusRunning},
		}}, nil
	}
	if got := h.run(t, "", "watch", "--execution-arn", testExecution); got != ExitOK {
		t.Fatalf("exit code %d, stderr %s", got, h.stderr.String())
	}
	stderr := h.stderr.String()
	for _, want := range []string{
		"shards run as child executions of Map Run " + testMapRun,
		"shards: 2 running, 0 succeeded, 0 failed  7/18 files",
		"shards: 1 running, 1 succeeded, 0 failed  16/18 files",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr:\n%s\nwant %q", stderr, want)
		}
	}
}
