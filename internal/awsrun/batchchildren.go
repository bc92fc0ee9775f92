package awsrun

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
)

// batchSuffix ends the name of a deployment's batch state machine (<prefix>-batch); its
// children run on the migration state machine <prefix>.
const batchSuffix = "-batch"

// batchView is what watch knows of a batch execution: the migration state machine its
// children run on, the batch id that starts their names (<batchId>_<migrationId>_<attempt>),
// and the latest attempt of each migration.
type batchView struct {
	migrationStateMachine string
	batchID               string
	children              map[string]*childView // by migration id
	table                 string                // the last table printed
}

// childView is one migration of a batch: its latest child execution, the execution's
// status and its last poll.
type childView struct {
	arn      string
	attempt  string
	status   types.ExecutionStatus
	progress *execution.Progress
}

// batchOf is the batch view of d when d is an execution of a batch state machine with a
// batch id in its input, else nil.
func batchOf(d *sfn.DescribeExecutionOutput) *batchView {
	sm := aws.ToString(d.StateMachineArn)
	if !strings.HasSuffix(sm, batchSuffix) {
		return nil
	}
	var in struct {
		BatchID string `json:"batchId"`
	}
	if json.Unmarshal([]byte(aws.ToString(d.Input)), &in) != nil || in.BatchID == "" {
		return nil
	}
	return &batchView{migrationStateMachine: strings.TrimSuffix(sm, batchSuffix), batchID: in.BatchID, children: map[string]*childView{}}
}

// batchProgress lists the executions of the migration state machine (newest first, at
// most statusScan) whose names are the batch's children, keeps each migration's latest
// attempt, reads the last poll of each child not known to have ended, and prints the
// table of children when it changed.
func (w *watcher) batchProgress(ctx context.Context) (bool, error) {
	b := w.batch
	p := sfn.NewListExecutionsPaginator(w.client, &sfn.ListExecutionsInput{StateMachineArn: aws.String(b.migrationStateMachine)})
	seen := map[string]bool{}
	for scanned := 0; p.HasMorePages() && scanned < statusScan; {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, err
		}
		scanned += len(page.Executions)
		for _, e := range page.Executions {
			rest, ok := strings.CutPrefix(aws.ToString(e.Name), b.batchID+"_")
			id, attempt, ok2 := strings.Cut(rest, "_")
			if !ok || !ok2 || seen[id] {
				continue // not this batch's, or an older attempt (the list is newest first)
			}
			seen[id] = true
			arn := aws.ToString(e.ExecutionArn)
			c := b.children[id]
			if c == nil || c.arn != arn {
				c = &childView{arn: arn, attempt: attempt}
				b.children[id] = c
			}
			if c.status != "" && c.status != types.ExecutionStatusRunning && c.progress != nil {
				continue // ended, and its last poll is known
			}
			c.status = e.Status
			prog, err := w.lastPoll(ctx, arn)
			if err != nil {
				return false, err
			}
			if prog != nil {
				c.progress = prog
			}
		}
	}
	table := b.render()
	if table == b.table {
		return false, nil
	}
	b.table = table
	fmt.Fprintf(w.r.Stderr, "%s    %s", w.r.now().UTC().Format(time.TimeOnly), table)
	return true, nil
}

// render is a summary line and one row per migration, by migration id: its status and
// attempt, and its files and bytes against DataSync's estimates at its last poll.
func (b *batchView) render() string {
	ids := make([]string, 0, len(b.children))
	count := map[types.ExecutionStatus]int{}
	for id, c := range b.children {
		ids = append(ids, id)
		count[c.status]++
	}
	slices.Sort(ids)
	var s strings.Builder
	failed := len(ids) - count[types.ExecutionStatusRunning] - count[types.ExecutionStatusSucceeded]
	fmt.Fprintf(&s, "batch %s: %d started, %d running, %d succeeded, %d failed\n", b.batchID, len(ids),
		count[types.ExecutionStatusRunning], count[types.ExecutionStatusSucceeded], failed)
	tw := tabwriter.NewWriter(&s, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "      migration\tstatus\tattempt\tfiles\tbytes")
	for _, id := range ids {
		c := b.children[id]
		files, bytes := "-", "-"
		if p := c.progress; p != nil {
			files = fmt.Sprintf("%d/%d", p.FilesTransferred, p.EstimatedFilesToTransfer)
			bytes = execution.FormatBytes(p.BytesTransferred) + "/" + execution.FormatBytes(p.EstimatedBytesToTransfer)
		}
		fmt.Fprintf(tw, "      %s\t%s\t%s\t%s\t%s\n", id, c.status, c.attempt, files, bytes)
	}
	tw.Flush()
	return s.String()
}
