package localrun

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/awsrun"
	"github.com/dsmigrate/dsmigrate/internal/batch"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/localrun/cfn"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// Exit codes of `dsmigrate local ...`.
const (
	ExitOK       = 0
	ExitFailed   = 1 // the execution failed (the Fail state's Error and Cause are printed)
	ExitUsage    = 2
	ExitInternal = 3 // the local environment could not run (missing build, simulator error)
	// ExitPlanBlocked: `local plan` printed a plan that something would stop (as
	// awsrun.ExitPlanBlocked).
	ExitPlanBlocked = awsrun.ExitPlanBlocked
)

const usage = `usage:
  dsmigrate local run --input request.json [--execution-name NAME] [--keep] [--objects N]
                       (a batch input, with "migrations", runs the batch state machine)
  dsmigrate local plan --input request.json [--output text|json] [same flags as run]
                               the request as a plan ("mode": "plan"): prints what a migration
                               would do, and the simulator's count of the calls it made
  dsmigrate local serve [--input request.json] [--objects N]
                               keep a local environment running and print the AWS_ENDPOINT_URL
                               at which dsmigrate start, plan, watch, list and status use it
  dsmigrate local demo
  dsmigrate local demo-batch   five migrations from three buckets as one batch (make demo-batch)
  dsmigrate local example      print a request that works against the local accounts

The local commands need the build outputs: make deps build-local synth.
`

// Main runs `dsmigrate local ...` with args after "local".
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr, false)
	case "plan":
		return cmdRun(ctx, args[1:], stdout, stderr, true)
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr)
	case "demo-batch":
		return cmdDemoBatch(ctx, args[1:], stdout, stderr)
	case "example":
		return cmdExample(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "unknown command %q\n%s", args[0], usage)
	return ExitUsage
}

type commonFlags struct {
	timeScale, waitScale float64
	verbose              bool
	cdkOut               string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&c.timeScale, "time-scale", 0.05, "simulator time scale: multiplies DataSync phase lengths (0.05 = 20x faster)")
	fs.Float64Var(&c.waitScale, "wait-scale", 0.05, "state machine wait scale: multiplies Wait states and retry pauses (equal to --time-scale keeps the number of polls AWS-like)")
	fs.BoolVar(&c.verbose, "verbose", false, "copy the simulator's, functions' and driver's logs to stderr")
	fs.StringVar(&c.cdkOut, "cdk-out", "", "the synthesized cloud assembly (default cdk.out; e.g. `cdk synth -o DIR -c ...` with other context)")
}

func (c *commonFlags) options(stderr io.Writer) Options {
	o := Options{TimeScale: c.timeScale, WaitScale: c.waitScale, Progress: stderr, CloudAssembly: c.cdkOut}
	if c.timeScale == 0 {
		o.TimeScale = -1 // as fast as possible
	}
	if c.verbose {
		o.Log = stderr
	}
	return o
}

