package awsrun

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
)

func TestPlanCommand(t *testing.T) {
	ready := execution.Plan{Mode: "plan", MigrationID: "media-2026-11",
		Roles:              []execution.PlannedResource{{Kind: "role", Name: "dsmigrate-media-2026-11-transfer", Action: "create", Reason: "new"}},
		SourceBucketPolicy: execution.PolicyPlan{Bucket: "team-a-media", Action: "update", LimitBytes: 20480}}
	blocked := ready
	blocked.Blockers = []string{"source bucket team-a-media has Object Ownership \"ObjectWriter\""}
	tests := []struct {
		name     string
		plan     execution.Plan
		status   types.ExecutionStatus
		args     []string
		wantCode int
		wantOut  string
	}{
		{name: "ready, text", plan: ready, status: types.ExecutionStatusSucceeded, wantCode: ExitOK, wantOut: "+ role dsmigrate-media-2026-11-transfer"},
		{name: "blocked", plan: blocked, status: types.ExecutionStatusSucceeded, wantCode: ExitPlanBlocked, wantOut: "! source bucket team-a-media has Object Ownership"},
		{name: "json", plan: ready, status: types.ExecutionStatusSucceeded, args: []string{"--output", "json"}, wantCode: ExitOK, wantOut: `"mode": "plan"`},
		{name: "the plan failed", plan: ready, status: types.ExecutionStatusFailed, wantCode: ExitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := json.Marshal(tt.plan)
			var started *sfn.StartExecutionInput
			h := &harness{fake: &fakeSFN{
				start: func(in *sfn.StartExecutionInput) (*sfn.StartExecutionOutput, error) {
					started = in
					return &sfn.StartExecutionOutput{ExecutionArn: aws.String(testExecution), StartDate: aws.Time(testNow)}, nil
				},
				describe: func(*sfn.DescribeExecutionInput) (*sfn.DescribeExecutionOutput, error) {
					return &sfn.DescribeExecutionOutput{Status: tt.status, Output: aws.String(string(out)), Error: aws.String("PreconditionError"), Cause: aws.String("x")}, nil
				},
			}}
			args := append([]string{"plan", "--state-machine-arn", testStateMachine, "--input", "testdata/request-valid.json"}, tt.args...)
			if code := h.run(t, "", args...); code != tt.wantCode {
				t.Fatalf("exit code: got %d, want %d (stderr %q)", code, tt.wantCode, h.stderr.String())
			}
			var input map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(started.Input)), &input); err != nil || input["mode"] != "plan" || input["migrationId"] != "media-2026-11" {
				t.Errorf("started with %s, want the request with mode plan", aws.ToString(started.Input))
			}
			if g := aws.ToString(started.Name); g != "media-2026-11-plan-20261127T032306Z" {
				t.Errorf("Name: got %q, want media-2026-11-plan-20261127T032306Z", g)
			}
			if !strings.Contains(h.stdout.String(), tt.wantOut) {
				t.Errorf("stdout: got %q, want it to contain %q", h.stdout.String(), tt.wantOut)
			}
		})
	}
}

func TestPlanRefusesWithoutCallingAWS(t *testing.T) {
	for _, args := range [][]string{
		{"plan", "--state-machine-arn", testStateMachine},
		{"plan", "--state-machine-arn", testStateMachine, "--input", "testdata/request-valid.json", "--output", "yaml"},
		{"plan", "--state-machine-arn", testStateMachine, "--input", "-"},
	} {
		h := &harness{fake: &fakeSFN{}}
		if code := h.run(t, `["not an object"]`, args...); code != ExitUsage || h.fake.calls != 0 {
			t.Errorf("%v: got exit %d and %d calls, want %d and none (stderr %q)", args, code, h.fake.calls, ExitUsage, h.stderr.String())
		}
	}
}
