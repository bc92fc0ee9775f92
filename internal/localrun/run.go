package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/server"
)

// Run runs the state machine once with request as input. executionName "" picks one.
// A failed execution is a Result with Succeeded false, not an error; an error means the
// run itself broke.
func (e *Environment) Run(ctx context.Context, request []byte, executionName string) (*Result, error) {
	return e.run(ctx, request, executionName, nil)
}

// run is Run with observe, when not nil, called with each driver event as it comes.
func (e *Environment) run(ctx context.Context, request []byte, executionName string, observe func(Event)) (*Result, error) {
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
	a := driverArgs{Node: e.Opts.node(), Script: e.Opts.driver(), Definition: e.Opts.StateMachine, ExecutionName: executionName, WaitScale: e.Opts.WaitScale,
		StateMachineArn: e.StateMachineArn}
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
	machine := e.StateMachineArn
	if IsBatch(request) {
		// The batch state machine; its children run the migration state machine.
		if e.Spec.BatchStateMachineArn == "" {
			return nil, fmt.Errorf("the input is a batch, but the synthesized destination stack has no batch state machine")
		}
		machine = e.Spec.BatchStateMachineArn
		a.Definition, a.StateMachineArn, a.SimAdmin = e.Opts.BatchStateMachine, machine, e.Sim.Addr
		if a.Substitutions, err = write("batch-substitutions.json", e.Spec.BatchSubstitutions); err != nil {
			return nil, err
		}
		children := map[string]any{e.StateMachineArn: map[string]string{
			"definition": e.Opts.StateMachine, "substitutions": filepath.Join(dir, "substitutions.json"), "lambdaEndpoints": a.LambdaEndpoints,
		}}
		if a.ChildMachines, err = write("child-machines.json", children); err != nil {
			return nil, err
		}
	}
	if e.StateMachineCredentials.AccessKeyID != "" {
		a.EventsEndpoint, a.Credentials, a.Region = e.Sim.Addr, e.StateMachineCredentials, e.Region
	}
	res := &Result{ExecutionName: executionName, Launched: time.Now()}
	if err := e.registerExecutionOf(ctx, machine, executionName, "RUNNING"); err != nil {
		return nil, err
	}
	defer func() {
		status := "FAILED"
		switch {
		case res.Succeeded:
			status = "SUCCEEDED"
		case res.Error == "" && res.Cause == "":
			status = "ABORTED" // the run itself broke, or was cancelled
		}
		// The run's context may be cancelled by now; the update must still reach the
		// simulator, or the execution would count as live for the rest of the session.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.registerExecutionOf(uctx, machine, executionName, status)
	}()
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
		if observe != nil {
			observe(ev)
		}
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

// IsBatch reports whether an input is a batch (docs/reference.md, "Batches": it has a
// "migrations" list) rather than one migration request.
func IsBatch(input []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(input, &probe) != nil {
		return false
	}
	_, ok := probe["migrations"]
	return ok
}

// watchFirstByte polls the simulator's state until an execution reports copied bytes.
func (e *Environment) watchFirstByte(ctx context.Context, out chan<- time.Time) {
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

// executionsWithBytes returns the ARNs of the executions in a state dump that have
// written bytes to the destination.
func executionsWithBytes(st *server.State) []string {
	if st.DataSync == nil {
		return nil
	}
	var out []string
	for _, x := range st.DataSync.Executions {
		if x.Describe.BytesWritten > 0 {
			out = append(out, x.Arn)
		}
	}
	return out
}
