package datasync

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// reportWorld is a world with a reports bucket in B and a role that may write to it.
type reportWorld struct {
	*world
	reportRole string
	src, dst   string // location ARNs
	// sourceArns records the aws:SourceArn of each assumption of the report role.
	sourceArns []string
}

func newReportWorld(t *testing.T) *reportWorld {
	w := &reportWorld{world: newWorld(t, fastPhases())}
	w.fb.addBucket("reports-bucket", acctB)
	w.reportRole = w.fb.addRole(acctB, "datasync-report-role", time.Now().Add(-time.Hour))
	w.fb.grant(w.reportRole, "s3:PutObject", "arn:aws:s3:::reports-bucket/*")
	w.fb.trust[w.reportRole] = func(c identity.Context) bool {
		acct, _ := c.Get("aws:SourceAccount")
		arn, _ := c.Get("aws:SourceArn")
		w.sourceArns = append(w.sourceArns, arn...)
		return slices.Equal(acct, []string{acctB}) && len(arn) == 1 &&
			strings.HasPrefix(arn[0], "arn:aws:datasync:us-east-1:"+acctB+":task/")
	}
	w.src = w.location("src-bucket", w.transfer, "/")
	w.dst = w.location("dst-bucket", w.config, "/")
	return w
}

func (w *reportWorld) reportConfig(sub string, out types.ReportOutputType, level types.ReportLevel) *types.TaskReportConfig {
	return &types.TaskReportConfig{
		Destination: &types.ReportDestination{S3: &types.ReportDestinationS3{
			S3BucketArn:         aws.String("arn:aws:s3:::reports-bucket"),
			BucketAccessRoleArn: aws.String(w.reportRole),
			Subdirectory:        aws.String(sub),
		}},
		OutputType: out, ReportLevel: level,
	}
}

// waitReport waits for the execution to end and its ReportResult to leave PENDING.
func (w *reportWorld) waitReport(execArn string) *datasync.DescribeTaskExecutionOutput {
	w.t.Helper()
	w.wait(execArn)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		d, err := w.client.DescribeTaskExecution(context.Background(), &datasync.DescribeTaskExecutionInput{TaskExecutionArn: aws.String(execArn)})
		if err != nil {
			w.t.Fatal(err)
		}
		if d.ReportResult == nil {
			w.t.Fatalf("execution %s has no ReportResult", execArn)
		}
		if d.ReportResult.Status != types.PhaseStatusPending {
			return d
		}
	}
	w.t.Fatalf("report of %s still PENDING", execArn)
	return nil
}

// reportDir is <sub>/<folder>/<task-id>/<exec-id>/.
func reportDir(prefix, folder, taskArn, execArn string) string {
	return prefix + folder + "/" + resourceID(taskArn) + "/" + resourceID(execArn) + "/"
}

func (w *reportWorld) readJSON(key string, v any) {
	w.t.Helper()
	body, ok := w.fb.body(w.t, "reports-bucket", key)
	if !ok {
		w.t.Fatalf("no object %s in reports-bucket (have %v)", key, w.fb.keys("reports-bucket"))
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		w.t.Fatalf("%s: %v", key, err)
	}
}

func paths(d reportDetailed) []string {
	var out []string
	for _, it := range d.Items {
		out = append(out, it.RelativePath+":"+it.Status)
	}
	slices.Sort(out)
	return out
}

