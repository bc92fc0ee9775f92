package awsrun

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
)

func entered(id int64, state string) types.HistoryEvent {
	return types.HistoryEvent{Id: id, Type: types.HistoryEventTypeTaskStateEntered, Timestamp: aws.Time(testNow),
		StateEnteredEventDetails: &types.StateEnteredEventDetails{Name: aws.String(state)}}
}

func exited(id int64, state, output string) types.HistoryEvent {
	return types.HistoryEvent{Id: id, Type: types.HistoryEventTypeTaskStateExited, Timestamp: aws.Time(testNow),
		StateExitedEventDetails: &types.StateExitedEventDetails{Name: aws.String(state), Output: aws.String(output)}}
}

func lambdaSucceeded(id int64, output string) types.HistoryEvent {
	return types.HistoryEvent{Id: id, Type: types.HistoryEventTypeLambdaFunctionSucceeded, Timestamp: aws.Time(testNow),
		LambdaFunctionSucceededEventDetails: &types.LambdaFunctionSucceededEventDetails{Output: aws.String(output)}}
}

func lambdaFailed(id int64, errName, cause string) types.HistoryEvent {
	return types.HistoryEvent{Id: id, Type: types.HistoryEventTypeLambdaFunctionFailed, Timestamp: aws.Time(testNow),
		LambdaFunctionFailedEventDetails: &types.LambdaFunctionFailedEventDetails{Error: aws.String(errName), Cause: aws.String(cause)}}
}

const (
	pollOutput = `{"taskExecutionArn":"arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123/execution/exec-0123",` +
		`"status":"TRANSFERRING","done":false,"filesTransferred":450,"bytesTransferred":4500000,` +
		`"estimatedFilesToTransfer":1200,"estimatedBytesToTransfer":12000000,"filesVerified":0,` +
		`"percentDone":37.5,"nextWaitSeconds":30,"polledAt":"2026-11-27T03:23:06Z","startTime":"2026-11-27T03:20:00Z","elapsedSeconds":186}`
	stateDocWithProgress = `{"request":{"migrationId":"media-2026-11"},"task":{"taskExecutionArn":"arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123/execution/exec-0123"},"progress":` + pollOutput + `}`
	wantProgressLine     = "TRANSFERRING  37.5%  450/1200 files  4.3 MiB/11.4 MiB  next poll in 30s"
	successOutput        = `{"migrationId":"media-2026-11","status":"SUCCESS","transfer":{"filesTransferred":1200}}`
	transferFailedCause  = `{"errorType":"TransferFailedError","errorMessage":"DataSync task execution arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123/execution/exec-0123 ended in ERROR: S3ObjectAccessDenied: Access denied"}`
)

// scripted returns a fake whose DescribeExecution answers describes in turn (the last
// one again when they run out) and whose GetExecutionHistory answers, newest first, the
// events of histories in turn (the last again); errs[i], when not nil, is the answer
// to the i-th DescribeExecution call instead.
func scripted(describes []*sfn.DescribeExecutionOutput, errs []error, histories [][]types.HistoryEvent) *fakeSFN {
	d, h := 0, 0
	return &fakeSFN{
		describe: func(in *sfn.DescribeExecutionInput) (*sfn.DescribeExecutionOutput, error) {
			i := min(d, len(describes)-1)
			d++
			if i < len(errs) && errs[i] != nil {
				return nil, errs[i]
			}
			return describes[i], nil
		},
		history: func(in *sfn.GetExecutionHistoryInput) (*sfn.GetExecutionHistoryOutput, error) {
			if !in.ReverseOrder {
				return nil, errors.New("want ReverseOrder")
			}
			if len(histories) == 0 {
				return &sfn.GetExecutionHistoryOutput{}, nil
			}
			evs := slices.Clone(histories[min(h, len(histories)-1)])
			h++
			slices.Reverse(evs)
			return &sfn.GetExecutionHistoryOutput{Events: evs}, nil
		},
	}
}

func status(s types.ExecutionStatus) *sfn.DescribeExecutionOutput {
	return &sfn.DescribeExecutionOutput{ExecutionArn: aws.String(testExecution), Status: s,
		StartDate: aws.Time(testNow), StopDate: aws.Time(testNow.Add(95 * time.Second))}
}

