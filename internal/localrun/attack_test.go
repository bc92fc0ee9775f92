package localrun

// Attack tests: with the real credentials of the roles the local environment builds from
// the synthesized templates, attempt what someone holding a step function's credentials
// (a compromised function, a stolen session) could try. Each test first removes the guard
// from the simulator's copy of the role's policy and shows the attempt succeeds, then puts
// the template's policy back and shows the same attempt denied, so it cannot pass by
// accident. The harness here (a function's credentials, a guard taken out and put back)
// is shared by every TestAttack test of the package.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/naming"
	dsmpolicy "github.com/dsmigrate/dsmigrate/internal/policy"
)

// Clients are SDK clients acting with one set of credentials against the simulator.
type Clients struct {
	Config   aws.Config
	IAM      *iam.Client
	S3       *s3.Client
	STS      *sts.Client
	DataSync *datasync.Client
}

func (e *Environment) clients(creds aws.CredentialsProvider) *Clients {
	cfg := aws.Config{Region: e.Region, Credentials: creds, BaseEndpoint: aws.String(e.Sim.Addr)}
	return &Clients{
		Config:   cfg,
		IAM:      iam.NewFromConfig(cfg),
		S3:       s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		STS:      sts.NewFromConfig(cfg),
		DataSync: datasync.NewFromConfig(cfg),
	}
}

// function returns the function spec of a step directory (createroles, starttask, ...).
func (e *Environment) function(t *testing.T, dir string) *FunctionSpec {
	t.Helper()
	for _, f := range e.Spec.Functions {
		if f.Dir == dir {
			return f
		}
	}
	t.Fatalf("no function %s in the destination stack", dir)
	return nil
}

// asFunction returns clients with the credentials of a function's execution role, as
// Lambda hands them to the function: the role the template defines, in the simulator.
func asFunction(t *testing.T, env *Environment, dir string) *Clients {
	t.Helper()
	f := env.function(t, dir)
	c, err := env.Sim.RoleCredentials(testCtx(t), f.Role.Arn, "attack-"+dir)
	if err != nil {
		t.Fatal(err)
	}
	return env.clients(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken))
}

// guard is one statement of a function role's policy, found by Sid.
type guard struct {
	env    *Environment
	role   string // role name
	policy string // inline policy name
	sid    string
	orig   map[string]any
}

// current holds, per environment, role and inline policy, the policy document the
// simulator has now: the template's, with the statements the test changed. Only the
// attack tests change these policies, so this is what IAM holds (and no GetRolePolicy,
// which dsmigrate never calls and the simulator does not serve, is needed).
var current sync.Map // *Environment + role + policy → *policyDoc

type policyDoc struct {
	mu  sync.Mutex
	doc map[string]any
}

// findGuard returns the statement with sid in the template's policies of a function role.
func findGuard(t *testing.T, env *Environment, dir, sid string) *guard {
	t.Helper()
	f := env.function(t, dir)
	for name, doc := range f.Role.Policies {
		var d map[string]any
		if json.Unmarshal(doc, &d) != nil {
			continue
		}
		list, _ := d["Statement"].([]any)
		for _, s := range list {
			if st, _ := s.(map[string]any); st["Sid"] == sid {
				current.LoadOrStore(fmt.Sprintf("%p/%s/%s", env, f.Role.Name, name), &policyDoc{doc: d})
				return &guard{env: env, role: f.Role.Name, policy: name, sid: sid, orig: clone(st)}
			}
		}
	}
	t.Fatalf("the %s role has no statement %s", dir, sid)
	return nil
}

func clone(v map[string]any) map[string]any {
	var out map[string]any
	b, _ := json.Marshal(v)
	json.Unmarshal(b, &out)
	return out
}

