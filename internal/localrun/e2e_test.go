package localrun

// End-to-end tests: the simulator with accounts A and B, the six real bootstrap binaries
// under the Lambda RIE with the roles of the synthesized DestinationStack, and the real
// statemachine/dsmigrate.asl.json on the local Step Functions driver — the same runner as
// `dsmigrate local run`. They need `make deps build-local synth` (make test does it).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/sim/server"
)

var (
	simOnce sync.Once
	simBin  string
	simErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if simBin != "" {
		os.Remove(simBin)
	}
	os.Exit(code)
}

// e2eEnv starts an environment for one scenario, or fails the test naming the make target
// that provides what is missing (never a skip).
func e2eEnv(t *testing.T, opts Options) *Environment {
	t.Helper()
	if err := opts.CheckPrerequisites(); err != nil {
		t.Fatalf("end-to-end prerequisites missing; run `make test` (or `make test-localrun`), which builds them:\n%v", err)
	}
	simOnce.Do(func() {
		simBin = filepath.Join(os.TempDir(), fmt.Sprintf("dsmigrate-awssim-%d", os.Getpid()))
		simErr = buildSimTo(opts.Root, simBin)
	})
	if simErr != nil {
		t.Fatal(simErr)
	}
	opts.SimBinary = simBin
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	env, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("start the local environment: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last lines of %s:\n%s", env.LogPath, env.LogTail(60))
		}
		env.Close()
	})
	return env
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// seed creates the source bucket (ownership as given) with objects and an empty destination.
func seed(t *testing.T, env *Environment, ownership s3types.ObjectOwnership, objs []SampleObject) (src, dst string) {
	t.Helper()
	ctx := testCtx(t)
	src, dst, err := env.DefaultBuckets()
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateBucket(ctx, env.Source.S3, src, env.Region, ownership); err != nil {
		t.Fatal(err)
	}
	if err := CreateBucket(ctx, env.Destination.S3, dst, env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
		t.Fatal(err)
	}
	if err := Upload(ctx, env.Source.S3, src, objs); err != nil {
		t.Fatal(err)
	}
	return src, dst
}

// smallObjects are n small objects under prefix.
func smallObjects(seed uint64, n int, prefix string) []SampleObject {
	objs := SampleSet{Seed: seed, Small: n}.Objects()
	for i := range objs {
		objs[i].Key = prefix + objs[i].Key
		objs[i].Size = objs[i].Size%(48<<10) + 1<<10
	}
	return objs
}

func run(t *testing.T, env *Environment, req any, name string) *Result {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	res, err := env.Run(testCtx(t), body, name)
	if err != nil {
		t.Fatalf("run %s: %v", name, err)
	}
	t.Logf("%s: succeeded=%v in %s, %d transitions, path %s", name, res.Succeeded, res.Duration.Round(time.Millisecond), res.Transitions(), compressPath(res.StatesEntered()))
	if !res.Succeeded {
		t.Logf("%s: Error %s; Cause %s", name, res.Error, res.Cause)
	}
	return res
}

func mustSucceed(t *testing.T, res *Result) {
	t.Helper()
	if !res.Succeeded {
		t.Fatalf("got execution %s failed with %s: %s, want success", res.ExecutionName, res.Error, res.Cause)
	}
}

// policy returns the bucket's policy text, "" when it has none.
func policy(t *testing.T, c *s3.Client, bucket string) string {
	t.Helper()
	out, err := c.GetBucketPolicy(testCtx(t), &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucketPolicy" {
		return ""
	}
	if err != nil {
		t.Fatalf("get policy of %s: %v", bucket, err)
	}
	return aws.ToString(out.Policy)
}

func putPolicy(t *testing.T, c *s3.Client, bucket, doc string) {
	t.Helper()
	if _, err := c.PutBucketPolicy(testCtx(t), &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc)}); err != nil {
		t.Fatalf("put policy on %s: %v", bucket, err)
	}
}

