package awsrun

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// stackWith answers DescribeStacks with a stack whose outputs are the given key/values.
func stackWith(kv ...string) func(*cloudformation.DescribeStacksInput) (*cloudformation.DescribeStacksOutput, error) {
	return func(in *cloudformation.DescribeStacksInput) (*cloudformation.DescribeStacksOutput, error) {
		st := cfntypes.Stack{StackName: in.StackName}
		for i := 0; i+1 < len(kv); i += 2 {
			st.Outputs = append(st.Outputs, cfntypes.Output{OutputKey: aws.String(kv[i]), OutputValue: aws.String(kv[i+1])})
		}
		return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{st}}, nil
	}
}

// executionsFake is a state machine with the given executions, newest first: name,
// input, status, output.
func executionsFake(t *testing.T, rows ...[4]string) *fakeSFN {
	arnOf := func(name string) string {
		return strings.Replace(testStateMachine, ":stateMachine:", ":execution:", 1) + ":" + name
	}
	return &fakeSFN{
		list: func(in *sfn.ListExecutionsInput) (*sfn.ListExecutionsOutput, error) {
			if aws.ToString(in.StateMachineArn) != testStateMachine {
				t.Errorf("ListExecutions of %s, want %s", aws.ToString(in.StateMachineArn), testStateMachine)
			}
			out := &sfn.ListExecutionsOutput{}
			for _, r := range rows {
				out.Executions = append(out.Executions, types.ExecutionListItem{ExecutionArn: aws.String(arnOf(r[0])), Name: aws.String(r[0])})
			}
			return out, nil
		},
		describe: func(in *sfn.DescribeExecutionInput) (*sfn.DescribeExecutionOutput, error) {
			for i, r := range rows {
				if arnOf(r[0]) == aws.ToString(in.ExecutionArn) {
					start := testNow.Add(-time.Duration(i+1) * time.Hour)
					d := &sfn.DescribeExecutionOutput{ExecutionArn: in.ExecutionArn, Name: aws.String(r[0]), Input: aws.String(r[1]),
						Status: types.ExecutionStatus(r[2]), StartDate: aws.Time(start)}
					if r[2] != "RUNNING" {
						d.StopDate = aws.Time(start.Add(90 * time.Second))
					}
					if r[3] != "" {
						d.Output = aws.String(r[3])
					}
					if r[2] == "FAILED" {
						d.Error, d.Cause = aws.String("PreconditionError"), aws.String(`{"errorType":"PreconditionError","errorMessage":"ACLs are enabled"}`)
					}
					return d, nil
				}
			}
			t.Fatalf("DescribeExecution of an unknown execution %s", aws.ToString(in.ExecutionArn))
			return nil, nil
		},
	}
}

var testRows = [][4]string{
	{"media-20261127T020000Z", `{"migrationId":"media"}`, "RUNNING", ""},
	{"logs-plan-20261127T010000Z", `{"migrationId":"logs","mode":"plan"}`, "SUCCEEDED", `{"mode":"plan"}`},
	{"logs-20261126T230000Z", `{"migrationId":"logs"}`, "SUCCEEDED", `{"transfer":{"filesTransferred":296,"bytesTransferred":135371571}}`},
	{"old-20261126T220000Z", `{"source":{}}`, "FAILED", ""},
}

func TestList(t *testing.T) {
	h := &harness{fake: executionsFake(t, testRows...), stacks: stackWith("AlertsTopicArn", "x", StateMachineOutput, testStateMachine)}
	if code := h.run(t, "", "list"); code != ExitOK {
		t.Fatalf("exit %d, want 0 (stderr %q)", code, h.stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(h.stdout.String()), "\n")
	want := []string{
		"MIGRATION             MODE     STATUS     FILES  BYTES      START (UTC)          DURATION",
		"media                 migrate  RUNNING    -      -          2026-11-27 02:23:06  1h0m0s",
		"logs                  plan     SUCCEEDED  -      -          2026-11-27 01:23:06  1m30s",
		"logs                  migrate  SUCCEEDED  296    135371571  2026-11-27 00:23:06  1m30s",
		// No migrationId in the request: the id Preflight derives from the execution name.
		"old-20261126t220000z  migrate  FAILED     -      -          2026-11-26 23:23:06  1m30s",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if h.stackCalls != 1 || len(h.clients) != 1 || h.clients[0] != "|ap-northeast-1" {
		t.Errorf("got %d DescribeStacks and clients %v, want 1 and the state machine's region", h.stackCalls, h.clients)
	}

	h = &harness{fake: executionsFake(t, testRows...)}
	if code := h.run(t, "", "list", "--state-machine-arn", testStateMachine, "--output", "json", "--max", "2"); code != ExitOK {
		t.Fatalf("json: exit %d (stderr %q)", code, h.stderr.String())
	}
	var got []Migration
	if err := json.Unmarshal(h.stdout.Bytes(), &got); err != nil || len(got) != 2 || got[1].Mode != "plan" || h.stackCalls != 0 {
		t.Errorf("json: got %+v (%v), %d stack calls; want 2 rows, no stack lookup", got, err, h.stackCalls)
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		id       string
		wantCode int
		wantOut  string
	}{
		{"media", ExitRunning, "migration media (migrate): RUNNING"},
		{"logs", ExitOK, "migration logs (plan): SUCCEEDED"},
		{"old-20261126t220000z", ExitFailed, "Cause: ACLs are enabled"},
		{"gone", ExitNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			h := &harness{fake: executionsFake(t, testRows...), stacks: stackWith(StateMachineOutput, testStateMachine)}
			if code := h.run(t, "", "status", tt.id, "--stack", "MyDsmigrate"); code != tt.wantCode {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.wantCode, h.stderr.String())
			}
			if !strings.Contains(h.stdout.String(), tt.wantOut) {
				t.Errorf("got %q, want %q", h.stdout.String(), tt.wantOut)
			}
		})
	}
}

