package statemachine

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/failure"
)

type retrier struct {
	ErrorEquals     []string
	IntervalSeconds *float64
	MaxAttempts     *int
	BackoffRate     *float64
	MaxDelaySeconds *float64
	JitterStrategy  string
}

type catcher struct {
	ErrorEquals []string
	ResultPath  string
	Next        string
}

type state struct {
	Type           string
	Resource       string
	Parameters     map[string]any
	ResultPath     *string
	TimeoutSeconds int
	Retry          []retrier
	Catch          []catcher
	Next           string
	SecondsPath    string
	ErrorPath      string
	CausePath      string
	// ItemProcessor is a Map state's iteration (RunShards).
	ItemProcessor *machine
}

type machine struct {
	StartAt string
	States  map[string]state
}

// load reads the definition. The states of a Map's iteration are added to States beside
// the top level's (state names are unique across both), so that the rules every state
// must follow are checked on them too.
func load(t *testing.T) machine {
	t.Helper()
	var m machine
	if err := json.Unmarshal(Definition(), &m); err != nil {
		t.Fatalf("%s is not valid JSON: %v", FileName, err)
	}
	for name, s := range m.States {
		if s.ItemProcessor == nil {
			continue
		}
		for inner, is := range s.ItemProcessor.States {
			if _, dup := m.States[inner]; dup {
				t.Fatalf("state %s of %s's iteration has the name of another state", inner, name)
			}
			m.States[inner] = is
		}
	}
	return m
}