// sameJSON compares two JSON texts by value ("" equals "").
func sameJSON(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func inventory(t *testing.T, env *Environment) Inventory {
	t.Helper()
	st, err := env.Sim.State(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return InventoryOf(st)
}

// summary is the execution output of the state machine's Summarize state.
type summary struct {
	MigrationID string `json:"migrationId"`
	Status      string `json:"status"`
	Roles       struct {
		TransferRoleArn string `json:"transferRoleArn"`
		ConfigRoleArn   string `json:"configRoleArn"`
	} `json:"roles"`
	Locations struct {
		SourceLocationArn      string `json:"sourceLocationArn"`
		DestinationLocationArn string `json:"destinationLocationArn"`
	} `json:"locations"`
	Task struct {
		TaskArn          string `json:"taskArn"`
		TaskExecutionArn string `json:"taskExecutionArn"`
	} `json:"task"`
	BucketPolicy struct {
		Bucket       string          `json:"bucket"`
		StatementIDs []string        `json:"statementIds"`
		PolicyBefore string          `json:"policyBefore"`
		Revoke       json.RawMessage `json:"revoke"`
	} `json:"bucketPolicy"`
	Transfer struct {
		FilesTransferred int64 `json:"filesTransferred"`
		BytesTransferred int64 `json:"bytesTransferred"`
	} `json:"transfer"`
}

func summaryOf(t *testing.T, res *Result) summary {
	t.Helper()
	var s summary
	if err := json.Unmarshal(res.Output, &s); err != nil {
		t.Fatalf("decode output %s: %v", res.Output, err)
	}
	return s
}

// grantOutput is the PutBucketPolicy (grant) output as kept in $.grant.
type grantOutput struct {
	StatementIDs []string `json:"statementIds"`
	PolicyBefore string   `json:"policyBefore"`
	PolicyAfter  string   `json:"policyAfter"`
}

func grantOf(t *testing.T, res *Result) grantOutput {
	t.Helper()
	var doc struct {
		Grant grantOutput `json:"grant"`
	}
	if err := json.Unmarshal(res.StateOutput("PutBucketPolicy"), &doc); err != nil {
		t.Fatalf("decode PutBucketPolicy output: %v", err)
	}
	return doc.Grant
}

func containsFold(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(strings.ToLower(s), strings.ToLower(sub)) {
			return false
		}
	}
	return true
}

func TestE2EHappyPath(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	objs := append(smallObjects(1, 24, "photos/2026/"), smallObjects(2, 5, "other/")...)
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, objs)
	before := policy(t, env.Source.S3, src)

	res := run(t, env, env.NewRequest("happy", src, "photos/", dst, "from-a/"), "happy-path")
	mustSucceed(t, res)
	s := summaryOf(t, res)
	b := env.Destination.AccountID
	checks := []struct{ name, got, want string }{
		{"migration id", s.MigrationID, "happy"},
		{"status", s.Status, "SUCCESS"},
		{"transfer role", s.Roles.TransferRoleArn, "arn:aws:iam::" + b + ":role/dsmigrate/dsmigrate/dsmigrate-happy-transfer"},
		{"config role", s.Roles.ConfigRoleArn, "arn:aws:iam::" + b + ":role/dsmigrate/dsmigrate/dsmigrate-happy-config"},
		{"bucket", s.BucketPolicy.Bucket, src},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	prefix := "arn:aws:datasync:" + env.Region + ":" + b + ":"
	for name, arn := range map[string]string{"source location": s.Locations.SourceLocationArn, "destination location": s.Locations.DestinationLocationArn, "task": s.Task.TaskArn, "execution": s.Task.TaskExecutionArn} {
		if !strings.HasPrefix(arn, prefix) {
			t.Errorf("%s: got %q, want an ARN starting %s", name, arn, prefix)
		}
	}
	if !strings.HasPrefix(s.Task.TaskExecutionArn, s.Task.TaskArn+"/execution/") {
		t.Errorf("got execution %s, want one of task %s", s.Task.TaskExecutionArn, s.Task.TaskArn)
	}
	var wantBytes, wantFiles int64
	for _, o := range objs {
		if strings.HasPrefix(o.Key, "photos/") {
			wantFiles++
			wantBytes += o.Size
		}
	}
	if s.Transfer.FilesTransferred != wantFiles || s.Transfer.BytesTransferred != wantBytes {
		t.Errorf("got %d files, %d bytes transferred, want %d, %d", s.Transfer.FilesTransferred, s.Transfer.BytesTransferred, wantFiles, wantBytes)
	}
	if len(s.BucketPolicy.StatementIDs) != 3 {
		t.Errorf("got statement ids %v, want our three", s.BucketPolicy.StatementIDs)
	}
	if g := grantOf(t, res); !containsFold(g.PolicyAfter, s.BucketPolicy.StatementIDs...) {
		t.Errorf("got policy after grant %s, want our Sids %v in it", g.PolicyAfter, s.BucketPolicy.StatementIDs)
	}
	if after := policy(t, env.Source.S3, src); !sameJSON(after, before) {
		t.Errorf("got source policy %q after the run, want it restored to %q", after, before)
	}
	v, err := Verify(testCtx(t), env.Source.S3, env.Destination.S3, src, "photos/", dst, "from-a/")
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() || int64(v.Objects) != wantFiles {
		t.Errorf("got verification %+v, want %d identical objects", v, wantFiles)
	}
	keys, _ := ListKeys(testCtx(t), env.Destination.S3, dst, "")
	if int64(len(keys)) != wantFiles {
		t.Errorf("got %d destination objects, want %d (only the prefix)", len(keys), wantFiles)
	}

	// Other systems learn of it on the deployment's bus, from the state machine's role.
	e := migrationEvent(t, env, "happy")
	var d struct {
		MigrationID, Status, ExecutionArn string
		Transfer                          struct{ FilesTransferred, BytesTransferred int64 }
	}
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		t.Fatal(err)
	}
	if e.DetailType != "Migration Succeeded" || e.Source != "dsmigrate.migration" || d.Status != "SUCCESS" ||
		d.Transfer.FilesTransferred != wantFiles || d.Transfer.BytesTransferred != wantBytes {
		t.Errorf("got event %s / %s %s, want Migration Succeeded from dsmigrate.migration with status SUCCESS, %d files, %d bytes", e.Source, e.DetailType, e.Detail, wantFiles, wantBytes)
	}
	if !strings.HasSuffix(e.EventBusArn, ":event-bus/dsmigrate-requests") || !strings.Contains(e.PrincipalArn, ":assumed-role/") || !slices.Contains(e.Resources, d.ExecutionArn) || d.ExecutionArn == "" {
		t.Errorf("got event on %s by %s with resources %v, want the requests bus, the state machine's role and the execution %q", e.EventBusArn, e.PrincipalArn, e.Resources, d.ExecutionArn)
	}
}