// TestTaskReportStandard: a STANDARD, SUCCESSES_AND_ERRORS report lands under the
// subdirectory as a summary and one detailed report per category, written as the report
// role assumed with the task as aws:SourceArn; the summary's totals are
// DescribeTaskExecution's.
func TestTaskReportStandard(t *testing.T) {
	w := newReportWorld(t)
	w.fb.seed(t, "src-bucket", "a.txt", "aaa")
	w.fb.seed(t, "src-bucket", "b.txt", "bbbbb")
	w.fb.seed(t, "src-bucket", "c/d.txt", "dd")
	w.fb.seed(t, "dst-bucket", "a.txt", "old a") // kept: OverwriteMode NEVER
	w.fb.seed(t, "dst-bucket", "gone.txt", "x")  // removed: not at the source
	cfg := w.reportConfig("reports/", types.ReportOutputTypeStandard, types.ReportLevelSuccessesAndErrors)
	taskArn := w.task(&datasync.CreateTaskInput{SourceLocationArn: aws.String(w.src), DestinationLocationArn: aws.String(w.dst),
		Options: &types.Options{OverwriteMode: types.OverwriteModeNever, PreserveDeletedFiles: types.PreserveDeletedFilesRemove,
			VerifyMode: types.VerifyModeOnlyFilesTransferred},
		TaskReportConfig: cfg})

	dt, err := w.client.DescribeTask(context.Background(), &datasync.DescribeTaskInput{TaskArn: aws.String(taskArn)})
	if err != nil {
		t.Fatal(err)
	}
	if c := dt.TaskReportConfig; c == nil || c.OutputType != types.ReportOutputTypeStandard || c.ReportLevel != types.ReportLevelSuccessesAndErrors ||
		aws.ToString(c.Destination.S3.Subdirectory) != "reports/" || aws.ToString(c.Destination.S3.BucketAccessRoleArn) != w.reportRole {
		t.Errorf("DescribeTask TaskReportConfig: got %+v", dt.TaskReportConfig)
	}

	execArn := w.start(taskArn)
	d := w.waitReport(execArn)
	if d.Status != types.TaskExecutionStatusSuccess {
		t.Fatalf("execution: got %s %+v", d.Status, d.Result)
	}
	if d.ReportResult.Status != types.PhaseStatusSuccess {
		t.Fatalf("ReportResult: got %s %s %s", d.ReportResult.Status, aws.ToString(d.ReportResult.ErrorCode), aws.ToString(d.ReportResult.ErrorDetail))
	}
	if d.TaskReportConfig == nil || d.TaskReportConfig.OutputType != types.ReportOutputTypeStandard {
		t.Errorf("DescribeTaskExecution TaskReportConfig: got %+v", d.TaskReportConfig)
	}
	var arns []string
	w.fb.set(func(*fakeBackend) { arns = slices.Clone(w.sourceArns) })
	if !slices.Contains(arns, taskArn) {
		t.Errorf("report role assumed with aws:SourceArn %v, want the task %s", arns, taskArn)
	}

	var sum reportSummary
	w.readJSON(reportDir("reports/", "Summary-Reports", taskArn, execArn)+resourceID(execArn)+".summary.json", &sum)
	if sum.TaskExecutionArn != execArn || sum.TaskExecutionId != resourceID(execArn) || sum.AccountId != acctB ||
		sum.SourceLocationArn != w.src || sum.DestinationLocationArn != w.dst || sum.Result.Status != "SUCCESS" {
		t.Errorf("summary identity: got %+v", sum)
	}
	want := reportTotals{FilesTransferred: d.FilesTransferred, FilesVerified: d.FilesVerified, FilesDeleted: d.FilesDeleted,
		FilesSkipped: d.FilesSkipped, BytesTransferred: d.BytesTransferred, BytesWritten: d.BytesWritten}
	if sum.Totals != want {
		t.Errorf("summary totals %+v, DescribeTaskExecution %+v", sum.Totals, want)
	}
	if want.FilesTransferred != 2 || want.FilesDeleted != 1 || want.FilesSkipped != 1 || want.BytesTransferred != 7 {
		t.Errorf("DescribeTaskExecution counts %+v, want 2 transferred (7 bytes), 1 deleted, 1 skipped", want)
	}
	start, _ := time.Parse(time.RFC3339Nano, sum.StartTime)
	end, _ := time.Parse(time.RFC3339Nano, sum.EndTime)
	if diff := start.Sub(*d.StartTime); diff < -2*time.Millisecond || diff > 2*time.Millisecond {
		t.Errorf("summary StartTime %s, DescribeTaskExecution %s", sum.StartTime, d.StartTime)
	}
	if end.Before(start) || sum.Options == nil || aws.ToString(sum.Options.OverwriteMode) != "NEVER" {
		t.Errorf("summary times %s..%s options %+v", sum.StartTime, sum.EndTime, sum.Options)
	}

	dir := reportDir("reports/", "Detailed-Reports", taskArn, execArn) + resourceID(execArn)
	for cat, wantPaths := range map[string][]string{
		"transferred": {"/b.txt:SUCCESS", "/c/d.txt:SUCCESS"},
		"verified":    {"/b.txt:SUCCESS", "/c/d.txt:SUCCESS"},
		"deleted":     {"/gone.txt:SUCCESS"},
		"skipped":     {"/a.txt:SUCCESS"},
	} {
		var det reportDetailed
		w.readJSON(dir+"."+cat+".json", &det)
		if got := paths(det); !slices.Equal(got, wantPaths) || det.Category != cat || det.ReportLevel != "SUCCESSES_AND_ERRORS" {
			t.Errorf("%s report: got %s %s %v, want %v", cat, det.Category, det.ReportLevel, got, wantPaths)
		}
	}
	// Nothing else was written to the reports bucket.
	if n := len(w.fb.keys("reports-bucket")); n != 5 {
		t.Errorf("reports bucket holds %d objects, want 5: %v", n, w.fb.keys("reports-bucket"))
	}
}

