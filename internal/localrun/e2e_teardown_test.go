package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// teardownOutput is the execution output of SummarizeTeardown, and the $.teardown part
// of a migration's output with cleanup.deleteResources.
type teardownOutput struct {
	MigrationID string `json:"migrationId"`
	Mode        string `json:"mode"`
	Teardown    struct {
		Tasks       []string `json:"tasks"`
		Locations   []string `json:"locations"`
		Roles       []string `json:"roles"`
		NothingLeft bool     `json:"nothingLeft"`
		Deleted     bool     `json:"deleted"`
		Message     string   `json:"message"`
	} `json:"teardown"`
	BucketPolicy struct {
		Revoke struct {
			Changed bool `json:"changed"`
		} `json:"revoke"`
	} `json:"bucketPolicy"`
}

func teardownOf(t *testing.T, res *Result) teardownOutput {
	t.Helper()
	var out teardownOutput
	if err := json.Unmarshal(res.Output, &out); err != nil {
		t.Fatalf("decode output %s: %v", res.Output, err)
	}
	return out
}

// teardownRequest is the migration's request with mode teardown.
func teardownRequest(r request.Request) request.Request {
	r.Mode = request.ModeTeardown
	return r
}

// migrationResources are what a migration's summary names: the inventory entries a
// teardown of it must remove, by kind.
func migrationResources(t *testing.T, res *Result) map[string][]string {
	t.Helper()
	s := summaryOf(t, res)
	want := map[string][]string{
		"roles":      {"-" + s.Roles.TransferRoleArn, "-" + s.Roles.ConfigRoleArn},
		"locations":  {"-" + s.Locations.SourceLocationArn, "-" + s.Locations.DestinationLocationArn},
		"tasks":      {"-" + s.Task.TaskArn},
		"executions": {"-" + s.Task.TaskExecutionArn},
	}
	for _, v := range want {
		slices.Sort(v)
	}
	return want
}

func sortedDiff(d map[string][]string) map[string][]string {
	for _, v := range d {
		slices.Sort(v)
	}
	return d
}

