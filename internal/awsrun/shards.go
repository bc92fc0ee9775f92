package awsrun

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
)

// shardHistoryPage is how many of a shard's newest history events are read for its last
// poll: a poll round is a few events.
const shardHistoryPage = 20

// shardView is what watch knows of one shard's child execution.
type shardView struct {
	status   types.ExecutionStatus
	progress *execution.Progress
}

// shardProgress reads the child executions of the RunShards Map Run (ListExecutions with
// the Map Run's ARN) and, for each one still running or not read since it ended, its last
// poll; it prints one line that adds up the shards when something changed. A sharded
// migration runs each shard as a child execution with a history of its own, so the parent's
// history does not show their polls.
func (w *watcher) shardProgress(ctx context.Context) (bool, error) {
	if w.shards == nil {
		w.shards = map[string]*shardView{}
	}
	p := sfn.NewListExecutionsPaginator(w.client, &sfn.ListExecutionsInput{MapRunArn: aws.String(w.mapRunArn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, err
		}
		for _, e := range page.Executions {
			arn := aws.ToString(e.ExecutionArn)
			v := w.shards[arn]
			if v == nil {
				v = &shardView{}
				w.shards[arn] = v
			}
			if v.status != "" && v.status != types.ExecutionStatusRunning && v.progress != nil {
				continue // ended, and its last poll is known
			}
			v.status = e.Status
			if prog, err := w.lastPoll(ctx, arn); err != nil {
				return false, err
			} else if prog != nil {
				v.progress = prog
			}
		}
	}
	line := w.shardsLine()
	if line == w.shardLine {
		return false, nil
	}
	w.shardLine = line
	fmt.Fprintf(w.r.Stderr, "%s    %s\n", w.r.now().UTC().Format(time.TimeOnly), line)
	return true, nil
}

// lastPoll is the newest PollShard result in a child execution's history (nil: none yet).
func (w *watcher) lastPoll(ctx context.Context, arn string) (*execution.Progress, error) {
	out, err := w.client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{
		ExecutionArn: aws.String(arn), ReverseOrder: true, MaxResults: shardHistoryPage, IncludeExecutionData: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	events := slices.Clone(out.Events)
	slices.SortFunc(events, func(a, b types.HistoryEvent) int { return int(b.Id - a.Id) }) // newest first
	for _, ev := range events {
		var output *string
		switch {
		case ev.LambdaFunctionSucceededEventDetails != nil:
			output = ev.LambdaFunctionSucceededEventDetails.Output
		case ev.TaskSucceededEventDetails != nil:
			output = ev.TaskSucceededEventDetails.Output
		}
		if p := execution.ProgressOf([]byte(aws.ToString(output))); p != nil {
			return p, nil
		}
	}
	return nil, nil
}

// shardsLine adds up the shards: how many run, succeeded and failed, and their files and
// bytes against DataSync's estimates, e.g.
// "shards: 3 running, 5 succeeded, 0 failed  450/1200 files  4.3 MiB/11.4 MiB".
func (w *watcher) shardsLine() string {
	sum := &execution.Progress{}
	count := map[types.ExecutionStatus]int{}
	for _, v := range w.shards {
		count[v.status]++
		if v.progress != nil {
			sum.Add(v.progress)
		}
	}
	failed := len(w.shards) - count[types.ExecutionStatusRunning] - count[types.ExecutionStatusSucceeded]
	return fmt.Sprintf("shards: %d running, %d succeeded, %d failed  %s", count[types.ExecutionStatusRunning],
		count[types.ExecutionStatusSucceeded], failed, sum.Counts())
}