// migrationEvent returns the one event the simulator's EventBridge accepted for the
// migration (runs of other tests share nothing with it: migration ids differ).
func migrationEvent(t *testing.T, env *Environment, migrationID string) server.PutEvent {
	t.Helper()
	events, err := env.Sim.Events(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var found []server.PutEvent
	for _, e := range events {
		var d struct{ MigrationID string }
		if json.Unmarshal(e.Detail, &d) == nil && d.MigrationID == migrationID {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("got %d events for migration %s, want 1: %+v", len(found), migrationID, found)
	}
	return found[0]
}

// toSourceAccount moves the "arn" at path of a step's JSON into account A.
func toSourceAccount(body []byte, path ...string) []byte {
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil {
		return body
	}
	m := doc
	for _, k := range path {
		next, ok := m[k].(map[string]any)
		if !ok {
			return body
		}
		m = next
	}
	arn, _ := m["arn"].(string)
	m["arn"] = strings.Replace(arn, ":"+DefaultDestinationAccount+":", ":"+DefaultSourceAccount+":", 1)
	out, _ := json.Marshal(doc)
	return out
}

func TestE2ECrossAccountBucketAccessRole(t *testing.T) {
	t.Parallel()
	// Seed pitfall 1: a role of account A as the bucket access role. dsmigrate always
	// creates the roles in B and no request field names them, so the pitfall is injected
	// into the state by a proxy in front of a function's RIE, at two places.
	t.Run("at CreateLocations", func(t *testing.T) {
		t.Parallel()
		// The roles CreateLocations receives name the transfer role in account A: Fail
		// explaining the cross-account PassRole and what to do; the grant is revoked.
		env := e2eEnv(t, Options{RequestFilters: map[string]func([]byte) []byte{
			"createlocations": func(b []byte) []byte { return toSourceAccount(b, "roles", "transferRole") },
		}})
		src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(3, 3, ""))
		before := policy(t, env.Source.S3, src)

		res := run(t, env, env.NewRequest("pitfall-one", src, "", dst, ""), "pitfall-1")
		if res.Succeeded {
			t.Fatal("got success, want a Fail for the cross-account bucket access role")
		}
		if res.Error != "PreconditionError" || !containsFold(res.Cause, "Cross-account pass role is not allowed", env.Destination.AccountID, "CreateRoles") {
			t.Errorf("got %s: %q, want a PreconditionError explaining the cross-account pass role and to use the role in %s", res.Error, res.Cause, env.Destination.AccountID)
		}
		if !slices.Contains(res.StatesEntered(), "RevokeBucketPolicy") {
			t.Errorf("got path %v, want the grant revoked", res.StatesEntered())
		}
		if after := policy(t, env.Source.S3, src); !sameJSON(after, before) {
			t.Errorf("got source policy %q, want %q", after, before)
		}
	})
	t.Run("from CreateRoles", func(t *testing.T) {
		t.Parallel()
		// CreateRoles' output names the role in A: PutBucketPolicy refuses it before
		// granting anything.
		env := e2eEnv(t, Options{ResponseFilters: map[string]func([]byte) []byte{
			"createroles": func(b []byte) []byte { return toSourceAccount(b, "transferRole") },
		}})
		src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(3, 3, ""))
		res := run(t, env, env.NewRequest("pitfall-one", src, "", dst, ""), "pitfall-1-early")
		if res.Succeeded {
			t.Fatal("got success, want a Fail for the cross-account bucket access role")
		}
		if !containsFold(res.Cause, "arn:aws:iam::"+env.Destination.AccountID+":role/dsmigrate/dsmigrate/dsmigrate-pitfall-one-transfer") {
			t.Errorf("got %s: %q, want it to name the role in %s to use", res.Error, res.Cause, env.Destination.AccountID)
		}
		if slices.Contains(res.StatesEntered(), "CreateLocations") {
			t.Errorf("got path %v, want it stopped before CreateLocations", res.StatesEntered())
		}
		if after := policy(t, env.Source.S3, src); after != "" {
			t.Errorf("got source policy %q, want none", after)
		}
	})
}