func withEnd(d *sfn.DescribeExecutionOutput, output, errName, cause string) *sfn.DescribeExecutionOutput {
	if output != "" {
		d.Output = aws.String(output)
	}
	if errName != "" {
		d.Error = aws.String(errName)
	}
	if cause != "" {
		d.Cause = aws.String(cause)
	}
	return d
}

func TestWatch(t *testing.T) {
	running := status(types.ExecutionStatusRunning)
	early := []types.HistoryEvent{entered(2, "Start"), entered(4, "Preflight")}
	polling := append(slices.Clone(early),
		entered(10, "CreateLocations"),
		lambdaFailed(12, "NotReadyError", `{"errorType":"NotReadyError","errorMessage":"role dsmigrate-media-2026-11-transfer is not usable yet"}`),
		entered(20, "PollExecution"), lambdaSucceeded(22, pollOutput), exited(23, "PollExecution", stateDocWithProgress),
		entered(24, "CheckProgress"), exited(25, "CheckProgress", stateDocWithProgress), entered(26, "WaitForTransfer"))
	tests := []struct {
		name         string
		describes    []*sfn.DescribeExecutionOutput
		errs         []error // per DescribeExecution call
		failAll      error   // every DescribeExecution call fails with it
		histories    [][]types.HistoryEvent
		want         int
		wantStdout   string
		wantStderr   []string
		unwantStderr []string
		wantCalls    int // DescribeExecution + GetExecutionHistory; 0: not checked
	}{
		{
			name:       "running then succeeded prints the output",
			describes:  []*sfn.DescribeExecutionOutput{running, running, withEnd(status(types.ExecutionStatusSucceeded), successOutput, "", "")},
			histories:  [][]types.HistoryEvent{early, polling, append(slices.Clone(polling), entered(30, "Summarize"))},
			want:       ExitOK,
			wantStdout: "{\n  \"migrationId\": \"media-2026-11\",\n  \"status\": \"SUCCESS\",\n  \"transfer\": {\n    \"filesTransferred\": 1200\n  }\n}\n",
			wantStderr: []string{"▶ Preflight", "▶ WaitForTransfer", "▶ Summarize", "✔ SUCCEEDED after 1m35s",
				"✗ CreateLocations: NotReadyError: role dsmigrate-media-2026-11-transfer is not usable yet"},
			wantCalls: 6,
		},
		{
			name:       "progress line from the state output, once per poll",
			describes:  []*sfn.DescribeExecutionOutput{running, withEnd(status(types.ExecutionStatusSucceeded), successOutput, "", "")},
			histories:  [][]types.HistoryEvent{polling},
			want:       ExitOK,
			wantStderr: []string{"03:23:06    " + wantProgressLine + "\n"},
		},
		{
			name:         "failed prints the unwrapped Error and Cause",
			describes:    []*sfn.DescribeExecutionOutput{running, withEnd(status(types.ExecutionStatusFailed), "", "TransferFailedError", transferFailedCause)},
			histories:    [][]types.HistoryEvent{polling},
			want:         ExitFailed,
			wantStderr:   []string{"✘ FAILED", "\nError: TransferFailedError\nCause: DataSync task execution arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123/execution/exec-0123 ended in ERROR: S3ObjectAccessDenied: Access denied\n", "What to do: read ErrorCode"},
			unwantStderr: []string{`"errorType"`, `errorMessage`},
		},
		{
			name:       "failed with a cause of another error type names it",
			describes:  []*sfn.DescribeExecutionOutput{withEnd(status(types.ExecutionStatusFailed), "", "States.TaskFailed", `{"errorType":"Runtime.ExitError","errorMessage":"exit status 2"}`)},
			want:       ExitFailed,
			wantStderr: []string{"\nError: States.TaskFailed\nCause (Runtime.ExitError): exit status 2\n"},
		},
		{
			name:       "timed out, plain cause",
			describes:  []*sfn.DescribeExecutionOutput{withEnd(status(types.ExecutionStatusTimedOut), "", "States.Timeout", "The execution timed out")},
			want:       ExitFailed,
			wantStderr: []string{"✘ TIMED_OUT", "\nError: States.Timeout\nCause: The execution timed out\n"},
		},
		{
			name:       "aborted without error or cause",
			describes:  []*sfn.DescribeExecutionOutput{status(types.ExecutionStatusAborted)},
			want:       ExitFailed,
			wantStderr: []string{"✘ ABORTED", "\nError: (none)\nCause: (none)\n"},
		},
		{
			name:       "passing DescribeExecution errors are tolerated",
			describes:  []*sfn.DescribeExecutionOutput{nil, nil, withEnd(status(types.ExecutionStatusSucceeded), "{}", "", "")},
			errs:       []error{errors.New("connection reset"), errors.New("connection reset")},
			want:       ExitOK,
			wantStdout: "{}\n",
			wantStderr: []string{"DescribeExecution failed (1 of 5): connection reset", "(2 of 5)"},
		},
		{
			name:       "no such execution ends the watch at once",
			failAll:    &types.ExecutionDoesNotExist{Message: aws.String("Execution Does Not Exist")},
			want:       ExitAWS,
			wantStderr: []string{"ExecutionDoesNotExist", "dsmigrate watch --execution-arn " + testExecution},
			wantCalls:  1,
		},
		{
			name:       "lasting DescribeExecution errors end the watch",
			failAll:    errors.New("no route to host"),
			want:       ExitAWS,
			wantStderr: []string{"dsmigrate: DescribeExecution: no route to host"},
			wantCalls:  maxPollFailures,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &harness{fake: scripted(tt.describes, tt.errs, tt.histories)}
			if tt.failAll != nil {
				h.fake.describe = func(*sfn.DescribeExecutionInput) (*sfn.DescribeExecutionOutput, error) {
					return nil, tt.failAll
				}
			}
			got := h.run(t, "", "watch", "--execution-arn", testExecution)
			if got != tt.want {
				t.Errorf("exit code: got %d, want %d (stderr %q)", got, tt.want, h.stderr.String())
			}
			if tt.wantStdout != "" || tt.want != ExitOK {
				if g := h.stdout.String(); g != tt.wantStdout {
					t.Errorf("stdout: got %q, want %q", g, tt.wantStdout)
				}
			}
			stderr := h.stderr.String()
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr: got\n%s\nwant it to contain %q", stderr, w)
				}
			}
			for _, w := range tt.unwantStderr {
				if strings.Contains(stderr, w) {
					t.Errorf("stderr: got\n%s\nwant it not to contain %q", stderr, w)
				}
			}
			if n := strings.Count(stderr, "▶ Preflight"); len(tt.histories) > 0 && n != 1 {
				t.Errorf("Preflight shown: got %d times, want once", n)
			}
			if n := strings.Count(stderr, wantProgressLine); len(tt.histories) > 0 && slices.ContainsFunc(tt.histories, func(h []types.HistoryEvent) bool { return len(h) > len(early) }) && n != 1 {
				t.Errorf("progress line shown: got %d times, want once", n)
			}
			if tt.wantCalls > 0 && h.fake.calls != tt.wantCalls {
				t.Errorf("SFN calls: got %d, want %d", h.fake.calls, tt.wantCalls)
			}
		})
	}
}

