package awsrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// MaxExecutionNameLength is Step Functions' limit on an execution name.
const MaxExecutionNameLength = 80

// executionName is the shape dsmigrate gives and accepts: Step Functions allows more
// characters, but CloudWatch Logs and the migration id derivation want only these.
var executionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// timestampLayout is the UTC suffix of a default execution name (16 characters).
const timestampLayout = "20060102T150405Z"

// ExecutionName returns the default execution name for a migration id: the id, '-' and
// the UTC time, e.g. media-2026-11-20261127T032306Z. Characters other than
// [A-Za-z0-9_-] become '-', and the id is cut so that the name fits in 80 characters.
// An empty id gives dsmigrate-<time>.
func ExecutionName(migrationID string, now time.Time) string {
	suffix := "-" + now.UTC().Format(timestampLayout)
	base := strings.Map(func(r rune) rune {
		if r < 128 && (r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, migrationID)
	if base == "" {
		base = "dsmigrate"
	}
	if room := MaxExecutionNameLength - len(suffix); len(base) > room {
		base = base[:room] // ASCII only after the mapping, so this cuts no character
	}
	return base + suffix
}

// stateMachineARN parses a state machine ARN (optionally with a version or alias).
func stateMachineARN(s string) (arn.ARN, error) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "states" || !strings.HasPrefix(a.Resource, "stateMachine:") || a.Region == "" || a.AccountID == "" {
		return arn.ARN{}, fmt.Errorf("--state-machine-arn %q is not a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>; the StateMachineArn output of DsmigrateDestination)", s)
	}
	return a, nil
}

// requestFlags checks the flags start and plan share: the request file and the pause
// between polls.
func requestFlags(input string, interval time.Duration) error {
	if input == "" {
		return errors.New("missing --input")
	}
	if interval <= 0 {
		return fmt.Errorf("--interval must be positive, got %v", interval)
	}
	return nil
}

// resolve finds the state machine (and its region) and reads the request, as start and
// plan do first; a code other than ExitOK is the command's exit after the error is printed.
func (r *Runner) resolve(ctx context.Context, t *target, input string) (sm arn.ARN, region string, raw []byte, size int64, code int) {
	sm, region, err := r.stateMachine(ctx, t)
	if err != nil {
		return sm, region, nil, 0, r.errTarget(err)
	}
	if raw, size, err = r.readInput(input); err != nil {
		return sm, region, nil, 0, r.errUsage(err)
	}
	return sm, region, raw, size, ExitOK
}

func (r *Runner) start(ctx context.Context, args []string) int {
	fs := r.flagSet("start")
	t := r.targetFlags(fs)
	input := fs.String("input", "", "the migration request: a JSON file, or - for stdin (required)")
	name := fs.String("name", "", "execution name (default <migrationId>-<UTC timestamp>)")
	watch := fs.Bool("watch", false, "follow the execution until it ends, as dsmigrate watch does")
	interval := fs.Duration("interval", defaultInterval, "with --watch: the shortest pause between polls")
	extra := fs.String("extra-regions", "", "regions newer than this dsmigrate that the request may name, comma-separated (the deployment's dsmigrate:extraRegions)")
	if err := parse(fs, args); err != nil {
		return r.errUsage(err)
	}
	if err := requestFlags(*input, *interval); err != nil {
		return r.errUsage(err)
	}
	sm, reg, raw, size, code := r.resolve(ctx, t, *input)
	if code != ExitOK {
		return code
	}
	var extraRegions []string
	for _, x := range strings.Split(*extra, ",") {
		if x = strings.TrimSpace(x); x != "" {
			extraRegions = append(extraRegions, x)
		}
	}
	execName, ok := r.check(raw, size, *name, sm, extraRegions)
	if !ok {
		return ExitUsage
	}

	client, execArn, code := r.startExecution(ctx, *t.profile, reg, sm, execName, raw)
	if code != ExitOK {
		return code
	}
	if !*watch {
		fmt.Fprintln(r.Stdout, execArn)
		return ExitOK
	}
	fmt.Fprintf(r.Stderr, "started %s\n", execArn)
	return r.watch(ctx, client, execArn, *interval)
}

// connect finds the state machine and makes a Step Functions client in its region, for
// the commands that only read executions; a code other than ExitOK is the command's exit
// after the error is printed.
func (r *Runner) connect(ctx context.Context, t *target) (sm arn.ARN, client SFNAPI, code int) {
	sm, region, err := r.stateMachine(ctx, t)
	if err != nil {
		return sm, nil, r.errTarget(err)
	}
	if client, err = r.client(ctx, *t.profile, region); err != nil {
		fmt.Fprintf(r.Stderr, "dsmigrate: %v\n", err)
		return sm, nil, ExitAWS
	}
	return sm, client, ExitOK
}

// outputFlag checks an --output value.
func outputFlag(format string) error {
	if format != "text" && format != "json" {
		return fmt.Errorf("--output must be text or json, got %q", format)
	}
	return nil
}

// startExecution starts the state machine sm (in region) with raw as input, for start
// and plan; a code other than ExitOK is the command's exit after the error is printed.
func (r *Runner) startExecution(ctx context.Context, profile, region string, sm arn.ARN, name string, raw []byte) (client SFNAPI, execArn string, code int) {
	client, err := r.client(ctx, profile, region)
	if err != nil {
		fmt.Fprintf(r.Stderr, "dsmigrate: %v\n", err)
		return nil, "", ExitAWS
	}
	out, err := client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(sm.String()),
		Name:            aws.String(name),
		Input:           aws.String(string(raw)),
	})
	if err != nil {
		fmt.Fprintf(r.Stderr, "dsmigrate: StartExecution: %v\n%s", err, startHint(err, name))
		return nil, "", ExitAWS
	}
	return client, aws.ToString(out.ExecutionArn), ExitOK
}

