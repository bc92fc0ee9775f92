// Command awssim is the local multi-account AWS simulator (IAM, STS, S3, DataSync) that
// the AWS SDK reaches through AWS_ENDPOINT_URL. It prints AWSSIM_ADDR=http://HOST:PORT on
// stdout when ready and serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/dsmigrate/dsmigrate/internal/sim/server"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "awssim:", err)
		os.Exit(1)
	}
}

func run() error {
	configPath := flag.String("config", "", "config file (JSON): region, accounts, users, policies")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	dataDir := flag.String("data", "", "directory for object bodies (default: a temporary directory removed on exit)")
	verbose := flag.Bool("v", false, "log every request to stderr")
	flag.Parse()
	if *configPath == "" {
		return fmt.Errorf("-config is required")
	}
	cfg, err := store.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	inst, err := server.Start(cfg, server.Options{Addr: *addr, DataDir: *dataDir, Log: log})
	if err != nil {
		return err
	}
	fmt.Printf("AWSSIM_ADDR=%s\n", inst.URL)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-inst.Done():
		_ = inst.Close()
		return err
	}
	return inst.Close()
}