func TestE2EListBucketGrantMissing(t *testing.T) {
	t.Parallel()
	// Seed pitfall 2. The caller's s3:ListBucket grant is taken away by another team's
	// explicit Deny in the source bucket policy (a Deny wins over our Allow). The retry
	// budget (about 3 minutes) runs at wait scale 0.02: 3.7 s.
	env := e2eEnv(t, Options{WaitScale: 0.02})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(4, 3, ""))
	caller := env.Spec.Functions[3].Env["DSMIGRATE_LOCATIONS_CALLER_ROLE_ARN"]
	deny := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"NoListingForB","Effect":"Deny","Principal":{"AWS":%q},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::%s"}]}`, caller, src)
	putPolicy(t, env.Source.S3, src, deny)

	res := run(t, env, env.NewRequest("pitfall-two", src, "", dst, ""), "pitfall-2")
	if res.Succeeded {
		t.Fatal("got success, want a Fail for the missing ListBucket grant")
	}
	if n := len(res.TaskFailures("CreateLocations")); n < 2 {
		t.Errorf("got %d CreateLocations failures, want it retried", n)
	}
	want := "DataSync location access test failed: could not perform s3:HeadBucket on bucket " + src + ". Access denied. Ensure bucket access role has s3:ListBucket permission."
	if !strings.Contains(res.Cause, want) {
		t.Errorf("got Cause %q, want the field report's message %q", res.Cause, want)
	}
	if !containsFold(res.Cause, "s3:ListBucket", caller) {
		t.Errorf("got Cause %q, want the fix: s3:ListBucket for %s", res.Cause, caller)
	}
	if after := policy(t, env.Source.S3, src); !sameJSON(after, deny) {
		t.Errorf("got source policy %q, want it restored to %q", after, deny)
	}
}