// TestTaskReportSummaryOnly: SUMMARY_ONLY writes the summary and no detailed report; an
// empty Subdirectory puts Summary-Reports at the bucket's root.
func TestTaskReportSummaryOnly(t *testing.T) {
	w := newReportWorld(t)
	w.fb.seed(t, "src-bucket", "a.txt", "aaa")
	taskArn := w.task(&datasync.CreateTaskInput{SourceLocationArn: aws.String(w.src), DestinationLocationArn: aws.String(w.dst),
		TaskReportConfig: w.reportConfig("", types.ReportOutputTypeSummaryOnly, types.ReportLevelSuccessesAndErrors)})
	execArn := w.start(taskArn)
	d := w.waitReport(execArn)
	if d.Status != types.TaskExecutionStatusSuccess || d.ReportResult.Status != types.PhaseStatusSuccess {
		t.Fatalf("got execution %s report %+v", d.Status, d.ReportResult)
	}
	want := reportDir("", "Summary-Reports", taskArn, execArn) + resourceID(execArn) + ".summary.json"
	if got := w.fb.keys("reports-bucket"); !slices.Equal(got, []string{want}) {
		t.Errorf("reports bucket: got %v, want only %s", got, want)
	}
	var sum reportSummary
	w.readJSON(want, &sum)
	if sum.Totals.FilesTransferred != 1 || sum.Totals.BytesTransferred != 3 || sum.ReportOutputType != "SUMMARY_ONLY" {
		t.Errorf("summary: got %+v", sum)
	}
}

// TestTaskReportErrorsOnly: an execution that fails still gets its report; ERRORS_ONLY
// lists only the object that failed, while an override asks for every verified one.
func TestTaskReportErrorsOnly(t *testing.T) {
	w := newReportWorld(t)
	w.fb.seed(t, "src-bucket", "ok.txt", "fine")
	w.fb.seed(t, "src-bucket", "secret.txt", "no")
	w.fb.forbid(w.transfer, "s3:GetObject", "arn:aws:s3:::src-bucket/secret.txt")
	cfg := w.reportConfig("r", types.ReportOutputTypeStandard, types.ReportLevelErrorsOnly)
	cfg.Overrides = &types.ReportOverrides{Verified: &types.ReportOverride{ReportLevel: types.ReportLevelSuccessesAndErrors}}
	taskArn := w.task(&datasync.CreateTaskInput{SourceLocationArn: aws.String(w.src), DestinationLocationArn: aws.String(w.dst),
		Options: &types.Options{VerifyMode: types.VerifyModeOnlyFilesTransferred}, TaskReportConfig: cfg})
	execArn := w.start(taskArn)
	d := w.waitReport(execArn)
	if d.Status != types.TaskExecutionStatusError || d.ReportResult.Status != types.PhaseStatusSuccess {
		t.Fatalf("got execution %s report %+v, want ERROR with a written report", d.Status, d.ReportResult)
	}
	var sum reportSummary
	w.readJSON(reportDir("r/", "Summary-Reports", taskArn, execArn)+resourceID(execArn)+".summary.json", &sum)
	if sum.Result.Status != "ERROR" || sum.Result.ErrorCode != aws.ToString(d.Result.ErrorCode) || sum.Totals.FilesFailed.Transfer != 1 {
		t.Errorf("summary result %+v failed %+v, want ERROR %s with 1 transfer failure", sum.Result, sum.Totals.FilesFailed, aws.ToString(d.Result.ErrorCode))
	}
	dir := reportDir("r/", "Detailed-Reports", taskArn, execArn) + resourceID(execArn)
	var xfer, ver reportDetailed
	w.readJSON(dir+".transferred.json", &xfer)
	if got := paths(xfer); !slices.Equal(got, []string{"/secret.txt:FAILED"}) || xfer.Items[0].ErrorCode != "AccessDenied" {
		t.Errorf("transferred (ERRORS_ONLY): got %+v", xfer.Items)
	}
	w.readJSON(dir+".verified.json", &ver)
	if got := paths(ver); !slices.Equal(got, []string{"/ok.txt:SUCCESS"}) || ver.ReportLevel != "SUCCESSES_AND_ERRORS" {
		t.Errorf("verified (override SUCCESSES_AND_ERRORS): got %s %v", ver.ReportLevel, got)
	}
}