// tasks are the Task states that run a step Lambda (the Publish* states, of the optimized
// EventBridge integration, are checked in events_test.go).
func (m machine) tasks() []string {
	var names []string
	for name, s := range m.States {
		if s.Type == "Task" && s.Resource != putEventsResource {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// The Lambda service errors AWS recommends retrying for Lambda tasks, and
// Lambda.TooManyRequestsException, Lambda's throttling ("Handle Lambda service exceptions",
// https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
var lambdaServiceErrors = []string{
	"Lambda.ServiceException",
	"Lambda.AWSLambdaException",
	"Lambda.SdkClientException",
	"Lambda.ClientExecutionTimeoutException",
	"Lambda.TooManyRequestsException",
}

// lambdaUnknown is how Step Functions reports an error Lambda gives no type for: the
// function's timeout and out-of-memory among them (the same page).
const lambdaUnknown = "Lambda.Unknown"

var statesErrors = []string{
	"States.ALL", "States.HeartbeatTimeout", "States.Timeout", "States.TaskFailed", "States.Permissions",
	"States.ResultPathMatchFailure", "States.ParameterPathFailure", "States.BranchFailed",
	"States.NoChoiceMatched", "States.IntrinsicFailure", "States.Runtime",
}

func TestErrorNamesAreKnown(t *testing.T) {
	m := load(t)
	seen := map[string]bool{}
	for name, s := range m.States {
		var lists [][]string
		for _, r := range s.Retry {
			lists = append(lists, r.ErrorEquals)
		}
		for _, c := range s.Catch {
			lists = append(lists, c.ErrorEquals)
		}
		for _, list := range lists {
			if len(list) == 0 {
				t.Errorf("%s: empty ErrorEquals", name)
			}
			for _, e := range list {
				seen[e] = true
				switch {
				case strings.HasPrefix(e, "States."):
					if !slices.Contains(statesErrors, e) {
						t.Errorf("%s: %q is not a Step Functions error name", name, e)
					}
				case strings.HasPrefix(e, "Lambda."):
					if !slices.Contains(lambdaServiceErrors, e) && e != lambdaUnknown {
						t.Errorf("%s: %q is not one of the Lambda service errors %v", name, e, lambdaServiceErrors)
					}
				case !slices.Contains(failure.Names, e):
					t.Errorf("%s: %q is neither States.*, Lambda.* nor an error type of internal/failure (failure.Names)", name, e)
				}
			}
		}
	}
	for _, e := range failure.Names {
		if !seen[e] {
			t.Errorf("error %q of internal/failure is handled by no Retry or Catch", e)
		}
	}
}

func TestRetryPolicy(t *testing.T) {
	m := load(t)
	neverRetried := []string{"States.ALL", "States.TaskFailed", "ValidationError", "PreconditionError", "PermissionError", "TransferFailedError"}
	notReadyStates := []string{"CreateLocations", "PutBucketPolicy"}
	for _, name := range m.tasks() {
		s := m.States[name]
		t.Run(name, func(t *testing.T) {
			byError := map[string]retrier{}
			for _, r := range s.Retry {
				for _, e := range r.ErrorEquals {
					if slices.Contains(neverRetried, e) {
						t.Errorf("retries %s", e)
					}
					if _, dup := byError[e]; dup {
						t.Errorf("%s is in two retriers", e)
					}
					byError[e] = r
				}
			}
			for _, e := range append(slices.Clone(lambdaServiceErrors), "TransientError", lambdaUnknown) {
				r, ok := byError[e]
				if !ok {
					t.Errorf("does not retry %s", e)
					continue
				}
				if r.JitterStrategy != "FULL" || r.MaxDelaySeconds == nil || r.BackoffRate == nil || *r.BackoffRate <= 1 || r.MaxAttempts == nil {
					t.Errorf("%s: got %+v, want backoff > 1, MaxAttempts, MaxDelaySeconds and JitterStrategy FULL", e, r)
				}
			}
			// A function that timed out may have used its whole timeout on each attempt, and
			// running out of memory repeats: fewer attempts than for a service error.
			if u, svc := byError[lambdaUnknown], byError["Lambda.ServiceException"]; u.MaxAttempts != nil && svc.MaxAttempts != nil {
				if len(u.ErrorEquals) != 1 || *u.MaxAttempts >= *svc.MaxAttempts || *u.MaxAttempts < 2 {
					t.Errorf("%s: got %+v, want a retrier of its own with at least 2 and fewer attempts than Lambda.ServiceException (%d)", lambdaUnknown, u, *svc.MaxAttempts)
				}
			}
			r, ok := byError["NotReadyError"]
			if want := slices.Contains(notReadyStates, name); ok != want {
				t.Fatalf("retries NotReadyError: got %v, want %v", ok, want)
			}
			if ok {
				total := totalRetryDelay(r)
				if total < 150 || total > 240 {
					t.Errorf("NotReadyError is retried for %.0f s in all, want about 3 minutes (150..240 s)", total)
				}
			}
			if s.TimeoutSeconds <= 0 {
				t.Errorf("no TimeoutSeconds")
			}
			if len(s.Catch) == 0 || !slices.Contains(s.Catch[len(s.Catch)-1].ErrorEquals, "States.ALL") {
				t.Errorf("the last catcher does not catch States.ALL: a failure would skip cleanup")
			}
		})
	}
}

// totalRetryDelay is the longest time a retrier waits over all its attempts (no jitter).
func totalRetryDelay(r retrier) float64 {
	interval, backoff, attempts := 1.0, 2.0, 3
	if r.IntervalSeconds != nil {
		interval = *r.IntervalSeconds
	}
	if r.BackoffRate != nil {
		backoff = *r.BackoffRate
	}
	if r.MaxAttempts != nil {
		attempts = *r.MaxAttempts
	}
	total, d := 0.0, interval
	for range attempts {
		if r.MaxDelaySeconds != nil {
			d = min(d, *r.MaxDelaySeconds)
		}
		total += d
		d *= backoff
	}
	return total
}

// Failures before the bucket policy may have changed go straight to ReportFailure; every later
// failure passes RevokeBucketPolicy first. PutBucketPolicy's own ValidationError,
// PreconditionError and PermissionError are raised before or instead of its single
// PutBucketPolicy call, so the policy is unchanged and there is nothing to revoke.
func TestCatchRouting(t *testing.T) {
	m := load(t)
	tests := []struct {
		state string
		want  map[string]string // error name -> Next
	}{
		{"Preflight", map[string]string{"States.ALL": "ReportFailure"}},
		{"CreateRoles", map[string]string{"States.ALL": "ReportFailure"}},
		{"PutBucketPolicy", map[string]string{"ValidationError": "ReportFailure", "PreconditionError": "ReportFailure", "PermissionError": "ReportFailure", "States.ALL": "RevokeBucketPolicy"}},
		{"CreateLocations", map[string]string{"States.ALL": "RevokeBucketPolicy"}},
		{"StartTask", map[string]string{"States.ALL": "RevokeBucketPolicy"}},
		{"PollExecution", map[string]string{"TransferFailedError": "RevokeBucketPolicy", "States.ALL": "RevokeBucketPolicy"}},
		{"PlanShards", map[string]string{"States.ALL": "RevokeBucketPolicy"}},
		// A shard's iteration catches everything: one shard's failure does not stop the others.
		{"StartShardTask", map[string]string{"States.ALL": "ShardNotStarted"}},
		{"PollShard", map[string]string{"States.ALL": "ShardFailed"}},
		{"TallyShards", map[string]string{"ShardsFailedError": "RevokeBucketPolicy", "States.ALL": "RevokeBucketPolicy"}},
		{"RevokeBucketPolicy", map[string]string{"States.ALL": "AfterCleanup"}},
		{"ExplainFailure", map[string]string{"States.ALL": "ReportFailure"}},
		// A teardown changes nothing before RevokeLeftoverGrant, and that only removes:
		// every failure is reported as it is.
		{"TeardownCheck", map[string]string{"MigrationRunningError": "ReportFailure", "States.ALL": "ReportFailure"}},
		{"RevokeLeftoverGrant", map[string]string{"States.ALL": "ReportFailure"}},
		{"DeleteResources", map[string]string{"MigrationRunningError": "ReportFailure", "States.ALL": "ReportFailure"}},
		{"DeleteMigrationResources", map[string]string{"MigrationRunningError": "ReportFailure", "States.ALL": "ReportFailure"}},
		// A plan changes nothing, so there is nothing to revoke: every error ends it.
		{"PlanPreflight", map[string]string{"States.ALL": "ReportFailure"}},
		{"PlanRoles", map[string]string{"States.ALL": "ReportFailure"}},
		{"PlanLocations", map[string]string{"States.ALL": "ReportFailure"}},
		{"PlanTask", map[string]string{"States.ALL": "ReportFailure"}},
		// The data is copied, or the execution fails anyway: a record that cannot be
		// written changes neither outcome.
		{"WriteRecord", map[string]string{"States.ALL": "ChooseSummary"}},
		{"WriteFailureRecord", map[string]string{"States.ALL": "PublishFailed"}},
	}
	var tested []string
	for _, tt := range tests {
		tested = append(tested, tt.state)
		s, ok := m.States[tt.state]
		if !ok {
			t.Errorf("no state %s", tt.state)
			continue
		}
		got := map[string]string{}
		for _, c := range s.Catch {
			for _, e := range c.ErrorEquals {
				got[e] = c.Next
			}
			wantPath := "$.failure"
			switch tt.state {
			case "RevokeBucketPolicy":
				wantPath = "$.revoke" // never overwrite the original failure
			case "ExplainFailure":
				wantPath = "$.explainError" // the failure is then reported as it was
			case "WriteRecord":
				wantPath = "$.record" // the summary shows the record's error
			case "WriteFailureRecord":
				wantPath = "" // null: the failure document keeps its room
			}
			if c.ResultPath != wantPath {
				t.Errorf("%s: catcher %v has ResultPath %q, want %q", tt.state, c.ErrorEquals, c.ResultPath, wantPath)
			}
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("%s: Catch routes %v, want %v", tt.state, got, tt.want)
		}
	}
	slices.Sort(tested)
	if got := m.tasks(); !slices.Equal(got, tested) {
		t.Errorf("Task states %v, tested %v", got, tested)
	}
	for _, name := range []string{"Failed", "FailedWithoutCause"} {
		s := m.States[name]
		if s.Type != "Fail" || s.ErrorPath != "$.failure.Error" {
			t.Errorf("%s: got %+v, want a Fail state with ErrorPath $.failure.Error", name, s)
		}
	}
	if got := m.States["Failed"].CausePath; got != "$.failure.Cause" {
		t.Errorf("Failed CausePath %q, want $.failure.Cause", got)
	}
	for name, s := range m.States {
		if s.Type == "Fail" && name != "Failed" && name != "FailedWithoutCause" {
			t.Errorf("Fail state %s: every failure must be reported by Failed or FailedWithoutCause", name)
		}
	}
}

// Each Task gets the input the contract gives its function, and stores the output where
// the state document says.
func TestTaskInputsAndOutputs(t *testing.T) {
	m := load(t)
	tests := []struct {
		state      string
		resource   string
		parameters map[string]any
		resultPath string
	}{
		{"Preflight", "${PreflightFunctionArn}", map[string]any{"request.$": "$.request", "executionName.$": "$.execution.name"}, "$.preflight"},
		{"CreateRoles", "${CreateRolesFunctionArn}", map[string]any{"request.$": "$.preflight.request"}, "$.roles"},
		{"PutBucketPolicy", "${PutBucketPolicyFunctionArn}", map[string]any{"mode": "grant", "request.$": "$.preflight.request", "roles.$": "$.roles"}, "$.grant"},
		{"CreateLocations", "${CreateLocationsFunctionArn}", map[string]any{"request.$": "$.preflight.request", "roles.$": "$.roles"}, "$.locations"},
		{"StartTask", "${StartTaskFunctionArn}", map[string]any{"request.$": "$.preflight.request", "locations.$": "$.locations"}, "$.task"},
		{"PollExecution", "${PollExecutionFunctionArn}", map[string]any{"taskExecutionArn.$": "$.task.taskExecutionArn", "previous.$": "$.progress"}, "$.progress"},
		{"RevokeBucketPolicy", "${PutBucketPolicyFunctionArn}", map[string]any{"mode": "revoke", "request.$": "$.preflight.request", "grant.$": "$.grant"}, "$.revoke"},
		{"ExplainFailure", "${PutBucketPolicyFunctionArn}", map[string]any{"mode": "explain", "document.$": "$", "executionArn.$": "$$.Execution.Id"}, "$.failure"},
	}
	for _, tt := range tests {
		s := m.States[tt.state]
		if s.Resource != tt.resource {
			t.Errorf("%s: Resource %q, want %q", tt.state, s.Resource, tt.resource)
		}
		if !maps.Equal(s.Parameters, tt.parameters) {
			t.Errorf("%s: Parameters %v, want %v", tt.state, s.Parameters, tt.parameters)
		}
		if s.ResultPath == nil || *s.ResultPath != tt.resultPath {
			t.Errorf("%s: ResultPath %v, want %s", tt.state, s.ResultPath, tt.resultPath)
		}
	}
	if got := m.States["WaitForTransfer"].SecondsPath; got != "$.progress.nextWaitSeconds" {
		t.Errorf("WaitForTransfer SecondsPath %q, want $.progress.nextWaitSeconds", got)
	}
}
