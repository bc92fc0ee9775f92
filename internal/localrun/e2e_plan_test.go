package localrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// runPlan runs req as a plan and returns the plan, after checking that the simulator
// received only reads meanwhile (its call log) and that nothing in it changed.
func runPlan(t *testing.T, env *Environment, req request.Request, name string) execution.Plan {
	t.Helper()
	req.Mode = request.ModePlan
	before := inventory(t, env)
	from, err := env.Sim.Calls(testCtx(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, env, req, name)
	mustSucceed(t, res)
	calls, err := env.Sim.Calls(testCtx(t), len(from))
	if err != nil {
		t.Fatal(err)
	}
	if m := Mutating(calls); len(m) != 0 || len(calls) == 0 {
		t.Errorf("got %d calls, %d of them mutating %+v, want reads only", len(calls), len(m), m)
	}
	for _, c := range calls {
		if c.Caller == "" {
			t.Errorf("got an unauthenticated call %+v, want each call by a function's role", c)
		}
	}
	t.Logf("%s: %d calls, all reads", name, len(calls))
	if d := before.Diff(inventory(t, env)); len(d) != 0 {
		t.Errorf("got changes %v, want nothing changed by a plan", d)
	}
	if got, want := res.StatesEntered(), []string{"Start", "ChooseMode", "PlanPreflight", "PlanRoles", "PlanLocations", "PlanTask", "PlanReady", "Succeeded"}; !slices.Equal(got, want) {
		t.Errorf("got path %v, want %v", got, want)
	}
	var plan execution.Plan
	d := json.NewDecoder(strings.NewReader(string(res.Output)))
	d.DisallowUnknownFields()
	if err := d.Decode(&plan); err != nil {
		t.Fatalf("the output is not a plan: %v\n%s", err, res.Output)
	}
	return plan
}

func actions(rs []execution.PlannedResource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Kind+":"+r.Action)
	}
	return out
}

func warningCodes(ws []execution.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Code)
	}
	return out
}

// TestE2EPlanNewMigration: a plan of a migration that never ran says every resource
// would be created and the grant added to a source policy that has none, warns about an
// archived object and the versioned source, and calls nothing that changes anything.
func TestE2EPlanNewMigration(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(21, 4, "data/"))
	if _, err := env.Source.S3.PutObject(testCtx(t), &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("data/old/archive.bin"),
		Body: strings.NewReader("cold"), StorageClass: s3types.StorageClassGlacier}); err != nil {
		t.Fatal(err)
	}
	if err := env.Sim.SetBucketSettings(testCtx(t), src, store.BucketSettings{Versioning: "Enabled"}); err != nil {
		t.Fatal(err)
	}
	plan := runPlan(t, env, env.NewRequest("plan-new", src, "data/", dst, "in/"), "plan-new")

	if got, want := actions(plan.Roles), []string{"role:create", "role:create"}; !slices.Equal(got, want) {
		t.Errorf("roles: got %v, want %v", got, want)
	}
	if got, want := actions(plan.Locations), []string{"location:create", "location:create"}; !slices.Equal(got, want) {
		t.Errorf("locations: got %v, want %v", got, want)
	}
	if got, want := actions(plan.Tasks), []string{"task:create", "taskExecution:create"}; !slices.Equal(got, want) {
		t.Errorf("tasks: got %v, want %v", got, want)
	}
	pp := plan.SourceBucketPolicy
	if pp.Action != "update" || pp.Before != "" || pp.BytesBefore != 0 || pp.StatementsAfter != 3 || len(pp.StatementsAdded) != 3 || pp.BytesAfter == 0 || pp.LimitBytes != 20480 {
		t.Errorf("source policy: got %+v, want none before, our 3 statements after", pp)
	}
	if got, want := warningCodes(plan.Warnings), []string{"ARCHIVED_OBJECTS", "VERSIONED_SOURCE"}; !slices.Equal(got, want) {
		t.Errorf("warnings: got %v, want %v (%+v)", got, want, plan.Warnings)
	}
	if s := plan.Source; s == nil || !s.Complete || s.Objects != 5 || s.StorageClasses["GLACIER"] != 1 {
		t.Errorf("source sample: got %+v, want 5 objects, one GLACIER, complete", s)
	}
	if len(plan.Blockers) != 0 || len(plan.Conflicts()) != 0 {
		t.Errorf("got blockers %q and conflicts %+v, want none", plan.Blockers, plan.Conflicts())
	}
}

