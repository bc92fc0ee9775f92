package localrun

import (
	"encoding/json"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/record"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// readObject returns an object's body from account B's view of the simulator.
func readObject(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(testCtx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readRecord reads and decodes the record at s3://bucket/key.
func readRecord(t *testing.T, env *Environment, bucket, key string) record.Record {
	t.Helper()
	var rec record.Record
	if err := json.Unmarshal(readObject(t, env.Destination.S3, bucket, key), &rec); err != nil {
		t.Fatalf("decode the record s3://%s/%s: %v", bucket, key, err)
	}
	return rec
}

// keysUnder lists the keys of the bucket under prefix, sorted.
func keysUnder(t *testing.T, env *Environment, bucket, prefix string) []string {
	t.Helper()
	m, err := ListKeys(testCtx(t), env.Destination.S3, bucket, prefix)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestE2ERecordAfterSuccess: a migration with task.report gets DataSync's task report
// (summary and detailed lists) in its folder of the report bucket, and dsmigrate's record
// of what it created, granted, copied, verified, revoked and deleted, with times in the
// order the steps ran. The output and the Migration Succeeded event link the record; the
// migrated objects are untouched by either.
func TestE2ERecordAfterSuccess(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	objs := smallObjects(31, 6, "photos/2026/")
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, objs)
	req := env.NewRequest("recorded", src, "photos/", dst, "from-a/")
	req.Task.Report = &request.Report{Bucket: dst, Prefix: "audit/", Level: request.ReportSuccessesAndErrors}
	req.Cleanup.DeleteResources = true

	res := run(t, env, req, "recorded-run1")
	mustSucceed(t, res)
	s := summaryOf(t, res)
	var out struct {
		Record execution.RecordLinks `json:"record"`
	}
	if err := json.Unmarshal(res.Output, &out); err != nil {
		t.Fatal(err)
	}
	wantKey := "audit/recorded/dsmigrate-record/recorded-run1.json"
	if out.Record.Bucket != dst || out.Record.Key != wantKey || out.Record.URI != "s3://"+dst+"/"+wantKey ||
		out.Record.TaskReportsURI != "s3://"+dst+"/audit/recorded/Summary-Reports/" {
		t.Fatalf("got record links %+v, want s3://%s/%s", out.Record, dst, wantKey)
	}

	rec := readRecord(t, env, dst, wantKey)
	t.Logf("record s3://%s/%s: %d bytes", dst, wantKey, len(readObject(t, env.Destination.S3, dst, wantKey)))
	var wantBytes int64
	for _, o := range objs {
		wantBytes += o.Size
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"status SUCCEEDED of this execution", rec.Status == "SUCCEEDED" && rec.MigrationID == "recorded" && rec.Execution.Name == "recorded-run1" && strings.HasSuffix(rec.Execution.Arn, ":recorded-run1")},
		{"both roles, created by this run", len(rec.Created.Roles) == 2 && rec.Created.Roles[0].Arn == s.Roles.TransferRoleArn && rec.Created.Roles[1].Arn == s.Roles.ConfigRoleArn && *rec.Created.Roles[0].Created},
		{"both locations and the task", len(rec.Created.Locations) == 2 && rec.Created.Locations[0].Arn == s.Locations.SourceLocationArn && len(rec.Created.Tasks) == 1 && rec.Created.Tasks[0].Arn == s.Task.TaskArn},
		{"the grant with our Sids", rec.Granted != nil && len(rec.Granted.StatementIDs) == 3 && rec.Granted.Bucket == src && rec.Granted.At != ""},
		{"the copy's counts", rec.Copied != nil && rec.Copied.Status == "SUCCESS" && rec.Copied.FilesTransferred == int64(len(objs)) && rec.Copied.BytesTransferred == wantBytes &&
			len(rec.Copied.TaskExecutionArns) == 1 && rec.Copied.TaskExecutionArns[0] == s.Task.TaskExecutionArn},
		{"the task report written before the migration went on", rec.Copied != nil && rec.Copied.ReportStatus == "SUCCESS"},
		{"the verification", rec.Verified != nil && rec.Verified.VerifyMode == "ONLY_FILES_TRANSFERRED" && rec.Verified.FilesVerified == int64(len(objs))},
		{"the revoke", rec.Revoked != nil && rec.Revoked.Changed && rec.Revoked.Error == nil && rec.Revoked.At != ""},
		{"the deletion", rec.Deleted != nil && rec.Deleted.Deleted && len(rec.Deleted.Roles) == 2 && rec.Deleted.FinishedAt != ""},
		{"no failure", rec.Failure == nil},
		{"the request", rec.Request != nil && rec.Request.Task.Report != nil && rec.Request.Task.Report.Level == request.ReportSuccessesAndErrors},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("record: want %s; got %s", c.name, readObject(t, env.Destination.S3, dst, wantKey))
		}
	}
	// The times follow the steps: start, grant, transfer, revoke, deletion, record.
	times := []string{rec.Execution.StartTime, rec.Granted.At, rec.Copied.StartTime, rec.Copied.FinishedAt, rec.Revoked.At, rec.Deleted.FinishedAt, rec.WrittenAt}
	for i := 1; i < len(times); i++ {
		if times[i][:19] < times[i-1][:19] {
			t.Errorf("record times out of order: %v (start, granted, copy start, copy end, revoked, deleted, written)", times)
			break
		}
	}

	// DataSync's report of the execution, where the record says.
	if len(rec.TaskReports) != 1 {
		t.Fatalf("got task reports %+v, want the one execution's", rec.TaskReports)
	}
	summaryPrefix := strings.TrimPrefix(rec.TaskReports[0].URI, "s3://"+dst+"/")
	summaries := keysUnder(t, env, dst, summaryPrefix)
	if len(summaries) != 1 {
		t.Fatalf("got %v under %s, want the execution's summary report", summaries, rec.TaskReports[0].URI)
	}
	var summary struct {
		TaskExecutionArn string
		Result           struct{ Status string }
		Totals           struct{ FilesTransferred, FilesVerified int64 }
	}
	if err := json.Unmarshal(readObject(t, env.Destination.S3, dst, summaries[0]), &summary); err != nil {
		t.Fatal(err)
	}
	if summary.TaskExecutionArn != s.Task.TaskExecutionArn || summary.Result.Status != "SUCCESS" || summary.Totals.FilesTransferred != int64(len(objs)) {
		t.Errorf("got summary report %+v, want execution %s, SUCCESS, %d files", summary, s.Task.TaskExecutionArn, len(objs))
	}
	detailed := keysUnder(t, env, dst, "audit/recorded/Detailed-Reports/")
	var transferred string
	for _, k := range detailed {
		if strings.Contains(k, "transferred") {
			transferred = string(readObject(t, env.Destination.S3, dst, k))
		}
	}
	name := objs[0].Key[strings.LastIndex(objs[0].Key, "/")+1:]
	if !strings.Contains(transferred, name) {
		t.Errorf("got detailed reports %v, want a list of transferred objects naming %s (level SUCCESSES_AND_ERRORS)", detailed, name)
	}

	// Neither the reports nor the record are in the migrated data.
	v, err := Verify(testCtx(t), env.Source.S3, env.Destination.S3, src, "photos/", dst, "from-a/")
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() || v.Objects != len(objs) {
		t.Errorf("got verification %+v, want %d identical objects and nothing else under from-a/", v, len(objs))
	}

	e := migrationEvent(t, env, "recorded")
	var d struct{ Record execution.RecordLinks }
	if err := json.Unmarshal(e.Detail, &d); err != nil || d.Record.URI != out.Record.URI {
		t.Errorf("got Migration Succeeded detail %s, want the record's link %s", e.Detail, out.Record.URI)
	}
}

// TestE2ERecordAfterFailure: a failed migration is recorded too, with its error and what
// became of the grant, and the execution still fails with the original error.
func TestE2ERecordAfterFailure(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seedWithBlocked(t, env, 32, 33)
	req := env.NewRequest("recorded-fail", src, "", dst, "from-a/")
	req.Task.Report = &request.Report{Bucket: dst, Prefix: "audit/", Level: request.ReportErrorsOnly}

	res := run(t, env, req, "recorded-fail-run1")
	if res.Succeeded || res.Error != "TransferFailedError" {
		t.Fatalf("got succeeded=%v %s, want the DataSync execution's TransferFailedError", res.Succeeded, res.Error)
	}
	rec := readRecord(t, env, dst, "audit/recorded-fail/dsmigrate-record/recorded-fail-run1.json")
	if rec.Status != "FAILED" || rec.Failure == nil || rec.Failure.Error != "TransferFailedError" || rec.Failure.Cause != res.Cause {
		t.Errorf("got record status %s failure %+v, want FAILED with the execution's error and cause %q", rec.Status, rec.Failure, res.Cause)
	}
	if rec.Revoked == nil || !rec.Revoked.Changed || rec.Verified != nil || rec.Deleted != nil || rec.Granted == nil {
		t.Errorf("got granted %+v revoked %+v verified %+v deleted %+v, want the grant and its revoke, nothing verified or deleted", rec.Granted, rec.Revoked, rec.Verified, rec.Deleted)
	}
	if slicesIndex(res.StatesEntered(), "WriteFailureRecord") > slicesIndex(res.StatesEntered(), "PublishFailed") {
		t.Errorf("got path %v, want the record written before the failure is published", res.StatesEntered())
	}
}

// TestE2ERecordBadReport: a report the deployment cannot honour is refused before anything
// changes, naming the field: a bucket outside dsmigrate:destinationBuckets, and a folder
// inside the migrated prefix.
func TestE2ERecordBadReport(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(34, 2, "photos/"))
	before := policy(t, env.Source.S3, src)
	for _, tt := range []struct {
		name, field string
		report      request.Report
	}{
		{"unlisted-bucket", "task.report.bucket", request.Report{Bucket: "team-c-elsewhere", Prefix: "audit/"}},
		{"inside-destination", "task.report.prefix", request.Report{Bucket: dst, Prefix: "from-a/reports/"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := callCount(t, env)
			req := env.NewRequest("bad-report", src, "photos/", dst, "from-a/")
			req.Task.Report = &tt.report
			res := run(t, env, req, "bad-report-"+tt.name)
			if res.Succeeded || res.Error != "ValidationError" || !strings.Contains(res.Cause, tt.field) {
				t.Fatalf("got succeeded=%v %s: %s, want a ValidationError naming %s", res.Succeeded, res.Error, res.Cause, tt.field)
			}
			if got := res.StatesEntered(); slicesIndex(got, "CreateRoles") >= 0 {
				t.Errorf("got path %v, want Preflight to refuse it", got)
			}
			if n := mutatingCallsSince(t, env, calls); n != nil {
				t.Errorf("got changing calls %v, want none", n)
			}
		})
	}
	if after := policy(t, env.Source.S3, src); !sameJSON(after, before) {
		t.Errorf("got source policy %q, want it untouched %q", after, before)
	}
}