// remove changes the statement in the simulator's copy of the role policy (the guard taken
// out); the template's statement is put back by restore or when the test ends. Other
// statements keep what they have, so guards of one policy can be removed together.
func (g *guard) remove(t *testing.T, edit func(st map[string]any)) {
	t.Helper()
	st := clone(g.orig)
	edit(st)
	g.set(t, st)
	t.Cleanup(func() { g.restore(t) })
}

// restore puts the template's statement back.
func (g *guard) restore(t *testing.T) {
	t.Helper()
	g.set(t, g.orig)
}

// set replaces the statement in the role's current policy and puts the policy.
func (g *guard) set(t *testing.T, st map[string]any) {
	t.Helper()
	v, _ := current.Load(fmt.Sprintf("%p/%s/%s", g.env, g.role, g.policy))
	p := v.(*policyDoc)
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, s := range p.doc["Statement"].([]any) {
		if s.(map[string]any)["Sid"] == g.sid {
			p.doc["Statement"].([]any)[i] = clone(st)
		}
	}
	b, _ := json.Marshal(p.doc)
	if _, err := g.env.Destination.IAM.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{
		RoleName: aws.String(g.role), PolicyName: aws.String(g.policy), PolicyDocument: aws.String(string(b)),
	}); err != nil {
		t.Fatalf("put policy %s of role %s: %v", g.policy, g.role, err)
	}
}

// dropCondition removes one condition key (under any operator); with no key, the whole
// Condition element.
func dropCondition(keys ...string) func(st map[string]any) {
	return func(st map[string]any) {
		if len(keys) == 0 {
			delete(st, "Condition")
			return
		}
		cond, _ := st["Condition"].(map[string]any)
		for op, m := range cond {
			for _, k := range keys {
				delete(m.(map[string]any), k)
			}
			if len(m.(map[string]any)) == 0 {
				delete(cond, op)
			}
		}
	}
}

// denied reports whether err is AWS's access denial.
func denied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "AccessDenied" || ae.ErrorCode() == "AccessDeniedException")
}

func wantAllowed(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s, guard removed: got %v, want it to succeed (else the test cannot show the guard works)", what, err)
	}
}

func wantDenied(t *testing.T, what string, err error) {
	t.Helper()
	if !denied(err) {
		t.Errorf("%s, with the guard: got %v, want AccessDenied", what, err)
	}
}

// deployment is what the attack tests read from the destination stack.
type deployment struct {
	prefix, account, boundary string
}

func deploymentOf(t *testing.T, env *Environment) deployment {
	t.Helper()
	f := env.function(t, "createroles")
	d := deployment{prefix: f.Env["DSMIGRATE_ROLE_PREFIX"], account: env.Destination.AccountID, boundary: f.Env["DSMIGRATE_ROLE_BOUNDARY_ARN"]}
	if d.prefix == "" || d.boundary == "" {
		t.Fatalf("createroles has no DSMIGRATE_ROLE_PREFIX / DSMIGRATE_ROLE_BOUNDARY_ARN in its environment: %v", f.Env)
	}
	return d
}

// roleInput is a CreateRole call shaped like createroles' own, with the given changes.
func (d deployment) roleInput(name, path, trust, boundary string) *iam.CreateRoleInput {
	in := &iam.CreateRoleInput{
		RoleName: aws.String(name), Path: aws.String(path), AssumeRolePolicyDocument: aws.String(trust),
		Tags: []iamtypes.Tag{{Key: aws.String(naming.DeploymentTagKey), Value: aws.String(d.prefix)},
			{Key: aws.String(naming.TagKey), Value: aws.String("attack")}},
	}
	if boundary != "" {
		in.PermissionsBoundary = aws.String(boundary)
	}
	return in
}

func (d deployment) dataSyncTrust(region string) string {
	return dsmpolicy.TrustPolicy(d.account, region, "aws").String()
}