// TestE2ETeardown: two migrations from one source bucket, whose policy also holds another
// team's statement; the teardown of one (which kept its grant, as a standing grant does)
// removes its statements, task, execution, locations and roles, and nothing else: the
// other migration's resources and grant, the other team's statement and the copied
// objects stay.
// A second teardown finds nothing, changes nothing and says so.
func TestE2ETeardown(t *testing.T) {
	t.Parallel()
	allow := map[string]string{"DSMIGRATE_ALLOW_STANDING_GRANT": "true"}
	env := e2eEnv(t, Options{WaitScale: 0, FunctionEnv: map[string]map[string]string{"preflight": allow, "starttask": allow}})
	objs := append(smallObjects(41, 3, "keep/"), smallObjects(42, 3, "gone/")...)
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, objs)
	team := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"AuditList","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::%s"}]}`, env.Source.AccountID, src)
	putPolicy(t, env.Source.S3, src, team)

	// Both keep their grants (as a standing grant does, and a revoke that failed would):
	// the teardown of gone must remove gone's statements and leave keep's.
	no := false
	keep := env.NewRequest("keep", src, "keep/", dst, "keep/")
	keep.Cleanup.RevokeBucketPolicy = &no
	mustSucceed(t, run(t, env, keep, "keep"))
	withKeep := policy(t, env.Source.S3, src)
	gone := env.NewRequest("gone", src, "gone/", dst, "gone/")
	gone.Cleanup.RevokeBucketPolicy = &no
	goneRes := run(t, env, gone, "gone")
	mustSucceed(t, goneRes)
	if p := policy(t, env.Source.S3, src); !strings.Contains(p, naming.SidsFor("gone").BucketAccess) {
		t.Fatalf("setup: the standing grant of gone is not in the source policy %s", p)
	}
	before := inventory(t, env)

	res := run(t, env, teardownRequest(gone), "gone-teardown")
	mustSucceed(t, res)
	out := teardownOf(t, res)
	if out.Mode != "teardown" || out.MigrationID != "gone" || out.Teardown.NothingLeft || !out.Teardown.Deleted ||
		len(out.Teardown.Tasks) != 1 || len(out.Teardown.Locations) != 2 || len(out.Teardown.Roles) != 2 || !out.BucketPolicy.Revoke.Changed {
		t.Errorf("got output %s, want gone's task, 2 locations and 2 roles deleted and its statements revoked", res.Output)
	}
	after := inventory(t, env)
	if got, want := sortedDiff(before.Diff(after)), migrationResources(t, goneRes); !mapsEqual(got, want) {
		t.Errorf("teardown changed %v, want exactly gone's resources removed %v", got, want)
	}
	if got := policy(t, env.Source.S3, src); !sameJSON(got, withKeep) || !strings.Contains(got, "AuditList") {
		t.Errorf("source policy after the teardown:\n got %s\nwant the other team's statement and keep's grant, as before gone ran: %s", got, withKeep)
	}
	for _, prefix := range []string{"keep/", "gone/"} {
		v, err := Verify(testCtx(t), env.Source.S3, env.Destination.S3, src, prefix, dst, prefix)
		if err != nil || !v.OK() || v.Objects != 3 {
			t.Errorf("objects under %s after the teardown: %+v, %v; want the 3 copies kept", prefix, v, err)
		}
	}

	again := run(t, env, teardownRequest(gone), "gone-teardown-again")
	mustSucceed(t, again)
	out = teardownOf(t, again)
	if !out.Teardown.NothingLeft || !strings.Contains(out.Teardown.Message, "nothing to delete") || out.BucketPolicy.Revoke.Changed {
		t.Errorf("second teardown: got %s, want nothing left, said so, and the policy unchanged", again.Output)
	}
	if d := inventory(t, env).Diff(after); len(d) != 0 {
		t.Errorf("second teardown changed %v, want nothing", d)
	}
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestE2ETeardownRefusedWhileRunning: a teardown started while the migration's DataSync
// execution copies fails with MigrationRunningError and changes nothing; the migration
// then finishes.
func TestE2ETeardownRefusedWhileRunning(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{WaitScale: 0})
	objs := smallObjects(43, 3, "busy/")
	for i := range objs {
		objs[i].Size = 8 << 10 // 24 KiB at 4 KiB/s: about 6 s of TRANSFERRING for the teardown to find
	}
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, objs)
	req := env.NewRequest("busy", src, "busy/", dst, "busy/")
	slowTransfer(t, env, 4<<10)
	type teardownResult struct {
		res         *Result
		before, got Inventory
		err         error
	}
	done := make(chan teardownResult, 1)
	injected := injectWhen(t, env, transferring, func(ctx context.Context) error {
		var r teardownResult
		st, err := env.Sim.State(ctx)
		if err != nil {
			return err
		}
		r.before = InventoryOf(st)
		body, _ := json.Marshal(teardownRequest(req))
		r.res, r.err = env.Run(ctx, body, "busy-teardown")
		if st, err = env.Sim.State(ctx); err != nil {
			return err
		}
		r.got = InventoryOf(st)
		done <- r
		return nil
	})
	mustSucceed(t, run(t, env, req, "busy"))
	if err := <-injected; err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("teardown run: %v", r.err)
	}
	if r.res.Succeeded || r.res.Error != "MigrationRunningError" || !containsFold(r.res.Cause, "still running", "deleted nothing") {
		t.Errorf("teardown while running: got succeeded=%v %s: %s, want MigrationRunningError saying nothing was deleted", r.res.Succeeded, r.res.Error, r.res.Cause)
	}
	if d := r.before.Diff(r.got); len(d) != 0 {
		t.Errorf("the refused teardown changed %v, want nothing", d)
	}
}

// TestE2EDeleteResources: cleanup.deleteResources deletes the migration's task,
// locations and roles once the transfer succeeded and the grant is revoked; the objects
// stay.
func TestE2EDeleteResources(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{WaitScale: 0})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(44, 3, "tidy/"))
	before := inventory(t, env)
	req := env.NewRequest("tidy", src, "tidy/", dst, "tidy/")
	req.Cleanup.DeleteResources = true
	res := run(t, env, req, "tidy")
	mustSucceed(t, res)
	var out struct {
		Status   string `json:"status"`
		Teardown struct {
			Tasks     []string `json:"tasks"`
			Locations []string `json:"locations"`
			Roles     []string `json:"roles"`
			Deleted   bool     `json:"deleted"`
		} `json:"teardown"`
	}
	if err := json.Unmarshal(res.Output, &out); err != nil {
		t.Fatal(err)
	}
	if out.Status != "SUCCESS" || !out.Teardown.Deleted || len(out.Teardown.Tasks) != 1 || len(out.Teardown.Locations) != 2 || len(out.Teardown.Roles) != 2 {
		t.Errorf("got output %s, want SUCCESS with the task, 2 locations and 2 roles deleted", res.Output)
	}
	if d := before.Diff(inventory(t, env)); len(d) != 0 {
		t.Errorf("after the migration with deleteResources: got %v more or fewer than before it, want nothing of it left", d)
	}
	if v, err := Verify(testCtx(t), env.Source.S3, env.Destination.S3, src, "tidy/", dst, "tidy/"); err != nil || !v.OK() || v.Objects != 3 {
		t.Errorf("objects after deleteResources: %+v, %v; want the 3 copies", v, err)
	}
}

// TestAttackTeardownDeletesAnotherDeployment: the teardown function's credentials try to
// delete another team's DataSync task and location and another team's role under this
// deployment's path. With the deployment-tag conditions they are denied; with the
// conditions taken out, the same calls delete them. (A delete cannot be undone, so this
// test tries with the guard first and without it second, the other order from the other
// attack tests.)
func TestAttackTeardownDeletesAnotherDeployment(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	d := deploymentOf(t, env)
	ctx := testCtx(t)
	// Another team's role with a name and path the teardown's role patterns match: the
	// tag is what keeps it out.
	roleName := naming.TransferRoleName(d.prefix, "theirs")
	locs, taskArn := otherTeamTask(t, env, d, roleName, naming.RolePath(d.prefix), "dsmigrate-bucket-access",
		[]dstypes.TagListEntry{{Key: aws.String(naming.DeploymentTagKey), Value: aws.String("other-team")}, {Key: aws.String(naming.TagKey), Value: aws.String("theirs")}})
	td := asFunction(t, env, "teardown")
	deleteTask := func() error {
		_, err := td.DataSync.DeleteTask(ctx, &datasync.DeleteTaskInput{TaskArn: taskArn})
		return err
	}
	deleteLocation := func() error {
		_, err := td.DataSync.DeleteLocation(ctx, &datasync.DeleteLocationInput{LocationArn: aws.String(locs[1])})
		return err
	}
	deleteRole := func() error {
		if _, err := td.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String("dsmigrate-bucket-access")}); err != nil {
			return err
		}
		_, err := td.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(roleName)})
		return err
	}

	t.Run("task and location", func(t *testing.T) {
		wantDenied(t, "DeleteTask of another team's task", deleteTask())
		wantDenied(t, "DeleteLocation of another team's location", deleteLocation())
		g := findGuard(t, env, "teardown", "DeleteDeploymentTasksAndLocations")
		g.remove(t, dropCondition())
		wantAllowed(t, "DeleteTask of another team's task", deleteTask())
		wantAllowed(t, "DeleteLocation of another team's location", deleteLocation())
	})
	t.Run("role", func(t *testing.T) {
		wantDenied(t, "DeleteRolePolicy and DeleteRole of another team's role", deleteRole())
		g := findGuard(t, env, "teardown", "DeleteDeploymentRoles")
		g.remove(t, dropCondition())
		wantAllowed(t, "DeleteRolePolicy and DeleteRole of another team's role", deleteRole())
	})
}
