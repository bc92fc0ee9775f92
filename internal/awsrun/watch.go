package awsrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/execution"
)

const (
	defaultInterval = 5 * time.Second  // the first pause between polls, and the shortest
	maxInterval     = 60 * time.Second // the longest pause when nothing changes
	historyPage     = 50               // newest events read per poll: a few poll rounds
	maxPollFailures = 5                // consecutive failed DescribeExecution calls before giving up
	waitStateName   = "WaitForTransfer"
	lambdaLatency   = 3 * time.Second // after a Wait ends, until the poll's output is in the history
)

// ExitInterrupted is returned when the watch is interrupted; the execution goes on.
const ExitInterrupted = 130

// hints say in one line what to do about each of dsmigrate's error names
// (README.md, "Errors and what to do", has the full text).
var hints = map[string]string{
	"ValidationError":       "fix the named fields of the request and start a new execution; nothing was changed",
	"PreconditionError":     "change what the cause names (bucket, region, ownership controls, policy, role), then start again with the same migrationId",
	"PermissionError":       "grant the named action on the named resource to the named principal (and check SCPs and boundaries), then start again",
	"NotReadyError":         "new IAM roles were still not usable after the retries: check their trust and inline policies, then start again",
	"TransientError":        "AWS throttled or failed after the retries: start again with the same migrationId; every step is safe to re-run",
	"TransferFailedError":   "read ErrorCode/ErrorDetail (and the task's log group); fix and start again: only what is missing is copied",
	"ShardsFailedError":     "fix what each failed shard's error names, then start again with the same migrationId: only the shards that did not succeed run again",
	"MigrationRunningError": "a teardown found the migration's DataSync execution queued or running and deleted nothing: wait for it to end (or cancel it), then start the teardown again",
}

// executionARN parses a Step Functions (standard) execution ARN.
func executionARN(s string) (arn.ARN, error) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "states" || !strings.HasPrefix(a.Resource, "execution:") || a.Region == "" {
		return arn.ARN{}, fmt.Errorf("--execution-arn %q is not an execution ARN (arn:aws:states:<region>:<account>:execution:<state machine>:<name>)", s)
	}
	return a, nil
}

func (r *Runner) watchCmd(ctx context.Context, args []string) int {
	fs := r.flagSet("watch")
	execArn := fs.String("execution-arn", "", "the execution to follow")
	migration := fs.String("migration-id", "", "instead of --execution-arn: follow the latest execution of this migration (found on the state machine of --stack or --state-machine-arn)")
	interval := fs.Duration("interval", defaultInterval, "the shortest pause between polls; it grows to 60s while nothing changes")
	t := r.targetFlags(fs)
	if err := parse(fs, args); err != nil {
		return r.errUsage(err)
	}
	if (*execArn == "") == (*migration == "") {
		return r.errUsage(errors.New("give --execution-arn, or --migration-id (one of them)"))
	}
	if *interval <= 0 {
		return r.errUsage(fmt.Errorf("--interval must be positive, got %v", *interval))
	}
	if *migration != "" {
		return r.watchMigration(ctx, t, *migration, *interval)
	}
	a, err := executionARN(*execArn)
	if err != nil {
		return r.errUsage(err)
	}
	reg, err := pickRegion(*t.region, a.Region)
	if err != nil {
		return r.errUsage(err)
	}
	client, err := r.client(ctx, *t.profile, reg)
	if err != nil {
		fmt.Fprintf(r.Stderr, "dsmigrate: %v\n", err)
		return ExitAWS
	}
	return r.watch(ctx, client, *execArn, *interval)
}

// watchMigration follows the latest execution of migration id, found as status finds it.
func (r *Runner) watchMigration(ctx context.Context, t *target, id string, interval time.Duration) int {
	sm, client, code := r.connect(ctx, t)
	if code != ExitOK {
		return code
	}
	found := ""
	if err := r.executions(ctx, client, sm.String(), statusScan, func(m Migration) bool {
		if m.MigrationID == id {
			found = m.ExecutionArn
		}
		return found == ""
	}); err != nil {
		fmt.Fprintf(r.Stderr, "dsmigrate: %v\n", err)
		return ExitAWS
	}
	if found == "" {
		fmt.Fprintf(r.Stderr, "no execution of migration %s among the latest %d of %s\n", id, statusScan, sm.String())
		return ExitNotFound
	}
	fmt.Fprintf(r.Stderr, "following %s\n", found)
	return r.watch(ctx, client, found, interval)
}