// earlierRolePatterns are the resources of createroles' statement before the role path:
// role/<prefix>-*-transfer and -config, which also match every role of a deployment whose
// prefix starts with "<prefix>-".
func (d deployment) earlierRolePatterns() []any {
	return []any{
		fmt.Sprintf("arn:aws:iam::%s:role/%s-*-transfer", d.account, d.prefix),
		fmt.Sprintf("arn:aws:iam::%s:role/%s-*-config", d.account, d.prefix),
	}
}

// H1: createroles' credentials create a role without the permissions boundary.
func TestAttackCreateRoleWithoutBoundary(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	d := deploymentOf(t, env)
	cr := asFunction(t, env, "createroles")
	name := naming.TransferRoleName(d.prefix, "no-boundary")
	in := d.roleInput(name, naming.RolePath(d.prefix), d.dataSyncTrust(env.Region), "")

	g := findGuard(t, env, "createroles", "CreateRolesInsideTheBoundary")
	g.remove(t, dropCondition("iam:PermissionsBoundary"))
	_, err := cr.IAM.CreateRole(testCtx(t), in)
	wantAllowed(t, "CreateRole without a permissions boundary", err)

	g.restore(t)
	in.RoleName = aws.String(naming.TransferRoleName(d.prefix, "no-boundary-2")) // the first one exists now
	_, err = cr.IAM.CreateRole(testCtx(t), in)
	wantDenied(t, "CreateRole without a permissions boundary", err)
	// Nor with another boundary (one that allows everything).
	in.PermissionsBoundary = aws.String("arn:aws:iam::aws:policy/AdministratorAccess")
	_, err = cr.IAM.CreateRole(testCtx(t), in)
	wantDenied(t, "CreateRole with AdministratorAccess as boundary", err)
	// Nor without this deployment's tag.
	in = d.roleInput(name, naming.RolePath(d.prefix), d.dataSyncTrust(env.Region), d.boundary)
	in.Tags = in.Tags[1:]
	_, err = cr.IAM.CreateRole(testCtx(t), in)
	wantDenied(t, "CreateRole without the deployment tag", err)
}

// H1: createroles' credentials create a role outside the deployment's path: under "/"
// (where the earlier pattern role/<prefix>-*-transfer allowed it) or under the path of a
// deployment whose prefix starts with this one's.
func TestAttackCreateRoleOutsideThePath(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	d := deploymentOf(t, env)
	cr := asFunction(t, env, "createroles")
	name := naming.TransferRoleName(d.prefix, "outside")
	in := d.roleInput(name, "/", d.dataSyncTrust(env.Region), d.boundary)

	create := findGuard(t, env, "createroles", "CreateRolesInsideTheBoundary")
	tag := findGuard(t, env, "createroles", "TagNewRoles")
	widen := func(st map[string]any) { st["Resource"] = d.earlierRolePatterns() }
	create.remove(t, widen)
	tag.remove(t, widen)
	_, err := cr.IAM.CreateRole(testCtx(t), in)
	wantAllowed(t, "CreateRole under the path /", err)

	create.restore(t)
	tag.restore(t)
	in.RoleName = aws.String(naming.TransferRoleName(d.prefix, "outside-2")) // the first one exists now
	_, err = cr.IAM.CreateRole(testCtx(t), in)
	wantDenied(t, "CreateRole under the path /", err)
	other := d.prefix + "-x"
	in = d.roleInput(naming.TransferRoleName(other, "m1"), naming.RolePath(other), d.dataSyncTrust(env.Region), d.boundary)
	_, err = cr.IAM.CreateRole(testCtx(t), in)
	wantDenied(t, "CreateRole under the path of deployment "+other, err)
}