func TestE2ERolePropagationDelay(t *testing.T) {
	t.Parallel()
	// New roles become usable only after 4 s; the NotReadyError retries (5 s, 10 s, 20 s …
	// scaled by 0.1) absorb it.
	env := e2eEnv(t, Options{PropagationDelaySeconds: 4, WaitScale: 0.1})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(5, 4, ""))
	res := run(t, env, env.NewRequest("propagation", src, "", dst, ""), "propagation")
	mustSucceed(t, res)
	var notReady int
	for _, ev := range res.TaskFailures("") {
		if ev.Error == "NotReadyError" {
			notReady++
		}
	}
	if notReady == 0 {
		t.Errorf("got no NotReadyError retry (failures %v), want the propagation delay seen and absorbed", res.TaskFailures(""))
	}
}

func TestE2EACLsEnabled(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipObjectWriter, smallObjects(6, 3, ""))
	// Another account (B's admin) writes an object: with ObjectWriter it owns it.
	allow := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"PartnerUploads","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::%s/partner/*"}]}`, env.Destination.AccountID, src)
	putPolicy(t, env.Source.S3, src, allow)
	if _, err := env.Destination.S3.PutObject(testCtx(t), &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("partner/upload.csv"), Body: strings.NewReader("a,b\n")}); err != nil {
		t.Fatalf("put an object from account B: %v", err)
	}
	before := inventory(t, env)

	res := run(t, env, env.NewRequest("acls", src, "", dst, ""), "acls-enabled")
	if res.Succeeded {
		t.Fatal("got success, want a Fail in Preflight")
	}
	if res.Error != "PreconditionError" || !containsFold(res.Cause, "ACL") {
		t.Errorf("got %s: %s, want PreconditionError saying to disable ACLs", res.Error, res.Cause)
	}
	if slices.Contains(res.StatesEntered(), "CreateRoles") {
		t.Errorf("got path %v, want nothing after Preflight", res.StatesEntered())
	}
	after := inventory(t, env)
	if d := before.Diff(after); len(d) != 0 {
		t.Errorf("got changes %v, want nothing changed", d)
	}
	if got := policy(t, env.Source.S3, src); got != allow && !sameJSON(got, allow) {
		t.Errorf("got policy %q, want it untouched", got)
	}
}

func TestE2EForeignStatementsSurvive(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(7, 6, ""))
	original := fmt.Sprintf(`{"Version":"2012-10-17","Id":"team-a","Statement":[`+
		`{"Sid":"AnalyticsRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%[1]s:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::%[2]s/reports/*"},`+
		`{"Sid":"AuditList","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::%[3]s:root"]},"Action":["s3:ListBucket","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::%[2]s"}]}`,
		env.Destination.AccountID, src, env.Source.AccountID)
	putPolicy(t, env.Source.S3, src, original)
	stored := policy(t, env.Source.S3, src)

	res := run(t, env, env.NewRequest("foreign", src, "", dst, ""), "foreign-statements")
	mustSucceed(t, res)
	g := grantOf(t, res)
	var doc struct {
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(g.PolicyAfter), &doc); err != nil {
		t.Fatalf("decode policy after grant: %v", err)
	}
	var sids []string
	for _, st := range doc.Statement {
		sid, _ := st["Sid"].(string)
		sids = append(sids, sid)
	}
	if len(sids) != 5 || sids[0] != "AnalyticsRead" || sids[1] != "AuditList" {
		t.Errorf("got Sids %v during the migration, want the two foreign ones first, then our three", sids)
	}
	after := policy(t, env.Source.S3, src)
	if !sameJSON(after, stored) {
		t.Errorf("got policy after revoke %s, want the original %s", after, stored)
	}
	if after != stored {
		t.Logf("policy equal by value but not byte for byte:\n%s\n%s", after, stored)
	}
}

func TestE2EThrottlingEverywhere(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(8, 4, ""))
	ctx := testCtx(t)
	// Every function's first AWS call is throttled 3 times — as often as the SDK tries —
	// so the step fails with TransientError and Step Functions retries it; the other
	// calls the steps make are throttled once and absorbed by the SDK's own retry.
	first := map[string]bool{"sts/AssumeRole": true, "iam/CreateRole": true, "s3/PutBucketPolicy": true, "s3/DeleteBucketPolicy": true,
		"datasync/ListLocations": true, "datasync/ListTasks": true, "datasync/DescribeTaskExecution": true, "events/PutEvents": true}
	ops := []string{
		"sts/AssumeRole",
		"s3/GetBucketOwnershipControls", "s3/GetBucketPolicy", "s3/PutBucketPolicy", "s3/DeleteBucketPolicy",
		"iam/CreateRole", "iam/PutRolePolicy",
		// (ListTagsForResource and GetRole are not here: a first run finds no location or
		// task to inspect and no existing role to read, so they are never called.)
		"datasync/ListLocations", "datasync/CreateLocationS3",
		"datasync/ListTasks", "datasync/CreateTask", "datasync/ListTaskExecutions", "datasync/StartTaskExecution", "datasync/DescribeTaskExecution",
		// The outgoing event: EventBridge reports throttling per entry, which the
		// optimized integration turns into EventBridge.FailedEntry; PublishSucceeded
		// retries it.
		"events/PutEvents",
	}
	for _, op := range ops {
		service, operation, _ := strings.Cut(op, "/")
		count := 1
		if first[op] {
			count = 3
		}
		if err := env.Sim.InjectFault(ctx, Fault{Service: service, Operation: operation, Count: count, Kind: "throttle"}); err != nil {
			t.Fatalf("inject fault %s: %v", op, err)
		}
	}
	res := run(t, env, env.NewRequest("throttled", src, "", dst, ""), "throttling")
	mustSucceed(t, res)
	// Every injected fault must have been used up: a fault left over names an operation
	// the steps never called, i.e. a step whose throttling this test did not exercise.
	st, err := env.Sim.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Faults) != 0 {
		t.Errorf("got faults still pending after the run %+v, want every injected throttle consumed", st.Faults)
	}
	var transient []string
	for _, ev := range res.TaskFailures("") {
		if ev.Error == "TransientError" {
			transient = append(transient, ev.State)
		}
	}
	if len(transient) == 0 {
		t.Errorf("got no TransientError retry, want the throttling seen by Step Functions (failures %v)", res.TaskFailures(""))
	}
	t.Logf("steps retried after throttling: %v", transient)
	var refused int
	for _, ev := range res.TaskFailures("PublishSucceeded") {
		if ev.Error == "EventBridge.FailedEntry" && strings.Contains(ev.Cause, "ThrottlingException") {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("PublishSucceeded failed %d times with EventBridge.FailedEntry (ThrottlingException), want 3 (failures %v)", refused, res.TaskFailures("PublishSucceeded"))
	}
	if e := migrationEvent(t, env, "throttled"); e.DetailType != "Migration Succeeded" {
		t.Errorf("got %s, want Migration Succeeded after the retries", e.DetailType)
	}
}

// seedWithBlocked seeds a source bucket with objects under ok/ and one under blocked/,
// which another team's Deny keeps everyone in B, the transfer role included, from
// reading: a DataSync execution of the whole bucket ends in ERROR.
func seedWithBlocked(t *testing.T, env *Environment, seedOK, seedBlocked uint64) (src, dst string) {
	t.Helper()
	objs := append(smallObjects(seedOK, 4, "ok/"), smallObjects(seedBlocked, 1, "blocked/")...)
	src, dst = seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, objs)
	deny := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"KeepBlockedPrivate","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/blocked/*"}]}`, env.Destination.AccountID, src)
	putPolicy(t, env.Source.S3, src, deny)
	return src, dst
}