// callCount is the length of the simulator's call log.
func callCount(t *testing.T, env *Environment) int {
	t.Helper()
	calls, err := env.Sim.Calls(testCtx(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(calls)
}

// mutatingCallsSince lists the changing calls after the first n of the log, leaving out
// the Migration Failed event the state machine puts on the bus (it changes no resource).
func mutatingCallsSince(t *testing.T, env *Environment, n int) []string {
	t.Helper()
	calls, err := env.Sim.Calls(testCtx(t), n)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range Mutating(calls) {
		if c.Operation != "PutEvents" {
			out = append(out, c.Operation)
		}
	}
	return out
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestE2ERecordSharded: a sharded migration with task.report gets one task report per
// shard's execution, each where the record links it, and a record that lists every
// shard's task and execution.
func TestE2ERecordSharded(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	objs := append(smallObjects(35, 3, "2024/"), smallObjects(36, 2, "2025/")...)
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, objs)
	req := env.NewRequest("recorded-shards", src, "", dst, "s/")
	req.Task.Shards = &request.Shards{Prefixes: []string{"2024/", "2025/"}}
	req.Task.Report = &request.Report{Bucket: dst, Prefix: "audit/", Level: request.ReportSummaryOnly}
	res := run(t, env, req, "recorded-shards-run1")
	mustSucceed(t, res)
	rec := readRecord(t, env, dst, "audit/recorded-shards/dsmigrate-record/recorded-shards-run1.json")
	if rec.Copied == nil || rec.Copied.FilesTransferred != int64(len(objs)) || len(rec.Copied.Shards) != 3 {
		t.Fatalf("got copied %+v, want %d files in three shards (two folders and the rest)", rec.Copied, len(objs))
	}
	// Each shard's execution has its summary report under the migration's folder, one
	// folder per task and execution; the shards' tasks are the migration's three.
	summaries := keysUnder(t, env, dst, strings.TrimPrefix(rec.TaskReportsURI, "s3://"+dst+"/"))
	tasks := shardTasks(t, env, "recorded-shards")
	if len(summaries) != len(rec.Copied.Shards) || len(tasks) != len(summaries) {
		t.Fatalf("got summary reports %v under %s and tasks %v, want one per shard", summaries, rec.TaskReportsURI, tasks)
	}
	for _, task := range tasks {
		id := task[strings.LastIndex(task, "/")+1:]
		if !slices.ContainsFunc(summaries, func(k string) bool { return strings.Contains(k, "/Summary-Reports/"+id+"/") }) {
			t.Errorf("got summary reports %v, want one of task %s", summaries, task)
		}
	}
	if detailed := keysUnder(t, env, dst, "audit/recorded-shards/Detailed-Reports/"); len(detailed) != 0 {
		t.Errorf("got detailed reports %v, want none at level SUMMARY_ONLY", detailed)
	}
}
