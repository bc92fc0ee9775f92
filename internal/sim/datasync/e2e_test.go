package datasync_test

// End-to-end through the whole simulator (internal/sim/server): SigV4 caller
// identification, the IAM policy evaluator, bucket policies, the S3 object store. The
// field report's pull layout, step by step, with the real SDK clients.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/sim/server"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

const (
	acctA = "111111111111"
	acctB = "222222222222"
)

// The deployer in B has what dsmigrate's createlocations/starttask functions get: DataSync,
// PassRole to DataSync only, and the service-linked role. Its s3:ListBucket on the source
// comes from the bucket policy (the seed's DataSyncCreateS3Location statement).
const e2eConfig = `{
  "region": "us-east-1", "timeScale": 0,
  "accounts": [
    {"id": "111111111111", "name": "source", "users": [
      {"name": "admin", "accessKeyId": "AKIAADMINA", "secretAccessKey": "sa",
       "policies": [{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}]}]},
    {"id": "222222222222", "name": "destination", "users": [
      {"name": "admin", "accessKeyId": "AKIAADMINB", "secretAccessKey": "sb",
       "policies": [{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}]},
      {"name": "deployer", "accessKeyId": "AKIADEPLOYB", "secretAccessKey": "sd",
       "policies": [{"Version":"2012-10-17","Statement":[
         {"Effect":"Allow","Action":"datasync:*","Resource":"*"},
         {"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::222222222222:role/*",
          "Condition":{"StringEquals":{"iam:PassedToService":"datasync.amazonaws.com"}}},
         {"Effect":"Allow","Action":"iam:CreateServiceLinkedRole","Resource":"*"},
         {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::*"}]}]},
      {"name": "nopass", "accessKeyId": "AKIANOPASSB", "secretAccessKey": "sn",
       "policies": [{"Version":"2012-10-17","Statement":[
         {"Effect":"Allow","Action":["datasync:*","s3:ListBucket"],"Resource":"*"},
         {"Effect":"Allow","Action":"iam:PassRole","Resource":"*",
          "Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}}]}]}]}
  ]
}`

const trustDataSync = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
 "Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole",
 "Condition":{"StringEquals":{"aws:SourceAccount":"222222222222"},
              "ArnLike":{"aws:SourceArn":"arn:aws:datasync:us-east-1:222222222222:location/*"}}}]}`

func rolePolicy(bucket string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"arn:aws:s3:::%[1]s"},
 {"Effect":"Allow","Action":["s3:AbortMultipartUpload","s3:DeleteObject","s3:GetObject","s3:ListMultipartUploadParts",
   "s3:GetObjectTagging","s3:PutObjectTagging","s3:PutObject"],"Resource":"arn:aws:s3:::%[1]s/*"}]}`, bucket)
}

// sourcePolicy is the seed's source bucket policy; withCaller adds DataSyncCreateS3Location.
func sourcePolicy(withCaller bool, extra string) string {
	roles := `["arn:aws:iam::222222222222:role/datasync-config-role","arn:aws:iam::222222222222:role/datasync-transfer-role"]`
	st := []string{
		`{"Sid":"RolesBucket","Effect":"Allow","Principal":{"AWS":` + roles + `},"Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"arn:aws:s3:::src-a"}`,
		`{"Sid":"RolesObjects","Effect":"Allow","Principal":{"AWS":` + roles + `},"Action":["s3:AbortMultipartUpload","s3:DeleteObject","s3:GetObject","s3:ListMultipartUploadParts","s3:PutObjectTagging","s3:GetObjectTagging","s3:PutObject"],"Resource":"arn:aws:s3:::src-a/*"}`,
	}
	if withCaller {
		st = append(st, `{"Sid":"DataSyncCreateS3Location","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/deployer"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::src-a"}`)
	}
	if extra != "" {
		st = append(st, extra)
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(st, ",") + `]}`
}

type e2e struct {
	t         testing.TB
	inst      *server.Instance
	s3A, s3B  *s3.Client
	iamA      *iam.Client
	iamB      *iam.Client
	ds        *datasync.Client
	transfer  string
	config    string
	foreignRl string
}

func cfgFor(inst *server.Instance, key, secret string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(inst.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")}
}

func startE2E(t testing.TB) *e2e {
	t.Helper()
	cfg, err := store.ParseConfig([]byte(e2eConfig))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := server.Start(cfg, server.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	ca, cb := cfgFor(inst, "AKIAADMINA", "sa"), cfgFor(inst, "AKIAADMINB", "sb")
	pathStyle := func(o *s3.Options) { o.UsePathStyle = true }
	e := &e2e{t: t, inst: inst, s3A: s3.NewFromConfig(ca, pathStyle), s3B: s3.NewFromConfig(cb, pathStyle),
		iamA: iam.NewFromConfig(ca), iamB: iam.NewFromConfig(cb),
		ds: datasync.NewFromConfig(cfgFor(inst, "AKIADEPLOYB", "sd"))}
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Step 1-2: buckets.
	must(e.s3A.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("src-a")}))
	must(e.s3B.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("dst-b")}))
	for k, v := range map[string]string{"photos/2026-01/a.jpg": "A", "photos/2026-02/b.jpg": "BB",
		"photos/2025/c.jpg": "CCC", "photos/2026-01/x.tmp": "T", "docs/readme": "R"} {
		must(e.s3A.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src-a"), Key: aws.String(k), Body: strings.NewReader(v)}))
	}
	// Step 3: roles in B, a look-alike in A.
	for name, bucket := range map[string]string{"datasync-transfer-role": "src-a", "datasync-config-role": "dst-b"} {
		out, err := e.iamB.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trustDataSync)})
		if err != nil {
			t.Fatal(err)
		}
		must(e.iamB.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("bucket"),
			PolicyDocument: aws.String(rolePolicy(bucket))}))
		if bucket == "src-a" {
			e.transfer = *out.Role.Arn
		} else {
			e.config = *out.Role.Arn
		}
	}
	out, err := e.iamA.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("datasync-transfer-role"),
		AssumeRolePolicyDocument: aws.String(strings.ReplaceAll(trustDataSync, acctB, acctA))})
	if err != nil {
		t.Fatal(err)
	}
	e.foreignRl = *out.Role.Arn
	// Step 4 without the caller's statement (added by tests that need it).
	e.policy(sourcePolicy(false, ""))
	return e
}