// TestTaskReportUploadDenied: a report role that may not write the report prefix, or a
// missing bucket, leaves the execution SUCCESS and ReportResult ERROR naming the action
// and key.
func TestTaskReportUploadDenied(t *testing.T) {
	for _, tc := range []struct {
		name     string
		setup    func(w *reportWorld)
		wantCode string
		wantIn   []string
	}{
		{name: "no s3:PutObject on the prefix",
			setup: func(w *reportWorld) {
				w.fb.forbid(w.reportRole, "s3:PutObject", "arn:aws:s3:::reports-bucket/denied/*")
			},
			wantCode: "PermissionDenied", wantIn: []string{"s3:PutObject", "arn:aws:s3:::reports-bucket/denied/Summary-Reports/", "AccessDenied"}},
		{name: "bucket missing",
			setup: func(w *reportWorld) {
				w.fb.set(func(f *fakeBackend) { delete(f.buckets, "reports-bucket") })
			},
			wantCode: "BucketNotFound", wantIn: []string{"s3:PutObject", "arn:aws:s3:::reports-bucket/denied/Summary-Reports/", "NoSuchBucket"}},
		{name: "role's trust does not allow the task",
			setup: func(w *reportWorld) {
				w.fb.trust[w.reportRole] = func(identity.Context) bool { return false }
			},
			wantCode: "PermissionDenied", wantIn: []string{"sts:AssumeRole", "datasync-report-role"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newReportWorld(t)
			w.fb.seed(t, "src-bucket", "a.txt", "aaa")
			taskArn := w.task(&datasync.CreateTaskInput{SourceLocationArn: aws.String(w.src), DestinationLocationArn: aws.String(w.dst),
				TaskReportConfig: w.reportConfig("denied", types.ReportOutputTypeSummaryOnly, types.ReportLevelErrorsOnly)})
			tc.setup(w)
			d := w.waitReport(w.start(taskArn))
			if d.Status != types.TaskExecutionStatusSuccess || d.Result.ErrorCode != nil {
				t.Errorf("execution: got %s %v, want SUCCESS", d.Status, aws.ToString(d.Result.ErrorCode))
			}
			r := d.ReportResult
			if r.Status != types.PhaseStatusError || aws.ToString(r.ErrorCode) != tc.wantCode {
				t.Fatalf("ReportResult: got %s %s %s, want ERROR %s", r.Status, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorDetail), tc.wantCode)
			}
			for _, s := range tc.wantIn {
				if !strings.Contains(aws.ToString(r.ErrorDetail), s) {
					t.Errorf("ErrorDetail %q does not name %q", aws.ToString(r.ErrorDetail), s)
				}
			}
			if _, ok := w.fb.Bucket("reports-bucket"); ok {
				if keys := w.fb.keys("reports-bucket"); len(keys) != 0 {
					t.Errorf("reports bucket: got %v, want nothing", keys)
				}
			}
		})
	}
}

