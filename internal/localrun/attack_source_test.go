package localrun

// Attack tests on account A and the front door: with the real credentials of the function
// roles the local environment builds from cdk.out, and the roles in A those functions
// assume, attempt what a holder of one function's credentials could try in account A, and
// what whoever may start a migration could ask for. Each test first shows the attempt
// succeeding without its guard, so it cannot pass by accident.

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

// functionSpec is the function of a step directory as the destination stack defines it.
func functionSpec(t *testing.T, env *Environment, dir string) *FunctionSpec {
	t.Helper()
	for _, f := range env.Spec.Functions {
		if f.Dir == dir {
			return f
		}
	}
	t.Fatalf("no function %s in the destination stack", dir)
	return nil
}

// functionConfig is an SDK configuration with the credentials Lambda would give a function:
// a session of its execution role as the destination stack defines it.
func functionConfig(t *testing.T, env *Environment, dir string) aws.Config {
	t.Helper()
	c, err := env.Sim.RoleCredentials(testCtx(t), functionSpec(t, env, dir).Role.Arn, "attack-"+dir)
	if err != nil {
		t.Fatal(err)
	}
	return aws.Config{Region: env.Region, BaseEndpoint: aws.String(env.Sim.Addr),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
}

// inAccountA assumes roleArn with the function's credentials the way the functions do
// (sourceaccess.Assumer) and returns an S3 client acting as that role.
func inAccountA(t *testing.T, env *Environment, fn aws.Config, roleArn string) (*s3.Client, error) {
	t.Helper()
	a := &sourceaccess.Assumer{Config: fn, STS: sts.NewFromConfig(fn),
		S3Options: []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}}
	return a.S3(testCtx(t), sourceaccess.Params{RoleArn: roleArn, MigrationID: "attack", Region: env.Region})
}

func isAccessDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "AccessDenied" || ae.ErrorCode() == "AccessDeniedException")
}

// sourceRole is a role of the source-access stack as created in account A.
func sourceRole(t *testing.T, env *Environment, name string) *RoleSpec {
	t.Helper()
	for _, r := range env.SourceRoles {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("the source-access stack has no role %s", name)
	return nil
}

// putRolePolicy replaces an inline policy of a role in account (A's or B's admin).
func putRolePolicy(t *testing.T, c *iam.Client, role, name string, doc []byte) {
	t.Helper()
	if _, err := c.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{
		RoleName: aws.String(role), PolicyName: aws.String(name), PolicyDocument: aws.String(string(doc)),
	}); err != nil {
		t.Fatalf("put policy %s on %s: %v", name, role, err)
	}
}

// editStatement returns the policy doc with the statement sid changed by edit, and whether
// the statement was there.
func editStatement(t *testing.T, doc []byte, sid string, edit func(st map[string]any)) ([]byte, bool) {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range asAnyList(d["Statement"]) {
		if st, ok := s.(map[string]any); ok && st["Sid"] == sid {
			edit(st)
			found = true
		}
	}
	b, _ := json.Marshal(d)
	return b, found
}

func asAnyList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// policyWithStatement finds the inline policy of rs holding statement sid.
func policyWithStatement(t *testing.T, rs *RoleSpec, sid string) (name string, doc []byte) {
	t.Helper()
	for n, d := range rs.Policies {
		if _, ok := editStatement(t, d, sid, func(map[string]any) {}); ok {
			return n, d
		}
	}
	t.Fatalf("role %s has no statement %s", rs.Name, sid)
	return "", nil
}

