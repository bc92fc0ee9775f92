package request

import (
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/naming"
)

// Defaults applied by Normalize.
const (
	DefaultStorageClass         = "STANDARD"
	DefaultTaskMode             = "ENHANCED"
	DefaultVerifyMode           = "ONLY_FILES_TRANSFERRED"
	DefaultOverwriteMode        = "ALWAYS"
	DefaultTransferMode         = "CHANGED"
	DefaultPreserveDeletedFiles = "PRESERVE"
)

// Normalize fills the documented defaults. The migration id, when absent, is derived from
// executionName. task.logLevel stays empty when not given: its default depends on the
// deployment (see TaskOptions.EffectiveLogLevel). Normalize is idempotent.
func (r *Request) Normalize(executionName string) {
	if r.MigrationID == "" {
		r.MigrationID = naming.IDFromExecutionName(executionName)
	}
	def(&r.Destination.StorageClass, DefaultStorageClass)
	def(&r.Task.TaskMode, DefaultTaskMode)
	def(&r.Task.VerifyMode, DefaultVerifyMode)
	def(&r.Task.OverwriteMode, DefaultOverwriteMode)
	def(&r.Task.TransferMode, DefaultTransferMode)
	def(&r.Task.PreserveDeletedFiles, DefaultPreserveDeletedFiles)
	if s := r.Task.Shards; s != nil && s.MaxParallel == 0 {
		s.MaxParallel = DefaultMaxParallel
	}
	if r.Task.Report != nil {
		def(&r.Task.Report.Level, DefaultReportLevel)
	}
	if r.Cleanup.RevokeBucketPolicy == nil {
		t := true
		r.Cleanup.RevokeBucketPolicy = &t
	}
}

func def(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

// Revoke reports whether our bucket-policy statements are removed at the end (default true).
func (r *Request) Revoke() bool {
	return r.Cleanup.RevokeBucketPolicy == nil || *r.Cleanup.RevokeBucketPolicy
}

// EffectiveLogLevel is the DataSync LogLevel to use: the requested one, else BASIC when
// the deployment has a task log group and OFF when it has none.
func (t TaskOptions) EffectiveLogLevel(logGroupConfigured bool) string {
	switch {
	case t.LogLevel != "":
		return t.LogLevel
	case logGroupConfigured:
		return "BASIC"
	default:
		return "OFF"
	}
}

// IncludeFilter is the DataSync FilterRule.Value of the include patterns ("" when none).
func (t TaskOptions) IncludeFilter() string { return strings.Join(t.Includes, "|") }

// ExcludeFilter is the DataSync FilterRule.Value of the exclude patterns ("" when none).
func (t TaskOptions) ExcludeFilter() string { return strings.Join(t.Excludes, "|") }
