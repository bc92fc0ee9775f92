package awsrun

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

const (
	testMigrationSM = "arn:aws:states:ap-northeast-1:222222222222:stateMachine:dsmigrate"
	testBatchExec   = "arn:aws:states:ap-northeast-1:222222222222:execution:dsmigrate-batch:fleet-1"
)

func batchExecution(s types.ExecutionStatus) *sfn.DescribeExecutionOutput {
	d := status(s)
	d.ExecutionArn = aws.String(testBatchExec)
	d.StateMachineArn = aws.String(testMigrationSM + "-batch")
	d.Input = aws.String(`{"batchId":"fleet","migrations":[]}`)
	return d
}

// Watching a batch execution shows a table of its migrations (the children on the
// migration state machine named <batchId>_<migrationId>_<attempt>, the latest attempt of
// each) with status and files and bytes from each child's last poll; another batch's and
// an older attempt's executions are left out.
func TestWatchBatchChildren(t *testing.T) {
	running := batchExecution(types.ExecutionStatusRunning)
	h := &harness{fake: scripted([]*sfn.DescribeExecutionOutput{running, running, withEnd(batchExecution(types.ExecutionStatusSucceeded), "{}", "", "")}, nil, nil)}
	parentHistory := h.fake.history
	child := func(name string) string {
		return "arn:aws:states:ap-northeast-1:222222222222:execution:dsmigrate:" + name
	}
	children := map[string][]string{ // child ARN -> its polls, one per watch round
		child("fleet_a_1"): {poll(2, 10, "TRANSFERRING"), poll(10, 10, "SUCCESS")},
		child("fleet_b_2"): {poll(5, 8, "TRANSFERRING")},
	}
	round := map[string]int{}
	h.fake.history = func(in *sfn.GetExecutionHistoryInput) (*sfn.GetExecutionHistoryOutput, error) {
		arn := aws.ToString(in.ExecutionArn)
		if arn == testBatchExec {
			return parentHistory(in)
		}
		polls, ok := children[arn]
		if !ok {
			t.Errorf("history of %s read; it is not the latest attempt of a child of the batch", arn)
			return &sfn.GetExecutionHistoryOutput{}, nil
		}
		i := min(round[arn], len(polls)-1)
		round[arn]++
		return &sfn.GetExecutionHistoryOutput{Events: []types.HistoryEvent{
			{Id: 7, LambdaFunctionSucceededEventDetails: &types.LambdaFunctionSucceededEventDetails{Output: aws.String(polls[i])}}}}, nil
	}
	listed := 0
	h.fake.list = func(in *sfn.ListExecutionsInput) (*sfn.ListExecutionsOutput, error) {
		if got := aws.ToString(in.StateMachineArn); got != testMigrationSM {
			t.Errorf("ListExecutions: got state machine %q, want %q", got, testMigrationSM)
		}
		listed++
		a := types.ExecutionStatusRunning
		if listed > 1 {
			a = types.ExecutionStatusSucceeded
		}
		item := func(name string, s types.ExecutionStatus) types.ExecutionListItem {
			return types.ExecutionListItem{Name: aws.String(name), ExecutionArn: aws.String(child(name)), Status: s}
		}
		return &sfn.ListExecutionsOutput{Executions: []types.ExecutionListItem{ // newest first
			item("fleet_b_2", types.ExecutionStatusRunning),
			item("fleet_a_1", a),
			item("fleet_b_1", types.ExecutionStatusFailed),
			item("other_c_1", types.ExecutionStatusRunning),
			item("fleetx_d_1", types.ExecutionStatusRunning),
		}}, nil
	}
	if got := h.run(t, "", "watch", "--execution-arn", testBatchExec); got != ExitOK {
		t.Fatalf("exit code %d, stderr %s", got, h.stderr.String())
	}
	stderr := h.stderr.String()
	for _, want := range []string{
		"batch fleet: 2 started, 2 running, 0 succeeded, 0 failed\n",
		"migration  status   attempt  files  bytes",
		"a          RUNNING  1        2/10   0 B/0 B",
		"b          RUNNING  2        5/8    0 B/0 B",
		"batch fleet: 2 started, 1 running, 1 succeeded, 0 failed\n",
		"a          SUCCEEDED  1        10/10  0 B/0 B",
		"b          RUNNING    2        5/8    0 B/0 B",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr:\n%s\nwant %q", stderr, want)
		}
	}
	for _, gone := range []string{"other", "fleetx", "FAILED "} {
		if strings.Contains(stderr, gone) {
			t.Errorf("stderr:\n%s\nwant no %q", stderr, gone)
		}
	}
}
