package localrun

// End-to-end faults in the middle of a migration: a function that times out, the
// simulator killed, account A's administrator editing the source bucket policy during
// the transfer, and S3 refusing every write of the revoke. The transfer is slowed down
// (the simulator's transferBytesPerSecond) so that each fault lands while DataSync copies.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/sim/datasync"
	"github.com/dsmigrate/dsmigrate/internal/sim/server"
)

// executions returns the simulator's DataSync executions.
func executions(st *server.State) []datasync.ExecutionState {
	if st == nil || st.DataSync == nil {
		return nil
	}
	return st.DataSync.Executions
}

// slowTransfer limits every copy of the simulator's DataSync to bytesPerSecond.
func slowTransfer(t *testing.T, env *Environment, bytesPerSecond int) {
	t.Helper()
	if err := env.Sim.admin(testCtx(t), http.MethodPost, "settings", map[string]any{"transferBytesPerSecond": bytesPerSecond}, nil); err != nil {
		t.Fatal(err)
	}
}

// injectWhen runs action in the background once ready reports true of the simulator's
// state, and returns where its error arrives (nil: it ran and succeeded). When the test
// ends first, the error says that the fault was never injected.
func injectWhen(t *testing.T, env *Environment, ready func(*server.State) bool, action func(context.Context) error) <-chan error {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	out := make(chan error, 1)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				out <- fmt.Errorf("the fault was never injected: %w", ctx.Err())
				return
			case <-tick.C:
			}
			if st, err := env.Sim.State(ctx); err == nil && ready(st) {
				out <- action(ctx)
				return
			}
		}
	}()
	return out
}

// transferring reports whether a DataSync execution copies now.
func transferring(st *server.State) bool {
	return slices.ContainsFunc(executions(st), func(x datasync.ExecutionState) bool { return x.Status == "TRANSFERRING" })
}

// started reports whether StartTask has started a DataSync execution.
func started(st *server.State) bool { return len(executions(st)) > 0 }

// getPolicy and setPolicy are A's administrator reading and writing the source bucket
// policy from the injection goroutine.
func getPolicy(ctx context.Context, env *Environment, bucket string) (string, error) {
	out, err := env.Source.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Policy), nil
}

func setPolicy(ctx context.Context, env *Environment, bucket, text string) error {
	_, err := env.Source.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(text)})
	return err
}

// statements decodes a policy's statements.
func statements(t *testing.T, text string) []map[string]any {
	t.Helper()
	var doc struct {
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("policy %s: %v", text, err)
	}
	return doc.Statement
}

// withStatement returns the policy text with one more statement.
func withStatement(text string, st map[string]any) (string, error) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return "", err
	}
	list, _ := doc["Statement"].([]any)
	doc["Statement"] = append(list, st)
	b, err := json.Marshal(doc)
	return string(b), err
}

