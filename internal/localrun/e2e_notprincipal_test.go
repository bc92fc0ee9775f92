package localrun

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestE2ENotPrincipalDenyWithoutTheSession: team A guards its bucket policy with a
// NotPrincipal Deny of s3:PutBucketPolicy that lists its admin, the account and
// dsmigrate's policy-writer role by role ARN. AWS's NotPrincipal page: a role session
// is exempt only when the assumed-role session ARN itself is listed, so the session
// PutBucketPolicy uses (assumed-role/<role>/dsmigrate-<id>) is denied. The migration
// must stop with a PermissionError at PutBucketPolicy and leave the policy as it was.
func TestE2ENotPrincipalDenyWithoutTheSession(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(11, 3, ""))
	id, err := sts.NewFromConfig(env.Source.Config).GetCallerIdentity(testCtx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	req := env.NewRequest("guarded", src, "", dst, "")
	guard := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"OnlyAdminsEditThePolicy","Effect":"Deny",`+
		`"NotPrincipal":{"AWS":[%q,"arn:aws:iam::%s:root",%q]},"Action":"s3:PutBucketPolicy","Resource":"arn:aws:s3:::%s"}]}`,
		aws.ToString(id.Arn), env.Source.AccountID, env.SourceRoleArn("putbucketpolicy"), src)
	putPolicy(t, env.Source.S3, src, guard)
	before := policy(t, env.Source.S3, src)

	res := run(t, env, req, "notprincipal-guard")
	if res.Succeeded {
		t.Fatal("got success, want a PermissionError: the NotPrincipal Deny does not name the policy-writer session")
	}
	if res.Error != "PermissionError" || !containsFold(res.Cause, "s3:PutBucketPolicy", src) {
		t.Errorf("got %s: %q, want a PermissionError naming s3:PutBucketPolicy on %s", res.Error, res.Cause, src)
	}
	if len(res.TaskFailures("PutBucketPolicy")) == 0 {
		t.Errorf("got failures %v, want the PutBucketPolicy step to fail", res.TaskFailures(""))
	}
	if slices.Contains(res.StatesEntered(), "CreateLocations") {
		t.Errorf("got path %v, want it stopped before CreateLocations", res.StatesEntered())
	}
	if after := policy(t, env.Source.S3, src); after != before {
		t.Errorf("got source policy %s, want it unchanged: %s", after, before)
	}
}