func (e *e2e) policy(doc string) {
	e.t.Helper()
	if _, err := e.s3A.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String("src-a"), Policy: aws.String(doc)}); err != nil {
		e.t.Fatalf("PutBucketPolicy: %v", err)
	}
}

func (e *e2e) createLocation(bucket, role, sub string) (string, error) {
	out, err := e.ds.CreateLocationS3(context.Background(), &datasync.CreateLocationS3Input{
		S3BucketArn: aws.String("arn:aws:s3:::" + bucket), Subdirectory: aws.String(sub),
		S3Config: &dstypes.S3Config{BucketAccessRoleArn: aws.String(role)}, S3StorageClass: dstypes.S3StorageClassStandard})
	if err != nil {
		return "", err
	}
	return *out.LocationArn, nil
}

func invalidMessage(t *testing.T, err error) string {
	t.Helper()
	var ire *dstypes.InvalidRequestException
	if !errors.As(err, &ire) {
		t.Fatalf("got %T %v, want *types.InvalidRequestException", err, err)
	}
	return aws.ToString(ire.Message)
}

func (e *e2e) run(taskArn string) *datasync.DescribeTaskExecutionOutput {
	e.t.Helper()
	ctx := context.Background()
	st, err := e.ds.StartTaskExecution(ctx, &datasync.StartTaskExecutionInput{TaskArn: aws.String(taskArn)})
	if err != nil {
		e.t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		d, err := e.ds.DescribeTaskExecution(ctx, &datasync.DescribeTaskExecutionInput{TaskExecutionArn: st.TaskExecutionArn})
		if err != nil {
			e.t.Fatal(err)
		}
		if d.Status == dstypes.TaskExecutionStatusSuccess || d.Status == dstypes.TaskExecutionStatusError {
			return d
		}
	}
	e.t.Fatal("execution did not finish")
	return nil
}

func (e *e2e) destination() map[string]string {
	e.t.Helper()
	ctx := context.Background()
	out, err := e.s3B.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("dst-b")})
	if err != nil {
		e.t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range out.Contents {
		g, err := e.s3B.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("dst-b"), Key: o.Key})
		if err != nil {
			e.t.Fatal(err)
		}
		b, _ := io.ReadAll(g.Body)
		g.Body.Close()
		got[*o.Key] = string(b)
	}
	return got
}

