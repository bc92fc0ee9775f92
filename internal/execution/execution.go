// Package execution is the state machine's execution document: the JSON object that
// statemachine/dsmigrate.asl.json passes from state to state. Document has one field per
// ResultPath of the definition (and per key of the Start state), and the step packages'
// outputs are the types of those fields. Steps import this package, never each other;
// a test fails when a ResultPath has no Document field.
//
// The JSON shapes are the state machine's contract (docs/reference.md, "The state
// document"): a renamed field here breaks a deployed definition.
package execution

import (
	"encoding/json"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/request"
)

// Document is the state document of one execution, as the states after Start see it.
// A field is nil until the state that writes it has run.
type Document struct {
	// Request is the execution input as given ($.request, from Start); Preflight.Request
	// is the validated, normalized copy the later steps use.
	Request   json.RawMessage `json:"request"`
	Execution Execution       `json:"execution"`
	Preflight *Preflight      `json:"preflight,omitempty"`
	Roles     *Roles          `json:"roles,omitempty"`
	// Grant is the putbucketpolicy result in mode grant ($.grant).
	Grant     *BucketPolicyChange `json:"grant,omitempty"`
	Locations *Locations          `json:"locations,omitempty"`
	Task      *Task               `json:"task,omitempty"`
	// Shards is the RunShards Map's result for a sharded migration (instead of Task), one
	// item per shard.
	Shards []ShardResult `json:"shards,omitempty"`
	// Progress is the latest poll (null until the first one).
	Progress *Progress     `json:"progress"`
	Revoke   *RevokeResult `json:"revoke"`
	// Teardown is the teardown step's result ($.teardown): what a teardown (or
	// cleanup.deleteResources) found and deleted.
	Teardown *Teardown `json:"teardown,omitempty"`
	// Failure is the error of the step that failed first, caught on its way to the end;
	// ExplainFailure rewrites its cause to say what became of the data and the grant.
	Failure *Failure `json:"failure,omitempty"`
	// ExplainError is ExplainFailure's own error, when it could not run: Failure is then
	// reported as it was.
	ExplainError *Failure `json:"explainError,omitempty"`
	// Record is the WriteRecord step's result ($.record, null without task.report): where
	// the migration's record and task reports are, or the error that kept the record from
	// being written. A failed migration's record is written with its result dropped.
	Record *RecordResult `json:"record"`
}

// RecordResult is $.record: the links of a written record, or the error its Catch wrote
// there.
type RecordResult struct {
	*RecordLinks
	*Failure
}

// RecordLinks is where the record step wrote the migration's record, and where DataSync
// puts the task report of each of its task executions.
type RecordLinks struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	URI       string `json:"uri"`
	WrittenAt string `json:"writtenAt"`
	// TaskReportsURI is the folder of the migration's DataSync summary reports
	// (s3://<bucket>/<prefix><migrationId>/Summary-Reports/), one folder per task and
	// execution below it; the record links each task execution's.
	TaskReportsURI string `json:"taskReportsUri"`
}

// Execution is $.execution: the Step Functions execution's name and start time, from the
// context object ($$.Execution).
type Execution struct {
	Name      string `json:"name"`
	StartTime string `json:"startTime"`
}

// Preflight is the preflight step's result ($.preflight): the normalized request and what
// it measured of the source bucket policy (its size as S3's 20 KB limit is checked,
// policy.Size).
type Preflight struct {
	Request                *request.Request `json:"request"`
	SourcePolicyBytes      int              `json:"sourcePolicyBytes"`
	SourcePolicyStatements int              `json:"sourcePolicyStatements"`
	// Shards are the shards of a request with task.shards (listed, or discovered in the
	// source bucket); absent otherwise, which is how ChooseTransfer tells the two apart.
	// PlanShards writes them again with Skip set (ResultPath $.preflight.shards).
	Shards []Shard `json:"shards,omitempty"`
	// Plan is set for a plan request only (request.ModePlan).
	Plan *SourcePlan `json:"plan,omitempty"`
}

// Roles is the createroles step's result ($.roles): the two roles DataSync uses.
type Roles struct {
	TransferRole Role `json:"transferRole"`
	ConfigRole   Role `json:"configRole"`
	// Plan is set for a plan request only: nothing was created.
	Plan []PlannedResource `json:"plan,omitempty"`
}

// Role is one IAM role createroles created or found.
type Role struct {
	Name    string `json:"name"`
	Arn     string `json:"arn"`
	Created bool   `json:"created"`
}

// BucketPolicyChange is the putbucketpolicy step's result, in mode grant ($.grant) or
// revoke ($.revoke). PolicyBefore is the policy found (the backup; "" when the bucket had
// none) and PolicyAfter the policy left ("" when deleted or none).
type BucketPolicyChange struct {
	Mode         string   `json:"mode"`
	Bucket       string   `json:"bucket"`
	Changed      bool     `json:"changed"`
	Deleted      bool     `json:"deleted"`
	StatementIDs []string `json:"statementIds"`
	PolicyBefore string   `json:"policyBefore"`
	PolicyAfter  string   `json:"policyAfter"`
	// KMSGrants are the migration's KMS grants on the source keys
	// (request.source.kmsKeyArns): those the grant found or created, or those the revoke
	// removed. Null when the source uses no customer managed key.
	KMSGrants []KMSGrant `json:"kmsGrants"`
	// At is when the step finished (RFC 3339, UTC): the time the record gives the grant
	// and the revoke.
	At string `json:"at,omitempty"`
}

