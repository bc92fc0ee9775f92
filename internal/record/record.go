// Package record is the step of the WriteRecord and WriteFailureRecord states: when a
// migration asks for task.report, it writes the migration's audit record, a JSON object
// in the report bucket of account B that says what the execution created, copied,
// verified, revoked and deleted, with times, and outlives the execution history (Step
// Functions keeps a closed execution's history for 90 days). It also links the DataSync
// task report of each task execution of the migration (docs/reference.md, "Record").
package record

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// Modes: the state that runs the step.
const (
	// ModeSucceeded is WriteRecord, after the migration's cleanup.
	ModeSucceeded = "succeeded"
	// ModeFailed is WriteFailureRecord, on the way to the execution's failure.
	ModeFailed = "failed"
)

// Version is the record's format version (its "recordVersion").
const Version = 1

// S3API is what the step writes the record with.
type S3API interface {
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Config is the deployment's.
type Config struct {
	Home request.Home
	// DestinationBuckets are the deployment's destination buckets
	// (dsmigrate:destinationBuckets): the only buckets a record may go to.
	DestinationBuckets []string
}

// Handler runs the step.
type Handler struct {
	Config Config
	S3     S3API
	Now    func() time.Time // nil: time.Now
}

// Input is the step input: the whole state document, as the state sees it.
type Input struct {
	Mode         string          `json:"mode"`
	Document     json.RawMessage `json:"document"`
	ExecutionArn string          `json:"executionArn"`
}

// Record is the JSON object written to the report bucket.
type Record struct {
	RecordVersion int    `json:"recordVersion"`
	MigrationID   string `json:"migrationId"`
	// Status is SUCCEEDED or FAILED: how the execution ends.
	Status    string    `json:"status"`
	Execution Execution `json:"execution"`
	WrittenAt string    `json:"writtenAt"`
	// Request is the validated, normalized request the migration ran.
	Request  *request.Request    `json:"request"`
	Created  Created             `json:"created"`
	Granted  *Granted            `json:"granted"`
	Copied   *Copied             `json:"copied"`
	Verified *Verified           `json:"verified"`
	Revoked  *Revoked            `json:"revoked"`
	Deleted  *execution.Teardown `json:"deleted"`
	// TaskReportsURI is the folder of the migration's DataSync summary reports, one
	// folder per task and execution below it.
	TaskReportsURI string `json:"taskReportsUri"`
	// TaskReports link the summary report of each task execution whose ARN the state
	// document holds: the unsharded task's, and a failed shard's. A succeeded shard's
	// result keeps only its counts (the document's room under 256 KiB), so its report is
	// found under TaskReportsURI by its task and execution id.
	TaskReports []TaskReport `json:"taskReports"`
	// Failure is the error the execution fails with (mode failed), its cause as the
	// failure explanation gave it.
	Failure *execution.Failure `json:"failure"`
}

// TaskReport is one task execution's DataSync summary report folder.
type TaskReport struct {
	TaskExecutionArn string `json:"taskExecutionArn"`
	URI              string `json:"uri"`
}

// Execution is the Step Functions execution the record is of.
type Execution struct {
	Arn       string `json:"arn"`
	Name      string `json:"name"`
	StartTime string `json:"startTime"`
}

// Created lists the resources the migration used in account B; Created tells whether
// this execution made each one (false: found from an earlier run).
type Created struct {
	Roles     []Resource `json:"roles"`
	Locations []Resource `json:"locations"`
	Tasks     []Resource `json:"tasks"`
}

// Resource is one role, location or task. Created is absent when not known (the tasks of
// a sharded migration).
type Resource struct {
	Arn     string `json:"arn"`
	Created *bool  `json:"created,omitempty"`
}

// Granted is what the grant added to the source bucket policy and the KMS grants it made.
type Granted struct {
	Bucket       string               `json:"bucket"`
	StatementIDs []string             `json:"statementIds"`
	PolicyBefore string               `json:"policyBefore"`
	KMSGrants    []execution.KMSGrant `json:"kmsGrants"`
	At           string               `json:"at"`
}

// Copied is the transfer: the task execution(s), their end state and counts.
type Copied struct {
	Status            string                  `json:"status"`
	TaskExecutionArns []string                `json:"taskExecutionArns"`
	StartTime         string                  `json:"startTime"`
	FinishedAt        string                  `json:"finishedAt"`
	FilesTransferred  int64                   `json:"filesTransferred"`
	BytesTransferred  int64                   `json:"bytesTransferred"`
	Shards            []execution.ShardResult `json:"shards,omitempty"`
	// ReportStatus is DataSync's ReportResult status of the (last polled) execution's task
	// report: SUCCESS, ERROR, or PENDING when it was not written in time.
	ReportStatus string `json:"reportStatus,omitempty"`
}

// Verified is DataSync's verification of the transferred objects (task.verifyMode), part
// of each task execution: it ends when the execution does.
type Verified struct {
	VerifyMode    string `json:"verifyMode"`
	FilesVerified int64  `json:"filesVerified"`
	At            string `json:"at"`
}

// Revoked is what the revoke removed from the source bucket policy, or its error.
type Revoked struct {
	Changed      bool                 `json:"changed"`
	Deleted      bool                 `json:"deleted"`
	StatementIDs []string             `json:"statementIds"`
	PolicyAfter  string               `json:"policyAfter"`
	KMSGrants    []execution.KMSGrant `json:"kmsGrants"`
	At           string               `json:"at,omitempty"`
	Error        *execution.Failure   `json:"error,omitempty"`
}

// Handle writes the record. On error it returns exactly one of the failure types.
func (h *Handler) Handle(ctx context.Context, in Input) (*execution.RecordLinks, error) {
	out, err := h.handle(ctx, in)
	if err != nil {
		return nil, awserror.Fail(ctx, "record", err, "mode", in.Mode, "executionArn", in.ExecutionArn)
	}
	slog.InfoContext(ctx, "record written", "mode", in.Mode, "uri", out.URI, "taskReportsUri", out.TaskReportsURI)
	return out, nil
}

func (h *Handler) handle(ctx context.Context, in Input) (*execution.RecordLinks, error) {
	rec, err := h.Build(in)
	if err != nil {
		return nil, err
	}
	rep := rec.Request.Task.Report
	key := rep.RecordKey(rec.MigrationID, rec.Execution.Name)
	body, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, err
	}
	// The object gets the bucket's default encryption; ExpectedBucketOwner keeps a record
	// from landing in a bucket of that name in another account.
	_, err = h.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(rep.Bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"), ExpectedBucketOwner: aws.String(h.Config.Home.AccountID)})
	if err != nil {
		return nil, awserror.Classify(err, awserror.Call{Action: "s3:PutObject", Resource: policy.BucketArn(h.Config.Home.ARNPartition(), rep.Bucket) + "/" + key}, awserror.Precondition)
	}
	return &execution.RecordLinks{Bucket: rep.Bucket, Key: key, URI: "s3://" + rep.Bucket + "/" + key, WrittenAt: rec.WrittenAt,
		TaskReportsURI: rec.TaskReportsURI}, nil
}

// Build makes the record of the document, checking the input first: a bad input
// changes nothing.
func (h *Handler) Build(in Input) (*Record, error) {
	v := &failure.ValidationError{}
	if in.Mode != ModeSucceeded && in.Mode != ModeFailed {
		v.Add("mode", "must be %q (WriteRecord) or %q (WriteFailureRecord), got %q", ModeSucceeded, ModeFailed, in.Mode)
	}
	if !strings.HasPrefix(in.ExecutionArn, "arn:") || !strings.Contains(in.ExecutionArn, ":states:") || !strings.Contains(in.ExecutionArn, ":execution:") {
		v.Add("executionArn", "must be the Step Functions execution ARN ($$.Execution.Id), got %q", in.ExecutionArn)
	}
	var doc execution.Document
	if err := json.Unmarshal(in.Document, &doc); err != nil {
		v.Add("document", "must be the state document ($): %v", err)
	}
	var r *request.Request
	switch {
	case len(v.Fields) > 0:
	case doc.Preflight == nil || doc.Preflight.Request == nil:
		v.Add("document.preflight.request", "is missing: a record is written only after Preflight accepted the request")
	default:
		r = doc.Preflight.Request
		if err := r.Validate(h.Config.Home); err != nil {
			return nil, err
		}
		if r.Task.Report == nil {
			v.Add("document.preflight.request.task.report", "is missing: the request asks for no record")
		} else if !slices.Contains(h.Config.DestinationBuckets, r.Task.Report.Bucket) {
			v.Add("document.preflight.request.task.report.bucket", "%q is not one of this deployment's destination buckets %v (cdk.json dsmigrate:destinationBuckets)",
				r.Task.Report.Bucket, h.Config.DestinationBuckets)
		}
	}
	if in.Mode == ModeFailed && doc.Failure == nil && len(v.Fields) == 0 {
		v.Add("document.failure", "is missing: mode failed records the error the execution fails with")
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	rec := &Record{RecordVersion: Version, MigrationID: r.MigrationID, Status: "SUCCEEDED",
		Execution: Execution{Arn: in.ExecutionArn, Name: doc.Execution.Name, StartTime: doc.Execution.StartTime},
		WrittenAt: now().UTC().Format(time.RFC3339), Request: r, Deleted: doc.Teardown, Failure: doc.Failure,
		TaskReportsURI: "s3://" + r.Task.Report.Bucket + "/" + r.Task.Report.SummaryReports(r.MigrationID)}
	if in.Mode == ModeFailed {
		rec.Status = "FAILED"
	}
	created(rec, doc)
	if g := doc.Grant; g != nil {
		rec.Granted = &Granted{Bucket: g.Bucket, StatementIDs: g.StatementIDs, PolicyBefore: g.PolicyBefore, KMSGrants: g.KMSGrants, At: g.At}
	}
	h.copied(rec, doc)
	if rv := doc.Revoke; rv != nil {
		rec.Revoked = &Revoked{Error: rv.Failure}
		if c := rv.BucketPolicyChange; c != nil {
			rec.Revoked.Changed, rec.Revoked.Deleted, rec.Revoked.StatementIDs, rec.Revoked.PolicyAfter, rec.Revoked.KMSGrants, rec.Revoked.At =
				c.Changed, c.Deleted, c.StatementIDs, c.PolicyAfter, c.KMSGrants, c.At
		}
	}
	return rec, nil
}

func created(rec *Record, doc execution.Document) {
	if ro := doc.Roles; ro != nil {
		for _, role := range []execution.Role{ro.TransferRole, ro.ConfigRole} {
			rec.Created.Roles = append(rec.Created.Roles, Resource{Arn: role.Arn, Created: aws.Bool(role.Created)})
		}
	}
	if l := doc.Locations; l != nil {
		rec.Created.Locations = []Resource{{Arn: l.SourceLocationArn, Created: aws.Bool(l.SourceCreated)}, {Arn: l.DestinationLocationArn, Created: aws.Bool(l.DestinationCreated)}}
	}
	if t := doc.Task; t != nil && t.TaskArn != "" {
		rec.Created.Tasks = []Resource{{Arn: t.TaskArn, Created: aws.Bool(t.TaskCreated)}}
	}
	for _, s := range doc.Shards {
		if task, ok := taskOf(s.TaskExecutionArn); ok {
			rec.Created.Tasks = append(rec.Created.Tasks, Resource{Arn: task})
		}
	}
}

// copied fills Copied, Verified and the task report links from the last poll and the
// task execution(s).
func (h *Handler) copied(rec *Record, doc execution.Document) {
	var executions []string
	if t := doc.Task; t != nil && t.TaskExecutionArn != "" {
		executions = append(executions, t.TaskExecutionArn)
	}
	for _, s := range doc.Shards {
		if s.TaskExecutionArn != "" {
			executions = append(executions, s.TaskExecutionArn)
		}
	}
	p := doc.Progress
	if p == nil && len(executions) == 0 {
		return
	}
	c := &Copied{TaskExecutionArns: executions, Shards: doc.Shards}
	if p != nil {
		c.Status, c.StartTime, c.FinishedAt, c.FilesTransferred, c.BytesTransferred, c.ReportStatus = p.Status, p.StartTime, p.PolledAt, p.FilesTransferred, p.BytesTransferred, p.ReportStatus
		if rec.Request.Task.VerifyMode != "NONE" && p.Done {
			rec.Verified = &Verified{VerifyMode: rec.Request.Task.VerifyMode, FilesVerified: p.FilesVerified, At: p.PolledAt}
		}
	}
	rec.Copied = c
	rep := rec.Request.Task.Report
	for _, arn := range executions {
		rec.TaskReports = append(rec.TaskReports, TaskReport{TaskExecutionArn: arn, URI: TaskReportURI(*rep, rec.MigrationID, arn)})
	}
}

// TaskReportURI is the folder of the summary report of a task execution: DataSync puts a
// task execution's reports under the report Subdirectory, in Summary-Reports/ and
// Detailed-Reports/, by task and execution id (AWS DataSync User Guide, "Monitoring your
// transfers with task reports").
func TaskReportURI(rep request.Report, migrationID, taskExecutionArn string) string {
	task, _ := taskOf(taskExecutionArn)
	return fmt.Sprintf("s3://%s/%s%s/%s/", rep.Bucket, rep.SummaryReports(migrationID), lastSegment(task), lastSegment(taskExecutionArn))
}

// taskOf is the task ARN of a task execution ARN (<task arn>/execution/<exec id>).
func taskOf(taskExecutionArn string) (string, bool) {
	task, _, ok := strings.Cut(taskExecutionArn, "/execution/")
	return task, ok
}

func lastSegment(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