// watcher remembers what has been shown of one execution.
type watcher struct {
	r        *Runner
	client   SFNAPI
	arn      string
	lastID   int64           // newest history event shown
	seen     map[string]bool // states shown as entered (loop states are shown once)
	state    string          // the state entered last
	progress *execution.Progress
	// A sharded migration's RunShards Map Run, and what each shard's child execution
	// showed last (by execution ARN).
	mapRunArn string
	shards    map[string]*shardView
	shardLine string // the last shards line printed
	// A batch execution's children (nil: not a batch); batchChecked once the first
	// DescribeExecution said whether it is one.
	batch        *batchView
	batchChecked bool
	// onOutput prints a succeeded execution's output instead of the JSON (nil: the JSON).
	onOutput func(string) int
}

// watch polls the execution until it leaves RUNNING, then prints its end.
func (r *Runner) watch(ctx context.Context, client SFNAPI, execArn string, interval time.Duration) int {
	return r.watchWith(ctx, client, execArn, interval, nil)
}

// watchWith is watch with onOutput, when not nil, given the output of a succeeded
// execution to print instead of the JSON; it returns the exit code.
func (r *Runner) watchWith(ctx context.Context, client SFNAPI, execArn string, interval time.Duration, onOutput func(string) int) int {
	w := &watcher{r: r, client: client, arn: execArn, seen: map[string]bool{}, onOutput: onOutput}
	again := fmt.Sprintf("the execution is not affected; follow it again with: dsmigrate watch --execution-arn %s", execArn)
	wait, failures := interval, 0
	for {
		d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(execArn)})
		switch {
		case ctx.Err() != nil:
			fmt.Fprintf(r.Stderr, "interrupted; %s\n", again)
			return ExitInterrupted
		case err != nil:
			failures++
			if permanent(err) || failures >= maxPollFailures {
				fmt.Fprintf(r.Stderr, "dsmigrate: DescribeExecution: %v\n%s\n", err, again)
				return ExitAWS
			}
			fmt.Fprintf(r.Stderr, "DescribeExecution failed (%d of %d): %v\n", failures, maxPollFailures, err)
			wait = min(wait*2, maxInterval)
		default:
			failures = 0
			changed, herr := w.history(ctx)
			if herr != nil && ctx.Err() == nil {
				// Only the display suffers; the status comes from DescribeExecution.
				fmt.Fprintf(r.Stderr, "GetExecutionHistory failed: %v\n", herr)
			}
			if !w.batchChecked {
				w.batch, w.batchChecked = batchOf(d), true
			}
			if w.batch != nil {
				// The Map Run's children are the batch's lanes; the migrations are
				// executions of the migration state machine.
				batchChanged, berr := w.batchProgress(ctx)
				if berr != nil && ctx.Err() == nil {
					fmt.Fprintf(r.Stderr, "reading the batch's migrations failed: %v\n", berr)
				}
				changed = changed || batchChanged
			} else if w.mapRunArn != "" {
				shardsChanged, serr := w.shardProgress(ctx)
				if serr != nil && ctx.Err() == nil {
					fmt.Fprintf(r.Stderr, "reading the shards' executions failed: %v\n", serr)
				}
				changed = changed || shardsChanged
			}
			if d.Status != types.ExecutionStatusRunning && d.Status != types.ExecutionStatusPendingRedrive {
				return w.finish(d)
			}
			if changed {
				wait = interval
			} else {
				wait = min(wait*2, max(maxInterval, interval))
			}
			wait = w.aim(wait, interval)
		}
		if err := r.sleep(ctx, wait); err != nil {
			fmt.Fprintf(r.Stderr, "interrupted; %s\n", again)
			return ExitInterrupted
		}
	}
}

