// Package awsrun starts and watches a dsmigrate migration on AWS: `dsmigrate start` checks
// the request locally (internal/request) and calls Step Functions StartExecution;
// `dsmigrate watch` follows the execution until it ends and prints its output, or its
// Error and Cause.
package awsrun

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// Exit codes of `dsmigrate start` and `dsmigrate watch`.
const (
	ExitOK     = 0
	ExitFailed = 1 // the execution ended FAILED, TIMED_OUT or ABORTED (Error and Cause are printed)
	ExitUsage  = 2 // bad flags, or an invalid request: nothing was sent to AWS
	ExitAWS    = 3 // an AWS call failed (credentials, permissions, a missing state machine, the network)
	// ExitPlanBlocked (4, plan.go): dsmigrate plan's plan has a blocker or a conflict.
)

const usage = `usage:
  dsmigrate start --input FILE|- [--name NAME] [--watch] [--interval 5s] [TARGET]
      checks the request locally (every problem as field: rule, exit 2, nothing started),
      then starts an execution. Prints the execution ARN (on stderr with --watch, so that
      stdout holds only the output JSON). NAME defaults to <migrationId>-<UTC timestamp>.
  dsmigrate plan --input FILE|- [--output text|json] [--name NAME] [--interval 5s] [TARGET]
      starts the request with "mode": "plan" (reads only, changes nothing), waits for it
      and prints the plan: what would be created, reused or refused, the source bucket
      policy's statements as a diff, warnings and blockers.
  dsmigrate watch (--execution-arn ARN | --migration-id ID [TARGET]) [--interval 5s]
      follows the execution (or the migration's latest) until it ends: states entered,
      failed attempts, transfer progress on stderr; the output JSON on stdout (exit 0), or
      Error and Cause (exit 1).
  dsmigrate list [--max 20] [--output text|json] [TARGET]
      the latest executions: migration id, mode, status, files, bytes, start, duration.
  dsmigrate status MIGRATION_ID [--output text|json] [TARGET]
      the latest execution of that migration.

TARGET is where the state machine is: --state-machine-arn ARN, or else the StateMachineArn
output of --stack (default DsmigrateDestination; CloudFormation DescribeStacks), with
[--profile P] [--region R]. The region defaults to the ARN's, else the AWS configuration's;
credentials come from the usual AWS sources (--profile, AWS_PROFILE, environment, SSO).

Exit codes: 0 succeeded (plan: nothing would stop the migration); 1 the execution failed,
timed out or was aborted; 2 bad flags or an invalid request (nothing started); 3 an AWS
call failed; 4 plan: something would stop the migration; 5 status: still running; 6 status,
watch --migration-id: no execution of that migration; 130 interrupted (the execution goes on).
See docs/operate.md, "Start a migration".
`

// SFNAPI is the part of the Step Functions client that awsrun uses.
type SFNAPI interface {
	StartExecution(ctx context.Context, params *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(ctx context.Context, params *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	GetExecutionHistory(ctx context.Context, params *sfn.GetExecutionHistoryInput, optFns ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error)
	// ListExecutions lists the child executions of a sharded migration's Map Run (one per
	// shard), for the progress of each shard.
	ListExecutions(ctx context.Context, params *sfn.ListExecutionsInput, optFns ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error)
}

var _ SFNAPI = (*sfn.Client)(nil)

// Runner holds what the commands read, write and call. The zero values of NewClient,
// Now and Sleep are the real ones.
type Runner struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// NewClient builds the Step Functions client for region (never empty) and profile
	// (empty: the default credential chain). It is called only after the local checks.
	NewClient func(ctx context.Context, profile, region string) (SFNAPI, error)
	// NewStacks builds the CloudFormation client that finds the state machine from the
	// stack's outputs, and says its region (NewStacks when nil).
	NewStacks func(ctx context.Context, profile, region string) (StacksAPI, string, error)
	Now       func() time.Time
	Sleep     func(ctx context.Context, d time.Duration) error
}

// Main runs `dsmigrate start|watch ...`; args[0] is the command.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	r := &Runner{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	return r.Main(ctx, args)
}

// Main runs `start` or `watch` with the flags in args[1:].
func (r *Runner) Main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(r.Stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "start":
		return r.start(ctx, args[1:])
	case "watch":
		return r.watchCmd(ctx, args[1:])
	case "plan":
		return r.plan(ctx, args[1:])
	case "list":
		return r.list(ctx, args[1:])
	case "status":
		return r.status(ctx, args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(r.Stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(r.Stderr, "unknown command %q\n%s", args[0], usage)
	return ExitUsage
}

func (r *Runner) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("dsmigrate "+name, flag.ContinueOnError)
	fs.SetOutput(r.Stderr)
	fs.Usage = func() {
		fmt.Fprint(r.Stderr, usage)
		fmt.Fprintf(r.Stderr, "\nflags of %s:\n", fs.Name())
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and refuses positional arguments (a forgotten `--` would otherwise
// silently drop every flag after it).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errPrinted // the flag package has printed the problem and the usage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (every option is a --flag)", fs.Arg(0))
	}
	return nil
}

func (r *Runner) client(ctx context.Context, profile, region string) (SFNAPI, error) {
	if r.NewClient != nil {
		return r.NewClient(ctx, profile, region)
	}
	return NewClient(ctx, profile, region)
}

// NewClient loads the shared AWS configuration (with profile when not empty) for region
// and returns a Step Functions client.
func NewClient(ctx context.Context, profile, region string) (SFNAPI, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return sfn.NewFromConfig(cfg), nil
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pickRegion returns --region, or the ARN's region when it is not given; a --region
// other than the ARN's is refused: Step Functions answers only in the ARN's region.
func pickRegion(flagRegion, arnRegion string) (string, error) {
	if flagRegion != "" && flagRegion != arnRegion {
		return "", fmt.Errorf("--region %s differs from the ARN's region %s; omit --region", flagRegion, arnRegion)
	}
	return arnRegion, nil
}

var errPrinted = errors.New("already printed")

// errUsage reports a flag problem; flag.ErrHelp means -h was asked for.
func (r *Runner) errUsage(err error) int {
	switch {
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, errPrinted):
		return ExitUsage
	}
	fmt.Fprintf(r.Stderr, "dsmigrate: %v\n", err)
	return ExitUsage
}