// KMSGrant is one KMS grant of a migration (internal/kmsgrant): on KeyArn, to
// GranteePrincipal (the transfer role), named Name.
type KMSGrant struct {
	KeyArn           string   `json:"keyArn"`
	GrantID          string   `json:"grantId,omitempty"`
	Name             string   `json:"name"`
	GranteePrincipal string   `json:"granteePrincipal"`
	Operations       []string `json:"operations"`
	// Created is true when this run created the grant (false: found from an earlier run).
	Created   bool   `json:"created,omitempty"`
	CreatedAt string `json:"createdAt,omitempty"`
}

// RevokeResult is $.revoke: the revoke's BucketPolicyChange, or, when the revoke failed,
// the error its Catch recorded there (AfterCleanup tests $.revoke.Error). Null until the
// revoke has run.
type RevokeResult struct {
	*BucketPolicyChange
	*Failure
}

// Locations is the createlocations step's result ($.locations).
type Locations struct {
	SourceLocationArn      string `json:"sourceLocationArn"`
	DestinationLocationArn string `json:"destinationLocationArn"`
	SourceCreated          bool   `json:"sourceCreated"`
	DestinationCreated     bool   `json:"destinationCreated"`
	// Plan is set for a plan request only: nothing was created, and an ARN is empty
	// when the location would be created.
	Plan []PlannedResource `json:"plan,omitempty"`
}

// Task is the starttask step's result ($.task): the task and the execution the state
// machine polls.
type Task struct {
	TaskArn          string `json:"taskArn"`
	TaskCreated      bool   `json:"taskCreated"`
	TaskExecutionArn string `json:"taskExecutionArn"`
	// ExecutionStarted is false when an execution of the task was already queued or
	// running and is reused.
	ExecutionStarted bool `json:"executionStarted"`
	// Plan is set for a plan request only: the task(s) and execution(s) a migration would
	// create, reuse or be refused; nothing was created or started.
	Plan []PlannedResource `json:"plan,omitempty"`
}

// Progress is the pollexecution step's result ($.progress): one observation of the
// DataSync task execution and the wait before the next poll.
type Progress struct {
	TaskExecutionArn         string  `json:"taskExecutionArn"`
	Status                   string  `json:"status"`
	Done                     bool    `json:"done"`
	FilesTransferred         int64   `json:"filesTransferred"`
	BytesTransferred         int64   `json:"bytesTransferred"`
	EstimatedFilesToTransfer int64   `json:"estimatedFilesToTransfer"`
	EstimatedBytesToTransfer int64   `json:"estimatedBytesToTransfer"`
	FilesVerified            int64   `json:"filesVerified"`
	PercentDone              float64 `json:"percentDone"`
	NextWaitSeconds          int64   `json:"nextWaitSeconds"`
	PolledAt                 string  `json:"polledAt"`
	StartTime                string  `json:"startTime"`
	ElapsedSeconds           int64   `json:"elapsedSeconds"`
	// ReportStatus is DataSync's ReportResult status (PENDING, SUCCESS or ERROR) when the
	// task execution has a task report (task.report); empty otherwise.
	ReportStatus string `json:"reportStatus,omitempty"`
}

// Failure is the error output a Catch writes ($.failure, or $.revoke when the revoke
// fails): the error name and its cause. For a Lambda task the cause is the function's
// error document {"errorType", "errorMessage"} as a string. Step Functions documents the
// shape in "Error handling in Step Functions", Fallback states
// (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
type Failure struct {
	Error string `json:"Error"`
	Cause string `json:"Cause,omitempty"`
}

// Message is the readable part of the cause: a Lambda function's error arrives as the
// JSON document {"errorType", "errorMessage"}, whose errorMessage it returns; any other
// cause is returned as it is.
func (f Failure) Message() string {
	var doc struct {
		ErrorMessage *string `json:"errorMessage"`
	}
	if strings.HasPrefix(strings.TrimSpace(f.Cause), "{") && json.Unmarshal([]byte(f.Cause), &doc) == nil && doc.ErrorMessage != nil {
		return *doc.ErrorMessage
	}
	return f.Cause
}

// Teardown is the teardown step's result ($.teardown): the migration's resources in
// account B tagged with this deployment and the migration id, and whether they are
// deleted.
type Teardown struct {
	MigrationID string   `json:"migrationId"`
	Tasks       []string `json:"tasks"`
	Locations   []string `json:"locations"`
	Roles       []string `json:"roles"`
	// NothingLeft is true when no task, location or role of the migration was found: a
	// repeated teardown is a no-op and says so in Message.
	NothingLeft bool   `json:"nothingLeft"`
	Deleted     bool   `json:"deleted"`
	FinishedAt  string `json:"finishedAt,omitempty"`
	Message     string `json:"message"`
}
