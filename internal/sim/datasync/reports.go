package datasync

// Task reports (DataSync User Guide, "Monitoring your data transfers with task reports";
// API reference TaskReportConfig, ReportDestinationS3, ReportOverrides, ReportResult).
//
// A task, or one execution (StartTaskExecution's TaskReportConfig), names an S3 bucket, a
// prefix and a role. When the execution ends DataSync assumes the role as
// datasync.amazonaws.com and uploads a summary report and, for OutputType STANDARD,
// detailed reports, under Summary-Reports and Detailed-Reports folders of the prefix, per
// task and execution. The execution's own status does not depend on the upload;
// DescribeTaskExecution's ReportResult says whether it worked.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// Wire shapes (field names as the SDK's serializers write them).

type reportDestinationS3 struct {
	BucketAccessRoleArn *string `json:"BucketAccessRoleArn,omitempty"`
	S3BucketArn         *string `json:"S3BucketArn,omitempty"`
	Subdirectory        *string `json:"Subdirectory,omitempty"`
}

type reportDestination struct {
	S3 *reportDestinationS3 `json:"S3,omitempty"`
}

type reportOverride struct {
	ReportLevel *string `json:"ReportLevel,omitempty"`
}

type reportOverrides struct {
	Deleted     *reportOverride `json:"Deleted,omitempty"`
	Skipped     *reportOverride `json:"Skipped,omitempty"`
	Transferred *reportOverride `json:"Transferred,omitempty"`
	Verified    *reportOverride `json:"Verified,omitempty"`
}

type taskReportConfig struct {
	Destination      *reportDestination `json:"Destination,omitempty"`
	ObjectVersionIds *string            `json:"ObjectVersionIds,omitempty"`
	OutputType       *string            `json:"OutputType,omitempty"`
	Overrides        *reportOverrides   `json:"Overrides,omitempty"`
	ReportLevel      *string            `json:"ReportLevel,omitempty"`
}

type reportResult struct {
	Status      string  `json:"Status"`
	ErrorCode   *string `json:"ErrorCode,omitempty"`
	ErrorDetail *string `json:"ErrorDetail,omitempty"`
}

// Constraints of ReportDestinationS3 (DataSync API Reference).
const (
	reportRolePattern   = `^arn:(aws|aws-cn|aws-us-gov|aws-eusc|aws-iso|aws-iso-b):iam::[0-9]{12}:role/.*$`
	reportBucketPattern = `^arn:(aws|aws-cn|aws-us-gov|aws-eusc|aws-iso|aws-iso-b):s3:::[a-zA-Z0-9.\-_]{1,255}$`
	reportSubdirPattern = `^[a-zA-Z0-9_\-\+\./\(\)\p{Zs}]*$`
)

var (
	reportRoleRE   = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-eusc|aws-iso|aws-iso-b):iam::([0-9]{12}):role/.*$`)
	reportBucketRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-eusc|aws-iso|aws-iso-b):s3:::([a-zA-Z0-9.\-_]{1,255})$`)
	reportSubdirRE = regexp.MustCompile(reportSubdirPattern)
)

// The report categories of a STANDARD report, in the order they are written.
var reportCategories = []string{"transferred", "verified", "deleted", "skipped"}

