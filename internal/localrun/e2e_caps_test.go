package localrun

import (
	"strings"
	"testing"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestE2ELiveMigrationsCap: Preflight counts the running executions of its own state
// machine (states:ListExecutions, granted by the template) and refuses a migration past
// dsmigrate:maxLiveMigrations, this one included, before touching account A; once the
// other migration has finished, the same request runs.
func TestE2ELiveMigrationsCap(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{FunctionEnv: map[string]map[string]string{"preflight": {"DSMIGRATE_MAX_LIVE_MIGRATIONS": "1"}}})
	if env.StateMachineArn == "" {
		t.Fatal("no function is given DSMIGRATE_STATE_MACHINE_ARN")
	}
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(21, 3, "photos/"))
	ctx := testCtx(t)
	if err := env.Sim.PutExecution(ctx, env.StateMachineArn, "another-migration", "RUNNING"); err != nil {
		t.Fatal(err)
	}
	req := env.NewRequest("capped", src, "photos/", dst, "from-a/")
	inv := inventory(t, env)
	res := run(t, env, req, "capped-1")
	if res.Succeeded || res.Error != "PreconditionError" {
		t.Fatalf("got succeeded=%v error %q, want PreconditionError", res.Succeeded, res.Error)
	}
	for _, s := range []string{"dsmigrate:maxLiveMigrations", env.StateMachineArn, "raise"} {
		if !strings.Contains(res.Cause, s) {
			t.Errorf("cause %q does not name %s", res.Cause, s)
		}
	}
	if got := inventory(t, env); !sameInventory(got, inv) {
		t.Errorf("a refused migration changed AWS resources:\nbefore %+v\nafter  %+v", inv, got)
	}

	if err := env.Sim.PutExecution(ctx, env.StateMachineArn, "another-migration", "SUCCEEDED"); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, run(t, env, req, "capped-2"))
}

// TestE2EGrantsPerSourceBucketCap: a migration that keeps its grant (allowed by the
// deployment) counts towards dsmigrate:maxGrantsPerSourceBucket; the next migration of the
// same deployment on that bucket is refused at Preflight, the policy unchanged.
func TestE2EGrantsPerSourceBucketCap(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{FunctionEnv: map[string]map[string]string{
		"preflight": {"DSMIGRATE_MAX_GRANTS_PER_SOURCE_BUCKET": "1", "DSMIGRATE_ALLOW_STANDING_GRANT": "true"},
		"starttask": {"DSMIGRATE_ALLOW_STANDING_GRANT": "true"},
	}})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(22, 3, "photos/"))
	keep := false
	first := env.NewRequest("standing", src, "photos/", dst, "standing/")
	first.Cleanup.RevokeBucketPolicy = &keep
	mustSucceed(t, run(t, env, first, "standing"))
	before := policy(t, env.Source.S3, src)
	if !strings.Contains(before, "DsmstandingRolesObjectAccess") {
		t.Fatalf("the standing grant is not in the policy: %s", before)
	}

	res := run(t, env, env.NewRequest("second", src, "photos/", dst, "second/"), "second")
	if res.Succeeded || res.Error != "PreconditionError" {
		t.Fatalf("got succeeded=%v error %q, want PreconditionError", res.Succeeded, res.Error)
	}
	for _, s := range []string{"dsmigrate:maxGrantsPerSourceBucket", "standing", src} {
		if !strings.Contains(res.Cause, s) {
			t.Errorf("cause %q does not name %s", res.Cause, s)
		}
	}
	if got := policy(t, env.Source.S3, src); !sameJSON(got, before) {
		t.Errorf("the source policy changed: %s -> %s", before, got)
	}
	// A re-run of the migration that holds the grant is not refused.
	mustSucceed(t, run(t, env, first, "standing-again"))
}
