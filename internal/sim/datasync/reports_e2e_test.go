package datasync_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// trustDataSyncTasks lets DataSync assume a role for the account's tasks only.
const trustDataSyncTasks = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
 "Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole",
 "Condition":{"StringEquals":{"aws:SourceAccount":"222222222222"},
              "ArnLike":{"aws:SourceArn":"arn:aws:datasync:us-east-1:222222222222:task/*"}}}]}`

// TestE2ETaskReport: a task report through the whole simulator. The report role's trust
// policy, its identity policy, the reports bucket's policy and its SSE-KMS default
// encryption all decide whether the upload works; the execution succeeds either way and
// ReportResult tells.
func TestE2ETaskReport(t *testing.T) {
	e := startE2E(t)
	e.policy(sourcePolicy(true, ""))
	ctx := context.Background()
	kmsB := kms.NewFromConfig(cfgFor(e.inst, "AKIAADMINB", "sb"))
	key, err := kmsB.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("reports key")})
	if err != nil {
		t.Fatal(err)
	}
	keyArn := aws.ToString(key.KeyMetadata.Arn)
	if _, err := e.s3B.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("reports-b")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3B.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("reports-b"),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms,
				KMSMasterKeyID: aws.String(keyArn)}}}}}); err != nil {
		t.Fatal(err)
	}
	role, err := e.iamB.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("datasync-report-role"),
		AssumeRolePolicyDocument: aws.String(trustDataSync)}) // locations only, at first
	if err != nil {
		t.Fatal(err)
	}
	roleArn := aws.ToString(role.Role.Arn)
	putPolicy := func(doc string) {
		t.Helper()
		if _, err := e.iamB.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("datasync-report-role"),
			PolicyName: aws.String("reports"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	putPolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::reports-b/dsmigrate/*"}]}`)

	src, err := e.createLocation("src-a", e.transfer, "/photos")
	if err != nil {
		t.Fatal(err)
	}
	dst, err := e.createLocation("dst-b", e.config, "/")
	if err != nil {
		t.Fatal(err)
	}
	report := &dstypes.TaskReportConfig{
		Destination: &dstypes.ReportDestination{S3: &dstypes.ReportDestinationS3{S3BucketArn: aws.String("arn:aws:s3:::reports-b"),
			BucketAccessRoleArn: aws.String(roleArn), Subdirectory: aws.String("dsmigrate/")}},
		OutputType: dstypes.ReportOutputTypeSummaryOnly, ReportLevel: dstypes.ReportLevelErrorsOnly}

	// A caller whose iam:PassRole is for another service cannot give DataSync the role.
	nopass := datasync.NewFromConfig(cfgFor(e.inst, "AKIANOPASSB", "sn"))
	_, err = nopass.CreateTask(ctx, &datasync.CreateTaskInput{SourceLocationArn: aws.String(src),
		DestinationLocationArn: aws.String(dst), TaskReportConfig: report})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "iam:PassRole") {
		t.Fatalf("CreateTask by a caller without iam:PassRole to DataSync: got %v", err)
	}
	task, err := e.ds.CreateTask(ctx, &datasync.CreateTaskInput{SourceLocationArn: aws.String(src),
		DestinationLocationArn: aws.String(dst), TaskReportConfig: report,
		Options: &dstypes.Options{TransferMode: dstypes.TransferModeAll}})
	if err != nil {
		t.Fatal(err)
	}
	taskID := (*task.TaskArn)[strings.LastIndex(*task.TaskArn, "/")+1:]

	runReport := func() (*datasync.DescribeTaskExecutionOutput, string) {
		t.Helper()
		d := e.run(*task.TaskArn)
		if d.Status != dstypes.TaskExecutionStatusSuccess {
			t.Fatalf("execution: got %s %s", d.Status, aws.ToString(d.Result.ErrorDetail))
		}
		for deadline := time.Now().Add(20 * time.Second); d.ReportResult != nil && d.ReportResult.Status == dstypes.PhaseStatusPending; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("report still PENDING")
			}
			if d, err = e.ds.DescribeTaskExecution(ctx, &datasync.DescribeTaskExecutionInput{TaskExecutionArn: d.TaskExecutionArn}); err != nil {
				t.Fatal(err)
			}
		}
		if d.ReportResult == nil {
			t.Fatal("no ReportResult")
		}
		execID := (*d.TaskExecutionArn)[strings.LastIndex(*d.TaskExecutionArn, "/")+1:]
		return d, "dsmigrate/Summary-Reports/" + taskID + "/" + execID + "/" + execID + ".summary.json"
	}
	wantError := func(step string, d *datasync.DescribeTaskExecutionOutput, parts ...string) {
		t.Helper()
		r := d.ReportResult
		t.Logf("%s: ReportResult %s %s: %s", step, r.Status, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorDetail))
		if r.Status != dstypes.PhaseStatusError {
			t.Fatalf("%s: got ReportResult %s, want ERROR", step, r.Status)
		}
		for _, p := range parts {
			if !strings.Contains(aws.ToString(r.ErrorDetail), p) {
				t.Errorf("%s: ErrorDetail %q does not name %q", step, aws.ToString(r.ErrorDetail), p)
			}
		}
	}

	// 1. The trust policy admits DataSync for locations only: the role cannot be assumed.
	d, _ := runReport()
	wantError("trust for locations only", d, "sts:AssumeRole", roleArn)

	// 2. Trusted for tasks, but the role may not use the bucket's KMS key.
	if _, err := e.iamB.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("datasync-report-role"),
		PolicyDocument: aws.String(trustDataSyncTasks)}); err != nil {
		t.Fatal(err)
	}
	d, key1 := runReport()
	wantError("no kms:GenerateDataKey", d, "s3:PutObject", "arn:aws:s3:::reports-b/"+key1, "kms:GenerateDataKey")

	// 3. With the key: the summary lands, encrypted with it, and its totals are the
	// execution's.
	putPolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::reports-b/dsmigrate/*"},
 {"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"` + keyArn + `"}]}`)
	d, sumKey := runReport()
	if d.ReportResult.Status != dstypes.PhaseStatusSuccess {
		t.Fatalf("with the key: got ReportResult %s %s", d.ReportResult.Status, aws.ToString(d.ReportResult.ErrorDetail))
	}
	obj, err := e.s3B.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("reports-b"), Key: aws.String(sumKey)})
	if err != nil {
		t.Fatalf("summary %s: %v", sumKey, err)
	}
	if aws.ToString(obj.SSEKMSKeyId) != keyArn {
		t.Errorf("summary encrypted with %q, want %s", aws.ToString(obj.SSEKMSKeyId), keyArn)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	var sum struct {
		TaskExecutionArn string
		Result           struct{ Status string }
		Totals           struct{ FilesTransferred, BytesTransferred int64 }
	}
	if err := json.Unmarshal(body, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.TaskExecutionArn != *d.TaskExecutionArn || sum.Result.Status != "SUCCESS" ||
		sum.Totals.FilesTransferred != d.FilesTransferred || sum.Totals.BytesTransferred != d.BytesTransferred || d.FilesTransferred == 0 {
		t.Errorf("summary %+v, execution transferred %d files %d bytes", sum, d.FilesTransferred, d.BytesTransferred)
	}

	// 4. The bucket policy denies the report prefix: refused although the role allows it.
	if _, err := e.s3B.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("reports-b"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::reports-b/dsmigrate/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	d, key4 := runReport()
	wantError("bucket policy deny", d, "s3:PutObject", "arn:aws:s3:::reports-b/"+key4)
}