// permanent reports an error that polling again cannot cure: a client fault other than
// throttling (no such execution, a malformed ARN, access denied). The SDK has already
// retried throttling and server faults.
func permanent(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorFault() == smithy.FaultServer {
		return false
	}
	code := ae.ErrorCode()
	return !strings.Contains(code, "Throttl") && code != "TooManyRequestsException"
}

// aim shortens the pause while the execution waits between DataSync polls so that the
// next progress is shown soon after the state machine fetches it: at the last poll's
// polledAt + nextWaitSeconds (+ the time the Lambda takes), within [interval, maxInterval].
func (w *watcher) aim(wait, interval time.Duration) time.Duration {
	if w.state != waitStateName || w.progress == nil || w.progress.NextWaitSeconds <= 0 {
		return wait
	}
	polled, err := time.Parse(time.RFC3339, w.progress.PolledAt)
	if err != nil {
		return wait
	}
	until := polled.Add(time.Duration(w.progress.NextWaitSeconds)*time.Second + lambdaLatency).Sub(w.r.now())
	return min(max(until, interval), max(maxInterval, interval))
}

// history reads the newest events and shows those not shown yet, oldest first. It
// reports whether anything new was shown.
func (w *watcher) history(ctx context.Context) (bool, error) {
	out, err := w.client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{
		ExecutionArn:         aws.String(w.arn),
		ReverseOrder:         true,
		MaxResults:           historyPage,
		IncludeExecutionData: aws.Bool(true),
	})
	if err != nil {
		return false, err
	}
	var fresh []types.HistoryEvent
	for _, ev := range out.Events {
		if ev.Id > w.lastID {
			fresh = append(fresh, ev)
		}
	}
	// ReverseOrder gives newest first; fakes and pages need not be sorted, so sort.
	slices.SortFunc(fresh, func(a, b types.HistoryEvent) int { return int(a.Id - b.Id) })
	changed := false
	for _, ev := range fresh {
		if w.event(ev) {
			changed = true
		}
		w.lastID = max(w.lastID, ev.Id)
	}
	return changed, nil
}

// event shows one history event; it reports whether it printed something.
func (w *watcher) event(ev types.HistoryEvent) bool {
	at := "        "
	if ev.Timestamp != nil {
		at = ev.Timestamp.UTC().Format(time.TimeOnly)
	}
	failed := func(errName, cause *string) bool {
		_, msg := UnwrapCause(aws.ToString(cause))
		fmt.Fprintf(w.r.Stderr, "%s    ✗ %s: %s: %s\n", at, w.state, aws.ToString(errName), oneLine(msg, 300))
		return true
	}
	switch {
	case ev.MapRunStartedEventDetails != nil:
		w.mapRunArn = aws.ToString(ev.MapRunStartedEventDetails.MapRunArn)
		fmt.Fprintf(w.r.Stderr, "%s    shards run as child executions of Map Run %s\n", at, w.mapRunArn)
		return true
	case ev.StateEnteredEventDetails != nil:
		w.state = aws.ToString(ev.StateEnteredEventDetails.Name)
		if w.seen[w.state] {
			return false // a loop state again: the progress line shows the loop
		}
		w.seen[w.state] = true
		fmt.Fprintf(w.r.Stderr, "%s  ▶ %s\n", at, w.state)
		return true
	case ev.LambdaFunctionFailedEventDetails != nil:
		return failed(ev.LambdaFunctionFailedEventDetails.Error, ev.LambdaFunctionFailedEventDetails.Cause)
	case ev.LambdaFunctionTimedOutEventDetails != nil:
		return failed(ev.LambdaFunctionTimedOutEventDetails.Error, ev.LambdaFunctionTimedOutEventDetails.Cause)
	case ev.LambdaFunctionStartFailedEventDetails != nil:
		return failed(ev.LambdaFunctionStartFailedEventDetails.Error, ev.LambdaFunctionStartFailedEventDetails.Cause)
	case ev.LambdaFunctionScheduleFailedEventDetails != nil:
		return failed(ev.LambdaFunctionScheduleFailedEventDetails.Error, ev.LambdaFunctionScheduleFailedEventDetails.Cause)
	case ev.TaskFailedEventDetails != nil:
		return failed(ev.TaskFailedEventDetails.Error, ev.TaskFailedEventDetails.Cause)
	case ev.TaskTimedOutEventDetails != nil:
		return failed(ev.TaskTimedOutEventDetails.Error, ev.TaskTimedOutEventDetails.Cause)
	case ev.StateExitedEventDetails != nil:
		return w.showProgress(at, ev.StateExitedEventDetails.Output)
	case ev.LambdaFunctionSucceededEventDetails != nil:
		return w.showProgress(at, ev.LambdaFunctionSucceededEventDetails.Output)
	case ev.TaskSucceededEventDetails != nil:
		return w.showProgress(at, ev.TaskSucceededEventDetails.Output)
	}
	return false
}