func TestWatchBackoff(t *testing.T) {
	running := status(types.ExecutionStatusRunning)
	done := status(types.ExecutionStatusSucceeded)
	waiting := func(next int) []types.HistoryEvent {
		out := strings.Replace(stateDocWithProgress, `"nextWaitSeconds":30`, `"nextWaitSeconds":`+strconv.Itoa(next), 1)
		return []types.HistoryEvent{entered(20, "PollExecution"), exited(23, "PollExecution", out), entered(26, "WaitForTransfer")}
	}
	tests := []struct {
		name      string
		args      []string
		histories [][]types.HistoryEvent
		want      []time.Duration
	}{
		{
			name:      "nothing changes: 5s doubling to 60s",
			histories: [][]types.HistoryEvent{{entered(4, "Preflight")}},
			want:      []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute},
		},
		{
			name:      "a longer --interval is the floor and may exceed 60s",
			args:      []string{"--interval", "90s"},
			histories: [][]types.HistoryEvent{{entered(4, "Preflight")}},
			want:      []time.Duration{90 * time.Second, 90 * time.Second, 90 * time.Second, 90 * time.Second, 90 * time.Second, 90 * time.Second},
		},
		{
			name:      "waiting for DataSync: aimed at polledAt + nextWaitSeconds",
			histories: [][]types.HistoryEvent{waiting(30)},
			// polledAt is testNow; the clock stays there: 30 s + 3 s each time
			want: []time.Duration{33 * time.Second, 33 * time.Second, 33 * time.Second, 33 * time.Second, 33 * time.Second, 33 * time.Second},
		},
		{
			name:      "waiting long: at most 60s",
			histories: [][]types.HistoryEvent{waiting(600)},
			want:      []time.Duration{time.Minute, time.Minute, time.Minute, time.Minute, time.Minute, time.Minute},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			describes := []*sfn.DescribeExecutionOutput{running, running, running, running, running, running, done}
			h := &harness{fake: scripted(describes, nil, tt.histories)}
			args := append([]string{"watch", "--execution-arn", testExecution}, tt.args...)
			if code := h.run(t, "", args...); code != ExitOK {
				t.Fatalf("exit code: got %d, want %d (stderr %q)", code, ExitOK, h.stderr.String())
			}
			if !slices.Equal(h.sleeps, tt.want) {
				t.Errorf("pauses: got %v, want %v", h.sleeps, tt.want)
			}
		})
	}
}