// The plan of a re-run after a completed migration is TestE2EPlanRerunThroughTheCLI
// (e2e_cli_test.go): it needs the migration, which that test runs through the CLI.

// TestE2EPlanConflict: a role of this deployment with the migration's name but tagged for
// another migration, and another team's statement using one of the migration's Sids:
// the plan names both as conflicts (with the reason the migration would stop there)
// instead of failing, and changes nothing.
func TestE2EPlanConflict(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(23, 2, ""))
	prefix := functionSpec(t, env, "createroles").Env["DSMIGRATE_ROLE_PREFIX"]
	boundary := functionSpec(t, env, "createroles").Env["DSMIGRATE_ROLE_BOUNDARY_ARN"]
	const id = "plan-conflict"
	name := naming.TransferRoleName(prefix, id)
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"%s"}}}]}`, env.Destination.AccountID)
	if _, err := env.Destination.IAM.CreateRole(testCtx(t), &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String(naming.RolePath(prefix)),
		AssumeRolePolicyDocument: aws.String(trust), PermissionsBoundary: aws.String(boundary),
		Tags: []iamtypes.Tag{{Key: aws.String(naming.DeploymentTagKey), Value: aws.String(prefix)}, {Key: aws.String(naming.TagKey), Value: aws.String("someone-else")}}}); err != nil {
		t.Fatal(err)
	}
	sid := naming.SidsFor(id).BucketAccess
	foreign := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"%s","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::%s"}]}`,
		sid, env.Destination.AccountID, src)
	putPolicy(t, env.Source.S3, src, foreign)

	plan := runPlan(t, env, env.NewRequest(id, src, "", dst, ""), "plan-conflict")
	if got, want := actions(plan.Roles), []string{"role:conflict", "role:create"}; !slices.Equal(got, want) {
		t.Errorf("roles: got %v, want %v", got, want)
	}
	if r := plan.Roles[0].Reason; !strings.Contains(r, "someone-else") || !strings.Contains(r, "will not take it over") {
		t.Errorf("role conflict reason: got %q, want the other migration's tag and what dsmigrate will not do", r)
	}
	pp := plan.SourceBucketPolicy
	if pp.Action != "conflict" || pp.After != "" || pp.StatementsBefore != 1 || !sameJSON(pp.Before, foreign) {
		t.Errorf("source policy: got %+v, want conflict with the policy as it is", pp)
	}
	if len(plan.Blockers) != 1 || !strings.Contains(plan.Blockers[0], sid) {
		t.Errorf("blockers: got %q, want one naming Sid %s", plan.Blockers, sid)
	}
	if n := len(plan.Conflicts()); n != 1 {
		t.Errorf("got %d conflicting resources, want 1 (the role)", n)
	}
}

// TestE2EPlanLocalCommand: `dsmigrate local plan` prints the plan as text, exits 0 when
// nothing would stop the migration, and reports from the simulator's log that none of
// its calls could change anything.
func TestE2EPlanLocalCommand(t *testing.T) {
	t.Parallel()
	if err := (&Options{}).CheckPrerequisites(); err != nil {
		t.Fatalf("end-to-end prerequisites missing; run `make test` (or `make test-localrun`):\n%v", err)
	}
	ctx := testCtx(t)
	var example, stdout, stderr bytes.Buffer
	if code := Main(ctx, []string{"example"}, &example, &stderr); code != ExitOK {
		t.Fatalf("example: got exit %d, want 0: %s", code, stderr.String())
	}
	path := filepath.Join(t.TempDir(), "request.json")
	if err := os.WriteFile(path, example.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := Main(ctx, []string{"plan", "--input", path, "--objects", "3", "--execution-name", "cli-plan"}, &stdout, &stderr); code != ExitOK {
		t.Fatalf("got exit %d, want %d\nstdout: %s\nstderr: %s", code, ExitOK, stdout.String(), stderr.String())
	}
	for _, want := range []string{"Plan of migration", "+ role ", "Source bucket policy of", "Nothing would stop this migration"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout: got %s, want %q", stdout.String(), want)
		}
	}
	if !regexp.MustCompile(`the plan made [1-9][0-9]* AWS calls, 0 of them could change something`).MatchString(stderr.String()) {
		t.Errorf("stderr: got %s, want the count of calls, none mutating", stderr.String())
	}
}