func TestE2ESeedPitfallsThenMigration(t *testing.T) {
	e := startE2E(t)
	ctx := context.Background()

	// Pitfall 1: a role of the source account.
	_, err := e.createLocation("src-a", e.foreignRl, "/photos")
	if got := invalidMessage(t, err); got != "Cross-account pass role is not allowed" {
		t.Errorf("cross-account role: got %q", got)
	}
	// Pitfall 2: no DataSyncCreateS3Location statement for the caller.
	_, err = e.createLocation("src-a", e.transfer, "/photos")
	want := "DataSync location access test failed: could not perform s3:HeadBucket on bucket src-a. Access denied. Ensure bucket access role has s3:ListBucket permission."
	if got := invalidMessage(t, err); got != want {
		t.Errorf("without the caller grant: got %q, want %q", got, want)
	}
	// A fresh role inside the propagation delay.
	e.policy(sourcePolicy(true, ""))
	delay := time.Minute
	e.inst.Store.UpdateSettings(&delay, nil, nil)
	_, err = e.createLocation("dst-b", e.config, "/")
	if got := invalidMessage(t, err); got != "Unable to assume role. Reason: Access denied when calling sts:AssumeRole" {
		t.Errorf("inside the propagation delay: got %q", got)
	}
	zero := time.Duration(0)
	e.inst.Store.UpdateSettings(&zero, nil, nil)

	// The migration: Enhanced task with the request's filters.
	src, err := e.createLocation("src-a", e.transfer, "/photos")
	if err != nil {
		t.Fatalf("source location: %v", err)
	}
	dst, err := e.createLocation("dst-b", e.config, "/from-a/")
	if err != nil {
		t.Fatalf("destination location: %v", err)
	}
	task, err := e.ds.CreateTask(ctx, &datasync.CreateTaskInput{SourceLocationArn: aws.String(src),
		DestinationLocationArn: aws.String(dst), TaskMode: dstypes.TaskModeEnhanced,
		Options:  &dstypes.Options{VerifyMode: dstypes.VerifyModeOnlyFilesTransferred, TransferMode: dstypes.TransferModeChanged},
		Includes: []dstypes.FilterRule{{FilterType: dstypes.FilterTypeSimplePattern, Value: aws.String("/2026*")}},
		Excludes: []dstypes.FilterRule{{FilterType: dstypes.FilterTypeSimplePattern, Value: aws.String("*.tmp")}}})
	if err != nil {
		t.Fatal(err)
	}
	d := e.run(*task.TaskArn)
	if d.Status != dstypes.TaskExecutionStatusSuccess {
		t.Fatalf("got %s %s %s", d.Status, aws.ToString(d.Result.ErrorCode), aws.ToString(d.Result.ErrorDetail))
	}
	got := e.destination()
	wantDst := map[string]string{"from-a/2026-01/a.jpg": "A", "from-a/2026-02/b.jpg": "BB"}
	if fmt.Sprint(got) != fmt.Sprint(wantDst) {
		t.Errorf("got destination %v, want %v", got, wantDst)
	}
	if d.FilesTransferred != 2 || d.BytesWritten != 3 || d.FilesVerified != 2 || d.EstimatedFilesToTransfer != 2 {
		t.Errorf("got transferred %d written %d verified %d estimated %d", d.FilesTransferred, d.BytesWritten, d.FilesVerified, d.EstimatedFilesToTransfer)
	}
	// A re-run with TransferMode CHANGED copies nothing.
	if d := e.run(*task.TaskArn); d.Status != dstypes.TaskExecutionStatusSuccess || d.FilesTransferred != 0 {
		t.Errorf("re-run: got %s, %d files", d.Status, d.FilesTransferred)
	}

	// An object the transfer role may not read (explicit deny in the bucket policy).
	e.policy(sourcePolicy(true, `{"Sid":"DenySecret","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::src-a/photos/2026-03/*"}`))
	if _, err := e.s3A.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src-a"), Key: aws.String("photos/2026-03/secret.jpg"), Body: strings.NewReader("S")}); err != nil {
		t.Fatal(err)
	}
	d = e.run(*task.TaskArn)
	if d.Status != dstypes.TaskExecutionStatusError || aws.ToString(d.Result.ErrorCode) != "PermissionDenied" ||
		!strings.Contains(aws.ToString(d.Result.ErrorDetail), "photos/2026-03/secret.jpg") {
		t.Errorf("read denied: got %s %s %s", d.Status, aws.ToString(d.Result.ErrorCode), aws.ToString(d.Result.ErrorDetail))
	}
	list, err := e.ds.ListTaskExecutions(ctx, &datasync.ListTaskExecutionsInput{TaskArn: task.TaskArn})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, x := range list.TaskExecutions {
		statuses = append(statuses, string(x.Status))
	}
	sort.Strings(statuses)
	if strings.Join(statuses, ",") != "ERROR,SUCCESS,SUCCESS" {
		t.Errorf("got executions %v", statuses)
	}
}

func TestE2EPassRoleNeedsPassedToService(t *testing.T) {
	e := startE2E(t)
	e.policy(sourcePolicy(true, ""))
	nopass := datasync.NewFromConfig(cfgFor(e.inst, "AKIANOPASSB", "sn"))
	_, err := nopass.CreateLocationS3(context.Background(), &datasync.CreateLocationS3Input{
		S3BucketArn: aws.String("arn:aws:s3:::dst-b"),
		S3Config:    &dstypes.S3Config{BucketAccessRoleArn: aws.String(e.config)}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "iam:PassRole") {
		t.Fatalf("PassRole only to ec2: got %v, want AccessDeniedException naming iam:PassRole", err)
	}
	if _, err := e.createLocation("dst-b", e.config, "/"); err != nil {
		t.Fatalf("deployer with iam:PassRole to DataSync: %v", err)
	}
}