func checkEnum(v *string, field string, values ...string) error {
	if v == nil {
		return nil
	}
	for _, ok := range values {
		if *v == ok {
			return nil
		}
	}
	return validation(*v, field, "Member must satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

// validateReportConfig applies the API reference's constraints to a TaskReportConfig
// (field is "taskReportConfig"). It returns the role's account for the pass-role checks.
func validateReportConfig(c *taskReportConfig, field string) (roleAccount string, err error) {
	if c.Destination == nil || c.Destination.S3 == nil {
		// Without a destination there is nowhere to upload the report; the console and
		// CloudFormation (TaskReportConfig.Destination "Required: Yes") require it.
		return "", validation("null", field+".destination.s3", "Member must not be null")
	}
	d := c.Destination.S3
	f := field + ".destination.s3"
	if d.S3BucketArn == nil {
		return "", validation("null", f+".s3BucketArn", "Member must not be null")
	}
	if len(*d.S3BucketArn) > 268 {
		return "", validation(*d.S3BucketArn, f+".s3BucketArn", "Member must have length less than or equal to 268")
	}
	if !reportBucketRE.MatchString(*d.S3BucketArn) {
		return "", validation(*d.S3BucketArn, f+".s3BucketArn", "Member must satisfy regular expression pattern: "+reportBucketPattern)
	}
	if d.BucketAccessRoleArn == nil {
		return "", validation("null", f+".bucketAccessRoleArn", "Member must not be null")
	}
	if len(*d.BucketAccessRoleArn) > 2048 {
		return "", validation(*d.BucketAccessRoleArn, f+".bucketAccessRoleArn", "Member must have length less than or equal to 2048")
	}
	m := reportRoleRE.FindStringSubmatch(*d.BucketAccessRoleArn)
	if m == nil {
		return "", validation(*d.BucketAccessRoleArn, f+".bucketAccessRoleArn", "Member must satisfy regular expression pattern: "+reportRolePattern)
	}
	if d.Subdirectory != nil {
		if len(*d.Subdirectory) > 4096 {
			return "", validation(*d.Subdirectory, f+".subdirectory", "Member must have length less than or equal to 4096")
		}
		if !reportSubdirRE.MatchString(*d.Subdirectory) {
			return "", validation(*d.Subdirectory, f+".subdirectory", "Member must satisfy regular expression pattern: "+reportSubdirPattern)
		}
	}
	if err := checkEnum(c.OutputType, field+".outputType", "SUMMARY_ONLY", "STANDARD"); err != nil {
		return "", err
	}
	if err := checkEnum(c.ReportLevel, field+".reportLevel", "ERRORS_ONLY", "SUCCESSES_AND_ERRORS"); err != nil {
		return "", err
	}
	if err := checkEnum(c.ObjectVersionIds, field+".objectVersionIds", "INCLUDE", "NONE"); err != nil {
		return "", err
	}
	if o := c.Overrides; o != nil {
		for _, x := range []struct {
			name string
			ov   *reportOverride
		}{{"transferred", o.Transferred}, {"verified", o.Verified}, {"deleted", o.Deleted}, {"skipped", o.Skipped}} {
			if x.ov == nil {
				continue
			}
			if err := checkEnum(x.ov.ReportLevel, field+".overrides."+x.name+".reportLevel", "ERRORS_ONLY", "SUCCESSES_AND_ERRORS"); err != nil {
				return "", err
			}
		}
	}
	return m[2], nil
}

// passReportRole is what CreateTask and StartTaskExecution check before accepting a
// TaskReportConfig: the role is passed to DataSync, so the caller needs iam:PassRole on it
// with iam:PassedToService datasync.amazonaws.com (StartTaskExecution TaskReportConfig:
// "your caller identity ... must have the iam:PassRole permission"), and, as for a
// location's role, it must be in the caller's account.
func (s *Service) passReportRole(ctx context.Context, caller identity.Principal, c *taskReportConfig, roleAccount string) error {
	if roleAccount != caller.AccountID {
		return invalid("Cross-account pass role is not allowed")
	}
	if err := s.b.Authorize(ctx, caller, "iam:PassRole", *c.Destination.S3.BucketAccessRoleArn,
		identity.Context{"iam:PassedToService": {servicePrincipal}}); err != nil {
		if isCode(err, "AccessDenied") {
			return accessDenied(err)
		}
		return internal(err)
	}
	return nil
}

// acceptReportConfig validates c and checks the caller may pass its role (nil c: none).
func (s *Service) acceptReportConfig(ctx context.Context, caller identity.Principal, c *taskReportConfig) error {
	if c == nil {
		return nil
	}
	acct, err := validateReportConfig(c, "taskReportConfig")
	if err != nil {
		return err
	}
	return s.passReportRole(ctx, caller, c, acct)
}

// level is the report level of a category: its override, else the config's, else
// ERRORS_ONLY (the simulator's default when ReportLevel is left out).
func (c *taskReportConfig) level(category string) string {
	if o := c.Overrides; o != nil {
		var ov *reportOverride
		switch category {
		case "transferred":
			ov = o.Transferred
		case "verified":
			ov = o.Verified
		case "deleted":
			ov = o.Deleted
		case "skipped":
			ov = o.Skipped
		}
		if ov != nil && ov.ReportLevel != nil {
			return *ov.ReportLevel
		}
	}
	if c.ReportLevel != nil {
		return *c.ReportLevel
	}
	return "ERRORS_ONLY"
}

// standard reports whether detailed reports are written (OutputType STANDARD; the
// simulator treats a missing OutputType as SUMMARY_ONLY).
func (c *taskReportConfig) standard() bool {
	return c.OutputType != nil && *c.OutputType == "STANDARD"
}

// reportEntry is one object in a detailed report.
type reportEntry struct {
	RelativePath   string `json:"RelativePath"`
	SourceKey      string `json:"SourceKey,omitempty"`
	DestinationKey string `json:"DestinationKey,omitempty"`
	SizeBytes      int64  `json:"SizeBytes"`
	Status         string `json:"Status"` // SUCCESS | FAILED
	ErrorCode      string `json:"ErrorCode,omitempty"`
	ErrorDetail    string `json:"ErrorDetail,omitempty"`
}

// ledger records what happened to each object of an execution, for detailed reports.
type ledger struct {
	mu  sync.Mutex
	cat map[string][]reportEntry
}

func newLedger() *ledger { return &ledger{cat: map[string][]reportEntry{}} }

// add records one object's outcome in category (nil ledger: no detailed report wanted).
func (l *ledger) add(category string, en reportEntry, err error) {
	if l == nil {
		return
	}
	en.Status = "SUCCESS"
	if err != nil {
		en.Status = "FAILED"
		en.ErrorCode = "InternalError"
		en.ErrorDetail = err.Error()
		var ae APIError
		if errors.As(err, &ae) {
			en.ErrorCode, en.ErrorDetail = ae.ErrorCode(), ae.ErrorMessage()
		}
	}
	l.mu.Lock()
	l.cat[category] = append(l.cat[category], en)
	l.mu.Unlock()
}

// failed records an object's failure described by code and detail.
func (l *ledger) failed(category string, en reportEntry, code, detail string) {
	if l == nil {
		return
	}
	en.Status, en.ErrorCode, en.ErrorDetail = "FAILED", code, detail
	l.mu.Lock()
	l.cat[category] = append(l.cat[category], en)
	l.mu.Unlock()
}

func (l *ledger) entries(category, level string) []reportEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []reportEntry{}
	for _, en := range l.cat[category] {
		if level == "SUCCESSES_AND_ERRORS" || en.Status != "SUCCESS" {
			out = append(out, en)
		}
	}
	return out
}

// reportKeyPrefix joins the report subdirectory and a folder name without doubled
// slashes: "" → "Summary-Reports/", "reports/" and "reports" → "reports/Summary-Reports/".
func reportKeyPrefix(sub, folder string) string {
	return normalizePrefix(sub) + folder + "/"
}

// resourceID is the last part of a task or execution ARN: task-…, exec-….
func resourceID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// The summary report. Its fields follow what the User Guide says a summary holds; the
// names and layout are the simulator's.
type reportSummary struct {
	AccountId              string            `json:"AccountId"`
	TaskArn                string            `json:"TaskArn"`
	TaskExecutionId        string            `json:"TaskExecutionId"`
	TaskExecutionArn       string            `json:"TaskExecutionArn"`
	SourceLocationArn      string            `json:"SourceLocationArn"`
	DestinationLocationArn string            `json:"DestinationLocationArn"`
	TaskMode               string            `json:"TaskMode"`
	Result                 reportSummaryRes  `json:"Result"`
	StartTime              string            `json:"StartTime"`
	EndTime                string            `json:"EndTime"`
	TotalDurationMs        int64             `json:"TotalDurationMs"`
	Totals                 reportTotals      `json:"Totals"`
	Options                *options          `json:"Options"`
	Includes               []filterRule      `json:"Includes,omitempty"`
	Excludes               []filterRule      `json:"Excludes,omitempty"`
	ReportOutputType       string            `json:"ReportOutputType"`
	ReportLevels           map[string]string `json:"ReportLevels"`
}

type reportSummaryRes struct {
	Status      string `json:"Status"`
	ErrorCode   string `json:"ErrorCode,omitempty"`
	ErrorDetail string `json:"ErrorDetail,omitempty"`
}

type reportTotals struct {
	FilesTransferred int64 `json:"FilesTransferred"`
	FilesVerified    int64 `json:"FilesVerified"`
	FilesDeleted     int64 `json:"FilesDeleted"`
	FilesSkipped     int64 `json:"FilesSkipped"`
	BytesTransferred int64 `json:"BytesTransferred"`
	BytesWritten     int64 `json:"BytesWritten"`
	FilesFailed      struct {
		Prepare  int64 `json:"Prepare"`
		Transfer int64 `json:"Transfer"`
		Verify   int64 `json:"Verify"`
		Delete   int64 `json:"Delete"`
	} `json:"FilesFailed"`
}

type reportDetailed struct {
	TaskExecutionArn string        `json:"TaskExecutionArn"`
	Category         string        `json:"Category"`
	ReportLevel      string        `json:"ReportLevel"`
	Items            []reportEntry `json:"Items"`
}

// startTaskReport begins writing e's report once e has ended (its goroutine is counted
// in s.wg). ReportResult stays PENDING until the upload is done.
func (s *Service) startTaskReport(e *execution) {
	s.mu.Lock()
	cfg := e.report
	if cfg == nil || !e.done() || e.reportRes != nil && e.reportRes.Status != "PENDING" {
		s.mu.Unlock()
		return
	}
	if _, alive := s.st.execs[e.arn]; !alive || s.ctx.Err() != nil {
		// The task was deleted or the simulator is shutting down: no report.
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		code, detail := s.writeTaskReport(s.ctx, e, cfg)
		s.mu.Lock()
		defer s.mu.Unlock()
		if code == "" {
			e.reportRes = &reportResult{Status: "SUCCESS"}
		} else {
			e.reportRes = &reportResult{Status: "ERROR", ErrorCode: sp(code), ErrorDetail: sp(detail)}
		}
	}()
}

// writeTaskReport uploads e's reports as the report role's session and returns an
// ErrorCode and ErrorDetail on failure ("" on success).
func (s *Service) writeTaskReport(ctx context.Context, e *execution, cfg *taskReportConfig) (string, string) {
	// Report generation takes time after the execution ends (AWS shows ReportResult
	// PENDING meanwhile); the length is the Reporting phase.
	if !s.scaledSleep(ctx, s.opts.Phases.Reporting) {
		return "InternalError", "The simulator shut down."
	}
	d := cfg.Destination.S3
	roleArn := *d.BucketAccessRoleArn
	bucket := reportBucketRE.FindStringSubmatch(*d.S3BucketArn)[2]
	t := e.task
	// The role is assumed as for a location, with the task as aws:SourceArn.
	sess, err := s.assumeAsDataSync(ctx, roleArn, t.account, t.arn)
	if err != nil {
		return "PermissionDenied", fmt.Sprintf("Unable to assume role %s to upload the task report. Reason: Access denied when calling sts:AssumeRole", roleArn)
	}

	opts := e.opts
	s.mu.Lock()
	sum := reportSummary{AccountId: t.account, TaskArn: t.arn, TaskExecutionId: resourceID(e.arn),
		TaskExecutionArn: e.arn, SourceLocationArn: t.src, DestinationLocationArn: t.dst, TaskMode: t.mode,
		Result:    reportSummaryRes{Status: e.status, ErrorCode: e.errCode, ErrorDetail: e.errDetail},
		StartTime: e.start.UTC().Format(time.RFC3339Nano), EndTime: e.end.UTC().Format(time.RFC3339Nano),
		TotalDurationMs: e.end.Sub(e.start).Milliseconds(), Options: &opts, Includes: e.includes, Excludes: e.excludes,
		ReportOutputType: "SUMMARY_ONLY", ReportLevels: map[string]string{}}
	s.mu.Unlock()
	if cfg.standard() {
		sum.ReportOutputType = "STANDARD"
	}
	for _, c := range reportCategories {
		sum.ReportLevels[c] = cfg.level(c)
	}
	tot := &sum.Totals
	tot.FilesTransferred, tot.FilesVerified = e.filesTransferred.Load(), e.filesVerified.Load()
	tot.FilesDeleted, tot.FilesSkipped = e.filesDeleted.Load(), e.filesSkipped.Load()
	tot.BytesTransferred, tot.BytesWritten = e.bytesTransferred.Load(), e.bytesWritten.Load()
	tot.FilesFailed.Prepare, tot.FilesFailed.Transfer = e.failPrepare.Load(), e.failTransfer.Load()
	tot.FilesFailed.Verify, tot.FilesFailed.Delete = e.failVerify.Load(), e.failDelete.Load()

	taskID, execID := resourceID(t.arn), resourceID(e.arn)
	sub := str(d.Subdirectory)
	put := func(key string, v any) (string, string) {
		body, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return "InternalError", err.Error()
		}
		_, err = s.b.PutObject(ctx, sess, bucket, key, bytes.NewReader(body), int64(len(body)),
			ObjectMeta{ContentType: "application/json"})
		if err == nil {
			return "", ""
		}
		code := "InternalError"
		switch {
		case isCode(err, "AccessDenied"):
			code = "PermissionDenied"
		case isCode(err, "NoSuchBucket"):
			code = "BucketNotFound"
		}
		return code, "DataSync could not upload the task report. " + describeErr("s3:PutObject", "arn:aws:s3:::"+bucket+"/"+key, sess, err)
	}
	// Detailed reports first, the summary last: a summary present means a complete report.
	if cfg.standard() && e.ledger != nil {
		dir := reportKeyPrefix(sub, "Detailed-Reports") + taskID + "/" + execID + "/"
		for _, c := range reportCategories {
			lvl := cfg.level(c)
			doc := reportDetailed{TaskExecutionArn: e.arn, Category: c, ReportLevel: lvl, Items: e.ledger.entries(c, lvl)}
			if code, detail := put(dir+execID+"."+c+".json", doc); code != "" {
				return code, detail
			}
		}
	}
	key := reportKeyPrefix(sub, "Summary-Reports") + taskID + "/" + execID + "/" + execID + ".summary.json"
	return put(key, sum)
}