// H1: createroles' credentials put an Action:* policy on a role of another deployment
// whose prefix starts with "<prefix>-". Setup, as account B's admin: that deployment's
// roles as the earlier version laid them out (path "/") and as this version does.
func TestAttackPutRolePolicyOnAnotherDeployment(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	d := deploymentOf(t, env)
	ctx := testCtx(t)
	other := deployment{prefix: d.prefix + "-x", account: d.account}
	var targets []string
	for _, path := range []string{"/", naming.RolePath(other.prefix)} {
		name := naming.TransferRoleName(other.prefix, "m"+fmt.Sprint(len(targets)+1))
		in := other.roleInput(name, path, other.dataSyncTrust(env.Region), "")
		if _, err := env.Destination.IAM.CreateRole(ctx, in); err != nil {
			t.Fatalf("setup: %v", err)
		}
		targets = append(targets, name)
	}
	cr := asFunction(t, env, "createroles")
	admin := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	put := func(role string) error {
		_, err := cr.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("backdoor"), PolicyDocument: aws.String(admin)})
		return err
	}

	// The earlier statement: the role patterns without path, no condition.
	g := findGuard(t, env, "createroles", "PutPoliciesOnBoundedRoles")
	g.remove(t, func(st map[string]any) {
		st["Resource"] = d.earlierRolePatterns()
		delete(st, "Condition")
	})
	wantAllowed(t, "PutRolePolicy Action:* on "+targets[0], put(targets[0]))

	g.restore(t)
	for _, role := range targets {
		wantDenied(t, "PutRolePolicy Action:* on "+role, put(role))
	}
}