// foreignPolicy is another team's policy on the source bucket.
func foreignPolicy(env *Environment, src string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"AuditList","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::%s"}]}`, env.Source.AccountID, src)
}

// TestE2EFunctionTimeout freezes the simulator (SIGSTOP) for longer than pollexecution's
// timeout while the transfer runs: the poll that hangs is stopped by the Lambda emulator,
// Step Functions sees Lambda.Unknown as on AWS, retries it, and the migration succeeds.
func TestE2EFunctionTimeout(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{FunctionTimeoutSeconds: map[string]int{"pollexecution": 2}})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(31, 16, ""))
	slowTransfer(t, env, 64<<10)
	pid := env.Sim.proc.cmd.Process.Pid
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	polls := env.Functions["pollexecution"]
	frozen := injectWhen(t, env, func(st *server.State) bool { return started(st) && len(polls.Walls()) > 0 }, func(context.Context) error {
		// A poll has answered; the next one comes within a scaled Wait and hangs.
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			return err
		}
		time.Sleep(3500 * time.Millisecond)
		return syscall.Kill(pid, syscall.SIGCONT)
	})
	res := run(t, env, env.NewRequest("fn-timeout", src, "", dst, ""), "function-timeout")
	if err := <-frozen; err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, res)
	var timeouts int
	for _, ev := range res.TaskFailures("") {
		if ev.State == "PollExecution" && ev.Error == "Lambda.Unknown" && strings.Contains(ev.Cause, "Task timed out after 2.00 seconds") {
			timeouts++
			continue
		}
		t.Errorf("got %s failing with %s: %s, want only PollExecution's timeouts", ev.State, ev.Error, ev.Cause)
	}
	if timeouts == 0 {
		t.Errorf("got no PollExecution failure with Lambda.Unknown (failures %v), want the frozen poll's timeout seen and retried", res.TaskFailures(""))
	}
}

// TestE2ESimulatorKilledMidTransfer kills the simulator (SIGKILL) while DataSync copies:
// every later AWS call fails, the revoke too, and the execution fails with a cause that
// says the grant may remain and how to remove it. Closing the environment leaves no
// process behind.
func TestE2ESimulatorKilledMidTransfer(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{WaitScale: 0.005})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(32, 16, ""))
	slowTransfer(t, env, 32<<10)
	var pids []int
	killed := injectWhen(t, env, transferring, func(context.Context) error {
		pids = env.g.pids()
		return env.Sim.proc.cmd.Process.Signal(syscall.SIGKILL)
	})
	res := run(t, env, env.NewRequest("sim-killed", src, "", dst, ""), "simulator-killed")
	if err := <-killed; err != nil {
		t.Fatal(err)
	}
	if res.Succeeded {
		t.Fatal("got success, want a failure: the simulator is gone")
	}
	sids := naming.SidsFor("sim-killed").All()
	for _, want := range append([]string{"Grant left behind", "may still be in the bucket policy of source bucket " + src + " in account " + env.Source.AccountID,
		"aws stepfunctions start-execution", "aws s3api put-bucket-policy --bucket " + src + " --expected-bucket-owner " + env.Source.AccountID,
		"The migration failed first with " + res.Error, "Then the revoke failed"}, sids...) {
		if !strings.Contains(res.Cause, want) {
			t.Errorf("cause lacks %q:\n%s", want, res.Cause)
		}
	}
	if !slices.Contains(res.StatesEntered(), "RevokeBucketPolicy") || !slices.Contains(res.StatesEntered(), "ExplainFailure") {
		t.Errorf("got path %v, want the revoke tried and the failure explained", res.StatesEntered())
	}
	env.Close()
	if len(pids) < 1+len(Functions) {
		t.Fatalf("got %d processes when the simulator was killed, want at least the simulator and %d RIE", len(pids), len(Functions))
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("process %d still runs after Close", pid)
		}
	}
}

// TestE2EAdminAddsStatementMidTransfer: A's administrator adds a statement to the source
// bucket policy (keeping ours) while DataSync copies. The migration succeeds and the
// revoke removes only our statements: the new one stays.
func TestE2EAdminAddsStatementMidTransfer(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(33, 16, ""))
	putPolicy(t, env.Source.S3, src, foreignPolicy(env, src))
	stored := policy(t, env.Source.S3, src)
	slowTransfer(t, env, 64<<10)
	added := map[string]any{"Sid": "AddedMidTransfer", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + env.Source.AccountID + ":root"},
		"Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + src + "/reports/*"}
	edited := injectWhen(t, env, transferring, func(ctx context.Context) error {
		during, err := getPolicy(ctx, env, src)
		if err != nil {
			return err
		}
		if !strings.Contains(during, naming.SidsFor("admin-adds").BucketAccess) {
			return fmt.Errorf("the policy during the transfer lacks dsmigrate's grant: %s", during)
		}
		next, err := withStatement(during, added)
		if err != nil {
			return err
		}
		return setPolicy(ctx, env, src, next)
	})
	res := run(t, env, env.NewRequest("admin-adds", src, "", dst, ""), "admin-adds-statement")
	if err := <-edited; err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, res)
	want, err := withStatement(stored, added)
	if err != nil {
		t.Fatal(err)
	}
	if after := policy(t, env.Source.S3, src); !sameJSON(after, want) {
		t.Errorf("got policy after the migration %s, want the original with the added statement %s", after, want)
	}
}

// TestE2EAdminRemovesGrantMidTransfer: A's administrator puts the policy back without
// dsmigrate's statements while DataSync copies. The transfer fails on the objects it can
// no longer read; the revoke still runs and finds nothing to remove, and the failure
// names the grant that went missing.
func TestE2EAdminRemovesGrantMidTransfer(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(34, 24, ""))
	original := foreignPolicy(env, src)
	putPolicy(t, env.Source.S3, src, original)
	stored := policy(t, env.Source.S3, src)
	slowTransfer(t, env, 32<<10)
	removed := injectWhen(t, env, transferring, func(ctx context.Context) error { return setPolicy(ctx, env, src, original) })
	res := run(t, env, env.NewRequest("admin-removes", src, "", dst, ""), "admin-removes-grant")
	if err := <-removed; err != nil {
		t.Fatal(err)
	}
	if res.Succeeded || res.Error != "TransferFailedError" {
		t.Fatalf("got succeeded=%v %s: %s, want TransferFailedError", res.Succeeded, res.Error, res.Cause)
	}
	sids := naming.SidsFor("admin-removes").All()
	for _, want := range []string{"ended in ERROR",
		"dsmigrate's statements " + strings.Join(sids, ", ") + " were no longer in the bucket policy of source bucket " + src + " in account " + env.Source.AccountID + " when the revoke ran",
		"someone removed them during the migration"} {
		if !strings.Contains(res.Cause, want) {
			t.Errorf("cause lacks %q:\n%s", want, res.Cause)
		}
	}
	if !slices.Contains(res.StatesEntered(), "RevokeBucketPolicy") {
		t.Errorf("got path %v, want the revoke to run", res.StatesEntered())
	}
	var revoke struct {
		Revoke struct {
			Changed bool `json:"changed"`
		} `json:"revoke"`
	}
	if err := json.Unmarshal(res.StateOutput("RevokeBucketPolicy"), &revoke); err != nil || revoke.Revoke.Changed {
		t.Errorf("got revoke output %s (%v), want nothing changed: the grant was already gone", res.StateOutput("RevokeBucketPolicy"), err)
	}
	if after := policy(t, env.Source.S3, src); !sameJSON(after, stored) {
		t.Errorf("got policy %s, want the administrator's %s", after, stored)
	}
}

// TestE2ERevokeFailsAfterSuccess: once the transfer runs, S3 answers every
// PutBucketPolicy with InternalError, so the revoke fails on every try. The execution fails
// with a cause that says the data was copied and the grant was left (bucket, account,
// Sids, commands). A re-run with the same migration id, S3 healthy again, removes it.
func TestE2ERevokeFailsAfterSuccess(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(35, 6, ""))
	putPolicy(t, env.Source.S3, src, foreignPolicy(env, src))
	stored := policy(t, env.Source.S3, src)
	broken := injectWhen(t, env, started, func(ctx context.Context) error {
		return env.Sim.InjectFault(ctx, Fault{Service: "s3", Operation: "PutBucketPolicy", Count: 1000, Kind: "500"})
	})
	req := env.NewRequest("revoke-fails", src, "", dst, "")
	res := run(t, env, req, "revoke-fails")
	if err := <-broken; err != nil {
		t.Fatal(err)
	}
	if res.Succeeded || res.Error != "TransientError" {
		t.Fatalf("got succeeded=%v %s, want the revoke's TransientError", res.Succeeded, res.Error)
	}
	sids := naming.SidsFor("revoke-fails").All()
	for _, want := range []string{"Data: copied.", "ended SUCCESS (6 files",
		"Grant left behind: dsmigrate's statements " + strings.Join(sids, ", ") + " are still in the bucket policy of source bucket " + src + " in account " + env.Source.AccountID + " (read just now)",
		"aws stepfunctions start-execution", "--execution-arn arn:aws:states:",
		"aws s3api get-bucket-policy --bucket " + src + " --expected-bucket-owner " + env.Source.AccountID,
		"The revoke failed with TransientError"} {
		if !strings.Contains(res.Cause, want) {
			t.Errorf("cause lacks %q:\n%s", want, res.Cause)
		}
	}
	left := policy(t, env.Source.S3, src)
	var sidsLeft []string
	for _, st := range statements(t, left) {
		if sid, _ := st["Sid"].(string); slices.Contains(sids, sid) {
			sidsLeft = append(sidsLeft, sid)
		}
	}
	if !slices.Equal(sidsLeft, sids) {
		t.Fatalf("got our Sids %v in the policy after the failed revoke, want all of %v (the grant the cause reports)", sidsLeft, sids)
	}

	if err := env.Sim.InjectFault(testCtx(t), Fault{Service: "s3", Operation: "PutBucketPolicy", Count: 0, Kind: "500"}); err != nil {
		t.Fatal(err)
	}
	again := run(t, env, req, "revoke-fails-rerun")
	mustSucceed(t, again)
	if after := policy(t, env.Source.S3, src); !sameJSON(after, stored) {
		t.Errorf("got policy after the re-run %s, want the original %s", after, stored)
	}
}