func TestE2EDataSyncExecutionError(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seedWithBlocked(t, env, 9, 10)
	deny := policy(t, env.Source.S3, src)

	res := run(t, env, env.NewRequest("ds-error", src, "", dst, ""), "datasync-error")
	if res.Succeeded {
		t.Fatal("got success, want the DataSync execution ERROR")
	}
	if res.Error != "TransferFailedError" || !containsFold(res.Cause, "ERROR") {
		t.Errorf("got %s: %s, want TransferFailedError with DataSync's error code", res.Error, res.Cause)
	}
	st, err := env.Sim.State(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var code string
	if st.DataSync != nil {
		for _, x := range st.DataSync.Executions {
			code = firstNonEmpty(code, x.ErrorCode)
		}
	}
	if code == "" || !strings.Contains(res.Cause, code) {
		t.Errorf("got Cause %q, want DataSync's error code %q in it", res.Cause, code)
	}
	if !slices.Contains(res.StatesEntered(), "RevokeBucketPolicy") {
		t.Errorf("got path %v, want the revoke to run", res.StatesEntered())
	}
	if after := policy(t, env.Source.S3, src); !sameJSON(after, deny) {
		t.Errorf("got policy %q, want it restored to %q", after, deny)
	}
	e := migrationEvent(t, env, "ds-error")
	var d struct {
		Status  string
		Failure struct{ Error, Cause string }
	}
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		t.Fatal(err)
	}
	if e.DetailType != "Migration Failed" || d.Status != "FAILED" || d.Failure.Error != "TransferFailedError" || d.Failure.Cause != res.Cause {
		t.Errorf("got event %s %s, want Migration Failed with the execution's error TransferFailedError and its cause", e.DetailType, e.Detail)
	}
}

