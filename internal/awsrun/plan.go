package awsrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/plantext"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// ExitPlanBlocked is the exit code of a plan that something would stop: a blocker or a
// resource in conflict (the plan is printed).
const ExitPlanBlocked = 4

// AsPlan returns the request with "mode": "plan", whatever mode it had; it must be a
// JSON object.
func AsPlan(raw []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil || doc == nil {
		return nil, errors.New("the request must be a JSON object")
	}
	doc["mode"] = json.RawMessage(`"` + request.ModePlan + `"`)
	return json.Marshal(doc)
}

// PrintPlan prints a plan execution's output as text (or as JSON with asJSON) and returns
// ExitOK when nothing would stop the migration, ExitPlanBlocked otherwise.
func PrintPlan(r *Runner, output string, asJSON bool) int {
	var p execution.Plan
	if err := json.Unmarshal([]byte(output), &p); err != nil || p.Mode != request.ModePlan {
		fmt.Fprintf(r.Stderr, "dsmigrate: the execution's output is not a plan (%v); is the state machine older than this dsmigrate?\n%s\n", err, output)
		return ExitFailed
	}
	if asJSON {
		var pretty bytes.Buffer
		_ = json.Indent(&pretty, []byte(output), "", "  ")
		fmt.Fprintln(r.Stdout, pretty.String())
	} else if err := plantext.Write(r.Stdout, &p); err != nil {
		return ExitFailed
	}
	if !plantext.Ready(&p) {
		return ExitPlanBlocked
	}
	return ExitOK
}

// plan runs `dsmigrate plan`: the request is checked as start checks it, started with
// "mode": "plan", followed until it ends, and its plan printed.
func (r *Runner) plan(ctx context.Context, args []string) int {
	fs := r.flagSet("plan")
	t := r.targetFlags(fs)
	input := fs.String("input", "", "the migration request: a JSON file, or - for stdin (required); its mode is set to plan")
	name := fs.String("name", "", "execution name (default <migrationId>-plan-<UTC timestamp>)")
	interval := fs.Duration("interval", defaultInterval, "the shortest pause between polls")
	format := fs.String("output", "text", "text (a readable diff) or json (the plan document)")
	if err := parse(fs, args); err != nil {
		return r.errUsage(err)
	}
	if err := requestFlags(*input, *interval); err != nil {
		return r.errUsage(err)
	}
	if err := outputFlag(*format); err != nil {
		return r.errUsage(err)
	}
	sm, reg, raw, size, code := r.resolve(ctx, t, *input)
	if code != ExitOK {
		return code
	}
	if size <= request.MaxRequestBytes && size >= 0 {
		var err error
		if raw, err = AsPlan(raw); err != nil {
			return r.errUsage(fmt.Errorf("--input: %w", err))
		}
	}
	if *name == "" {
		if req, err := request.Decode(raw); err == nil {
			*name = ExecutionName(req.MigrationID+"-plan", r.now())
		}
	}
	execName, ok := r.check(raw, size, *name, sm, nil)
	if !ok {
		return ExitUsage
	}
	client, execArn, code := r.startExecution(ctx, *t.profile, reg, sm, execName, raw)
	if code != ExitOK {
		return code
	}
	fmt.Fprintf(r.Stderr, "started plan %s\n", execArn)
	return r.watchWith(ctx, client, execArn, *interval, func(output string) int {
		return PrintPlan(r, output, *format == "json")
	})
}