// readInput reads the request file, or stdin for "-", up to one byte more than a request
// may have. size is the input's size when that is more than a request may have: the
// file's size, or -1 for a stream (not read to its end).
func (r *Runner) readInput(path string) (raw []byte, size int64, err error) {
	var rd io.Reader
	var f *os.File
	if path == "-" {
		if r.Stdin == nil {
			return nil, 0, errors.New("--input -: no standard input")
		}
		rd = r.Stdin
	} else {
		if f, err = os.Open(path); err != nil {
			return nil, 0, fmt.Errorf("--input: %w", err)
		}
		defer f.Close()
		rd = f
	}
	raw, err = io.ReadAll(io.LimitReader(rd, request.MaxRequestBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("--input %s: %w", path, err)
	}
	size = int64(len(raw))
	if size > request.MaxRequestBytes {
		size = -1
		if f != nil {
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				size = fi.Size()
			}
		}
	}
	return raw, size, nil
}

// check decodes, normalizes and validates the request as the Preflight step will, as far
// as that is possible without AWS: the account, region and partition come from the state
// machine ARN; the deployment's settings (dsmigrate:allowRemove, allowStandingGrant and
// the caps) are not known here (Preflight checks them). It prints every problem and
// returns the execution name to use.
func (r *Runner) check(raw []byte, size int64, name string, sm arn.ARN, extraRegions []string) (string, bool) {
	problems := &failure.ValidationError{}
	if name != "" && !executionName.MatchString(name) {
		problems.Add("--name", "use 1-%d characters A-Z a-z 0-9 - _ (got %q)", MaxExecutionNameLength, name)
	}
	var req *request.Request
	var err error
	if size > request.MaxRequestBytes || size < 0 {
		problems.Add("(request)", "%s", request.TooLarge(size))
	} else {
		req, err = request.Decode(raw)
	}
	idGiven := false
	if err == nil && req != nil {
		idGiven = req.MigrationID != ""
		if name == "" {
			name = ExecutionName(req.MigrationID, r.now())
		}
		req.Normalize(name)
		err = req.Validate(request.Home{AccountID: sm.AccountID, Region: sm.Region, Partition: sm.Partition, ExtraRegions: extraRegions})
	}
	var verr *failure.ValidationError
	switch {
	case errors.As(err, &verr):
		problems.Fields = append(problems.Fields, verr.Fields...)
	case err != nil: // not expected: request reports every problem as a ValidationError
		problems.Add("(request)", "%v", err)
	}
	if len(problems.Fields) > 0 {
		fmt.Fprintf(r.Stderr, "invalid migration request, %d problem(s); nothing was started:\n", len(problems.Fields))
		shown, omitted := problems.Summary(failure.MaxMessageBytes)
		for _, s := range shown {
			fmt.Fprintf(r.Stderr, "  %s\n", s)
		}
		if omitted > 0 {
			fmt.Fprintf(r.Stderr, "  and %d more problem(s) not shown: fix these first\n", omitted)
		}
		return "", false
	}
	if !idGiven {
		fmt.Fprintf(r.Stderr, "note: the request has no migrationId; this migration's id is %q (from the execution name).\n"+
			"      A re-run continues a migration only with the same id: give migrationId in the request.\n", req.MigrationID)
	}
	return name, true
}

// startHint says what to do about a StartExecution error that the operator can fix.
func startHint(err error, name string) string {
	var exists *types.ExecutionAlreadyExists
	var missing *types.StateMachineDoesNotExist
	var deleting *types.StateMachineDeleting
	switch {
	case errors.As(err, &exists):
		return fmt.Sprintf("an execution named %s already exists (names are unique for 90 days): give another --name, or leave --name out\n", name)
	case errors.As(err, &missing), errors.As(err, &deleting):
		return "check --state-machine-arn (the StateMachineArn output of DsmigrateDestination) and that --profile is account B\n"
	}
	return ""
}
