package record

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

// fakeS3 keeps the objects PutObject writes; err, when set, is returned instead.
type fakeS3 struct {
	objects map[string][]byte
	inputs  []*s3.PutObjectInput
	err     error
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.inputs = append(f.inputs, in)
	if f.err != nil {
		return nil, f.err
	}
	b, _ := io.ReadAll(in.Body)
	if f.objects == nil {
		f.objects = map[string][]byte{}
	}
	f.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)] = b
	return &s3.PutObjectOutput{}, nil
}

const executionArn = "arn:aws:states:ap-northeast-1:222222222222:execution:dsmigrate:media-2026-11-run1"

func newHandler(f *fakeS3) *Handler {
	return &Handler{Config: Config{Home: requesttest.Home, DestinationBuckets: []string{"team-b-media", "team-b-reports"}}, S3: f,
		Now: func() time.Time { return time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC) }}
}

// document is the state document of a migration that copied, verified, revoked and
// deleted, as WriteRecord gets it.
func document(t *testing.T) execution.Document {
	t.Helper()
	r := requesttest.Valid()
	r.Task.Report = &request.Report{Bucket: "team-b-reports", Prefix: "audit/", Level: request.ReportErrorsOnly}
	const task = "arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123456789abcdef0"
	change := func(mode string) *execution.BucketPolicyChange {
		return &execution.BucketPolicyChange{Mode: mode, Bucket: "team-a-media", Changed: true, StatementIDs: []string{"Sid1", "Sid2", "Sid3"},
			PolicyBefore: `{"Version":"2012-10-17","Statement":[]}`, PolicyAfter: `{"Version":"2012-10-17","Statement":[{"Sid":"Other"}]}`, At: "2026-11-30T09:0" + map[string]string{"grant": "1", "revoke": "9"}[mode] + ":00Z"}
	}
	return execution.Document{
		Request:   json.RawMessage(`{}`),
		Execution: execution.Execution{Name: "media-2026-11-run1", StartTime: "2026-11-30T09:00:00Z"},
		Preflight: &execution.Preflight{Request: &r},
		Roles: &execution.Roles{TransferRole: execution.Role{Arn: "arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-transfer", Created: true},
			ConfigRole: execution.Role{Arn: "arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-config"}},
		Grant: change("grant"),
		Locations: &execution.Locations{SourceLocationArn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-1", DestinationLocationArn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-2",
			SourceCreated: true, DestinationCreated: true},
		Task: &execution.Task{TaskArn: task, TaskCreated: true, TaskExecutionArn: task + "/execution/exec-0123456789abcdef0", ExecutionStarted: true},
		Progress: &execution.Progress{TaskExecutionArn: task + "/execution/exec-0123456789abcdef0", Status: "SUCCESS", Done: true, FilesTransferred: 12, BytesTransferred: 3400,
			FilesVerified: 12, StartTime: "2026-11-30T09:02:00Z", PolledAt: "2026-11-30T09:08:00Z"},
		Revoke:   &execution.RevokeResult{BucketPolicyChange: change("revoke")},
		Teardown: &execution.Teardown{MigrationID: "media-2026-11", Tasks: []string{task}, Deleted: true, FinishedAt: "2026-11-30T09:10:00Z"},
	}
}

func input(t *testing.T, mode string, doc execution.Document) Input {
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return Input{Mode: mode, Document: b, ExecutionArn: executionArn}
}