func TestStackLookupFails(t *testing.T) {
	tests := []struct {
		name  string
		give  func(*cloudformation.DescribeStacksInput) (*cloudformation.DescribeStacksOutput, error)
		wantE string
	}{
		{"no stack", nil, "does not exist"},
		{"no output", stackWith("AlertsTopicArn", "x"), "has no output StateMachineArn"},
		{"not an ARN", stackWith(StateMachineOutput, "dsmigrate"), "not a state machine ARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &harness{fake: &fakeSFN{}, stacks: tt.give}
			if code := h.run(t, "", "start", "--input", "testdata/request-valid.json"); code != ExitAWS {
				t.Fatalf("exit %d, want %d", code, ExitAWS)
			}
			if !strings.Contains(h.stderr.String(), tt.wantE) || h.fake.calls != 0 {
				t.Errorf("stderr %q, %d SFN calls; want %q and none", h.stderr.String(), h.fake.calls, tt.wantE)
			}
		})
	}
}

func TestStartFindsTheStateMachine(t *testing.T) {
	var started *sfn.StartExecutionInput
	h := &harness{fake: &fakeSFN{start: func(in *sfn.StartExecutionInput) (*sfn.StartExecutionOutput, error) {
		started = in
		return &sfn.StartExecutionOutput{ExecutionArn: aws.String(testExecution)}, nil
	}}, stacks: stackWith(StateMachineOutput, testStateMachine)}
	if code := h.run(t, "", "start", "--input", "testdata/request-valid.json", "--region", "ap-northeast-1", "--profile", "b"); code != ExitOK {
		t.Fatalf("exit %d (stderr %q)", code, h.stderr.String())
	}
	if aws.ToString(started.StateMachineArn) != testStateMachine || h.stackRegions[0] != "b|ap-northeast-1" {
		t.Errorf("got %s via %v, want %s from the stack looked up with the profile and region", aws.ToString(started.StateMachineArn), h.stackRegions, testStateMachine)
	}
}

func TestWatchMigration(t *testing.T) {
	h := &harness{fake: executionsFake(t, testRows...), stacks: stackWith(StateMachineOutput, testStateMachine)}
	if code := h.run(t, "", "watch", "--migration-id", "logs", "--interval", "1s"); code != ExitOK {
		t.Fatalf("exit %d, want 0 (stderr %q)", code, h.stderr.String())
	}
	if !strings.Contains(h.stderr.String(), "following "+strings.Replace(testStateMachine, ":stateMachine:", ":execution:", 1)+":logs-plan-20261127T010000Z") {
		t.Errorf("stderr %q, want the latest execution of logs followed", h.stderr.String())
	}
	h = &harness{fake: executionsFake(t, testRows...), stacks: stackWith(StateMachineOutput, testStateMachine)}
	if code := h.run(t, "", "watch", "--migration-id", "gone"); code != ExitNotFound {
		t.Errorf("unknown migration: exit %d, want %d", code, ExitNotFound)
	}
	h = &harness{fake: &fakeSFN{}}
	if code := h.run(t, "", "watch", "--migration-id", "logs", "--execution-arn", testExecution); code != ExitUsage || h.stackCalls != 0 {
		t.Errorf("both: exit %d, %d stack calls, want %d and none", code, h.stackCalls, ExitUsage)
	}
}
