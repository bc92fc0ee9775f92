package localrun

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Event is one JSON line of the local Step Functions driver (docs/develop.md).
type Event struct {
	Event   string          `json:"event"`
	State   string          `json:"state,omitempty"`
	Input   json.RawMessage `json:"input,omitempty"`
	Output  json.RawMessage `json:"output,omitempty"`
	Error   string          `json:"error,omitempty"`
	Cause   string          `json:"cause,omitempty"`
	Seconds float64         `json:"seconds,omitempty"`
	Attempt int             `json:"attempt,omitempty"` // TaskRetried
	Next    string          `json:"next,omitempty"`    // TaskCaught
	// Index is the Map iteration an event of a state inside a Map belongs to (a shard of
	// RunShards); nil at the top level.
	Index *int `json:"index,omitempty"`
	// Name is the child execution of a ChildExecutionStarted, ChildExecutionSucceeded or
	// ChildExecutionFailed event (a batch's migration).
	Name string `json:"name,omitempty"`
	// At is when the runner read the line.
	At time.Time `json:"-"`
}

// driverArgs are the files and options of one driver run.
type driverArgs struct {
	Node, Script                     string
	Definition, Input, Substitutions string
	LambdaEndpoints                  string
	// EventsEndpoint, with Credentials and Region, is where the Publish* states put their
	// events (the simulator); empty: the driver accepts them itself.
	EventsEndpoint string
	Credentials    Credentials
	Region         string
	ExecutionName  string
	WaitScale      float64
	// For a definition that starts child executions (the batch state machine): the
	// children's machines file, the simulator's address, and this machine's ARN.
	ChildMachines, SimAdmin, StateMachineArn string
}

// runDriver runs the driver and calls onEvent for each JSON line. It returns the last
// event (ExecutionSucceeded or ExecutionFailed) or an error when the driver itself failed.
func runDriver(ctx context.Context, a driverArgs, log io.Writer, g *group, onEvent func(Event)) (*Event, error) {
	args := []string{a.Script,
		"--definition", a.Definition,
		"--input", a.Input,
		"--substitutions", a.Substitutions,
		"--lambda-endpoints", a.LambdaEndpoints,
		"--wait-scale", fmt.Sprint(a.WaitScale),
	}
	if a.ExecutionName != "" {
		args = append(args, "--execution-name", a.ExecutionName)
	}
	if a.ChildMachines != "" {
		args = append(args, "--child-machines", a.ChildMachines, "--sim-admin", a.SimAdmin)
	}
	if a.StateMachineArn != "" {
		args = append(args, "--state-machine-arn", a.StateMachineArn)
	}
	cmd := exec.Command(a.Node, args...)
	if a.EventsEndpoint != "" {
		cmd.Args = append(cmd.Args, "--events-endpoint", a.EventsEndpoint)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+a.Credentials.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+a.Credentials.SecretAccessKey,
			"AWS_SESSION_TOKEN="+a.Credentials.SessionToken, "AWS_REGION="+a.Region)
	}
	var stderr strings.Builder
	cmd.Stderr = io.MultiWriter(log, &limitedWriter{b: &stderr, max: 8 << 10})
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p, err := startProcess("step functions driver", cmd)
	if err != nil {
		return nil, err
	}
	g.add(p)
	defer func() {
		p.stop(2 * time.Second)
		g.remove(p)
	}()
	events := make(chan Event)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			line := sc.Bytes()
			var ev Event
			if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil || ev.Event == "" {
				fmt.Fprintf(log, "[driver] %s\n", line)
				continue
			}
			ev.At = time.Now()
			events <- ev
		}
	}()
	var last *Event
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				<-p.done
				if last != nil {
					return last, nil
				}
				return nil, fmt.Errorf("the Step Functions driver ended without a result (%v): %s", p.err, strings.TrimSpace(stderr.String()))
			}
			onEvent(ev)
			if ev.Event == "ExecutionSucceeded" || ev.Event == "ExecutionFailed" {
				e := ev
				last = &e
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

type limitedWriter struct {
	b   *strings.Builder
	max int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		if len(p) > room {
			l.b.Write(p[:room])
		} else {
			l.b.Write(p)
		}
	}
	return len(p), nil
}
