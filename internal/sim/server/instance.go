package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/datasync"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// Instance is a running simulator: store, DataSync service and HTTP listener.
type Instance struct {
	URL      string
	Store    *store.Store
	Server   *Server
	DataSync *datasync.Service

	http    *http.Server
	ln      net.Listener
	dataDir string
	ownDir  bool
	done    chan error
}

// Options configure Start.
type Options struct {
	Addr    string // default 127.0.0.1:0
	DataDir string // default: a temporary directory removed by Close
	Log     *slog.Logger
	// DataSync options (phases, workers); zero values take the service defaults.
	DataSync datasync.Options
}

// Start builds the simulator from cfg and serves it in the background.
func Start(cfg *store.Config, opts Options) (*Instance, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	inst := &Instance{dataDir: opts.DataDir, done: make(chan error, 1)}
	if inst.dataDir == "" {
		dir, err := os.MkdirTemp("", "awssim-")
		if err != nil {
			return nil, err
		}
		inst.dataDir, inst.ownDir = dir, true
	}
	st, err := store.New(cfg, inst.dataDir)
	if err != nil {
		inst.cleanup()
		return nil, err
	}
	inst.Store = st
	inst.DataSync = datasync.New(NewDataSyncBackend(st), opts.DataSync)
	ds := inst.DataSync
	inst.Server = New(st, &DataSync{Handler: ds, State: ds.Snapshot}, opts.Log)
	for _, f := range cfg.Faults {
		if err := inst.Server.InjectFault(f); err != nil {
			inst.cleanup()
			return nil, fmt.Errorf("config fault %s/%s: %w", f.Service, f.Operation, err)
		}
	}
	inst.ln, err = net.Listen("tcp", opts.Addr)
	if err != nil {
		inst.cleanup()
		return nil, err
	}
	inst.URL = "http://" + inst.ln.Addr().String()
	inst.http = &http.Server{Handler: inst.Server, ReadHeaderTimeout: 30 * time.Second}
	go func() { inst.done <- inst.http.Serve(inst.ln) }()
	return inst, nil
}

// Done reports the serve loop's end.
func (i *Instance) Done() <-chan error { return i.done }

// Close stops serving, stops DataSync executions and removes a temporary data dir.
func (i *Instance) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := i.http.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = i.http.Close()
	}
	_ = i.DataSync.Close()
	_ = i.Store.Close()
	i.cleanup()
	return err
}

func (i *Instance) cleanup() {
	if i.ownDir {
		_ = os.RemoveAll(i.dataDir)
	}
}