// H1, foreign trust. IAM has no condition key that constrains the trust policy of a new
// role (the Service Authorization Reference lists for iam:CreateRole only aws:RequestTag,
// aws:ResourceTag, aws:TagKeys, iam:PermissionsBoundary, iam:ResourceTag and
// iam:RoleTemplateARN), so createroles' credentials can create a role, inside the
// boundary and under the path, that an outside account may assume, and give it an
// Action:* policy. This test shows what that role can do: with the boundary, only the
// DataSync S3 actions on the deployment's listed buckets, and nothing in account A (A's
// bucket policy names exact migration role ARNs); with the boundary requirement taken out
// of createroles' policy, whatever it likes in account B.
func TestAttackCreateRoleWithForeignTrust(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	d := deploymentOf(t, env)
	ctx := testCtx(t)
	src, dst, err := env.DefaultBuckets()
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateBucket(ctx, env.Source.S3, src, env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
		t.Fatal(err)
	}
	unlisted := dst + "-private"
	for _, b := range []string{dst, unlisted} {
		if err := CreateBucket(ctx, env.Destination.S3, b, env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []struct {
		c      *s3.Client
		bucket string
	}{{env.Source.S3, src}, {env.Destination.S3, unlisted}} {
		if _, err := o.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.bucket), Key: aws.String("secret.txt"), Body: strings.NewReader("secret")}); err != nil {
			t.Fatal(err)
		}
	}
	// The outside principal is account A's admin (account A is outside account B).
	foreignTrust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, env.Source.AccountID)
	cr := asFunction(t, env, "createroles")
	backdoor := func(name, boundary string) *Clients {
		t.Helper()
		in := d.roleInput(name, naming.RolePath(d.prefix), foreignTrust, boundary)
		out, err := cr.IAM.CreateRole(ctx, in)
		if err != nil {
			t.Fatalf("createroles' credentials: CreateRole %s with a foreign trust: %v", name, err)
		}
		if _, err := cr.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("backdoor"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}); err != nil {
			t.Fatalf("createroles' credentials: PutRolePolicy Action:* on %s: %v", name, err)
		}
		session, err := sts.NewFromConfig(env.Source.Config).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: out.Role.Arn, RoleSessionName: aws.String("outsider")})
		if err != nil {
			t.Fatalf("account %s assumes %s: %v", env.Source.AccountID, name, err)
		}
		c := session.Credentials
		return env.clients(credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	}
	type attempt struct {
		what string
		try  func(c *Clients) error
	}
	escalations := []attempt{
		{"iam:CreateRole of an admin role", func(c *Clients) error {
			_, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("outsider-admin"), AssumeRolePolicyDocument: aws.String(foreignTrust)})
			return err
		}},
		{"s3:PutBucketPolicy on the destination bucket", func(c *Clients) error {
			_, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(dst), Policy: aws.String(
				`{"Version":"2012-10-17","Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + dst + `/*"}]}`)})
			return err
		}},
		{"s3:GetObject from a bucket of account B that is not listed", func(c *Clients) error {
			_, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(unlisted), Key: aws.String("secret.txt")})
			return err
		}},
	}

	// The boundary requirement taken out of createroles' policy.
	for _, sid := range []string{"CreateRolesInsideTheBoundary", "PutPoliciesOnBoundedRoles"} {
		findGuard(t, env, "createroles", sid).remove(t, dropCondition("iam:PermissionsBoundary"))
	}
	outsider := backdoor(naming.TransferRoleName(d.prefix, "unbounded"), "")
	for _, a := range escalations {
		wantAllowed(t, "outsider "+a.what, a.try(outsider))
	}

	// With the guard: the same role, created with the boundary createroles must set.
	for _, sid := range []string{"CreateRolesInsideTheBoundary", "PutPoliciesOnBoundedRoles"} {
		findGuard(t, env, "createroles", sid).restore(t)
	}
	outsider = backdoor(naming.TransferRoleName(d.prefix, "bounded"), d.boundary)
	escalations = append(escalations, attempt{"s3:GetObject from the source bucket in account A", func(c *Clients) error {
		_, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(src), Key: aws.String("secret.txt")})
		return err
	}})
	for _, a := range escalations {
		wantDenied(t, "outsider "+a.what, a.try(outsider))
	}
	// The residual risk, stated by the test: the boundary still lets such a role read and
	// write objects of the deployment's listed destination buckets.
	_, err = outsider.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(dst), Key: aws.String("planted.txt"), Body: strings.NewReader("x")})
	if err != nil {
		t.Errorf("outsider s3:PutObject into the listed destination bucket: got %v; the boundary allows it (the residual risk docs/operate.md states), so a denial means the boundary or this test changed", err)
	}
}

// otherTeamTask sets up, as account B's admin, another team's DataSync task in the
// deployment's destination bucket: its bucket access role roleName (under rolePath when
// not "") with the inline policy policyName, two locations and a task between them, all
// tagged tags. It returns the locations' ARNs and the task's.
func otherTeamTask(t *testing.T, env *Environment, d deployment, roleName, rolePath, policyName string, tags []dstypes.TagListEntry) (locs []string, taskArn *string) {
	t.Helper()
	ctx := testCtx(t)
	_, dst, err := env.DefaultBuckets()
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateBucket(ctx, env.Destination.S3, dst, env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
		t.Fatal(err)
	}
	admin := env.clients(env.Destination.Config.Credentials)
	in := &iam.CreateRoleInput{RoleName: aws.String(roleName), AssumeRolePolicyDocument: aws.String(d.dataSyncTrust(env.Region))}
	if rolePath != "" {
		in.Path = aws.String(rolePath)
	}
	role, err := admin.IAM.CreateRole(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(policyName),
		PolicyDocument: aws.String(dsmpolicy.DestinationRolePolicy("aws", dst, "").String())}); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"/other-in/", "/other-out/"} {
		out, err := admin.DataSync.CreateLocationS3(ctx, &datasync.CreateLocationS3Input{S3BucketArn: aws.String("arn:aws:s3:::" + dst),
			Subdirectory: aws.String(sub), S3Config: &dstypes.S3Config{BucketAccessRoleArn: role.Role.Arn}, Tags: tags})
		if err != nil {
			t.Fatalf("setup: %v", err)
		}
		locs = append(locs, aws.ToString(out.LocationArn))
	}
	task, err := admin.DataSync.CreateTask(ctx, &datasync.CreateTaskInput{SourceLocationArn: aws.String(locs[0]),
		DestinationLocationArn: aws.String(locs[1]), Name: aws.String("other-team-nightly"), Tags: tags})
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	return locs, task.TaskArn
}

// M4: starttask's credentials act on another team's DataSync task (tagged with another
// deployment): start it, re-tag it as this deployment's, or build a task from its
// locations. Setup, as account B's admin: that team's bucket access role, two locations
// and a task, tagged dsmigrate:deployment=other-team.
func TestAttackStartTaskOfAnotherDeployment(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	d := deploymentOf(t, env)
	ctx := testCtx(t)
	theirs := []dstypes.TagListEntry{{Key: aws.String(naming.DeploymentTagKey), Value: aws.String("other-team")}}
	locs, taskArn := otherTeamTask(t, env, d, "other-team-datasync", "", "bucket", theirs)
	admin := env.clients(env.Destination.Config.Credentials)
	st := asFunction(t, env, "starttask")
	ours := []dstypes.TagListEntry{{Key: aws.String(naming.DeploymentTagKey), Value: aws.String(d.prefix)},
		{Key: aws.String(naming.TagKey), Value: aws.String("attack")}}
	start := func() error {
		_, err := st.DataSync.StartTaskExecution(ctx, &datasync.StartTaskExecutionInput{TaskArn: taskArn, Tags: ours})
		return err
	}
	retag := func() error {
		_, err := st.DataSync.TagResource(ctx, &datasync.TagResourceInput{ResourceArn: taskArn,
			Tags: append(slices.Clone(ours), dstypes.TagListEntry{Key: aws.String(naming.RoleTagKey), Value: aws.String("task")})})
		return err
	}
	createFromTheirs := func() error {
		_, err := st.DataSync.CreateTask(ctx, &datasync.CreateTaskInput{SourceLocationArn: aws.String(locs[0]), DestinationLocationArn: aws.String(locs[1]),
			Tags: append(slices.Clone(ours), dstypes.TagListEntry{Key: aws.String(naming.RoleTagKey), Value: aws.String("task")})})
		return err
	}

	t.Run("start", func(t *testing.T) {
		g := findGuard(t, env, "starttask", "StartDeploymentTasks")
		g.remove(t, dropCondition())
		wantAllowed(t, "StartTaskExecution of another deployment's task", start())
		g.restore(t)
		wantDenied(t, "StartTaskExecution of another deployment's task", start())
	})
	t.Run("create from its locations", func(t *testing.T) {
		g := findGuard(t, env, "starttask", "CreateTasksOfDeploymentLocations")
		g.remove(t, dropCondition("aws:ResourceTag/"+naming.DeploymentTagKey))
		wantAllowed(t, "CreateTask from another deployment's locations", createFromTheirs())
		g.restore(t)
		wantDenied(t, "CreateTask from another deployment's locations", createFromTheirs())
	})
	// Re-tagging the task as this deployment's would make the start guard let it through.
	t.Run("re-tag as ours", func(t *testing.T) {
		g := findGuard(t, env, "starttask", "TagNewTasksAndExecutions")
		g.remove(t, dropCondition("aws:ResourceTag/"+naming.DeploymentTagKey))
		wantAllowed(t, "TagResource of another deployment's task with this deployment's tag", retag())
		if err := start(); err != nil {
			t.Errorf("after the re-tag: start got %v, want the task passing for this deployment's (which is why the re-tag guard matters)", err)
		}
		// Give the task back its owner's tag, then try again with the guard.
		if _, err := admin.DataSync.TagResource(ctx, &datasync.TagResourceInput{ResourceArn: taskArn, Tags: theirs}); err != nil {
			t.Fatal(err)
		}
		g.restore(t)
		wantDenied(t, "TagResource of another deployment's task with this deployment's tag", retag())
		wantDenied(t, "StartTaskExecution of another deployment's task", start())
	})
}
