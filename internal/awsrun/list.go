package awsrun

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/dsmigrate/dsmigrate/internal/naming"
)

// Exit codes of `dsmigrate status`, besides ExitOK (SUCCEEDED) and ExitFailed (FAILED,
// TIMED_OUT, ABORTED).
const (
	ExitRunning  = 5 // the latest execution of the migration is still running
	ExitNotFound = 6 // no execution of the migration among the state machine's latest
)

// statusScan bounds how many executions `status` reads to find a migration's latest.
const statusScan = 1000

// Migration is one execution as `list` and `status` show it.
type Migration struct {
	MigrationID     string     `json:"migrationId"`
	Mode            string     `json:"mode"`
	Status          string     `json:"status"`
	ExecutionArn    string     `json:"executionArn"`
	Start           time.Time  `json:"start"`
	Stop            *time.Time `json:"stop,omitempty"`
	DurationSeconds int64      `json:"durationSeconds"`
	// FilesTransferred and BytesTransferred are the succeeded migration's (its output's
	// transfer); nil when the execution has none (running, failed, a plan).
	FilesTransferred *int64 `json:"filesTransferred,omitempty"`
	BytesTransferred *int64 `json:"bytesTransferred,omitempty"`
	Error            string `json:"error,omitempty"`
	Cause            string `json:"cause,omitempty"`
}

// migrationOf reads an execution: its input for the migration id and mode (the id
// derived from the execution name, as Preflight does, when the request has none), its
// output for the counts.
func migrationOf(d *sfn.DescribeExecutionOutput, now time.Time) Migration {
	var in struct {
		MigrationID string `json:"migrationId"`
		Mode        string `json:"mode"`
	}
	_ = json.Unmarshal([]byte(aws.ToString(d.Input)), &in)
	m := Migration{MigrationID: in.MigrationID, Mode: in.Mode, Status: string(d.Status), ExecutionArn: aws.ToString(d.ExecutionArn),
		Start: aws.ToTime(d.StartDate), Stop: d.StopDate, Error: aws.ToString(d.Error)}
	if m.MigrationID == "" {
		m.MigrationID = naming.IDFromExecutionName(aws.ToString(d.Name))
	}
	if m.Mode == "" {
		m.Mode = "migrate"
	}
	end := now
	if d.StopDate != nil {
		end = *d.StopDate
	}
	m.DurationSeconds = int64(end.Sub(m.Start).Seconds())
	var out struct {
		Transfer *struct {
			FilesTransferred *int64 `json:"filesTransferred"`
			BytesTransferred *int64 `json:"bytesTransferred"`
		} `json:"transfer"`
	}
	if json.Unmarshal([]byte(aws.ToString(d.Output)), &out) == nil && out.Transfer != nil {
		m.FilesTransferred, m.BytesTransferred = out.Transfer.FilesTransferred, out.Transfer.BytesTransferred
	}
	if d.Cause != nil {
		_, m.Cause = UnwrapCause(aws.ToString(d.Cause))
	}
	return m
}

