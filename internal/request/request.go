// Package request is the migration request: the state machine's input and the detail of
// the EventBridge event that starts a migration. See docs/reference.md and README.md.
package request

// Request is one migration from a bucket in account A to a bucket in account B.
type Request struct {
	MigrationID string `json:"migrationId,omitempty"`
	// Mode is what the execution does: ModeMigrate (the default, "" means it), ModePlan
	// or ModeTeardown.
	Mode        string      `json:"mode,omitempty"`
	Source      Source      `json:"source"`
	Destination Destination `json:"destination"`
	Task        TaskOptions `json:"task"`
	Cleanup     Cleanup     `json:"cleanup"`
}

// Source is the bucket in account A that holds the data.
type Source struct {
	Bucket    string `json:"bucket"`
	AccountID string `json:"accountId"`
	Region    string `json:"region"`
	Prefix    string `json:"prefix,omitempty"`
	// KMSKeyArns are the customer managed KMS keys of account A that objects of the
	// bucket are encrypted with, besides its default key (full key ARNs in the source
	// account, partition and region). Preflight adds the bucket's default key; the grant
	// step gives the transfer role a KMS grant on each (internal/kmsgrant).
	KMSKeyArns []string `json:"kmsKeyArns,omitempty"`
	// The roles in account A that read and edit the bucket policy are not named here: the
	// functions derive them from AccountID and the deployment (RetiredFields).
}

// Destination is the bucket in account B, where every DataSync resource lives.
type Destination struct {
	Bucket string `json:"bucket"`
	// AccountID is optional: when given it must be the account dsmigrate runs in (B), so
	// a request meant for another deployment fails instead of landing in the wrong account.
	AccountID    string `json:"accountId,omitempty"`
	Region       string `json:"region"`
	Prefix       string `json:"prefix,omitempty"`
	StorageClass string `json:"storageClass,omitempty"`
	// KMSKeyArn is the customer managed key of account B that the destination bucket's
	// default encryption uses (its full key ARN); Preflight fills it in from the bucket,
	// and a value given must be that key. CreateRoles lets the config role use it.
	KMSKeyArn string `json:"kmsKeyArn,omitempty"`
}

// TaskOptions are the DataSync task options. Empty values take the documented defaults.
type TaskOptions struct {
	TaskMode             string   `json:"taskMode,omitempty"`
	VerifyMode           string   `json:"verifyMode,omitempty"`
	OverwriteMode        string   `json:"overwriteMode,omitempty"`
	TransferMode         string   `json:"transferMode,omitempty"`
	PreserveDeletedFiles string   `json:"preserveDeletedFiles,omitempty"`
	Includes             []string `json:"includes,omitempty"`
	Excludes             []string `json:"excludes,omitempty"`
	LogLevel             string   `json:"logLevel,omitempty"`
	// Shards runs the migration as several DataSync tasks at once (nil: one task).
	Shards *Shards `json:"shards,omitempty"`
	// Report asks DataSync for a task report of each execution and dsmigrate for an audit
	// record of the migration, both in a bucket of account B (nil: neither).
	Report *Report `json:"report,omitempty"`
}

// Report is where and how much the migration records: DataSync's task report of each of
// its task executions (TaskReportConfig, AWS DataSync User Guide, "Monitoring your
// transfers with task reports") under Subdirectory, and dsmigrate's own JSON record of
// what the migration created, copied, verified, revoked and deleted at RecordKey.
type Report struct {
	// Bucket is a bucket of account B, one of the deployment's destination buckets.
	Bucket string `json:"bucket"`
	// Prefix is the key prefix everything of this report goes under ("" = the bucket's
	// top); each migration gets the folder <prefix><migrationId>/ below it.
	Prefix string `json:"prefix,omitempty"`
	// Level is ReportLevels' value: SUMMARY_ONLY, ERRORS_ONLY (the default) or
	// SUCCESSES_AND_ERRORS.
	Level string `json:"level,omitempty"`
}

// Report levels. SUMMARY_ONLY is DataSync's OutputType SUMMARY_ONLY; the other two are
// OutputType STANDARD (a summary and the detailed reports of what was transferred,
// verified, deleted and skipped) with that ReportLevel.
const (
	ReportSummaryOnly        = "SUMMARY_ONLY"
	ReportErrorsOnly         = "ERRORS_ONLY"
	ReportSuccessesAndErrors = "SUCCESSES_AND_ERRORS"
	DefaultReportLevel       = ReportErrorsOnly
	// RecordFolder is the folder of the records in a migration's folder; the record
	// function may write only keys with it (infra, WriteMigrationRecords).
	RecordFolder = "dsmigrate-record/"
)

// ReportLevels are the values of task.report.level.
var ReportLevels = []string{ReportSummaryOnly, ReportErrorsOnly, ReportSuccessesAndErrors}

// MaxReportPrefixLength bounds task.report.prefix so that the longest record key (the
// prefix, a 32-character migration id, the record folder, an 80-character execution name
// and ".json") stays within S3's 1,024-byte key.
const MaxReportPrefixLength = 768

// Folder is the migration's folder in the report bucket, <prefix><migrationId>/, and the
// ReportDestinationS3 Subdirectory of its task reports: DataSync puts each execution's
// reports below it, in Summary-Reports/ and Detailed-Reports/ per task and execution.
func (r Report) Folder(migrationID string) string { return r.Prefix + migrationID + "/" }

// SummaryReports is the folder of the migration's summary reports.
func (r Report) SummaryReports(migrationID string) string {
	return r.Folder(migrationID) + "Summary-Reports/"
}

// RecordKey is the key of the audit record of one execution of the migration.
func (r Report) RecordKey(migrationID, executionName string) string {
	return r.Folder(migrationID) + RecordFolder + executionName + ".json"
}

// TaskReportFolders are the key prefixes DataSync writes a migration's task reports under
// (the config role may put objects there and nowhere else in the report bucket).
func (r Report) TaskReportFolders(migrationID string) []string {
	return []string{r.SummaryReports(migrationID), r.Folder(migrationID) + "Detailed-Reports/"}
}

// Cleanup says what to undo at the end.
type Cleanup struct {
	// RevokeBucketPolicy removes our statements from the source bucket policy at the end.
	// nil means the default, true.
	RevokeBucketPolicy *bool `json:"revokeBucketPolicy,omitempty"`
	// DeleteResources deletes what the migration created (task(s), locations, roles),
	// as a teardown does, once the transfer succeeded and the grant was revoked.
	DeleteResources bool `json:"deleteResources,omitempty"`
}

// Modes of a request.
const (
	// ModeMigrate copies the data (the default when mode is left out).
	ModeMigrate = "migrate"
	// ModePlan only reads, and reports what a migration would change.
	ModePlan = "plan"
	// ModeTeardown removes what a migration left: its statements in the source bucket
	// policy, its DataSync task(s) and locations and its two roles.
	ModeTeardown = "teardown"
)

// Modes are the accepted values of mode.
var Modes = []string{ModeMigrate, ModePlan, ModeTeardown}

// IsTeardown reports whether the request asks for a teardown.
func (r *Request) IsTeardown() bool { return r.Mode == ModeTeardown }