// showProgress prints a progress line when output holds a PollExecution result not
// shown yet.
func (w *watcher) showProgress(at string, output *string) bool {
	p := execution.ProgressOf([]byte(aws.ToString(output)))
	if p == nil || (w.progress != nil && w.progress.PolledAt == p.PolledAt && w.progress.Status == p.Status) {
		return false
	}
	w.progress = p
	fmt.Fprintf(w.r.Stderr, "%s    %s\n", at, ProgressLine(p))
	return true
}

// ProgressLine is one line of transfer progress, e.g.
// "TRANSFERRING  37.5%  450/1200 files  4.3 MiB/11.4 MiB  next poll in 30s".
func ProgressLine(p *execution.Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %.1f%%  %s", p.Status, p.PercentDone, p.Counts())
	if p.FilesVerified > 0 {
		fmt.Fprintf(&b, "  %d verified", p.FilesVerified)
	}
	if !p.Done && p.NextWaitSeconds > 0 {
		fmt.Fprintf(&b, "  next poll in %v", time.Duration(p.NextWaitSeconds)*time.Second)
	}
	return b.String()
}

// finish prints the end of the execution and returns the exit code.
func (w *watcher) finish(d *sfn.DescribeExecutionOutput) int {
	took := ""
	if d.StartDate != nil && d.StopDate != nil {
		took = " after " + d.StopDate.Sub(*d.StartDate).Round(time.Second).String()
	}
	if d.Status == types.ExecutionStatusSucceeded {
		fmt.Fprintf(w.r.Stderr, "✔ %s%s\n", d.Status, took)
		out := aws.ToString(d.Output)
		if w.onOutput != nil {
			return w.onOutput(out)
		}
		var pretty bytes.Buffer
		if json.Indent(&pretty, []byte(out), "", "  ") == nil {
			out = pretty.String()
		}
		if out == "" && d.OutputDetails != nil && !d.OutputDetails.Included {
			fmt.Fprintln(w.r.Stderr, "(the output is not included: you may not read execution data)")
		}
		fmt.Fprintln(w.r.Stdout, out)
		return ExitOK
	}
	fmt.Fprintf(w.r.Stderr, "✘ %s%s\n", d.Status, took)
	errName := aws.ToString(d.Error)
	errType, msg := UnwrapCause(aws.ToString(d.Cause))
	fmt.Fprintf(w.r.Stderr, "Error: %s\n", orNone(errName))
	if errType != "" && errType != errName {
		fmt.Fprintf(w.r.Stderr, "Cause (%s): %s\n", errType, orNone(msg))
	} else {
		fmt.Fprintf(w.r.Stderr, "Cause: %s\n", orNone(msg))
	}
	if h, ok := hints[errName]; ok {
		fmt.Fprintf(w.r.Stderr, "What to do: %s (README.md, \"Errors and what to do\").\n", h)
	}
	return ExitFailed
}

// UnwrapCause returns the message of a Lambda error document
// {"errorType": ..., "errorMessage": ...}, which is what Step Functions puts in the Cause
// of a Lambda task's error, and its errorType; any other cause is returned as it is.
func UnwrapCause(cause string) (errorType, message string) {
	var doc struct {
		ErrorType    *string `json:"errorType"`
		ErrorMessage *string `json:"errorMessage"`
	}
	if err := json.Unmarshal([]byte(cause), &doc); err != nil || doc.ErrorMessage == nil {
		return "", cause
	}
	return aws.ToString(doc.ErrorType), *doc.ErrorMessage
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// oneLine folds s onto one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
