package statemachine

// Function timeouts as the local driver reports them: the Lambda Runtime Interface
// Emulator's answer to a function that ran past its timeout (or whose runtime died) becomes
// Lambda.Unknown, as on AWS, and a Task that outlives its TimeoutSeconds fails with
// States.Timeout.

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// rieTimeout is the emulator's whole answer when it stopped a function at its timeout.
const rieTimeout = "Task timed out after 1.00 seconds"

// happyAnswers answers every function as in a successful migration.
func happyAnswers(t *testing.T) map[string][]func(map[string]any) (int, string) {
	t.Helper()
	success, err := json.Marshal(poll("SUCCESS", 30*time.Second, 1200, 12_000_000, 1200, 12_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]func(map[string]any) (int, string){
		"preflight":       {answer(200, string(fixture(t, "preflight.json")))},
		"createroles":     {answer(200, string(fixture(t, "createroles.json")))},
		"putbucketpolicy": {answer(200, string(fixture(t, "grant.json"))), answer(200, string(fixture(t, "revoke.json"))), explainAnswer},
		"createlocations": {answer(200, string(fixture(t, "createlocations.json")))},
		"starttask":       {answer(200, string(fixture(t, "starttask.json")))},
		"pollexecution":   {answer(200, string(success))},
	}
}

// serveRIE starts the fake emulator and returns the driver's endpoints for it.
func serveRIE(t *testing.T, rie *fakeRIE) map[string]string {
	t.Helper()
	if rie.payloads == nil {
		rie.payloads = map[string][]map[string]any{}
	}
	srv := httptest.NewServer(rie)
	t.Cleanup(srv.Close)
	endpoints := map[string]string{}
	arns := LocalFunctionArns("ap-northeast-1", "222222222222")
	for _, s := range Steps() {
		endpoints[arns[s.Placeholder]] = srv.URL + "/" + s.Dir + "/2015-03-31/functions/function/invocations"
	}
	return endpoints
}

func taskErrors(r result, state string) []string {
	var errs []string
	for _, e := range r.events {
		if e.Event == "TaskFailed" && e.State == state {
			errs = append(errs, e.Error)
		}
	}
	return errs
}

func TestScenarioFunctionTimeoutRetried(t *testing.T) {
	t.Parallel()
	crashed := `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: 1 Error: Runtime exited with error: signal: killed"}`
	answers := happyAnswers(t)
	answers["createlocations"] = append([]func(map[string]any) (int, string){answer(200, rieTimeout)}, answers["createlocations"]...)
	answers["pollexecution"] = append([]func(map[string]any) (int, string){answer(502, crashed)}, answers["pollexecution"]...)
	r := runDriver(t, fixture(t, "request.json"), nil, serveRIE(t, &fakeRIE{answers: answers}))
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0 (the retry absorbs one timeout); last event %+v", r.code, r.last())
	}
	for _, tt := range []struct{ state, want string }{
		{"CreateLocations", "timed out"},
		{"PollExecution", "Runtime exited with error: signal: killed"},
	} {
		if got := taskErrors(r, tt.state); !slices.Equal(got, []string{"Lambda.Unknown"}) {
			t.Errorf("%s failed with %v, want [Lambda.Unknown] (a function timeout or crash, as Step Functions reports it)", tt.state, got)
		}
		if got := r.count("TaskRetried", tt.state); got != 1 {
			t.Errorf("%s retried %d times, want 1", tt.state, got)
		}
	}
	for _, e := range r.events {
		if e.Event == "TaskFailed" && e.State == "CreateLocations" && !strings.Contains(e.Cause, rieTimeout) {
			t.Errorf("CreateLocations cause %q, want the function's payload %q in it", e.Cause, rieTimeout)
		}
	}
}

func TestScenarioFunctionTimesOutEveryTime(t *testing.T) {
	t.Parallel()
	answers := happyAnswers(t)
	answers["starttask"] = nil
	for range 10 {
		answers["starttask"] = append(answers["starttask"], answer(200, rieTimeout))
	}
	rie := &fakeRIE{answers: answers}
	r := runDriver(t, fixture(t, "request.json"), nil, serveRIE(t, rie))
	if r.code != 1 {
		t.Fatalf("exit code %d, want 1; last event %+v", r.code, r.last())
	}
	if got := r.last(); got.Error != "Lambda.Unknown" || !strings.Contains(got.Cause, rieTimeout) {
		t.Errorf("got %s: %q, want Lambda.Unknown with the function's timeout in the cause", got.Error, got.Cause)
	}
	m := load(t)
	var attempts int
	for _, rt := range m.States["StartTask"].Retry {
		if slices.Contains(rt.ErrorEquals, "Lambda.Unknown") {
			attempts = 1 + *rt.MaxAttempts
		}
	}
	if got := len(taskErrors(r, "StartTask")); attempts == 0 || got != attempts {
		t.Errorf("StartTask ran %d times, want %d (1 + the Lambda.Unknown retrier's MaxAttempts)", got, attempts)
	}
	if !slices.Contains(r.path(), "RevokeBucketPolicy") {
		t.Errorf("path %v, want the grant revoked", r.path())
	}
}

// TestScenarioTaskTimeoutSeconds runs a definition whose StartTask allows 1 second against
// a function that answers after 5: the Task fails with States.Timeout, which is not retried
// (the function may still be running), and the grant is revoked.
func TestScenarioTaskTimeoutSeconds(t *testing.T) {
	t.Parallel()
	var def map[string]any
	if err := json.Unmarshal(Definition(), &def); err != nil {
		t.Fatal(err)
	}
	def["States"].(map[string]any)["StartTask"].(map[string]any)["TimeoutSeconds"] = 1
	b, err := json.Marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	defPath := filepath.Join(t.TempDir(), "short-timeout.asl.json")
	if err := os.WriteFile(defPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	answers := happyAnswers(t)
	answers["starttask"] = []func(map[string]any) (int, string){func(map[string]any) (int, string) {
		time.Sleep(5 * time.Second)
		return 200, string(fixture(t, "starttask.json"))
	}}
	r := runDriverWith(t, driverOptions{waitScale: "0", definition: defPath}, fixture(t, "request.json"), nil, serveRIE(t, &fakeRIE{answers: answers}))
	if got := taskErrors(r, "StartTask"); !slices.Equal(got, []string{"States.Timeout"}) {
		t.Errorf("StartTask failed with %v, want [States.Timeout] once (not retried)", got)
	}
	if got := r.last(); r.code != 1 || got.Error != "States.Timeout" {
		t.Errorf("got exit %d, %s: %q, want the execution failed with States.Timeout", r.code, got.Error, got.Cause)
	}
	if !slices.Contains(r.path(), "RevokeBucketPolicy") {
		t.Errorf("path %v, want the grant revoked", r.path())
	}
}
