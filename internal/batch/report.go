package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// SFNAPI is what the batch step reads of the migration state machine: the executions an
// earlier run of the batch started.
type SFNAPI interface {
	DescribeExecution(ctx context.Context, params *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

var _ SFNAPI = (*sfn.Client)(nil)

// Statuses of a migration in the report.
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
)

// Result is one migration in the batch report.
type Result struct {
	MigrationID   string `json:"migrationId"`
	Index         int    `json:"index"`
	ExecutionName string `json:"executionName"`
	ExecutionArn  string `json:"executionArn,omitempty"`
	Status        string `json:"status"`
	// EarlierRun is true when the migration succeeded in an earlier run of the batch and
	// was not run again.
	EarlierRun       bool    `json:"earlierRun,omitempty"`
	FilesTransferred int64   `json:"filesTransferred"`
	BytesTransferred int64   `json:"bytesTransferred"`
	DurationSeconds  float64 `json:"durationSeconds"`
	Error            string  `json:"error,omitempty"`
	Cause            string  `json:"cause,omitempty"`
}

// Transfer is the part of the migration state machine's output (Summarize) the report reads.
type Transfer struct {
	FilesTransferred int64   `json:"filesTransferred"`
	BytesTransferred int64   `json:"bytesTransferred"`
	DurationSeconds  float64 `json:"durationSeconds"`
}

// Resume finds, for each item, what earlier runs of the batch left: it describes the
// item's executions attempt by attempt. A succeeded one is not run again (Skip, with its
// result); a failed, timed out or aborted one is run again under the next attempt's
// name; a running one is started again under its own name, which Step Functions treats
// as the same execution (StartExecution with the same name and input while the execution
// is open returns it; Step Functions API Reference, StartExecution), so the batch waits
// for it instead of starting a second copy.
func Resume(ctx context.Context, api SFNAPI, stateMachineArn string, p *Plan) error {
	for li := range p.Lanes {
		for ii := range p.Lanes[li].Items {
			if err := resumeItem(ctx, api, stateMachineArn, p.BatchID, &p.Lanes[li].Items[ii]); err != nil {
				return err
			}
		}
	}
	return nil
}

// ExecutionArn is the ARN of the execution named name of the state machine.
func ExecutionArn(stateMachineArn, name string) string {
	return strings.Replace(stateMachineArn, ":stateMachine:", ":execution:", 1) + ":" + name
}

func resumeItem(ctx context.Context, api SFNAPI, smArn, batchID string, it *Item) error {
	for attempt := 1; attempt <= MaxAttempts; attempt++ {
		name := ExecutionName(batchID, it.MigrationID, attempt)
		arn := ExecutionArn(smArn, name)
		out, err := api.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		var missing *sfntypes.ExecutionDoesNotExist
		switch {
		case err != nil && errors.As(err, &missing):
			it.ExecutionName = name
			return nil
		case err != nil:
			return awserror.Classify(err, awserror.Call{Action: "states:DescribeExecution", Resource: arn}, awserror.Precondition)
		}
		switch out.Status {
		case sfntypes.ExecutionStatusRunning:
			it.ExecutionName = name
			return nil
		case sfntypes.ExecutionStatusSucceeded:
			it.ExecutionName = name
			it.Skip = true
			it.Previous = succeeded(it, arn, out)
			return nil
		}
	}
	return &failure.ValidationError{Subject: "batch", Fields: []failure.FieldError{{Field: "batchId",
		Rule: fmt.Sprintf("%q has run migration %q %d times without success; look at its executions, then start the batch with a new batchId", batchID, it.MigrationID, MaxAttempts)}}}
}

func succeeded(it *Item, arn string, out *sfn.DescribeExecutionOutput) *Result {
	r := &Result{MigrationID: it.MigrationID, Index: it.Index, ExecutionName: it.ExecutionName, ExecutionArn: arn, Status: StatusSucceeded, EarlierRun: true}
	var o struct {
		Transfer Transfer `json:"transfer"`
	}
	if out.Output != nil && json.Unmarshal([]byte(*out.Output), &o) == nil {
		r.FilesTransferred, r.BytesTransferred = o.Transfer.FilesTransferred, o.Transfer.BytesTransferred
	}
	r.DurationSeconds = seconds(out.StartDate, out.StopDate)
	return r
}

func seconds(start, stop *time.Time) float64 {
	if start == nil || stop == nil {
		return 0
	}
	return math.Round(stop.Sub(*start).Seconds()*1000) / 1000
}

// Entry is what a lane's iteration returns for one item (the batch definition builds it):
// a Result, with Child when the child succeeded (the Task's ResultSelector of the
// states:startExecution.sync:2 response), which Entry.Result completes.
type Entry struct {
	Result
	Child *ChildResult `json:"child,omitempty"`
}

// Complete fills a succeeded child's figures in from Child.
func (e Entry) Complete() Result {
	r := e.Result
	if c := e.Child; c != nil {
		r.ExecutionArn = c.ExecutionArn
		r.DurationSeconds = durationOf(c.StartDate, c.StopDate)
		if c.Transfer != nil {
			r.FilesTransferred, r.BytesTransferred = c.Transfer.FilesTransferred, c.Transfer.BytesTransferred
		}
	}
	return r
}

// ChildResult is the part of a succeeded child's DescribeExecution the lane keeps.
type ChildResult struct {
	ExecutionArn string          `json:"executionArn"`
	StartDate    json.RawMessage `json:"startDate"`
	StopDate     json.RawMessage `json:"stopDate"`
	Transfer     *Transfer       `json:"transfer"`
}

// CaughtError is an error a Catch put into the state's input (Error and Cause).
type CaughtError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// Failed turns a caught child failure into its report entry. A failed
// states:startExecution.sync:2 Task fails with States.TaskFailed and, as Cause, the
// child's DescribeExecution response as JSON; the entry keeps the child's own error name
// and cause (at most MaxCauseBytes). Any other error (the child could not be started) is
// kept as it came.
func Failed(it Item, caught CaughtError) Result {
	r := Result{MigrationID: it.MigrationID, Index: it.Index, ExecutionName: it.ExecutionName, Status: StatusFailed, Error: caught.Error, Cause: caught.Cause}
	var child struct {
		ExecutionArn string          `json:"ExecutionArn"`
		Status       string          `json:"Status"`
		Error        *string         `json:"Error"`
		Cause        *string         `json:"Cause"`
		StartDate    json.RawMessage `json:"StartDate"`
		StopDate     json.RawMessage `json:"StopDate"`
	}
	if json.Unmarshal([]byte(caught.Cause), &child) == nil && child.Status != "" {
		r.ExecutionArn = child.ExecutionArn
		r.Error = aws.ToString(child.Error)
		if r.Error == "" {
			r.Error = child.Status // TIMED_OUT, ABORTED: no error name
		}
		r.Cause = aws.ToString(child.Cause)
		r.DurationSeconds = durationOf(child.StartDate, child.StopDate)
	}
	r.Cause = failure.Cut(r.Cause, MaxCauseBytes)
	return r
}

// date reads a date of a Task result: epoch milliseconds (how the service integration
// returns StartDate and StopDate) or an RFC 3339 text.
func date(raw json.RawMessage) (time.Time, bool) {
	var ms float64
	if json.Unmarshal(raw, &ms) == nil && ms > 0 {
		return time.UnixMilli(int64(ms)), true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func durationOf(start, stop json.RawMessage) float64 {
	a, ok1 := date(start)
	b, ok2 := date(stop)
	if !ok1 || !ok2 {
		return 0
	}
	return seconds(&a, &b)
}

// Report is the batch's output.
type Report struct {
	BatchID string `json:"batchId"`
	// Status is SUCCEEDED when the failed share is within ToleratedFailurePercentage.
	Status                     string   `json:"status"`
	Total                      int      `json:"total"`
	Succeeded                  int      `json:"succeeded"`
	Failed                     int      `json:"failed"`
	FromEarlierRuns            int      `json:"fromEarlierRuns"`
	FailedPercentage           float64  `json:"failedPercentage"`
	ToleratedFailurePercentage float64  `json:"toleratedFailurePercentage"`
	FilesTransferred           int64    `json:"filesTransferred"`
	BytesTransferred           int64    `json:"bytesTransferred"`
	Migrations                 []Result `json:"migrations"`
	// FailedMigrations names each failed child: migration id, execution name and error.
	FailedMigrations []string `json:"failedMigrations"`
	// Cause is the batch's failure cause when Status is FAILED.
	Cause string `json:"cause,omitempty"`
	// ReportObjects names report.json and report.csv when the batch input gave a report
	// location.
	ReportObjects *ReportObjects `json:"reportObjects,omitempty"`
}

// Summarize builds the report from the lanes' outcomes (Results of the outer Map: one
// list per lane).
func Summarize(batchID string, tolerated float64, lanes [][]Entry) Report {
	rep := Report{BatchID: batchID, ToleratedFailurePercentage: tolerated, Migrations: []Result{}, FailedMigrations: []string{}}
	for _, l := range lanes {
		for _, e := range l {
			rep.Migrations = append(rep.Migrations, e.Complete())
		}
	}
	sort.SliceStable(rep.Migrations, func(i, j int) bool { return rep.Migrations[i].Index < rep.Migrations[j].Index })
	for _, r := range rep.Migrations {
		rep.Total++
		rep.FilesTransferred += r.FilesTransferred
		rep.BytesTransferred += r.BytesTransferred
		if r.EarlierRun {
			rep.FromEarlierRuns++
		}
		if r.Status == StatusSucceeded {
			rep.Succeeded++
			continue
		}
		rep.Failed++
		rep.FailedMigrations = append(rep.FailedMigrations, fmt.Sprintf("%s (%s): %s", r.MigrationID, r.ExecutionName, r.Error))
	}
	if rep.Total > 0 {
		rep.FailedPercentage = math.Round(float64(rep.Failed)*10000/float64(rep.Total)) / 100
	}
	rep.Status = StatusSucceeded
	if rep.Failed > 0 && rep.FailedPercentage > tolerated {
		rep.Status = StatusFailed
		cause := fmt.Sprintf("%d of %d migrations failed (%.2f %%, more than the tolerated %.2f %%): %s. Start the batch again with the same input: the succeeded migrations are not copied again, the failed ones run again",
			rep.Failed, rep.Total, rep.FailedPercentage, tolerated, strings.Join(rep.FailedMigrations, "; "))
		rep.Cause = failure.Cut(cause, failure.MaxMessageBytes)
	}
	return rep
}
