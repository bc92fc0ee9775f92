// Package localrun runs a complete migration on this machine: the simulator with two
// accounts, each function's real bootstrap under AWS's Lambda Runtime Interface Emulator
// with the execution role the CDK app gives it, and the real state machine definition on
// the local Step Functions driver. `dsmigrate local run|demo` and the end-to-end tests use it.
package localrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/localrun/cfn"
	"github.com/dsmigrate/dsmigrate/statemachine"
)

// Environment is the two stacks running on this machine: the simulator with accounts A
// and B, the stacks' roles created in them as CloudFormation would, and every function
// under the RIE behind an invoke proxy. Start makes one, Run executes the state machine
// on it, Close stops it.
type Environment struct {
	Opts        Options
	Dir         string // work directory (config, logs, run files)
	LogPath     string
	Sim         *Sim
	Source      *AccountClients // admin of account A
	Destination *AccountClients // admin of account B
	Region      string
	Partition   string
	Spec        *DestinationSpec
	SourceRoles []*RoleSpec                 // the roles of the source-access stack, created in account A
	Functions   map[string]*FunctionProcess // by function directory (the first instance)
	Instances   map[string][]*FunctionProcess
	Endpoints   map[string]string // function ARN → invoke URL
	StartupTime time.Duration

	// StateMachineArn is the deployment's state machine as the functions know it
	// (DSMIGRATE_STATE_MACHINE_ARN); "" when no function reads it.
	StateMachineArn string
	// StateMachineCredentials are a session of the state machine's role (the driver's
	// EventBridge PutEvents); empty when the template names no role.
	StateMachineCredentials Credentials

	g       group
	logFile *os.File
	servers []*http.Server
	closed  sync.Once
	runs    int
	keepLog bool
	mu      sync.Mutex
}