// publicRead is what an attacker would put on the source bucket: read for everyone.
func publicRead(bucket string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/*"}]}`
}

// M1: Preflight, documented as read-only, rewrites or deletes A's bucket policy. Without
// the guard (the earlier single role <prefix>-source-access, trusted by both preflight and
// putbucketpolicy and allowed to write the policy, which preflight may assume) the attempt
// succeeds. With the roles the stacks define, preflight's credentials reach only the read
// role, which may not write or delete the policy, and the writer role does not trust it.
func TestAttackPreflightWritesSourcePolicy(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	ctx := testCtx(t)
	src, _ := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(11, 3, ""))
	owners := `{"Version":"2012-10-17","Statement":[{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + env.Source.AccountID + `:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + src + `/*"}]}`
	putPolicy(t, env.Source.S3, src, owners)

	prefix := functionSpec(t, env, "preflight").Env["DSMIGRATE_ROLE_PREFIX"]
	readRole := sourceRole(t, env, naming.SourceReadRoleName(prefix))
	writerRole := sourceRole(t, env, naming.SourcePolicyWriterRoleName(prefix))
	preflight := functionSpec(t, env, "preflight").Role
	assumeName, assumeDoc := policyWithStatement(t, preflight, "AssumeSourceReadRole")

	// Without the guard: the earlier layout, one role in A for both functions.
	oldRole := &RoleSpec{LogicalID: "EarlierSourceAccessRole", Name: prefix + "-source-access", Path: "/",
		Arn: naming.DefaultPathRoleArn("aws", env.Source.AccountID, prefix+"-source-access"), Policies: map[string]json.RawMessage{}}
	oldRole.Trust = json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":["` +
		preflight.Arn + `","` + functionSpec(t, env, "putbucketpolicy").Role.Arn + `"]}}]}`)
	oldRole.Policies["EditSourceBucketPolicies"] = json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetBucketPolicy","s3:PutBucketPolicy","s3:DeleteBucketPolicy","s3:GetBucketOwnershipControls"],"Resource":"arn:aws:s3:::` + src + `"}]}`)
	if err := createRole(ctx, env.Source.IAM, oldRole); err != nil {
		t.Fatal(err)
	}
	widened, _ := editStatement(t, assumeDoc, "AssumeSourceReadRole", func(st map[string]any) { st["Resource"] = oldRole.Arn })
	putRolePolicy(t, env.Destination.IAM, preflight.Name, assumeName, widened)
	fn := functionConfig(t, env, "preflight")
	c, err := inAccountA(t, env, fn, oldRole.Arn)
	if err != nil {
		t.Fatalf("without the guard: preflight could not assume the earlier role: %v", err)
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(src), Policy: aws.String(publicRead(src))}); err != nil {
		t.Fatalf("without the guard: PutBucketPolicy as preflight got %v, want it to succeed (else the test cannot show the guard works)", err)
	}
	if got := policy(t, env.Source.S3, src); !strings.Contains(got, `"Principal":"*"`) {
		t.Fatalf("without the guard: the public policy was not written: %s", got)
	}
	putPolicy(t, env.Source.S3, src, owners)

	// With the guard: preflight's own policy and the roles of the source-access stack.
	putRolePolicy(t, env.Destination.IAM, preflight.Name, assumeName, assumeDoc)
	if _, err := inAccountA(t, env, fn, oldRole.Arn); !isAccessDenied(err) {
		t.Errorf("preflight assumes a role in A other than its read role: got %v, want AccessDenied", err)
	}
	c, err = inAccountA(t, env, fn, readRole.Arn)
	if err != nil {
		t.Fatalf("preflight cannot assume its read role: %v", err)
	}
	if _, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(src)}); err != nil {
		t.Errorf("the read role cannot read the policy it is for: %v", err)
	}
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(src), Policy: aws.String(publicRead(src))})
	if !isAccessDenied(err) {
		t.Errorf("preflight's read role PutBucketPolicy (public read): got %v, want AccessDenied", err)
	}
	if _, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(src)}); !isAccessDenied(err) {
		t.Errorf("preflight's read role DeleteBucketPolicy: got %v, want AccessDenied", err)
	}
	// Even were preflight allowed to assume the writer role, the writer role trusts only
	// putbucketpolicy's role.
	toWriter, _ := editStatement(t, assumeDoc, "AssumeSourceReadRole", func(st map[string]any) { st["Resource"] = writerRole.Arn })
	putRolePolicy(t, env.Destination.IAM, preflight.Name, assumeName, toWriter)
	if _, err := inAccountA(t, env, fn, writerRole.Arn); !isAccessDenied(err) {
		t.Errorf("preflight assumes the policy-writer role: got %v, want AccessDenied (its trust names putbucketpolicy only)", err)
	}
	putRolePolicy(t, env.Destination.IAM, preflight.Name, assumeName, assumeDoc)
	if got := policy(t, env.Source.S3, src); !sameJSON(got, owners) {
		t.Errorf("the source bucket policy changed: got %s, want %s", got, owners)
	}
}

// PutBucketPolicy's credentials edit the policy of a bucket in A that is not in
// dsmigrate:sourceBuckets. Without the guard (the writer role's statement on every bucket)
// the attempt succeeds; with it, S3 denies it.
func TestAttackPolicyWriterEditsUnlistedBucket(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	ctx := testCtx(t)
	const unlisted = "team-a-payroll"
	if err := CreateBucket(ctx, env.Source.S3, unlisted, env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
		t.Fatal(err)
	}
	prefix := functionSpec(t, env, "putbucketpolicy").Env["DSMIGRATE_ROLE_PREFIX"]
	writer := sourceRole(t, env, naming.SourcePolicyWriterRoleName(prefix))
	name, doc := policyWithStatement(t, writer, "EditSourceBucketPolicies")
	fn := functionConfig(t, env, "putbucketpolicy")

	everyBucket, _ := editStatement(t, doc, "EditSourceBucketPolicies", func(st map[string]any) { st["Resource"] = "arn:aws:s3:::*" })
	putRolePolicy(t, env.Source.IAM, writer.Name, name, everyBucket)
	c, err := inAccountA(t, env, fn, writer.Arn)
	if err != nil {
		t.Fatalf("putbucketpolicy cannot assume its writer role: %v", err)
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(unlisted), Policy: aws.String(publicRead(unlisted))}); err != nil {
		t.Fatalf("without the guard: PutBucketPolicy on %s got %v, want it to succeed (else the test cannot show the guard works)", unlisted, err)
	}
	if _, err := env.Source.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(unlisted)}); err != nil {
		t.Fatal(err)
	}

	putRolePolicy(t, env.Source.IAM, writer.Name, name, doc)
	for what, call := range map[string]func() error{
		"PutBucketPolicy": func() error {
			_, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(unlisted), Policy: aws.String(publicRead(unlisted))})
			return err
		},
		"DeleteBucketPolicy": func() error {
			_, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(unlisted)})
			return err
		},
		"GetBucketPolicy": func() error {
			_, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(unlisted)})
			return err
		},
	} {
		if err := call(); !isAccessDenied(err) {
			t.Errorf("the writer role %s on the unlisted bucket %s: got %v, want AccessDenied", what, unlisted, err)
		}
	}
	if got := policy(t, env.Source.S3, unlisted); got != "" {
		t.Errorf("the unlisted bucket has a policy: %s", got)
	}
	// Nor may putbucketpolicy act as the read role (trusted by preflight only).
	if _, err := inAccountA(t, env, fn, sourceRole(t, env, naming.SourceReadRoleName(prefix)).Arn); !isAccessDenied(err) {
		t.Errorf("putbucketpolicy assumes the read role: got %v, want AccessDenied", err)
	}
}

// H2: whoever may start a migration asks for REMOVE from an empty source prefix into the
// destination's root, which deletes everything there. On a deployment that allows REMOVE
// (the guard removed) it does; on one that does not (the default) the execution fails
// with a ValidationError at Preflight naming the setting, and nothing changed in either
// account.
func TestAttackRemoveNotAllowed(t *testing.T) {
	t.Parallel()
	wipe := func(env *Environment) (src, dst string, req request.Request, before map[string]int64) {
		src, dst = seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(12, 4, "photos/"))
		if err := Upload(testCtx(t), env.Destination.S3, dst, smallObjects(13, 5, "team-b/")); err != nil {
			t.Fatal(err)
		}
		var err error
		if before, err = ListKeys(testCtx(t), env.Destination.S3, dst, ""); err != nil || len(before) != 5 {
			t.Fatalf("destination before: %v %v", before, err)
		}
		req = env.NewRequest("wipe", src, "nothing-here/", dst, "")
		req.Task.PreserveDeletedFiles = "REMOVE"
		return src, dst, req, before
	}

	t.Run("without the guard", func(t *testing.T) {
		allow := map[string]string{"DSMIGRATE_ALLOW_REMOVE": "true"}
		env := e2eEnv(t, Options{FunctionEnv: map[string]map[string]string{"preflight": allow, "starttask": allow}})
		_, dst, req, _ := wipe(env)
		mustSucceed(t, run(t, env, req, "wipe-allowed"))
		after, err := ListKeys(testCtx(t), env.Destination.S3, dst, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != 0 {
			t.Fatalf("a deployment that allows REMOVE: %d destination objects left, want the root wiped (else the test cannot show the guard works)", len(after))
		}
	})

	t.Run("with the guard", func(t *testing.T) {
		env := e2eEnv(t, Options{})
		src, dst, req, before := wipe(env)
		srcPolicy := policy(t, env.Source.S3, src)
		inv := inventory(t, env)
		res := run(t, env, req, "wipe-refused")
		if res.Succeeded || res.Error != "ValidationError" {
			t.Fatalf("got succeeded=%v error %q, want the execution failed with ValidationError", res.Succeeded, res.Error)
		}
		for _, s := range []string{"task.preserveDeletedFiles", request.SettingAllowRemove} {
			if !strings.Contains(res.Cause, s) {
				t.Errorf("cause %q does not name %s", res.Cause, s)
			}
		}
		if got := res.StatesEntered(); len(got) == 0 || !slices.Contains(got, "Preflight") || slices.Contains(got, "CreateRoles") {
			t.Errorf("states entered %v, want it to stop at Preflight", got)
		}
		after, err := ListKeys(testCtx(t), env.Destination.S3, dst, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Errorf("destination: %d objects after, %d before; want none removed", len(after), len(before))
		}
		if got := policy(t, env.Source.S3, src); got != srcPolicy {
			t.Errorf("source bucket policy changed: %q -> %q", srcPolicy, got)
		}
		if got := inventory(t, env); !sameInventory(got, inv) {
			t.Errorf("AWS resources changed:\nbefore %+v\nafter  %+v", inv, got)
		}
	})
}

// sameInventory compares the roles, locations, tasks and executions of two inventories.
func sameInventory(a, b Inventory) bool {
	for _, k := range []string{"roles", "locations", "tasks", "executions"} {
		if strings.Join(a.Kinds[k], ",") != strings.Join(b.Kinds[k], ",") {
			return false
		}
	}
	return true
}

// Preflight's read role lists the source bucket to find the folders of
// task.shards.byTopLevelPrefix. A holder of preflight's credentials tries to list every key
// of the bucket in one flat listing. Without the guard (the statement without its
// s3:delimiter condition) it succeeds; with it, only folder listings are allowed.
func TestAttackReadRoleListsEveryKey(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	ctx := testCtx(t)
	src, _ := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(31, 4, "a/b/"))
	prefix := functionSpec(t, env, "preflight").Env["DSMIGRATE_ROLE_PREFIX"]
	readRole := sourceRole(t, env, naming.SourceReadRoleName(prefix))
	name, doc := policyWithStatement(t, readRole, "ListSourceFolders")
	fn := functionConfig(t, env, "preflight")
	flat := &s3.ListObjectsV2Input{Bucket: aws.String(src)}

	// Without the guard.
	open, _ := editStatement(t, doc, "ListSourceFolders", func(st map[string]any) { delete(st, "Condition") })
	putRolePolicy(t, env.Source.IAM, readRole.Name, name, open)
	c, err := inAccountA(t, env, fn, readRole.Arn)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.ListObjectsV2(ctx, flat)
	if err != nil || len(out.Contents) != 4 {
		t.Fatalf("without the guard: a flat listing got %v (%d keys), want all 4 keys (else the test cannot show the guard works)", err, len(out.Contents))
	}

	// With the guard.
	putRolePolicy(t, env.Source.IAM, readRole.Name, name, doc)
	if _, err := c.ListObjectsV2(ctx, flat); !isAccessDenied(err) {
		t.Errorf("a flat listing with the read role: got %v, want AccessDenied", err)
	}
	folders, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(src), Delimiter: aws.String("/")})
	if err != nil || len(folders.CommonPrefixes) != 1 || aws.ToString(folders.CommonPrefixes[0].Prefix) != "a/" {
		t.Errorf("a folder listing with the read role: got %v %+v, want the folder a/", err, folders)
	}
}
