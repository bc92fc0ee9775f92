// Command dsmigrate starts, plans and follows a migration on AWS (`dsmigrate start`,
// `dsmigrate plan`, `dsmigrate watch`; docs/operate.md, "Start a migration") and runs
// dsmigrate locally (`dsmigrate local run --input request.json`, `dsmigrate local plan`,
// `dsmigrate local demo`; docs/develop.md, "Running locally").
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/dsmigrate/dsmigrate/internal/awsrun"
	"github.com/dsmigrate/dsmigrate/internal/localrun"
)

const usage = `usage:
  dsmigrate start --input FILE|- [--name NAME] [--watch] [TARGET]
                                          start a migration on AWS (the request is checked first)
  dsmigrate plan --input FILE|- [--output text|json] [TARGET]
                                          run the request as a plan (reads only) and print
                                          what a migration would create, reuse or refuse
  dsmigrate watch (--execution-arn ARN | --migration-id ID [TARGET]) [--interval 5s]
                                          follow an execution (a migration's latest) until it ends
  dsmigrate list [--max 20] [--output text|json] [TARGET]
                                          the latest migrations: id, status, files, bytes, start, duration
  dsmigrate status MIGRATION_ID [--output text|json] [TARGET]
                                          the latest execution of a migration
  dsmigrate local (run|plan|demo|example) [flags]
                                          run locally (see docs/develop.md, "Running locally")
TARGET: --state-machine-arn ARN, or --stack NAME (default DsmigrateDestination: its
StateMachineArn output), with [--profile P] [--region R].
Run a command with -h for its flags and exit codes (docs/operate.md).
`

func main() {
	os.Exit(run())
}

// run returns the exit code after every deferred cleanup has run (os.Exit skips defers).
func run() int {
	// SIGPIPE too: a closed stdout (| head) must end the run through the same cleanup
	// instead of killing the process before its deferred shutdown runs.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		return localrun.ExitUsage
	}
	switch os.Args[1] {
	case "local":
		return localrun.Main(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case "start", "watch", "plan", "list", "status":
		return awsrun.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	case "-h", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
		return localrun.ExitOK
	}
	fmt.Fprintf(os.Stderr, "unknown command %q\n%s", os.Args[1], usage)
	return localrun.ExitUsage
}
