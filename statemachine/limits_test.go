package statemachine

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// grantWith is the grant fixture with policy texts of the given sizes (bytes).
func bucketPolicyResult(t *testing.T, name string, beforeBytes, afterBytes int) json.RawMessage {
	t.Helper()
	var g map[string]any
	if err := json.Unmarshal(fixture(t, name), &g); err != nil {
		t.Fatal(err)
	}
	g["policyBefore"] = strings.Repeat("b", beforeBytes)
	g["policyAfter"] = strings.Repeat("a", afterBytes)
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestScenarioDataLimitExceeded: the driver enforces Step Functions' 256 KiB quota on a
// task's result and on a state's output (input and output "256 KiB of data as a UTF-8
// encoded string", Step Functions service quotas). Beyond it the state fails with
// States.DataLimitExceeded, which the definition's States.ALL catchers do not catch
// ("Handling errors in Step Functions workflows"): the execution fails at that state,
// without the revoke or the explanation.
func TestScenarioDataLimitExceeded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		grant, revoke  [2]int // policyBefore, policyAfter bytes
		wantState      string // "" = succeeds
		wantCause      string
		wantNotEntered []string
	}{
		{name: "a task result over the quota", grant: [2]int{1000, 270_000}, revoke: [2]int{10, 10},
			wantState: "PutBucketPolicy", wantCause: "returned a result with a size exceeding the maximum number of bytes service limit",
			wantNotEntered: []string{"CreateLocations", "RevokeBucketPolicy", "ExplainFailure"}},
		{name: "results under the quota, the document over it", grant: [2]int{135_000, 10}, revoke: [2]int{10, 135_000},
			wantState: "RevokeBucketPolicy", wantCause: "has an output of",
			wantNotEntered: []string{"AfterCleanup", "Summarize", "ExplainFailure"}},
		{name: "the document just under the quota", grant: [2]int{125_000, 10}, revoke: [2]int{10, 125_000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mocks := happyMocks(t)
			mocks["PutBucketPolicy"] = []mock{ok(t, bucketPolicyResult(t, "grant.json", tt.grant[0], tt.grant[1]))}
			mocks["RevokeBucketPolicy"] = []mock{ok(t, bucketPolicyResult(t, "revoke.json", tt.revoke[0], tt.revoke[1]))}
			r := runDriver(t, fixture(t, "request.json"), mocks, nil)
			if tt.wantState == "" {
				checkPath(t, r, successPath)
				if r.code != 0 {
					t.Errorf("exit code %d, want 0; last event %+v", r.code, r.last())
				}
				return
			}
			checkFailed(t, r, "States.DataLimitExceeded", tt.wantCause)
			if got := r.path(); got[len(got)-1] != tt.wantState {
				t.Errorf("path %v, want it to end at %s", got, tt.wantState)
			}
			for _, s := range tt.wantNotEntered {
				if slices.Contains(r.path(), s) {
					t.Errorf("path %v enters %s, want the execution to end at %s (States.ALL does not catch States.DataLimitExceeded)", r.path(), s, tt.wantState)
				}
			}
		})
	}
}

// TestScenarioCauseTooLong: Step Functions keeps at most 32,768 characters of an error's
// cause (TaskFailedEventDetails, AWS Step Functions API Reference); what it does with a
// longer one is not documented, so the driver stops the run (exit code 2) rather than
// pass a cause AWS would not.
func TestScenarioCauseTooLong(t *testing.T) {
	t.Parallel()
	for _, n := range []int{32768, 32769} {
		mocks := happyMocks(t)
		mocks["PollExecution"] = []mock{fails("TransferFailedError", strings.Repeat("c", n))}
		r := runDriverWith(t, driverOptions{waitScale: "0", driverError: true}, fixture(t, "request.json"), mocks, nil)
		switch {
		case n <= 32768 && r.code != 1:
			t.Errorf("cause of %d characters: exit code %d (%s), want 1: the execution fails with it", n, r.code, r.stderr)
		case n > 32768 && (r.code != 2 || !strings.Contains(r.stderr, "a cause of 32769 characters; Step Functions keeps at most 32768")):
			t.Errorf("cause of %d characters: exit code %d, stderr %q, want 2 naming the limit", n, r.code, r.stderr)
		}
	}
}