func TestE2ETwoMigrationsSameSource(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{Instances: 2})
	objs := append(smallObjects(11, 6, "photos/"), smallObjects(12, 5, "docs/")...)
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, objs)
	original := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"AuditList","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::%s"}]}`, env.Source.AccountID, src)
	putPolicy(t, env.Source.S3, src, original)
	stored := policy(t, env.Source.S3, src)

	check := func(res *Result, id, srcPrefix, dstPrefix string, wantFiles int) {
		t.Helper()
		mustSucceed(t, res)
		s := summaryOf(t, res)
		enc := "Dsm" + strings.ReplaceAll(id, "-", "X")
		for _, sid := range s.BucketPolicy.StatementIDs {
			if !strings.HasPrefix(sid, enc) {
				t.Errorf("%s: got Sid %s, want only its own (%s…)", id, sid, enc)
			}
		}
		if g := grantOf(t, res); !containsFold(g.PolicyAfter, "AuditList") {
			t.Errorf("%s: got policy after grant %s, want the foreign statement kept", id, g.PolicyAfter)
		}
		v, err := Verify(testCtx(t), env.Source.S3, env.Destination.S3, src, srcPrefix, dst, dstPrefix)
		if err != nil {
			t.Fatal(err)
		}
		if !v.OK() || v.Objects != wantFiles {
			t.Errorf("%s: got %+v, want %d identical objects", id, v, wantFiles)
		}
	}

	// One after the other.
	r1 := run(t, env, env.NewRequest("seq-photos", src, "photos/", dst, "seq-photos/"), "sequential-1")
	check(r1, "seq-photos", "photos/", "seq-photos/", 6)
	r2 := run(t, env, env.NewRequest("seq-docs", src, "docs/", dst, "seq-docs/"), "sequential-2")
	check(r2, "seq-docs", "docs/", "seq-docs/", 5)
	if after := policy(t, env.Source.S3, src); !sameJSON(after, stored) {
		t.Errorf("after the sequential runs: got policy %s, want %s", after, stored)
	}

	// At the same time: each grant's read-modify-write must keep the other's statements.
	// The transfers are slowed down (about 40 s each) so that each migration still holds
	// its grant when the other's grant is written and read back: otherwise the faster one
	// can revoke before the slower one reads the policy back, and the check below would
	// see no overlap at all.
	slowTransfer(t, env, 3000)
	var wg sync.WaitGroup
	results := make([]*Result, 2)
	for i, id := range []string{"par-photos", "par-docs"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prefix := strings.TrimPrefix(id, "par-") + "/"
			body, _ := json.Marshal(env.NewRequest(id, src, prefix, dst, id+"/"))
			res, err := env.Run(testCtx(t), body, "concurrent-"+id)
			if err != nil {
				t.Errorf("run %s: %v", id, err)
				return
			}
			results[i] = res
		}()
	}
	wg.Wait()
	if results[0] == nil || results[1] == nil {
		t.FailNow()
	}
	for _, r := range results {
		t.Logf("%s: succeeded=%v %s %s", r.ExecutionName, r.Succeeded, r.Error, r.Cause)
	}
	check(results[0], "par-photos", "photos/", "par-photos/", 6)
	check(results[1], "par-docs", "docs/", "par-docs/", 5)
	// Both grants ran while the other migration was still transferring (slowTransfer): the
	// later one must have kept the earlier one's statements (a lost update would drop them).
	g0, g1 := grantOf(t, results[0]), grantOf(t, results[1])
	both := func(g grantOutput) bool {
		return containsFold(g.PolicyAfter, g0.StatementIDs...) && containsFold(g.PolicyAfter, g1.StatementIDs...) && containsFold(g.PolicyAfter, "AuditList")
	}
	if !both(g0) && !both(g1) {
		t.Errorf("got policies after the grants\n%s\n%s\nwant one holding both migrations' statements and the foreign one", g0.PolicyAfter, g1.PolicyAfter)
	}
	if after := policy(t, env.Source.S3, src); !sameJSON(after, stored) {
		t.Errorf("after the concurrent runs: got policy %s, want %s", after, stored)
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || !strings.HasPrefix(strings.TrimSpace(string(b[i+1:])), "Z")
}

func TestE2ECleanupOnCancel(t *testing.T) {
	t.Parallel()
	// Ctrl-C in the middle of a transfer: the run returns, and Close leaves no simulator,
	// RIE, bootstrap or Node process behind.
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(13, 3, ""))
	ctx, cancel := context.WithCancel(testCtx(t))
	var pids []int
	var mu sync.Mutex
	go func() {
		// Cancel once the poll loop runs, with every process of the run alive.
		for ctx.Err() == nil {
			if st, err := env.Sim.State(ctx); err == nil && InventoryOf(st).Count("executions") > 0 {
				mu.Lock()
				pids = env.g.pids()
				mu.Unlock()
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	body, _ := json.Marshal(env.NewRequest("cancelled", src, "", dst, ""))
	_, err := env.Run(ctx, body, "cancelled")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the run cancelled", err)
	}
	env.Close()
	mu.Lock()
	defer mu.Unlock()
	// The RIE starts a function's bootstrap at its first invocation, so only the RIE
	// processes are sure to be there.
	if len(pids) < 1+len(Functions)+1 {
		t.Fatalf("got %d processes, want at least the simulator, %d RIE and the driver", len(pids), len(Functions))
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			t.Errorf("process %d (%s) still runs after Close", pid, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
}

// keptLog finds the log path a failed `local run` prints.
var keptLog = regexp.MustCompile(`log: (\S+)\)`)

func TestE2ELocalRunCommand(t *testing.T) {
	t.Parallel()
	if err := (&Options{}).CheckPrerequisites(); err != nil {
		t.Fatalf("end-to-end prerequisites missing; run `make test` (or `make test-localrun`):\n%v", err)
	}
	ctx := testCtx(t)
	var example, stderr bytes.Buffer
	if code := Main(ctx, []string{"example"}, &example, &stderr); code != ExitOK {
		t.Fatalf("example: got exit %d, want 0: %s", code, stderr.String())
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "request.json")
	os.WriteFile(good, example.Bytes(), 0o600)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, bytes.Replace(example.Bytes(), []byte(`"team-b-media"`), []byte(`"someone-elses-bucket"`), 1), 0o600)

	tests := []struct {
		name       string
		give       string
		want       int
		wantStdout string
		wantStderr string
	}{
		{name: "success prints the output", give: good, want: ExitOK, wantStdout: `"status": "SUCCESS"`, wantStderr: "execution succeeded"},
		{name: "a failed execution prints Error and Cause", give: bad, want: ExitFailed, wantStderr: "Cause:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := Main(ctx, []string{"run", "--input", tt.give, "--objects", "3", "--execution-name", "cli-" + strings.Fields(tt.name)[0]}, &stdout, &stderr)
			// A failed run keeps its log for the operator and prints where; the test has
			// read what it needs, so the kept work directory goes.
			if m := keptLog.FindStringSubmatch(stderr.String()); m != nil {
				if dir := filepath.Dir(m[1]); strings.HasPrefix(filepath.Base(dir), workDirPrefix) {
					os.RemoveAll(dir)
				}
			}
			if got != tt.want {
				t.Errorf("got exit %d, want %d\nstderr: %s", got, tt.want, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("got stdout %q\nstderr %q\nwant %q and %q", stdout.String(), stderr.String(), tt.wantStdout, tt.wantStderr)
			}
		})
	}
}