// cmdRun runs `local run`, or `local plan` with plan.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer, plan bool) int {
	command := "run"
	if plan {
		command = "plan"
	}
	fs := flag.NewFlagSet("dsmigrate local "+command, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	input := fs.String("input", "", "the migration request (JSON file; - for stdin)")
	name := fs.String("execution-name", "", "the execution name (default local-<time>)")
	keep := fs.Bool("keep", false, "keep the simulator running after the execution, until Ctrl-C")
	objects := fs.Int("objects", 40, "sample objects to put into the source bucket (created in account A)")
	format := fs.String("output", "text", "local plan: text (a readable diff) or json (the plan document)")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "--output must be text or json, got %q\n", *format)
		return ExitUsage
	}
	if *input == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, "--input is required\n", usage)
		return ExitUsage
	}
	var body []byte
	var err error
	if *input == "-" {
		body, err = io.ReadAll(os.Stdin)
	} else {
		body, err = os.ReadFile(*input)
	}
	if err != nil {
		fmt.Fprintf(stderr, "read request: %v\n", err)
		return ExitUsage
	}
	if plan {
		if body, err = awsrun.AsPlan(body); err != nil {
			fmt.Fprintf(stderr, "the request is not a migration request: %v\n", err)
			return ExitUsage
		}
	}
	// The buckets are created from the request (or the batch's requests) as given; the
	// state machine validates it.
	var reqs []request.Request
	if IsBatch(body) {
		if reqs, err = batch.Requests(body); err != nil {
			fmt.Fprintf(stderr, "the input is not a batch: %v\n", err)
			return ExitUsage
		}
	} else {
		var req request.Request
		if err := json.Unmarshal(body, &req); err != nil {
			fmt.Fprintf(stderr, "the request is not a migration request: %v\n", err)
			return ExitUsage
		}
		reqs = append(reqs, req)
	}
	opts := c.options(stderr)
	if IsBatch(body) {
		// A batch's children call the functions at once: one RIE each would queue them.
		opts.Instances = 4
	}
	env, err := Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "dsmigrate local: %v\n", err)
		return ExitInternal
	}
	defer env.Close()
	fmt.Fprintf(stderr, "local environment ready in %s (simulator %s; accounts: source %s, destination %s; region %s)\n",
		round(env.StartupTime), env.Sim.Addr, env.Source.AccountID, env.Destination.AccountID, env.Region)
	made := map[string]bool{}
	for _, req := range reqs {
		if err := seedFromRequest(ctx, env, req, *objects, made, stderr); err != nil {
			env.KeepLog()
			fmt.Fprintf(stderr, "dsmigrate local: %v (log: %s)\n", err, env.LogPath)
			return ExitInternal
		}
	}
	seeded, err := env.Sim.Calls(ctx, 0)
	if err != nil {
		fmt.Fprintf(stderr, "dsmigrate local: %v\n", err)
		return ExitInternal
	}
	res, err := env.Run(ctx, body, *name)
	if err != nil {
		env.KeepLog()
		fmt.Fprintf(stderr, "dsmigrate local: %v (log: %s)\n", err, env.LogPath)
		return ExitInternal
	}
	code := ExitOK
	if res.Succeeded && IsBatch(body) {
		var rep batch.Report
		if json.Unmarshal(res.Output, &rep) == nil {
			writeReportTable(stderr, rep)
		}
	}
	if res.Succeeded && plan {
		r := &awsrun.Runner{Stdout: stdout, Stderr: stderr}
		code = awsrun.PrintPlan(r, string(res.Output), *format == "json")
		calls, err := env.Sim.Calls(ctx, len(seeded))
		if err != nil {
			fmt.Fprintf(stderr, "dsmigrate local: %v\n", err)
			return ExitInternal
		}
		fmt.Fprintf(stderr, "the plan made %d AWS calls, %d of them could change something (the simulator's call log)\n", len(calls), len(Mutating(calls)))
		for _, c := range Mutating(calls) {
			fmt.Fprintf(stderr, "  %s:%s by %s\n", c.Service, c.Operation, c.Caller)
		}
	} else if res.Succeeded {
		var pretty any
		json.Unmarshal(res.Output, &pretty)
		b, _ := json.MarshalIndent(pretty, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		fmt.Fprintf(stderr, "\nexecution %s failed\n  Error: %s\n  Cause: %s\n(the functions' and simulator's log: %s)\n", res.ExecutionName, res.Error, res.Cause, env.LogPath)
		env.KeepLog()
		code = ExitFailed
	}
	fmt.Fprintf(stderr, "%d state transitions in %s (%s with the driver's start-up)\n", res.Transitions(), round(res.Duration), round(res.Wall))
	if *keep {
		printKeep(env, stderr)
		<-ctx.Done()
	}
	return code
}

// cmdServe runs `local serve`: the environment and its Step Functions endpoint, until
// interrupted. With --input, the request's buckets are created first, as local run does.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dsmigrate local serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	input := fs.String("input", "", "a migration request whose buckets to create (JSON file)")
	objects := fs.Int("objects", 40, "with --input: sample objects to put into the source bucket")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return ExitUsage
	}
	var req request.Request
	if *input != "" {
		body, err := os.ReadFile(*input)
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		if err != nil {
			fmt.Fprintf(stderr, "--input: %v\n", err)
			return ExitUsage
		}
	}
	env, err := Start(ctx, c.options(stderr))
	if err != nil {
		fmt.Fprintf(stderr, "dsmigrate local: %v\n", err)
		return ExitInternal
	}
	defer env.Close()
	if *input != "" {
		if err := seedFromRequest(ctx, env, req, *objects, map[string]bool{}, stderr); err != nil {
			fmt.Fprintf(stderr, "dsmigrate local: %v\n", err)
			return ExitInternal
		}
	}
	sf, err := env.ServeStepFunctions(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "dsmigrate local: %v\n", err)
		return ExitInternal
	}
	fmt.Fprintf(stdout, "export AWS_ENDPOINT_URL=%s AWS_REGION=%s AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local\n", sf.URL, env.Region)
	fmt.Fprintf(stderr, "serving Step Functions and the %s stack's outputs for dsmigrate start, plan, watch, list and status; Ctrl-C stops\n", StackName)
	fmt.Fprintf(stderr, "the simulated accounts (IAM, S3, DataSync) are at %s (dsmigrate local run --keep prints their keys)\n", env.Sim.Addr)
	<-ctx.Done()
	return ExitOK
}