// TestAttackPreflightListsEveryDestinationKey: the preflight function's role may list the
// destination buckets (a plan of a REMOVE request counts what would be deleted) only one
// folder level per call, as the read role lists the source. Without the s3:delimiter
// condition its credentials list every key of the destination in one call.
func TestAttackPreflightListsEveryDestinationKey(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	ctx := testCtx(t)
	_, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, nil)
	if err := Upload(ctx, env.Destination.S3, dst, smallObjects(32, 4, "a/b/")); err != nil {
		t.Fatal(err)
	}
	role := functionSpec(t, env, "preflight").Role
	name, doc := policyWithStatement(t, role, "ListDestinationFolders")
	c := s3.NewFromConfig(functionConfig(t, env, "preflight"), func(o *s3.Options) { o.UsePathStyle = true })
	flat := &s3.ListObjectsV2Input{Bucket: aws.String(dst)}

	// Without the guard.
	open, _ := editStatement(t, doc, "ListDestinationFolders", func(st map[string]any) { delete(st, "Condition") })
	putRolePolicy(t, env.Destination.IAM, role.Name, name, open)
	out, err := c.ListObjectsV2(ctx, flat)
	if err != nil || len(out.Contents) != 4 {
		t.Fatalf("without the guard: a flat listing got %v (%d keys), want all 4 keys (else the test cannot show the guard works)", err, len(out.Contents))
	}

	// With the guard.
	putRolePolicy(t, env.Destination.IAM, role.Name, name, doc)
	if _, err := c.ListObjectsV2(ctx, flat); !isAccessDenied(err) {
		t.Errorf("a flat listing with the preflight function's role: got %v, want AccessDenied", err)
	}
	folders, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(dst), Delimiter: aws.String("/")})
	if err != nil || len(folders.CommonPrefixes) != 1 || aws.ToString(folders.CommonPrefixes[0].Prefix) != "a/" {
		t.Errorf("a folder listing with the preflight function's role: got %v %+v, want the folder a/", err, folders)
	}
}

// TestE2EPlanKMSSource: a plan of a source encrypted by default with a customer managed
// key of A lists the KMS grant the grant step would hold on it for the transfer role,
// and creates none (the key's grants before and after); a source whose default is the AWS
// managed key aws/s3 is a blocker, not a failure.
func TestE2EPlanKMSSource(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	key := seedSourceKey(t, env)
	src, dst := seedEncrypted(t, env, key, smallObjects(42, 2, ""))
	plan := runPlan(t, env, env.NewRequest("plan-kms", src, "", dst, ""), "plan-kms")
	if g := plan.KMSGrants; len(g) != 1 || g[0].KeyArn != key || g[0].Name != "dsmigrate-plan-kms" || !strings.HasSuffix(g[0].GranteePrincipal, "-plan-kms-transfer") {
		t.Errorf("got KMS grants %+v, want one on %s for the transfer role", g, key)
	}
	if left := grantsOn(t, env, key); len(left) != 0 {
		t.Errorf("got grants %v on %s, want none created by a plan", left, key)
	}

	kmsDefault(t, env.Source.S3, src, "")
	plan = runPlan(t, env, env.NewRequest("plan-kms", src, "", dst, ""), "plan-kms-aws-managed")
	if len(plan.Blockers) != 1 || !strings.Contains(plan.Blockers[0], "aws/s3") {
		t.Errorf("got blockers %q, want one about aws/s3", plan.Blockers)
	}
}