func TestStartWatch(t *testing.T) {
	fake := scripted([]*sfn.DescribeExecutionOutput{withEnd(status(types.ExecutionStatusSucceeded), successOutput, "", "")}, nil, nil)
	fake.start = func(in *sfn.StartExecutionInput) (*sfn.StartExecutionOutput, error) {
		return &sfn.StartExecutionOutput{ExecutionArn: aws.String(testExecution)}, nil
	}
	h := &harness{fake: fake}
	code := h.run(t, "", "start", "--state-machine-arn", testStateMachine, "--input", "testdata/request-valid.json", "--watch")
	if code != ExitOK {
		t.Fatalf("exit code: got %d, want %d (stderr %q)", code, ExitOK, h.stderr.String())
	}
	if g := h.stdout.String(); !strings.HasPrefix(g, "{\n") || strings.Contains(g, testExecution) {
		t.Errorf("stdout: got %q, want only the output JSON", g)
	}
	if want := "started " + testExecution + "\n"; !strings.Contains(h.stderr.String(), want) {
		t.Errorf("stderr: got %q, want it to contain %q", h.stderr.String(), want)
	}
}

func TestWatchRefusesBadFlags(t *testing.T) {
	tests := []struct {
		name string
		give []string
		want string
	}{
		{name: "missing ARN", give: nil, want: "give --execution-arn, or --migration-id"},
		{name: "state machine ARN", give: []string{"--execution-arn", testStateMachine}, want: "is not an execution ARN"},
		{name: "other region", give: []string{"--execution-arn", testExecution, "--region", "eu-west-1"}, want: "differs from the ARN's region"},
		{name: "zero interval", give: []string{"--execution-arn", testExecution, "--interval", "0s"}, want: "--interval must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &harness{fake: &fakeSFN{}}
			if got := h.run(t, "", append([]string{"watch"}, tt.give...)...); got != ExitUsage {
				t.Errorf("exit code: got %d, want %d", got, ExitUsage)
			}
			if h.fake.calls != 0 {
				t.Errorf("SFN calls: got %d, want 0", h.fake.calls)
			}
			if !strings.Contains(h.stderr.String(), tt.want) {
				t.Errorf("stderr: got %q, want it to contain %q", h.stderr.String(), tt.want)
			}
		})
	}
}

// TestProgressLine checks the line watch prints for the outputs it meets in the history.
func TestProgressLine(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string // ProgressLine, "" for none
	}{
		{name: "state document", give: stateDocWithProgress, want: wantProgressLine},
		{name: "the task's own output", give: pollOutput, want: wantProgressLine},
		{name: "before the first poll", give: `{"request":{},"progress":null}`},
		{name: "another state's output", give: `{"taskArn":"arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123"}`},
		{name: "not JSON", give: `{`},
		{name: "empty", give: ``},
		{
			name: "done",
			give: `{"progress":{"taskExecutionArn":"x","status":"SUCCESS","done":true,"filesTransferred":1200,"bytesTransferred":12000000,"estimatedFilesToTransfer":1200,"estimatedBytesToTransfer":12000000,"filesVerified":1200,"percentDone":100,"nextWaitSeconds":0}}`,
			want: "SUCCESS  100.0%  1200/1200 files  11.4 MiB/11.4 MiB  1200 verified",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := execution.ProgressOf([]byte(tt.give))
			got := ""
			if p != nil {
				got = ProgressLine(p)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEveryErrorNameHasAHint(t *testing.T) {
	for _, name := range failure.Names {
		if hints[name] == "" {
			t.Errorf("hints[%q]: got none, want one line", name)
		}
	}
}