// seedFromRequest creates the request's buckets when they are in the simulated accounts:
// the source with ACLs disabled and n sample objects under its prefix, the destination empty.
// seeded records what earlier requests of a batch created (buckets, bucket+prefix).
func seedFromRequest(ctx context.Context, env *Environment, req request.Request, n int, seeded map[string]bool, stderr io.Writer) error {
	if req.Source.Bucket != "" && req.Source.AccountID == env.Source.AccountID && !seeded["s3://"+req.Source.Bucket+"/"+req.Source.Prefix] {
		seeded["s3://"+req.Source.Bucket+"/"+req.Source.Prefix] = true
		if !seeded[req.Source.Bucket] {
			seeded[req.Source.Bucket] = true
			if err := CreateBucket(ctx, env.Source.S3, req.Source.Bucket, env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
				return err
			}
		}
		set := SampleSet{Seed: 1, Small: n}
		objs := set.Objects()
		for i := range objs {
			objs[i].Key = req.Source.Prefix + objs[i].Key
		}
		if err := Upload(ctx, env.Source.S3, req.Source.Bucket, objs); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created s3://%s in account %s with %d sample objects (%s)\n", req.Source.Bucket, env.Source.AccountID, len(objs), execution.FormatBytes(TotalBytes(objs)))
	}
	if req.Destination.Bucket != "" && !seeded[req.Destination.Bucket] {
		seeded[req.Destination.Bucket] = true
		if err := CreateBucket(ctx, env.Destination.S3, req.Destination.Bucket, env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created s3://%s in account %s\n", req.Destination.Bucket, env.Destination.AccountID)
	}
	return nil
}

func printKeep(env *Environment, w io.Writer) {
	fmt.Fprintf(w, "\nthe simulator keeps running until Ctrl-C:\n  export AWS_ENDPOINT_URL=%s AWS_REGION=%s\n", env.Sim.Addr, env.Region)
	for _, a := range env.Sim.Config.Accounts {
		u := a.Users[0]
		fmt.Fprintf(w, "  account %s (%s): AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", a.ID, a.Name, u.AccessKeyID, u.SecretAccessKey)
	}
	fmt.Fprintf(w, "  state: curl %s/_sim/state\n", env.Sim.Addr)
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dsmigrate local demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	rep, err := Demo(ctx, c.options(stderr), stdout)
	if err != nil {
		fmt.Fprintf(stderr, "dsmigrate local demo: %v\n", err)
		if rep == nil {
			return ExitInternal // the environment, not the migration, failed
		}
		return ExitFailed
	}
	return ExitOK
}

func cmdDemoBatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dsmigrate local demo-batch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if err := DemoBatch(ctx, c.options(stderr), stdout); err != nil {
		fmt.Fprintf(stderr, "dsmigrate local demo-batch: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}

func cmdExample(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o Options
	if err := o.defaults(); err != nil {
		fmt.Fprintln(stderr, err)
		return ExitInternal
	}
	stacks, err := LoadStacks(o.CloudAssembly)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitInternal
	}
	// A minimal Environment view of the templates (nothing is started).
	env := &Environment{Partition: "aws", Region: firstNonEmpty(stacks.DestinationRegion, DefaultRegion),
		Source: &AccountClients{AccountID: firstNonEmpty(stacks.SourceAccount, DefaultSourceAccount)}}
	dres, byDir, err := NewDestinationResolver(stacks.Destination, env.Partition, firstNonEmpty(stacks.DestinationAccount, DefaultDestinationAccount), env.Region)
	if err == nil {
		env.Spec, err = ReadDestination(dres, byDir)
	}
	if err == nil {
		env.SourceRoles, err = ReadSourceRoles(&cfn.Resolver{Template: stacks.Source, Partition: env.Partition, Account: env.Source.AccountID, Region: env.Region})
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitInternal
	}
	src, dst, err := env.DefaultBuckets()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitInternal
	}
	req := env.NewRequest("local-example", src, "photos/", dst, "from-a/")
	b, _ := json.MarshalIndent(req, "", "  ")
	fmt.Fprintln(stdout, string(b))
	fmt.Fprintln(stderr, "buckets allowed by the synthesized stacks: source "+strings.Join(env.SourceBuckets(), ", ")+"; destination "+strings.Join(env.DestinationBuckets(), ", "))
	return ExitOK
}