// TestTaskReportConfigValidation: CreateTask and StartTaskExecution refuse a malformed
// TaskReportConfig with a message naming the field.
func TestTaskReportConfigValidation(t *testing.T) {
	w := newReportWorld(t)
	taskArn := w.task(&datasync.CreateTaskInput{SourceLocationArn: aws.String(w.src), DestinationLocationArn: aws.String(w.dst)})
	for _, tc := range []struct {
		name   string
		change func(c *types.TaskReportConfig)
		want   string
	}{
		{"subdirectory with a bad character", func(c *types.TaskReportConfig) { c.Destination.S3.Subdirectory = aws.String("reports/*") },
			"Value 'reports/*' at 'taskReportConfig.destination.s3.subdirectory' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"role ARN of a user", func(c *types.TaskReportConfig) {
			c.Destination.S3.BucketAccessRoleArn = aws.String("arn:aws:iam::222222222222:user/bob")
		},
			"at 'taskReportConfig.destination.s3.bucketAccessRoleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:(aws|aws-cn|aws-us-gov|aws-eusc|aws-iso|aws-iso-b):iam::[0-9]{12}:role/.*$"},
		{"role ARN too long", func(c *types.TaskReportConfig) {
			c.Destination.S3.BucketAccessRoleArn = aws.String("arn:aws:iam::222222222222:role/" + strings.Repeat("r", 2048))
		}, "'taskReportConfig.destination.s3.bucketAccessRoleArn' failed to satisfy constraint: Member must have length less than or equal to 2048"},
		{"no destination", func(c *types.TaskReportConfig) { c.Destination = nil },
			"'taskReportConfig.destination.s3' failed to satisfy constraint: Member must not be null"},
		{"output type", func(c *types.TaskReportConfig) { c.OutputType = "FULL" },
			"Value 'FULL' at 'taskReportConfig.outputType' failed to satisfy constraint: Member must satisfy enum value set: [SUMMARY_ONLY, STANDARD]"},
		{"override level", func(c *types.TaskReportConfig) {
			c.Overrides = &types.ReportOverrides{Deleted: &types.ReportOverride{ReportLevel: "ALL"}}
		}, "at 'taskReportConfig.overrides.deleted.reportLevel'"},
		{"role in another account", func(c *types.TaskReportConfig) { c.Destination.S3.BucketAccessRoleArn = aws.String(w.srcRole) },
			"Cross-account pass role is not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := w.reportConfig("reports", types.ReportOutputTypeStandard, types.ReportLevelErrorsOnly)
			tc.change(cfg)
			_, errCreate := w.client.CreateTask(context.Background(), &datasync.CreateTaskInput{SourceLocationArn: aws.String(w.src),
				DestinationLocationArn: aws.String(w.dst), TaskReportConfig: cfg})
			_, errStart := w.client.StartTaskExecution(context.Background(), &datasync.StartTaskExecutionInput{TaskArn: aws.String(taskArn),
				TaskReportConfig: cfg})
			for op, err := range map[string]error{"CreateTask": errCreate, "StartTaskExecution": errStart} {
				var ire *types.InvalidRequestException
				if !errors.As(err, &ire) {
					t.Errorf("%s: got %v, want InvalidRequestException", op, err)
					continue
				}
				if !strings.Contains(aws.ToString(ire.Message), tc.want) {
					t.Errorf("%s: got %q, want it to contain %q", op, aws.ToString(ire.Message), tc.want)
				}
			}
		})
	}
	list, err := w.client.ListTaskExecutions(context.Background(), &datasync.ListTaskExecutionsInput{TaskArn: aws.String(taskArn)})
	if err != nil || len(list.TaskExecutions) != 0 {
		t.Errorf("refused starts left executions: %+v %v", list, err)
	}
	// The SDK checks the required members itself; a client that does not meets the
	// service's check.
	caller := identity.UserPrincipal(acctB, "deployer", "AIDADEPLOYER")
	for field, body := range map[string]string{
		"bucketAccessRoleArn": `{"Destination":{"S3":{"S3BucketArn":"arn:aws:s3:::reports-bucket"}}}`,
		"s3BucketArn":         `{"Destination":{"S3":{"BucketAccessRoleArn":"` + w.reportRole + `"}}}`,
	} {
		status, out := w.svc.Handle(context.Background(), caller, "CreateTask",
			[]byte(`{"SourceLocationArn":"`+w.src+`","DestinationLocationArn":"`+w.dst+`","TaskReportConfig":`+body+`}`))
		want := "Value 'null' at 'taskReportConfig.destination.s3." + field + "' failed to satisfy constraint: Member must not be null"
		if status != 400 || !strings.Contains(string(out), want) || !strings.Contains(string(out), "InvalidRequestException") {
			t.Errorf("CreateTask without %s: got %d %s, want InvalidRequestException %q", field, status, out, want)
		}
	}
}

