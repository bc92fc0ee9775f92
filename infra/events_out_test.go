package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/sim/iampolicy"
	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
	"github.com/dsmigrate/dsmigrate/statemachine"
)

// publishStatement returns the state machine role's statement that allows the outgoing
// events (Sid PublishMigrationOutcome), and fails unless exactly one policy has it.
func publishStatement(t *testing.T, app synthesized) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, p := range resources(app.Dest, "AWS::IAM::Policy") {
		doc, _ := p["PolicyDocument"].(map[string]any)
		sts, _ := doc["Statement"].([]any)
		for _, s := range sts {
			if st, _ := s.(map[string]any); st["Sid"] == "PublishMigrationOutcome" {
				found = append(found, st)
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("got %d PublishMigrationOutcome statements, want 1", len(found))
	}
	return found[0]
}

// TestAttackStateMachinePutsRequestEvent: the state machine's role may put events on the
// requests bus, the bus whose rule starts migrations. Proven with the simulator's IAM
// evaluator on the synthesized statement: the role may put Migration Succeeded / Migration
// Failed from dsmigrate.migration, and not a request event (which would start a migration
// of the role's choosing), nor anything on another bus; with the conditions taken away it
// could put the request.
func TestAttackStateMachinePutsRequestEvent(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	busArn := "arn:aws:events:" + cfg.Region + ":" + cfg.DestinationAccount + ":event-bus/" + cfg.RequestBusName()
	st := publishStatement(t, app)
	if got := strs(st["Resource"]); !slices.Equal(got, []string{busArn}) {
		t.Errorf("Resource: got %v, want the requests bus %s only", got, busArn)
	}
	parse := func(st map[string]any) *iampolicy.Policy {
		b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{st}})
		p, err := iampolicy.Parse(string(b))
		if err != nil {
			t.Fatalf("policy %s: %v", b, err)
		}
		return p
	}
	guarded := parse(st)
	unguardedSt := map[string]any{}
	for k, v := range st {
		if k != "Condition" {
			unguardedSt[k] = v
		}
	}
	unguarded := parse(unguardedSt)
	put := func(bus, source, detailType string, p *iampolicy.Policy) bool {
		ctx := identity.Context{}
		ctx.Set("events:source", source)
		ctx.Set("events:detail-type", detailType)
		return iampolicy.Evaluate(iampolicy.Input{
			Request: iampolicy.Request{
				Principal:       identity.SessionPrincipal(cfg.DestinationAccount, cfg.NamePrefix+"-states", "AROASTATES", "exec"),
				Action:          "events:PutEvents",
				Resource:        bus,
				ResourceAccount: cfg.DestinationAccount,
				Context:         ctx,
			},
			IdentityPolicies: []*iampolicy.Policy{p},
		}).Allowed
	}
	if !put(busArn, RequestEventSource, RequestEventDetailType, unguarded) {
		t.Fatalf("without the conditions: the request event was denied; the check below could not fail")
	}
	if put(busArn, RequestEventSource, RequestEventDetailType, guarded) {
		t.Errorf("attack: the state machine's role may put a migration request (%s / %s) on %s", RequestEventSource, RequestEventDetailType, busArn)
	}
	for _, dt := range []string{MigrationSucceededDetailType, MigrationFailedDetailType} {
		if !put(busArn, statemachine.EventSource, dt, guarded) {
			t.Errorf("the state machine's role may not put %s / %s", statemachine.EventSource, dt)
		}
	}
	if put(busArn, statemachine.EventSource, RequestEventDetailType, guarded) || put(busArn, RequestEventSource, MigrationFailedDetailType, guarded) {
		t.Errorf("the role may put a mix of the request's and the outcome's source and detail-type")
	}
	defaultBus := strings.TrimSuffix(busArn, cfg.RequestBusName()) + "default"
	if put(defaultBus, statemachine.EventSource, MigrationSucceededDetailType, guarded) {
		t.Errorf("the role may put events on %s", defaultBus)
	}
}

// TestOutgoingEventsDoNotStartMigrations: the request rule's pattern matches neither the
// source nor the detail-types the state machine puts (EventBridge matches every field of
// a pattern: a value must be one of the listed ones), and the definition's Publish* states
// put exactly what the role is allowed to, on the bus the stack substitutes.
func TestOutgoingEventsDoNotStartMigrations(t *testing.T) {
	app := defaultSynth(t)
	_, rule := resourceNamed(t, app.Dest, "AWS::Events::Rule", "Name", app.Config.NamePrefix+"-request")
	pattern := rule["EventPattern"].(map[string]any)
	sources, detailTypes := strs(pattern["source"]), strs(pattern["detail-type"])
	if len(sources) == 0 || len(detailTypes) == 0 {
		t.Fatalf("request rule pattern %v: want source and detail-type", pattern)
	}
	if slices.Contains(sources, statemachine.EventSource) {
		t.Errorf("the request rule matches source %s: the state machine's own events would start migrations", statemachine.EventSource)
	}
	for _, dt := range []string{MigrationSucceededDetailType, MigrationFailedDetailType} {
		if slices.Contains(detailTypes, dt) {
			t.Errorf("the request rule matches detail-type %s", dt)
		}
	}

	var def struct {
		States map[string]struct {
			Resource   string
			Parameters struct {
				Entries []struct{ EventBusName, Source, DetailType string }
			}
		}
	}
	if err := json.Unmarshal([]byte(app.Definition), &def); err != nil {
		t.Fatal(err)
	}
	allowed := strs(publishStatement(t, app)["Condition"].(map[string]any)["StringEquals"].(map[string]any)["events:detail-type"])
	n := 0
	for name, s := range def.States {
		if s.Resource != "arn:aws:states:::events:putEvents" {
			continue
		}
		for _, e := range s.Parameters.Entries {
			n++
			if e.Source != statemachine.EventSource || !slices.Contains(allowed, e.DetailType) {
				t.Errorf("%s puts %s / %s, which the role may not put (allowed %s / %v)", name, e.Source, e.DetailType, statemachine.EventSource, allowed)
			}
		}
	}
	if n != 3 {
		t.Errorf("got %d entries put by the definition, want 3 (PublishSucceeded, PublishFailed, PublishFailedUnchecked)", n)
	}
	sm := resources(app.Dest, "AWS::StepFunctions::StateMachine")
	for _, p := range sm {
		subs, _ := p["DefinitionSubstitutions"].(map[string]any)
		if _, batch := subs[statemachine.MigrationStateMachinePlaceholder]; batch {
			continue // the batch state machine puts no events; its children are migrations
		}
		if got := subs[statemachine.EventBusPlaceholder]; got != app.Config.RequestBusName() {
			t.Errorf("DefinitionSubstitutions.%s: got %v, want the requests bus %s", statemachine.EventBusPlaceholder, got, app.Config.RequestBusName())
		}
	}
}
