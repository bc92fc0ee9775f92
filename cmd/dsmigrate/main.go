// Command dsmigrate runs dsmigrate locally: `dsmigrate local run --input request.json`
// and `dsmigrate local demo` (see README.md, "Running locally").
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/dsmigrate/dsmigrate/internal/localrun"
)

const usage = `usage: dsmigrate local (run|demo|example) [flags]   (see README.md, "Running locally")
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
	if len(os.Args) < 2 || os.Args[1] != "local" {
		fmt.Fprint(os.Stderr, usage)
		return localrun.ExitUsage
	}
	return localrun.Main(ctx, os.Args[2:], os.Stdout, os.Stderr)
}
