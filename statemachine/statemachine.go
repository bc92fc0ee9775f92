// Package statemachine holds the dsmigrate Step Functions definition (dsmigrate.asl.json),
// the ordered list of its step Lambdas (Steps), and the check of its ${...} placeholders
// that the CDK app runs before it fills them in (DefinitionSubstitutions); the local
// driver (statemachine/localrun/run.mjs) fills them in for local runs.
package statemachine

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

//go:embed dsmigrate.asl.json
var definition []byte

//go:embed dsmigrate-batch.asl.json
var batchDefinition []byte

// FileName is the definition's file name inside this directory.
const FileName = "dsmigrate.asl.json"

// BatchFileName is the batch state machine's definition (docs/reference.md, "Batches"):
// it runs migrations as child executions of the migration state machine.
const BatchFileName = "dsmigrate-batch.asl.json"

// BatchDefinition returns a copy of the batch definition (BatchFileName) with its
// placeholders as they are.
func BatchDefinition() []byte { return slices.Clone(batchDefinition) }

// MigrationStateMachinePlaceholder is the ${...} name the batch definition uses for the
// migration state machine's ARN.
const MigrationStateMachinePlaceholder = "MigrationStateMachineArn"

// Step is one step Lambda of the state machine.
type Step struct {
	// Dir is the function directory functions/<Dir> (and dist/<Dir>/bootstrap); the
	// step's handler is the package internal/<Dir>.
	Dir string
	// Placeholder is the ${...} name the definition's Task states use for the function's
	// ARN: a DefinitionSubstitutions key.
	Placeholder string
	// State is the Task state that runs the step (putbucketpolicy also runs as
	// RevokeBucketPolicy); infra names the function's constructs after it.
	State string
}

// steps are the step Lambdas in the order the state machine runs them (docs/reference.md,
// "Functions").
var steps = []Step{
	{Dir: "preflight", Placeholder: "PreflightFunctionArn", State: "Preflight"},
	{Dir: "createroles", Placeholder: "CreateRolesFunctionArn", State: "CreateRoles"},
	{Dir: "putbucketpolicy", Placeholder: "PutBucketPolicyFunctionArn", State: "PutBucketPolicy"},
	{Dir: "createlocations", Placeholder: "CreateLocationsFunctionArn", State: "CreateLocations"},
	{Dir: "starttask", Placeholder: "StartTaskFunctionArn", State: "StartTask"},
	{Dir: "pollexecution", Placeholder: "PollExecutionFunctionArn", State: "PollExecution"},
	{Dir: "teardown", Placeholder: "TeardownFunctionArn", State: "DeleteResources"},
	{Dir: "record", Placeholder: "RecordFunctionArn", State: "WriteRecord"},
}

// batchSteps are the batch state machine's step Lambdas.
var batchSteps = []Step{
	{Dir: "batch", Placeholder: "BatchFunctionArn", State: "PrepareBatch"},
}

// BatchSteps returns the batch state machine's step Lambdas.
func BatchSteps() []Step { return slices.Clone(batchSteps) }

// AllSteps returns the step Lambdas of both state machines, the migration's first: one
// per functions/* directory.
func AllSteps() []Step { return append(Steps(), batchSteps...) }

// CheckBatchPlaceholders reports a batch definition whose ${...} placeholders are not
// exactly those of BatchSteps and the migration state machine's ARN.
func CheckBatchPlaceholders(def []byte) error {
	var v map[string]any
	if err := json.Unmarshal(def, &v); err != nil {
		return fmt.Errorf("not a JSON object: %v", err)
	}
	want := []string{MigrationStateMachinePlaceholder}
	for _, s := range batchSteps {
		want = append(want, s.Placeholder)
	}
	sort.Strings(want)
	if got := UsedPlaceholders(def); !slices.Equal(got, want) {
		return fmt.Errorf("uses the placeholders %v, want exactly %v", got, want)
	}
	return nil
}

// Steps returns the step Lambdas in the order the state machine runs them. The CDK app,
// the local runner and the tests derive their lists from it.
func Steps() []Step { return slices.Clone(steps) }

// StepDirs returns the function directories of Steps, in order.
func StepDirs() []string {
	dirs := make([]string, len(steps))
	for i, s := range steps {
		dirs[i] = s.Dir
	}
	return dirs
}

// StepOfPlaceholder returns the step (of either state machine) whose ARN the placeholder
// name stands for.
func StepOfPlaceholder(name string) (Step, bool) {
	all := AllSteps()
	i := slices.IndexFunc(all, func(s Step) bool { return s.Placeholder == name })
	if i < 0 {
		return Step{}, false
	}
	return all[i], true
}

// Placeholders returns the placeholder names of Steps, sorted.
func Placeholders() []string {
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.Placeholder
	}
	sort.Strings(names)
	return names
}

// EventBusPlaceholder is the ${...} name of the event bus the Publish* states put the
// Migration Succeeded / Migration Failed events on: the CDK app substitutes the
// deployment's bus, the local driver the simulator's.
const EventBusPlaceholder = "EventBusName"

// EventSource is the source of the events the state machine puts on the bus; it differs
// from the request events' source, so that the rule that starts migrations never matches
// them.
const EventSource = "dsmigrate.migration"

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// UsedPlaceholders returns the names of the ${...} placeholders that def contains, sorted
// and without duplicates.
func UsedPlaceholders(def []byte) []string {
	var names []string
	for _, m := range placeholder.FindAllSubmatch(def, -1) {
		names = append(names, string(m[1]))
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// CheckPlaceholders reports a definition (the text of FileName or a replacement for it)
// that is not a JSON object, or whose ${...} placeholders are not exactly those of Steps:
// one that nothing substitutes, or a step the definition never runs (EventBusPlaceholder,
// the bus of the outgoing events, is required as well). The CDK app checks
// the definition with it before deploying.
func CheckPlaceholders(def []byte) error {
	var v map[string]any
	if err := json.Unmarshal(def, &v); err != nil {
		return fmt.Errorf("not a JSON object: %v", err)
	}
	used, have := UsedPlaceholders(def), append(Placeholders(), EventBusPlaceholder)
	var problems []string
	for _, name := range used {
		if !slices.Contains(have, name) {
			problems = append(problems, fmt.Sprintf("${%s} is not a step's placeholder (statemachine.Steps)", name))
		}
	}
	for _, name := range have {
		if !slices.Contains(used, name) {
			problems = append(problems, fmt.Sprintf("${%s} is never used: the definition must run every step", name))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return errors.New(strings.Join(problems, "; "))
}
