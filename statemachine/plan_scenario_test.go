package statemachine

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// TestScenarioPlan: a request with mode plan takes the plan branch, which calls only the
// four plan states, and ends with the plan document the PlanReady state gathers.
func TestScenarioPlan(t *testing.T) {
	t.Parallel()
	var req map[string]any
	if err := json.Unmarshal(fixture(t, "request.json"), &req); err != nil {
		t.Fatal(err)
	}
	req["mode"] = "plan"
	raw, _ := json.Marshal(req)
	var normalized request.Request
	if err := json.Unmarshal(raw, &normalized); err != nil {
		t.Fatal(err)
	}
	normalized.Normalize("plan-1")
	role := execution.PlannedResource{Kind: "role", Name: "r", Action: execution.PlanCreate, Reason: "new"}
	mocks := map[string][]mock{
		"PlanPreflight": {ok(t, execution.Preflight{Request: &normalized, Plan: &execution.SourcePlan{
			SourceBucketPolicy: execution.PolicyPlan{Bucket: "team-a-media", Action: "update", StatementsAdded: []string{"a", "b", "c"}, LimitBytes: 20480},
			Source:             &execution.ObjectSample{Bucket: "team-a-media", Objects: 3, Complete: true},
			Warnings:           []execution.Warning{{Code: "CROSS_REGION", Message: "m"}},
			Blockers:           []string{}, Shards: []execution.Shard{},
		}})},
		"PlanRoles":     {ok(t, execution.Roles{Plan: []execution.PlannedResource{role, role}})},
		"PlanLocations": {ok(t, execution.Locations{Plan: []execution.PlannedResource{{Kind: "location", Name: "source", Action: execution.PlanReuse, Reason: "found"}}})},
		"PlanTask":      {ok(t, execution.Task{Plan: []execution.PlannedResource{{Kind: "task", Name: "t", Action: execution.PlanConflict, Reason: "other locations"}}})},
	}
	r := runDriverValidating(t, true, raw, mocks, nil)
	checkPath(t, r, []string{"Start", "ChooseMode", "PlanPreflight", "PlanRoles", "PlanLocations", "PlanTask", "PlanReady", "Succeeded"})
	last := r.last()
	if last.Event != "ExecutionSucceeded" {
		t.Fatalf("last event %+v, want ExecutionSucceeded", last)
	}
	var plan execution.Plan
	d := json.NewDecoder(bytes.NewReader(last.Output))
	d.DisallowUnknownFields()
	if err := d.Decode(&plan); err != nil {
		t.Fatalf("the output is not an execution.Plan: %v\n%s", err, last.Output)
	}
	if plan.Mode != "plan" || plan.MigrationID != normalized.MigrationID || len(plan.Roles) != 2 || plan.SourceBucketPolicy.Action != "update" ||
		len(plan.Locations) != 1 || len(plan.Tasks) != 1 || plan.Source.Objects != 3 || plan.Destination != nil ||
		!slices.Equal(codesOf(plan.Warnings), []string{"CROSS_REGION"}) || len(plan.Conflicts()) != 1 {
		t.Errorf("got plan %+v, want each part of the mocks", plan)
	}
}

func codesOf(ws []execution.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Code)
	}
	return out
}
