package server

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// stepFunctions is the part of Step Functions the functions call: ListExecutions of a
// state machine (Preflight counts the running executions of its own). The state machine
// itself runs in the local driver (aws-local-stepfunctions), which is not part of the
// simulator, so the local runner registers each state machine and each execution with its
// status through the admin API (POST /_sim/states/...).
type stepFunctions struct {
	mu         sync.Mutex
	machines   map[string]bool // by state machine ARN
	executions []SFNExecution  // in the order registered
}

// SFNExecution is one registered execution of a state machine.
type SFNExecution struct {
	StateMachineArn string    `json:"stateMachineArn"`
	ExecutionArn    string    `json:"executionArn"`
	Name            string    `json:"name"`
	Status          string    `json:"status"`
	StartDate       time.Time `json:"startDate"`
	// StopDate, Input, Output, Error and Cause are what DescribeExecution shows; the local
	// driver records them for the child executions of a batch.
	StopDate *time.Time      `json:"stopDate,omitempty"`
	Input    json.RawMessage `json:"input,omitempty"`
	Output   json.RawMessage `json:"output,omitempty"`
	Error    string          `json:"error,omitempty"`
	Cause    string          `json:"cause,omitempty"`
}

// sfnStatuses are Step Functions' execution statuses (ExecutionStatus).
var sfnStatuses = []string{"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"}

func newStepFunctions() *stepFunctions { return &stepFunctions{machines: map[string]bool{}} }

// registerMachine serves POST /_sim/states/state-machines {"arn": ...}.
func (sf *stepFunctions) registerMachine(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Arn string `json:"arn"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if !strings.Contains(in.Arn, ":states:") || !strings.Contains(in.Arn, ":stateMachine:") {
		writeJSON(w, 400, map[string]string{"error": "arn must be a state machine ARN, got " + in.Arn})
		return
	}
	sf.mu.Lock()
	sf.machines[in.Arn] = true
	sf.mu.Unlock()
	writeJSON(w, 200, map[string]any{"arn": in.Arn})
}

// putExecution serves POST /_sim/states/executions {"stateMachineArn", "name", "status"}
// (and optionally "input", "output", "error", "cause"): it adds the execution, or sets the
// status of the one with that name. With "start": true it applies StartExecution's rules
// for a name already used ("Executions with the same name and input are considered
// idempotent": StartExecution, Step Functions API Reference): an open execution with the
// same input is answered with {"existing": true}; a closed one, or an open one with another
// input, is 409 ExecutionAlreadyExists.
func (sf *stepFunctions) putExecution(w http.ResponseWriter, r *http.Request) {
	var in struct {
		StateMachineArn string          `json:"stateMachineArn"`
		Name            string          `json:"name"`
		Status          string          `json:"status"`
		Start           bool            `json:"start"`
		Input           json.RawMessage `json:"input"`
		Output          json.RawMessage `json:"output"`
		Error           string          `json:"error"`
		Cause           string          `json:"cause"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if !slices.Contains(sfnStatuses, in.Status) || in.Name == "" {
		writeJSON(w, 400, map[string]string{"error": "want a name and a status among " + strings.Join(sfnStatuses, ", ")})
		return
	}
	sf.mu.Lock()
	defer sf.mu.Unlock()
	if !sf.machines[in.StateMachineArn] {
		writeJSON(w, 404, map[string]string{"error": "state machine not registered: " + in.StateMachineArn})
		return
	}
	for i := range sf.executions {
		if e := &sf.executions[i]; e.StateMachineArn == in.StateMachineArn && e.Name == in.Name {
			if in.Start {
				if e.Status == "RUNNING" && sameJSON(e.Input, in.Input) {
					writeJSON(w, 200, map[string]any{"existing": true, "execution": e})
					return
				}
				writeJSON(w, 409, map[string]string{"error": "Execution Already Exists: '" + e.ExecutionArn + "'"})
				return
			}
			e.Status = in.Status
			if in.Status != "RUNNING" {
				now := time.Now().UTC()
				e.StopDate = &now
			}
			if len(in.Output) > 0 {
				e.Output = in.Output
			}
			e.Error, e.Cause = in.Error, in.Cause
			writeJSON(w, 200, e)
			return
		}
	}
	e := SFNExecution{StateMachineArn: in.StateMachineArn, Name: in.Name, Status: in.Status, StartDate: time.Now().UTC(), Input: in.Input,
		ExecutionArn: strings.Replace(in.StateMachineArn, ":stateMachine:", ":execution:", 1) + ":" + in.Name}
	sf.executions = append(sf.executions, e)
	writeJSON(w, 200, e)
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return len(a) == 0 && len(b) == 0
	}
	xa, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xa) == string(yb)
}

// StepFunctionsState is what GET /_sim/state shows of Step Functions.
type StepFunctionsState struct {
	StateMachines []string       `json:"stateMachines"`
	Executions    []SFNExecution `json:"executions"`
}

func (sf *stepFunctions) state() StepFunctionsState {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	return StepFunctionsState{StateMachines: slices.Sorted(maps.Keys(sf.machines)), Executions: append([]SFNExecution{}, sf.executions...)}
}