// TestTaskReportNeedsPassRole: the report role is passed to DataSync, so CreateTask and
// StartTaskExecution with a TaskReportConfig need iam:PassRole on it (with
// iam:PassedToService datasync.amazonaws.com); without a report they do not.
func TestTaskReportNeedsPassRole(t *testing.T) {
	w := newReportWorld(t)
	w.fb.forbid(w.deployer, "iam:PassRole", w.reportRole)
	cfg := w.reportConfig("reports", types.ReportOutputTypeSummaryOnly, types.ReportLevelErrorsOnly)
	wantDenied := func(op string, err error) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "iam:PassRole") ||
			!strings.Contains(ae.ErrorMessage(), w.reportRole) {
			t.Errorf("%s: got %v, want AccessDeniedException for iam:PassRole on %s", op, err, w.reportRole)
		}
	}
	_, err := w.client.CreateTask(context.Background(), &datasync.CreateTaskInput{SourceLocationArn: aws.String(w.src),
		DestinationLocationArn: aws.String(w.dst), TaskReportConfig: cfg})
	wantDenied("CreateTask", err)
	var got identity.Context
	w.fb.set(func(f *fakeBackend) { got = f.conds["iam:PassRole"] })
	if v, _ := got.Get("iam:PassedToService"); !slices.Equal(v, []string{"datasync.amazonaws.com"}) {
		t.Errorf("iam:PassRole checked with %v, want iam:PassedToService datasync.amazonaws.com", got)
	}
	taskArn := w.task(&datasync.CreateTaskInput{SourceLocationArn: aws.String(w.src), DestinationLocationArn: aws.String(w.dst)})
	_, err = w.client.StartTaskExecution(context.Background(), &datasync.StartTaskExecutionInput{TaskArn: aws.String(taskArn), TaskReportConfig: cfg})
	wantDenied("StartTaskExecution", err)
}

// TestTaskReportOverrideOnStart: StartTaskExecution's TaskReportConfig applies to that
// execution only; the next execution uses the task's again.
func TestTaskReportOverrideOnStart(t *testing.T) {
	w := newReportWorld(t)
	w.fb.seed(t, "src-bucket", "a.txt", "aaa")
	taskArn := w.task(&datasync.CreateTaskInput{SourceLocationArn: aws.String(w.src), DestinationLocationArn: aws.String(w.dst),
		Options:          &types.Options{TransferMode: types.TransferModeAll},
		TaskReportConfig: w.reportConfig("task-reports", types.ReportOutputTypeSummaryOnly, types.ReportLevelErrorsOnly)})
	out, err := w.client.StartTaskExecution(context.Background(), &datasync.StartTaskExecutionInput{TaskArn: aws.String(taskArn),
		TaskReportConfig: w.reportConfig("override-reports/", types.ReportOutputTypeStandard, types.ReportLevelSuccessesAndErrors)})
	if err != nil {
		t.Fatal(err)
	}
	first := *out.TaskExecutionArn
	d1 := w.waitReport(first)
	second := w.start(taskArn)
	d2 := w.waitReport(second)
	if d1.ReportResult.Status != types.PhaseStatusSuccess || d2.ReportResult.Status != types.PhaseStatusSuccess {
		t.Fatalf("ReportResults: %+v %+v", d1.ReportResult, d2.ReportResult)
	}
	if s := aws.ToString(d1.TaskReportConfig.Destination.S3.Subdirectory); s != "override-reports/" || d1.TaskReportConfig.OutputType != types.ReportOutputTypeStandard {
		t.Errorf("first execution's TaskReportConfig: got %s %s, want the override", s, d1.TaskReportConfig.OutputType)
	}
	if s := aws.ToString(d2.TaskReportConfig.Destination.S3.Subdirectory); s != "task-reports" || d2.TaskReportConfig.OutputType != types.ReportOutputTypeSummaryOnly {
		t.Errorf("second execution's TaskReportConfig: got %s %s, want the task's", s, d2.TaskReportConfig.OutputType)
	}
	var want []string
	for _, c := range reportCategories {
		want = append(want, reportDir("override-reports/", "Detailed-Reports", taskArn, first)+resourceID(first)+"."+c+".json")
	}
	want = append(want, reportDir("override-reports/", "Summary-Reports", taskArn, first)+resourceID(first)+".summary.json",
		reportDir("task-reports/", "Summary-Reports", taskArn, second)+resourceID(second)+".summary.json")
	slices.Sort(want)
	if got := w.fb.keys("reports-bucket"); !slices.Equal(got, want) {
		t.Errorf("reports bucket:\n got %v\nwant %v", got, want)
	}
	dt, err := w.client.DescribeTask(context.Background(), &datasync.DescribeTaskInput{TaskArn: aws.String(taskArn)})
	if err != nil || aws.ToString(dt.TaskReportConfig.Destination.S3.Subdirectory) != "task-reports" {
		t.Errorf("the task's own config changed: %+v %v", dt.TaskReportConfig, err)
	}
}
