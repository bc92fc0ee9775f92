package localrun

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/awsrun"
	"github.com/dsmigrate/dsmigrate/internal/execution"
)

// TestE2EPlanRerunThroughTheCLI runs the AWS-facing commands as an operator would, with
// AWS_ENDPOINT_URL set to the environment's Step Functions endpoint and the SDK's own
// configuration loading, serializers and retries: `start --watch` finds the state machine
// from the stack's outputs and runs a real local migration; `plan` of the same request
// after it (a re-run) finds the roles, locations and task again and a new execution to
// start, the grant to add again, with only reads (the simulator's call log) and nothing
// changed; `list` and `status` show both executions.
// Not parallel: it sets the process environment.
func TestE2EPlanRerunThroughTheCLI(t *testing.T) {
	env := e2eEnv(t, Options{TimeScale: 0.005, WaitScale: 0.005})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(31, 3, ""))
	sf, err := env.ServeStepFunctions(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": sf.URL, "AWS_REGION": env.Region, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_PROFILE": ""} {
		t.Setenv(k, v)
	}
	req, _ := json.Marshal(env.NewRequest("cli-local", src, "", dst, ""))
	path := filepath.Join(t.TempDir(), "request.json")
	if err := os.WriteFile(path, req, 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := awsrun.Main(testCtx(t), args, nil, &stdout, &stderr)
		t.Logf("dsmigrate %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
		return code, stdout.String(), stderr.String()
	}

	code, out, errOut := cli("start", "--input", path, "--watch", "--interval", "100ms")
	if code != awsrun.ExitOK {
		t.Fatalf("start --watch: got exit %d, want 0\n%s", code, errOut)
	}
	var summary struct {
		Status   string `json:"status"`
		Transfer struct {
			FilesTransferred int64 `json:"filesTransferred"`
		} `json:"transfer"`
	}
	if err := json.Unmarshal([]byte(out), &summary); err != nil || summary.Status != "SUCCESS" || summary.Transfer.FilesTransferred != 3 {
		t.Errorf("start --watch: got %s (%v), want SUCCESS with 3 files", out, err)
	}
	for _, want := range []string{"▶ Preflight", "▶ PollExecution", "✔ SUCCEEDED"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("start --watch: stderr has no %q", want)
		}
	}

	before := inventory(t, env)
	from, err := env.Sim.Calls(testCtx(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ = cli("plan", "--input", path, "--output", "json")
	var plan execution.Plan
	if err := json.Unmarshal([]byte(out), &plan); code != awsrun.ExitOK || err != nil {
		t.Fatalf("plan: got exit %d, %s (%v), want 0 and a plan", code, out, err)
	}
	calls, err := env.Sim.Calls(testCtx(t), len(from))
	if err != nil {
		t.Fatal(err)
	}
	if m := Mutating(calls); len(m) != 0 || len(calls) == 0 {
		t.Errorf("plan: got %d calls, %d of them mutating %+v, want reads only", len(calls), len(m), m)
	}
	if d := before.Diff(inventory(t, env)); len(d) != 0 {
		t.Errorf("plan: got changes %v, want nothing changed", d)
	}
	t.Logf("plan of the re-run: %d calls, all reads", len(calls))
	for what, got := range map[string][]string{
		"roles": actions(plan.Roles), "locations": actions(plan.Locations), "tasks": actions(plan.Tasks),
	} {
		want := map[string][]string{"roles": {"role:reuse", "role:reuse"}, "locations": {"location:reuse", "location:reuse"},
			"tasks": {"task:reuse", "taskExecution:create"}}[what]
		if !slices.Equal(got, want) {
			t.Errorf("plan %s: got %v, want %v", what, got, want)
		}
	}
	if plan.Tasks[0].Arn == "" || plan.Locations[0].Arn == "" || plan.Roles[0].Arn == "" {
		t.Errorf("plan: got %+v, want the ARNs of what exists", plan)
	}
	if pp := plan.SourceBucketPolicy; pp.Action != "update" || len(pp.StatementsAdded) != 3 {
		t.Errorf("plan: source policy %+v, want the grant added again (the migration revoked it)", pp)
	}
	if len(plan.Warnings) != 0 || len(plan.Blockers) != 0 {
		t.Errorf("plan: got warnings %+v, blockers %q, want none", plan.Warnings, plan.Blockers)
	}

	code, out, _ = cli("list", "--output", "json")
	var rows []awsrun.Migration
	if err := json.Unmarshal([]byte(out), &rows); code != awsrun.ExitOK || err != nil || len(rows) != 2 ||
		rows[0].Mode != "plan" || rows[1].Mode != "migrate" || rows[1].FilesTransferred == nil || *rows[1].FilesTransferred != 3 {
		t.Errorf("list: got exit %d, %s (%v), want the plan and the migration, newest first", code, out, err)
	}
	if code, out, _ = cli("status", "cli-local"); code != awsrun.ExitOK || !strings.Contains(out, "migration cli-local (plan): SUCCEEDED") {
		t.Errorf("status: got exit %d, %q, want the latest execution, the plan, SUCCEEDED", code, out)
	}
	if code, _, _ = cli("status", "nobody"); code != awsrun.ExitNotFound {
		t.Errorf("status of an unknown migration: got exit %d, want %d", code, awsrun.ExitNotFound)
	}
}
