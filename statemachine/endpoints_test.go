package statemachine

// The driver's --lambda-endpoints mode, against a fake of the Lambda Runtime Interface
// Emulator: what each function receives, and how error answers become error names.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeRIE serves one invocation URL per function and answers from per-function scripts.
type fakeRIE struct {
	mu       sync.Mutex
	answers  map[string][]func(payload map[string]any) (int, string)
	payloads map[string][]map[string]any
}

func (f *fakeRIE) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// /<function dir>/2015-03-31/functions/function/invocations
	fn, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	body, _ := io.ReadAll(r.Body)
	var payload map[string]any
	if err := json.Unmarshal(body, &payload); err != nil {
		http.Error(w, "payload is not a JSON object", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.payloads[fn] = append(f.payloads[fn], payload)
	var answer func(map[string]any) (int, string)
	if list := f.answers[fn]; len(list) > 0 {
		answer, f.answers[fn] = list[0], list[1:]
	}
	f.mu.Unlock()
	if answer == nil {
		http.Error(w, "no answer scripted for "+fn, http.StatusInternalServerError)
		return
	}
	code, text := answer(payload)
	w.WriteHeader(code)
	io.WriteString(w, text)
}

func answer(code int, text string) func(map[string]any) (int, string) {
	return func(map[string]any) (int, string) { return code, text }
}

// explainAnswer answers ExplainFailure with the failure of the document it received, its
// cause prefixed with "explained: ".
func explainAnswer(payload map[string]any) (int, string) {
	f, _ := lookup(payload, "document.failure").(map[string]any)
	if f == nil || payload["mode"] != "explain" {
		return 500, "want mode explain with document.failure"
	}
	b, _ := json.Marshal(map[string]any{"Error": f["Error"], "Cause": "explained: " + fmt.Sprint(f["Cause"])})
	return 200, string(b)
}

func TestDriverLambdaEndpoints(t *testing.T) {
	t.Parallel()
	rie := &fakeRIE{payloads: map[string][]map[string]any{}}
	rie.answers = map[string][]func(map[string]any) (int, string){
		"preflight": {answer(200, string(fixture(t, "preflight.json")))},
		"createroles": {
			answer(502, "bad gateway"), // the Lambda service failed: Lambda.ServiceException, retried
			answer(200, string(fixture(t, "createroles.json"))),
		},
		"putbucketpolicy": {
			answer(200, string(fixture(t, "grant.json"))),
			answer(200, string(fixture(t, "revoke.json"))),
			explainAnswer,
		},
		"createlocations": {
			answer(200, `{"errorType":"NotReadyError","errorMessage":"DataSync could not assume the transfer role yet"}`),
			answer(200, string(fixture(t, "createlocations.json"))),
		},
		"starttask":     {answer(200, string(fixture(t, "starttask.json")))},
		"pollexecution": {answer(200, `{"errorType":"TransferFailedError","errorMessage":"DataSync task execution exec-1 ended in ERROR: S3ObjectAccessDenied: Access denied"}`)},
	}
	srv := httptest.NewServer(rie)
	defer srv.Close()

	endpoints := map[string]string{}
	arns := LocalFunctionArns("ap-northeast-1", "222222222222")
	for _, s := range Steps() {
		endpoints[arns[s.Placeholder]] = srv.URL + "/" + s.Dir + "/2015-03-31/functions/function/invocations"
	}
	r := runDriver(t, fixture(t, "request.json"), nil, endpoints)

	checkPath(t, r, concat(setupPath, []string{"PollExecution", "RevokeBucketPolicy", "AfterCleanup", "ExplainFailure", "ReportFailure", "CheckFailureRecord", "PublishFailed", "ChooseFailState", "Failed"}))
	checkFailed(t, r, "TransferFailedError", "explained: DataSync task execution exec-1 ended in ERROR: S3ObjectAccessDenied")
	for _, tt := range []struct{ state, error string }{
		{"CreateRoles", "Lambda.ServiceException"},
		{"CreateLocations", "NotReadyError"},
	} {
		if got := r.count("TaskRetried", tt.state); got != 1 {
			t.Errorf("%s retried %d times, want 1 (after %s)", tt.state, got, tt.error)
		}
		for _, e := range r.events {
			if e.Event == "TaskFailed" && e.State == tt.state && e.Error != tt.error {
				t.Errorf("%s failed with %q, want %q", tt.state, e.Error, tt.error)
			}
		}
	}

	rie.mu.Lock()
	defer rie.mu.Unlock()
	checkTaskInputs(t, rie.payloads)
	var request map[string]any
	if err := json.Unmarshal(fixture(t, "request.json"), &request); err != nil {
		t.Fatal(err)
	}
	pre := rie.payloads["preflight"][0]
	if got := lookup(pre, "executionName"); got != "scenario-testdriverlambdaendpoints" {
		t.Errorf("preflight executionName = %v, want the execution name", got)
	}
	if got, want := lookup(pre, "request.source.bucket"), lookup(request, "source.bucket"); got != want {
		t.Errorf("preflight request.source.bucket = %v, want the raw request's %v", got, want)
	}
	explain := rie.payloads["putbucketpolicy"][2]
	if got := lookup(explain, "executionArn"); got != "arn:aws:states:ap-northeast-1:222222222222:execution:dsmigrate:scenario-testdriverlambdaendpoints" {
		t.Errorf("explain executionArn = %v, want the execution's ARN", got)
	}
	for _, path := range []string{"document.preflight.request", "document.grant", "document.task", "document.revoke", "document.failure"} {
		if lookup(explain, path) == nil {
			t.Errorf("explain payload has no %s: ExplainFailure gets the whole state document", path)
		}
	}
	grant, revoke := rie.payloads["putbucketpolicy"][0], rie.payloads["putbucketpolicy"][1]
	if grant["mode"] != "grant" || grant["roles"] == nil || lookup(grant, "request.cleanup.revokeBucketPolicy") != true {
		t.Errorf("grant payload %v, want mode grant, the roles and the normalized request", grant)
	}
	if _, hasRoles := revoke["roles"]; revoke["mode"] != "revoke" || hasRoles || revoke["request"] == nil {
		t.Errorf("revoke payload %v, want mode revoke and the request only", revoke)
	}
	pollIn := rie.payloads["pollexecution"][0]
	if v, present := pollIn["previous"]; !present || v != nil {
		t.Errorf("first poll payload %v, want previous: null", pollIn)
	}
	if got := pollIn["taskExecutionArn"]; !strings.Contains(strings.TrimSpace(got.(string)), "/execution/exec-") {
		t.Errorf("poll taskExecutionArn = %v", got)
	}
}