// A migration's record says what was created, granted, copied, verified, revoked and
// deleted, with the times the steps give, lands at the documented key of the report
// bucket, and links the task execution's DataSync report.
func TestRecordOfASucceededMigration(t *testing.T) {
	f := &fakeS3{}
	out, err := newHandler(f).Handle(context.Background(), input(t, ModeSucceeded, document(t)))
	if err != nil {
		t.Fatal(err)
	}
	key := "audit/media-2026-11/dsmigrate-record/media-2026-11-run1.json"
	if out.Bucket != "team-b-reports" || out.Key != key || out.URI != "s3://team-b-reports/"+key || out.WrittenAt != "2026-11-30T09:30:00Z" ||
		out.TaskReportsURI != "s3://team-b-reports/audit/media-2026-11/Summary-Reports/" {
		t.Errorf("got links %+v", out)
	}
	in := f.inputs[0]
	if aws.ToString(in.ExpectedBucketOwner) != "222222222222" || aws.ToString(in.ContentType) != "application/json" {
		t.Errorf("got ExpectedBucketOwner %q ContentType %q, want account B's id and application/json", aws.ToString(in.ExpectedBucketOwner), aws.ToString(in.ContentType))
	}
	var rec Record
	if err := json.Unmarshal(f.objects["team-b-reports/"+key], &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != "SUCCEEDED" || rec.RecordVersion != Version || rec.MigrationID != "media-2026-11" || rec.Execution.Arn != executionArn || rec.Execution.StartTime != "2026-11-30T09:00:00Z" {
		t.Errorf("got record head %+v", rec)
	}
	if len(rec.Created.Roles) != 2 || !*rec.Created.Roles[0].Created || *rec.Created.Roles[1].Created || len(rec.Created.Locations) != 2 || len(rec.Created.Tasks) != 1 {
		t.Errorf("got created %+v, want two roles (the transfer role created, the config role found), two locations, one task", rec.Created)
	}
	if rec.Granted == nil || rec.Granted.At != "2026-11-30T09:01:00Z" || rec.Granted.PolicyBefore != `{"Version":"2012-10-17","Statement":[]}` {
		t.Errorf("got granted %+v, want its time and the policy before the grant", rec.Granted)
	}
	if c := rec.Copied; c == nil || c.Status != "SUCCESS" || c.FilesTransferred != 12 || c.BytesTransferred != 3400 || c.StartTime != "2026-11-30T09:02:00Z" || c.FinishedAt != "2026-11-30T09:08:00Z" {
		t.Errorf("got copied %+v", c)
	}
	if v := rec.Verified; v == nil || v.VerifyMode != "ONLY_FILES_TRANSFERRED" || v.FilesVerified != 12 || v.At != "2026-11-30T09:08:00Z" {
		t.Errorf("got verified %+v", v)
	}
	if rv := rec.Revoked; rv == nil || !rv.Changed || rv.At != "2026-11-30T09:09:00Z" || rv.Error != nil {
		t.Errorf("got revoked %+v", rv)
	}
	if rec.Deleted == nil || !rec.Deleted.Deleted || rec.Deleted.FinishedAt != "2026-11-30T09:10:00Z" {
		t.Errorf("got deleted %+v", rec.Deleted)
	}
	if len(rec.TaskReports) != 1 || rec.TaskReports[0].URI != "s3://team-b-reports/audit/media-2026-11/Summary-Reports/task-0123456789abcdef0/exec-0123456789abcdef0/" {
		t.Errorf("got task reports %+v", rec.TaskReports)
	}
	if rec.Failure != nil {
		t.Errorf("got failure %+v in a succeeded record", rec.Failure)
	}
}

// A failed migration's record carries the error and the revoke's own error, and leaves
// out what did not happen (no verification of an unfinished transfer).
func TestRecordOfAFailedMigration(t *testing.T) {
	doc := document(t)
	doc.Progress.Status, doc.Progress.Done = "ERROR", false
	doc.Revoke = &execution.RevokeResult{Failure: &execution.Failure{Error: "PermissionError", Cause: "denied"}}
	doc.Teardown = nil
	doc.Failure = &execution.Failure{Error: "TransferFailedError", Cause: "ended in ERROR"}
	f := &fakeS3{}
	if _, err := newHandler(f).Handle(context.Background(), input(t, ModeFailed, doc)); err != nil {
		t.Fatal(err)
	}
	var rec Record
	if err := json.Unmarshal(f.objects["team-b-reports/audit/media-2026-11/dsmigrate-record/media-2026-11-run1.json"], &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != "FAILED" || rec.Failure == nil || rec.Failure.Error != "TransferFailedError" || rec.Verified != nil || rec.Deleted != nil ||
		rec.Revoked == nil || rec.Revoked.Error == nil || rec.Revoked.Error.Error != "PermissionError" {
		t.Errorf("got %+v, want FAILED with the failure and the revoke's error, nothing verified or deleted", rec)
	}
}

// Bad inputs are refused, naming the field, before anything is written.
func TestBadInputsWriteNothing(t *testing.T) {
	tests := []struct {
		name  string
		give  func(*Input, *execution.Document)
		field string
	}{
		{"mode unknown", func(in *Input, _ *execution.Document) { in.Mode = "explain" }, "mode"},
		{"execution ARN missing", func(in *Input, _ *execution.Document) { in.ExecutionArn = "" }, "executionArn"},
		{"no preflight", func(_ *Input, d *execution.Document) { d.Preflight = nil }, "document.preflight.request"},
		{"no report asked", func(_ *Input, d *execution.Document) { d.Preflight.Request.Task.Report = nil }, "document.preflight.request.task.report"},
		{"report bucket outside the deployment", func(_ *Input, d *execution.Document) { d.Preflight.Request.Task.Report.Bucket = "team-c-anything" },
			"document.preflight.request.task.report.bucket"},
		{"failed without a failure", func(in *Input, d *execution.Document) { in.Mode = ModeFailed }, "document.failure"},
		{"invalid request", func(_ *Input, d *execution.Document) { d.Preflight.Request.Task.Report.Prefix = "audit" }, "task.report.prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := document(t)
			in := Input{Mode: ModeSucceeded, ExecutionArn: executionArn}
			tt.give(&in, &doc)
			in.Document = input(t, in.Mode, doc).Document
			f := &fakeS3{}
			_, err := newHandler(f).Handle(context.Background(), in)
			var v *failure.ValidationError
			if !errors.As(err, &v) || !requesttest.HasField(v, tt.field) {
				t.Fatalf("got %T %v, want a ValidationError on %s", err, err, tt.field)
			}
			if len(f.inputs) != 0 {
				t.Errorf("got %d PutObject calls, want none", len(f.inputs))
			}
		})
	}
}

// A refused PutObject is the step's error, naming the action and the object.
func TestPutObjectDenied(t *testing.T) {
	f := &fakeS3{err: &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}}}
	_, err := newHandler(f).Handle(context.Background(), input(t, ModeSucceeded, document(t)))
	if err == nil || !strings.Contains(err.Error(), "s3:PutObject") || !strings.Contains(err.Error(), "team-b-reports/audit/media-2026-11/dsmigrate-record/") {
		t.Fatalf("got %v, want an error naming s3:PutObject and the record's key", err)
	}
	if name := failure.Name(err); name != "PermissionError" {
		t.Errorf("got error name %s, want PermissionError", name)
	}
}
