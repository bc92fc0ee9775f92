package localrun

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// StackName is the stack whose outputs the local Step Functions endpoint describes: the
// default of the command line's --stack.
const StackName = "DsmigrateDestination"

// StepFunctions is an endpoint for the command line (`dsmigrate start`, `plan`, `watch`,
// `list`, `status` with AWS_ENDPOINT_URL set to URL): it answers the Step Functions calls
// they make (StartExecution, DescribeExecution, GetExecutionHistory, ListExecutions, in
// the JSON 1.0 protocol) by running executions of this environment on the local driver,
// and CloudFormation's DescribeStacks (query protocol) with the StateMachineArn output of
// StackName. Requests are not authenticated: it serves this machine only.
type StepFunctions struct {
	URL string

	env     *Environment
	ctx     context.Context
	started time.Time
	mu      sync.Mutex
	// executions, newest last.
	executions []*localExecution
}

// localExecution is one execution started through the endpoint.
type localExecution struct {
	arn, name, input string
	start            time.Time
	stop             time.Time // zero while running
	status, output   string
	errorName, cause string
	events           []map[string]any // history events, oldest first
}

// ServeStepFunctions starts the endpoint; it stops with the environment, and executions
// it starts run under ctx.
func (e *Environment) ServeStepFunctions(ctx context.Context) (*StepFunctions, error) {
	if e.StateMachineArn == "" {
		return nil, fmt.Errorf("the environment has no state machine ARN (no function reads DSMIGRATE_STATE_MACHINE_ARN)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sf := &StepFunctions{URL: "http://" + l.Addr().String(), env: e, ctx: ctx, started: time.Now()}
	srv := &http.Server{Handler: sf, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	e.mu.Lock()
	e.servers = append(e.servers, srv)
	e.mu.Unlock()
	return sf, nil
}

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func (sf *StepFunctions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	if !strings.HasPrefix(target, "AWSStepFunctions.") {
		sf.cloudFormation(w, string(body))
		return
	}
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
		ExecutionArn    string `json:"executionArn"`
		MapRunArn       string `json:"mapRunArn"`
		Name            string `json:"name"`
		Input           string `json:"input"`
		MaxResults      int    `json:"maxResults"`
		ReverseOrder    bool   `json:"reverseOrder"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		sfnError(w, "SerializationException", err.Error())
		return
	}
	switch op := strings.TrimPrefix(target, "AWSStepFunctions."); op {
	case "StartExecution":
		sf.startExecution(w, in.StateMachineArn, in.Name, in.Input)
	case "DescribeExecution":
		sf.withExecution(w, in.ExecutionArn, func(x *localExecution) any {
			out := map[string]any{"executionArn": x.arn, "stateMachineArn": sf.env.StateMachineArn, "name": x.name, "status": x.status,
				"startDate": epoch(x.start), "input": x.input}
			if !x.stop.IsZero() {
				out["stopDate"] = epoch(x.stop)
			}
			for k, v := range map[string]string{"output": x.output, "error": x.errorName, "cause": x.cause} {
				if v != "" {
					out[k] = v
				}
			}
			return out
		})
	case "GetExecutionHistory":
		sf.withExecution(w, in.ExecutionArn, func(x *localExecution) any {
			events := append([]map[string]any{}, x.events...)
			if in.ReverseOrder {
				for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
					events[i], events[j] = events[j], events[i]
				}
			}
			if in.MaxResults > 0 && len(events) > in.MaxResults {
				events = events[:in.MaxResults]
			}
			return map[string]any{"events": events}
		})
	case "ListExecutions":
		items := []map[string]any{}
		if in.MapRunArn == "" && in.StateMachineArn == sf.env.StateMachineArn {
			sf.mu.Lock()
			for i := len(sf.executions) - 1; i >= 0; i-- {
				x := sf.executions[i]
				item := map[string]any{"executionArn": x.arn, "stateMachineArn": sf.env.StateMachineArn, "name": x.name, "status": x.status, "startDate": epoch(x.start)}
				if !x.stop.IsZero() {
					item["stopDate"] = epoch(x.stop)
				}
				items = append(items, item)
			}
			sf.mu.Unlock()
		}
		writeSFN(w, map[string]any{"executions": items})
	default:
		sfnError(w, "UnknownOperationException", "the local endpoint does not serve "+op)
	}
}

func (sf *StepFunctions) startExecution(w http.ResponseWriter, smArn, name, input string) {
	if smArn != sf.env.StateMachineArn {
		sfnError(w, "StateMachineDoesNotExist", "State Machine Does Not Exist: '"+smArn+"'")
		return
	}
	if name == "" {
		name = fmt.Sprintf("local-%d", time.Now().UnixNano())
	}
	x := &localExecution{arn: strings.Replace(smArn, ":stateMachine:", ":execution:", 1) + ":" + name, name: name, input: input,
		start: time.Now(), status: "RUNNING"}
	sf.mu.Lock()
	for _, o := range sf.executions {
		if o.name == name {
			sf.mu.Unlock()
			sfnError(w, "ExecutionAlreadyExists", "Execution Already Exists: '"+o.arn+"'")
			return
		}
	}
	sf.executions = append(sf.executions, x)
	sf.mu.Unlock()
	go func() {
		res, err := sf.env.run(sf.ctx, []byte(input), name, func(ev Event) { sf.record(x, ev) })
		sf.mu.Lock()
		defer sf.mu.Unlock()
		x.stop = time.Now()
		switch {
		case err != nil:
			x.status, x.errorName, x.cause = "ABORTED", "States.Runtime", err.Error()
		case res.Succeeded:
			x.status, x.output = "SUCCEEDED", string(res.Output)
		default:
			x.status, x.errorName, x.cause = "FAILED", res.Error, res.Cause
		}
	}()
	writeSFN(w, map[string]any{"executionArn": x.arn, "startDate": epoch(x.start)})
}

// record adds the history events of one driver event (Step Functions' event types and
// details, as the command line reads them).
func (sf *StepFunctions) record(x *localExecution, ev Event) {
	add := func(typ, detailsKey string, details map[string]any) {
		id := len(x.events) + 1
		e := map[string]any{"id": id, "previousEventId": id - 1, "timestamp": epoch(ev.At), "type": typ}
		if detailsKey != "" {
			e[detailsKey] = details
		}
		x.events = append(x.events, e)
	}
	sf.mu.Lock()
	defer sf.mu.Unlock()
	if len(x.events) == 0 {
		add("ExecutionStarted", "executionStartedEventDetails", map[string]any{"input": x.input})
	}
	switch ev.Event {
	case "StateEntered":
		add("TaskStateEntered", "stateEnteredEventDetails", map[string]any{"name": ev.State, "input": string(ev.Input)})
	case "StateExited":
		add("TaskStateExited", "stateExitedEventDetails", map[string]any{"name": ev.State, "output": string(ev.Output)})
	case "TaskFailed", "StateFailed":
		add("LambdaFunctionFailed", "lambdaFunctionFailedEventDetails", map[string]any{"error": ev.Error, "cause": ev.Cause})
	case "ExecutionSucceeded":
		add("ExecutionSucceeded", "executionSucceededEventDetails", map[string]any{"output": string(ev.Output)})
	case "ExecutionFailed":
		add("ExecutionFailed", "executionFailedEventDetails", map[string]any{"error": ev.Error, "cause": ev.Cause})
	}
}

func (sf *StepFunctions) withExecution(w http.ResponseWriter, arn string, answer func(*localExecution) any) {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	for _, x := range sf.executions {
		if x.arn == arn {
			writeSFN(w, answer(x))
			return
		}
	}
	sfnError(w, "ExecutionDoesNotExist", "Execution Does Not Exist: '"+arn+"'")
}

func writeSFN(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(v)
}

func sfnError(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// cloudFormation answers DescribeStacks of StackName with its StateMachineArn output.
func (sf *StepFunctions) cloudFormation(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/xml")
	form, err := url.ParseQuery(body)
	if err != nil {
		form = url.Values{}
	}
	type member struct {
		OutputKey   string `xml:"OutputKey"`
		OutputValue string `xml:"OutputValue"`
	}
	type stack struct {
		StackName    string   `xml:"StackName"`
		StackStatus  string   `xml:"StackStatus"`
		CreationTime string   `xml:"CreationTime"`
		Outputs      []member `xml:"Outputs>member"`
	}
	fail := func(code, msg string) {
		w.WriteHeader(http.StatusBadRequest)
		_ = xml.NewEncoder(w).Encode(struct {
			XMLName xml.Name `xml:"ErrorResponse"`
			Type    string   `xml:"Error>Type"`
			Code    string   `xml:"Error>Code"`
			Message string   `xml:"Error>Message"`
		}{Type: "Sender", Code: code, Message: msg})
	}
	if form.Get("Action") != "DescribeStacks" {
		fail("InvalidAction", "the local endpoint serves only DescribeStacks")
		return
	}
	if form.Get("StackName") != StackName {
		fail("ValidationError", "Stack with id "+form.Get("StackName")+" does not exist")
		return
	}
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"DescribeStacksResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Stacks  []stack  `xml:"DescribeStacksResult>Stacks>member"`
	}{Xmlns: "http://cloudformation.amazonaws.com/doc/2010-05-15/", Stacks: []stack{{StackName: StackName, StackStatus: "CREATE_COMPLETE",
		CreationTime: sf.started.UTC().Format(time.RFC3339), Outputs: []member{{"StateMachineArn", sf.env.StateMachineArn}}}}})
}