// Start builds the simulator, starts it, creates the stacks' roles in the two accounts
// and starts every function under the RIE. On error everything started is stopped.
func Start(ctx context.Context, opts Options) (env *Environment, err error) {
	t0 := time.Now()
	if err := opts.CheckPrerequisites(); err != nil {
		return nil, err
	}
	stacks, err := LoadStacks(opts.CloudAssembly)
	if err != nil {
		return nil, err
	}
	e := &Environment{Opts: opts, Partition: "aws", Functions: map[string]*FunctionProcess{}, Instances: map[string][]*FunctionProcess{}, Endpoints: map[string]string{}}
	defer func() {
		if err != nil {
			e.KeepLog()
			e.Close()
			if e.LogPath != "" {
				err = fmt.Errorf("%w (log: %s)", err, e.LogPath)
			}
		}
		if r := recover(); r != nil {
			e.KeepLog()
			e.Close()
			panic(r)
		}
	}()
	sweepStaleWorkDirs()
	if e.Dir, err = os.MkdirTemp("", workDirPrefix); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(e.Dir, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, err
	}
	e.LogPath = filepath.Join(e.Dir, "local.log")
	if e.logFile, err = os.Create(e.LogPath); err != nil {
		return nil, err
	}
	var log io.Writer = e.logFile
	if opts.Log != nil {
		log = io.MultiWriter(e.logFile, opts.Log)
	}
	log = &lockedWriter{w: log}

	srcAcct := firstNonEmpty(stacks.SourceAccount, DefaultSourceAccount)
	dstAcct := firstNonEmpty(stacks.DestinationAccount, DefaultDestinationAccount)
	e.Region = firstNonEmpty(stacks.DestinationRegion, DefaultRegion)
	if srcAcct == dstAcct {
		return nil, fmt.Errorf("the synthesized stacks put source and destination in the same account %s", srcAcct)
	}

	// Read everything from the templates before starting anything: a statement that
	// cannot be resolved fails here.
	dres, byDir, err := NewDestinationResolver(stacks.Destination, e.Partition, dstAcct, e.Region)
	if err != nil {
		return nil, err
	}
	if e.Spec, err = ReadDestination(dres, byDir); err != nil {
		return nil, err
	}
	for _, f := range e.Spec.Functions {
		for k, v := range opts.FunctionEnv[f.Dir] {
			f.Env[k] = v
		}
	}
	sres := &cfn.Resolver{Template: stacks.Source, Partition: e.Partition, Account: srcAcct, Region: firstNonEmpty(stacks.SourceRegion, e.Region)}
	if e.SourceRoles, err = ReadSourceRoles(sres); err != nil {
		return nil, err
	}
	if err := checkSourceRoles(e.Spec, e.SourceRoles, stacks.Source.Path); err != nil {
		return nil, err
	}
	for _, f := range e.Spec.Functions {
		if s, ok := opts.FunctionTimeoutSeconds[f.Dir]; ok {
			f.Timeout = s
		}
	}

	simBin := opts.SimBinary
	if simBin == "" {
		if simBin, err = BuildSim(ctx, opts.Root); err != nil {
			return nil, err
		}
	}
	cfg := newSimConfig(e.Region, srcAcct, dstAcct, max(opts.TimeScale, 0))
	cfg.PropagationDelaySeconds = opts.PropagationDelaySeconds
	if e.Sim, err = startSim(ctx, simBin, e.Dir, cfg, prefixed(log, "[awssim] "), &e.g); err != nil {
		return nil, err
	}
	if e.Source, err = e.Sim.clientsFor(srcAcct); err != nil {
		return nil, err
	}
	if e.Destination, err = e.Sim.clientsFor(dstAcct); err != nil {
		return nil, err
	}

	// Roles as CloudFormation would create them, in the documented deploy order: the
	// destination stack first, since IAM resolves the role ARNs in the source-access
	// role's trust policy when it is saved. CloudFormation completes a stack only after
	// an eventual consistency check of the resources it created ("Understand
	// CloudFormation stack creation events", CloudFormation User Guide), so each stack
	// ends by waiting out the simulator's IAM propagation delay: the next stack's trust
	// policy can name the roles, and the migration starts with propagated stack roles.
	stackDone := func() error {
		select {
		case <-time.After(time.Duration(opts.PropagationDelaySeconds * float64(time.Second))):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := createManagedPolicies(ctx, e.Destination.IAM, e.Spec.ManagedPolicies); err != nil {
		return nil, fmt.Errorf("account %s: %w", dstAcct, err)
	}
	made := map[string]bool{}
	for _, f := range e.Spec.Functions {
		if made[f.Role.Name] {
			continue
		}
		if err := createRole(ctx, e.Destination.IAM, f.Role); err != nil {
			return nil, fmt.Errorf("account %s: %w", dstAcct, err)
		}
		made[f.Role.Name] = true
	}
	if sm := e.Spec.StateMachineRole; sm != nil && !made[sm.Name] {
		if err := createRole(ctx, e.Destination.IAM, sm); err != nil {
			return nil, fmt.Errorf("account %s: %w", dstAcct, err)
		}
	}
	if err := stackDone(); err != nil {
		return nil, err
	}
	for _, rs := range e.SourceRoles {
		if err := createRole(ctx, e.Source.IAM, rs); err != nil {
			return nil, fmt.Errorf("account %s: %w", srcAcct, err)
		}
	}
	if err := stackDone(); err != nil {
		return nil, err
	}
	// Step Functions runs in the local driver; the simulator lists the executions Run
	// registers, for Preflight's live-migrations cap.
	if e.StateMachineArn = stateMachineArnOf(e.Spec); e.StateMachineArn != "" {
		if err := e.Sim.RegisterStateMachine(ctx, e.StateMachineArn); err != nil {
			return nil, err
		}
	}
	// The batch state machine's children run on the migration state machine; the driver
	// registers them in the simulator, where the batch function describes them.
	if e.Spec.BatchStateMachineArn != "" && e.StateMachineArn != "" {
		e.Spec.BatchSubstitutions[statemachine.MigrationStateMachinePlaceholder] = e.StateMachineArn
		if err := e.Sim.RegisterStateMachine(ctx, e.Spec.BatchStateMachineArn); err != nil {
			return nil, err
		}
	}

	// The local driver puts the outgoing events on the simulator's EventBridge as the
	// state machine's role.
	if sm := e.Spec.StateMachineRole; sm != nil {
		if e.StateMachineCredentials, err = e.Sim.RoleCredentials(ctx, sm.Arn, "states"); err != nil {
			return nil, fmt.Errorf("credentials for the state machine: %w", err)
		}
	}

	// The functions, each with its role's credentials, started in parallel.
	instances := max(opts.Instances, 1)
	type started struct {
		fp  *FunctionProcess
		err error
	}
	results := make(chan started, len(e.Spec.Functions)*instances)
	for _, f := range e.Spec.Functions {
		creds, err := e.Sim.RoleCredentials(ctx, f.Role.Arn, f.Name)
		if err != nil {
			return nil, fmt.Errorf("credentials for %s: %w", f.Dir, err)
		}
		env := functionEnv(f, creds, e.Region, e.Sim.Addr)
		for range instances {
			go func() {
				fp, err := startFunction(ctx, opts.rie(), filepath.Join(opts.distDir(), f.Dir, "bootstrap"), f, env, log, &e.g)
				results <- started{fp: fp, err: err}
			}()
		}
	}
	var errs []error
	for range len(e.Spec.Functions) * instances {
		r := <-results
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		e.Instances[r.fp.Spec.Dir] = append(e.Instances[r.fp.Spec.Dir], r.fp)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, f := range e.Spec.Functions {
		e.Functions[f.Dir] = e.Instances[f.Dir][0]
		// Every invoke goes through a small proxy: it picks a free instance, measures the
		// invoke as the caller sees it, and applies a test's response filter.
		if e.Endpoints[f.Arn], err = e.proxy(e.Instances[f.Dir], opts.RequestFilters[f.Dir], opts.ResponseFilters[f.Dir]); err != nil {
			return nil, err
		}
	}
	e.StartupTime = time.Since(t0)
	return e, nil
}

// proxy serves on a free port and hands each invoke to a free instance of the function
// (one invoke at a time per RIE, as Lambda runs one event per execution environment),
// rewriting the response body with filter when one is given.
func (e *Environment) proxy(fps []*FunctionProcess, reqFilter, filter func([]byte) []byte) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	free := make(chan *FunctionProcess, len(fps))
	for _, fp := range fps {
		free <- fp
	}
	client := &http.Client{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var fp *FunctionProcess
		select {
		case fp = <-free:
		case <-r.Context().Done():
			return
		}
		defer func() { free <- fp }()
		t0 := time.Now()
		in, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if reqFilter != nil {
			in = reqFilter(in)
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, fp.InvokeURL, bytes.NewReader(in))
		req.Header = r.Header.Clone()
		req.Header.Del("Content-Length")
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fp.recordWall(time.Since(t0))
		if resp.StatusCode == http.StatusOK && filter != nil {
			b = filter(b)
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
	})}
	go srv.Serve(l)
	e.servers = append(e.servers, srv)
	return "http://" + l.Addr().String() + "/2015-03-31/functions/function/invocations", nil
}

// Close stops every process the environment started and removes its work directory
// (simulator data, run files, log) unless KeepLog was called; then only the log stays.
// It is safe to call more than once.
func (e *Environment) Close() {
	if e == nil {
		return
	}
	e.closed.Do(func() {
		for _, s := range e.servers {
			s.Close()
		}
		e.g.stopAll(3 * time.Second)
		if e.logFile != nil {
			e.logFile.Close()
		}
		if e.Dir == "" {
			return
		}
		e.mu.Lock()
		keep := e.keepLog
		e.mu.Unlock()
		if !keep {
			os.RemoveAll(e.Dir)
			return
		}
		entries, _ := os.ReadDir(e.Dir)
		for _, en := range entries {
			if p := filepath.Join(e.Dir, en.Name()); p != e.LogPath {
				os.RemoveAll(p)
			}
		}
	})
}

// KeepLog makes Close keep the log file (LogPath), e.g. after a failure.
func (e *Environment) KeepLog() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keepLog = true
}

const workDirPrefix = "dsmigrate-local-"

// sweepStaleWorkDirs removes what earlier runs that were killed outright (SIGKILL) left
// in their work directories, except the log: the simulator's data can be hundreds of MB.
func sweepStaleWorkDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), workDirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "pid"))
		if err != nil {
			continue // finished runs have no pid file
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue // still running (or not ours to judge)
		}
		entries, _ := os.ReadDir(dir)
		for _, en := range entries {
			if en.Name() != "local.log" {
				os.RemoveAll(filepath.Join(dir, en.Name()))
			}
		}
	}
}

// LogTail returns the last n lines of the environment's log.
func (e *Environment) LogTail(n int) string {
	b, err := os.ReadFile(e.LogPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