// list runs `dsmigrate list`: the latest executions of the state machine, newest first.
func (r *Runner) list(ctx context.Context, args []string) int {
	fs := r.flagSet("list")
	t := r.targetFlags(fs)
	maxN := fs.Int("max", 20, "how many of the latest executions to show (1-1000)")
	format := fs.String("output", "text", "text (a table) or json")
	if err := parse(fs, args); err != nil {
		return r.errUsage(err)
	}
	if *maxN < 1 || *maxN > 1000 {
		return r.errUsage(fmt.Errorf("--max must be 1 to 1000, got %d", *maxN))
	}
	if err := outputFlag(*format); err != nil {
		return r.errUsage(err)
	}
	sm, client, code := r.connect(ctx, t)
	if code != ExitOK {
		return code
	}
	var rows []Migration
	err := r.executions(ctx, client, sm.String(), *maxN, func(m Migration) bool {
		rows = append(rows, m)
		return true
	})
	if err != nil {
		fmt.Fprintf(r.Stderr, "dsmigrate: %v\n", err)
		return ExitAWS
	}
	if *format == "json" {
		if rows == nil {
			rows = []Migration{}
		}
		b, _ := json.MarshalIndent(rows, "", "  ")
		fmt.Fprintln(r.Stdout, string(b))
		return ExitOK
	}
	tw := tabwriter.NewWriter(r.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MIGRATION\tMODE\tSTATUS\tFILES\tBYTES\tSTART (UTC)\tDURATION")
	for _, m := range rows {
		files, bytes := "-", "-"
		if m.FilesTransferred != nil {
			files = fmt.Sprint(*m.FilesTransferred)
		}
		if m.BytesTransferred != nil {
			bytes = fmt.Sprint(*m.BytesTransferred)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.MigrationID, m.Mode, m.Status, files, bytes,
			m.Start.UTC().Format("2006-01-02 15:04:05"), (time.Duration(m.DurationSeconds) * time.Second).String())
	}
	tw.Flush()
	return ExitOK
}

// executions calls each with the state machine's executions, newest first (ListExecutions
// returns the most recent first), up to n of them, until each returns false.
func (r *Runner) executions(ctx context.Context, client SFNAPI, sm string, n int, each func(Migration) bool) error {
	p := sfn.NewListExecutionsPaginator(client, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), MaxResults: int32(min(n, 1000))})
	seen := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("ListExecutions of %s: %w", sm, err)
		}
		for _, e := range page.Executions {
			if seen == n {
				return nil
			}
			seen++
			d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: e.ExecutionArn})
			if err != nil {
				return fmt.Errorf("DescribeExecution %s: %w", aws.ToString(e.ExecutionArn), err)
			}
			if !each(migrationOf(d, r.now())) {
				return nil
			}
		}
	}
	return nil
}

// status runs `dsmigrate status MIGRATION_ID`: the latest execution of the migration.
func (r *Runner) status(ctx context.Context, args []string) int {
	fs := r.flagSet("status")
	t := r.targetFlags(fs)
	format := fs.String("output", "text", "text or json")
	// The migration id may come before or after the flags.
	var id string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return r.errUsage(errPrinted)
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return r.errUsage(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if !naming.ValidID(id) {
		return r.errUsage(fmt.Errorf("give the migration id: dsmigrate status MIGRATION_ID (1-32 characters a-z, 0-9 and -; got %q)", id))
	}
	if err := outputFlag(*format); err != nil {
		return r.errUsage(err)
	}
	sm, client, code := r.connect(ctx, t)
	if code != ExitOK {
		return code
	}
	var found *Migration
	err := r.executions(ctx, client, sm.String(), statusScan, func(m Migration) bool {
		if m.MigrationID == id {
			found = &m
			return false
		}
		return true
	})
	if err != nil {
		fmt.Fprintf(r.Stderr, "dsmigrate: %v\n", err)
		return ExitAWS
	}
	if found == nil {
		fmt.Fprintf(r.Stderr, "no execution of migration %s among the latest %d of %s\n", id, statusScan, sm.String())
		return ExitNotFound
	}
	if *format == "json" {
		b, _ := json.MarshalIndent(found, "", "  ")
		fmt.Fprintln(r.Stdout, string(b))
	} else {
		m := found
		fmt.Fprintf(r.Stdout, "migration %s (%s): %s\n  execution %s\n  started %s, %s\n", m.MigrationID, m.Mode, m.Status, m.ExecutionArn,
			m.Start.UTC().Format(time.RFC3339), time.Duration(m.DurationSeconds)*time.Second)
		if m.FilesTransferred != nil && m.BytesTransferred != nil {
			fmt.Fprintf(r.Stdout, "  %d files, %d bytes transferred\n", *m.FilesTransferred, *m.BytesTransferred)
		}
		if m.Error != "" {
			fmt.Fprintf(r.Stdout, "  Error: %s\n  Cause: %s\n", m.Error, m.Cause)
		}
	}
	switch types.ExecutionStatus(found.Status) {
	case types.ExecutionStatusSucceeded:
		return ExitOK
	case types.ExecutionStatusRunning, types.ExecutionStatusPendingRedrive:
		return ExitRunning
	}
	return ExitFailed
}