// serveStates answers the Step Functions API (JSON 1.0): ListExecutions only, authorized
// with the caller's identity policies as states:ListExecutions on the state machine (its
// resource type in the Service Authorization Reference).
func (s *Server) serveStates(w http.ResponseWriter, r *http.Request, c caller, authErr *store.Error) {
	jsonErr := func(status int, typ, msg string) {
		jsonProtocolError(w, "application/x-amz-json-1.0", status, typ, msg)
	}
	if jsonProtocolAuthError(w, "application/x-amz-json-1.0", authErr) {
		return
	}
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndex(op, "."); i >= 0 {
		op = op[i+1:]
	}
	if kind := s.faults.take("states", op); kind != "" {
		if kind == "throttle" {
			jsonErr(400, "ThrottlingException", "Rate exceeded")
		} else {
			jsonErr(500, "ServiceUnavailable", "An internal error occurred. Please try again.")
		}
		return
	}
	if op == "DescribeExecution" {
		s.describeExecution(w, r, c, jsonErr)
		return
	}
	if op != "ListExecutions" {
		jsonErr(400, "UnknownOperationException", "The simulator serves only ListExecutions and DescribeExecution of Step Functions")
		return
	}
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
		StatusFilter    string `json:"statusFilter"`
		MaxResults      int    `json:"maxResults"`
		NextToken       string `json:"nextToken"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		jsonErr(400, "SerializationException", err.Error())
		return
	}
	if err := s.store.Authorize(c.principal, "states:ListExecutions", in.StateMachineArn, nil); err != nil {
		jsonErr(400, "AccessDeniedException", err.Error())
		return
	}
	if in.MaxResults < 0 || in.MaxResults > 1000 {
		jsonErr(400, "ValidationException", "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000")
		return
	}
	if in.StatusFilter != "" && !slices.Contains(sfnStatuses, in.StatusFilter) {
		jsonErr(400, "ValidationException", "1 validation error detected: Value '"+in.StatusFilter+"' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: ["+strings.Join(sfnStatuses, ", ")+"]")
		return
	}
	max := in.MaxResults
	if max == 0 {
		max = 100
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 {
			jsonErr(400, "InvalidToken", "Invalid Token: "+in.NextToken)
			return
		}
		start = n
	}
	sf := s.states
	sf.mu.Lock()
	if !sf.machines[in.StateMachineArn] {
		sf.mu.Unlock()
		jsonErr(400, "StateMachineDoesNotExist", "State Machine Does Not Exist: '"+in.StateMachineArn+"'")
		return
	}
	var matching []SFNExecution
	// Newest first, as Step Functions lists them.
	for i := len(sf.executions) - 1; i >= 0; i-- {
		e := sf.executions[i]
		if e.StateMachineArn == in.StateMachineArn && (in.StatusFilter == "" || e.Status == in.StatusFilter) {
			matching = append(matching, e)
		}
	}
	sf.mu.Unlock()
	type item struct {
		ExecutionArn    string  `json:"executionArn"`
		StateMachineArn string  `json:"stateMachineArn"`
		Name            string  `json:"name"`
		Status          string  `json:"status"`
		StartDate       float64 `json:"startDate"`
	}
	out := struct {
		Executions []item `json:"executions"`
		NextToken  string `json:"nextToken,omitempty"`
	}{Executions: []item{}}
	for i := start; i < len(matching) && i < start+max; i++ {
		e := matching[i]
		out.Executions = append(out.Executions, item{e.ExecutionArn, e.StateMachineArn, e.Name, e.Status, float64(e.StartDate.UnixMilli()) / 1000})
	}
	if start+max < len(matching) {
		out.NextToken = strconv.Itoa(start + max)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

// describeExecution answers DescribeExecution, authorized as states:DescribeExecution on
// the execution (its resource type in the Service Authorization Reference).
func (s *Server) describeExecution(w http.ResponseWriter, r *http.Request, c caller, jsonErr func(int, string, string)) {
	var in struct {
		ExecutionArn string `json:"executionArn"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		jsonErr(400, "SerializationException", err.Error())
		return
	}
	if err := s.store.Authorize(c.principal, "states:DescribeExecution", in.ExecutionArn, nil); err != nil {
		jsonErr(400, "AccessDeniedException", err.Error())
		return
	}
	sf := s.states
	sf.mu.Lock()
	var found *SFNExecution
	for i := range sf.executions {
		if sf.executions[i].ExecutionArn == in.ExecutionArn {
			e := sf.executions[i]
			found = &e
		}
	}
	sf.mu.Unlock()
	if found == nil {
		jsonErr(400, "ExecutionDoesNotExist", "Execution Does Not Exist: '"+in.ExecutionArn+"'")
		return
	}
	out := map[string]any{
		"executionArn": found.ExecutionArn, "stateMachineArn": found.StateMachineArn, "name": found.Name,
		"status": found.Status, "startDate": float64(found.StartDate.UnixMilli()) / 1000,
	}
	if found.StopDate != nil {
		out["stopDate"] = float64(found.StopDate.UnixMilli()) / 1000
	}
	if len(found.Input) > 0 {
		out["input"] = string(found.Input)
	}
	if len(found.Output) > 0 {
		out["output"] = string(found.Output)
	}
	if found.Error != "" {
		out["error"] = found.Error
	}
	if found.Cause != "" {
		out["cause"] = found.Cause
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}
