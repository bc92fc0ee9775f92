package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/statemachine"
)

// TestBatchStateMachine: the batch state machine is the batch definition file with the
// batch function and the migration state machine substituted, named <prefix>-batch.
func TestBatchStateMachine(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	migration := stateMachineID(t, app.Dest)
	id, sm := resourceNamed(t, app.Dest, "AWS::StepFunctions::StateMachine", "StateMachineName", cfg.NamePrefix+"-batch")
	if id == migration {
		t.Fatal("the batch state machine is the migration state machine")
	}
	if sm["StateMachineType"] != "STANDARD" || jsonString(sm["TracingConfiguration"]) != `{"Enabled":true}` {
		t.Errorf("got type %v, tracing %s, want STANDARD with tracing", sm["StateMachineType"], jsonString(sm["TracingConfiguration"]))
	}
	if got, want := jsonString(sm["DefinitionString"]), jsonString(string(statemachine.BatchDefinition())); got != want {
		t.Errorf("DefinitionString is not the batch definition file")
	}
	fn := functionLogicalID(t, app.Dest, cfg.FunctionName("batch"))
	want := `{"BatchFunctionArn":{"Fn::GetAtt":["` + fn + `","Arn"]},"MigrationStateMachineArn":{"Ref":"` + migration + `"}}`
	if got := jsonString(sm["DefinitionSubstitutions"]); got != want {
		t.Errorf("DefinitionSubstitutions: got %s, want %s", got, want)
	}
}

// TestBatchStateMachineRole: what the batch state machine may do, and on what: start only
// the migration state machine, follow and stop only batch children, the .sync rule only,
// its own lanes only.
func TestBatchStateMachineRole(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	want := map[string][]string{
		"StartMigrations":           {cfg.StateMachineArn()},
		"FollowMigrations":          {cfg.batchChildExecutionsArn()},
		"SyncRule":                  {cfg.RuleArn("", "StepFunctionsGetEventsForStepFunctionsExecutionRule")},
		"RunLanesAsChildExecutions": {cfg.BatchStateMachineArn()},
		"WatchLaneExecutions":       {cfg.batchLaneExecutionsArn()},
	}
	seen := map[string]bool{}
	for _, st := range statements(app.Dest) {
		if !strings.HasPrefix(st.Where, "BatchStateMachineRole") {
			continue
		}
		sid, _ := st.S["Sid"].(string)
		if res, ok := want[sid]; ok {
			seen[sid] = true
			if got := strs(st.S["Resource"]); !reflect.DeepEqual(got, res) {
				t.Errorf("%s: got resources %v, want %v", sid, got, res)
			}
		}
	}
	for sid := range want {
		if !seen[sid] {
			t.Errorf("the batch state machine's role has no statement %s", sid)
		}
	}
	if got, want := cfg.batchChildExecutionsArn(), "arn:aws:states:"+cfg.Region+":"+cfg.DestinationAccount+":execution:"+cfg.NamePrefix+":*_*_*"; got != want {
		t.Errorf("children: got %s, want %s", got, want)
	}
}

// TestBatchFunctionWritesReportsOnlyToDestinationBuckets: the batch function may put
// objects only into the listed destination buckets, and nothing else of S3.
func TestBatchFunctionWritesReportsOnlyToDestinationBuckets(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	if len(cfg.DestinationBuckets) == 0 {
		t.Fatal("the default synth lists no destination bucket; the test needs one")
	}
	var want []string
	for _, b := range cfg.DestinationBuckets {
		want = append(want, "arn:aws:s3:::"+b+"/*")
	}
	found := false
	for _, st := range statements(app.Dest) {
		if !strings.Contains(strings.ToLower(st.Where), "batch") {
			continue
		}
		actions := strs(st.S["Action"])
		for _, a := range actions {
			if strings.HasPrefix(a, "s3:") && st.S["Sid"] != "WriteBatchReports" {
				t.Errorf("%s %v grants %s; only WriteBatchReports may grant S3", st.Where, st.S["Sid"], a)
			}
		}
		if st.S["Sid"] != "WriteBatchReports" {
			continue
		}
		found = true
		if !reflect.DeepEqual(actions, []string{"s3:PutObject"}) {
			t.Errorf("WriteBatchReports: got actions %v, want [s3:PutObject]", actions)
		}
		if got := strs(st.S["Resource"]); !reflect.DeepEqual(got, want) {
			t.Errorf("WriteBatchReports: got resources %v, want %v", got, want)
		}
	}
	if !found {
		t.Error("the batch function's role has no statement WriteBatchReports")
	}
}

// TestBatchRequestRule: batch events on the requests bus start the batch state machine
// with the event's detail, as the events role, with the trigger dead-letter queue.
func TestBatchRequestRule(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	smID, _ := resourceNamed(t, app.Dest, "AWS::StepFunctions::StateMachine", "StateMachineName", cfg.NamePrefix+"-batch")
	busID, _ := resourceNamed(t, app.Dest, "AWS::Events::EventBus", "Name", cfg.RequestBusName())
	_, r := resourceNamed(t, app.Dest, "AWS::Events::Rule", "Name", cfg.NamePrefix+"-batch-request")
	if got := jsonString(r["EventBusName"]); got != `{"Ref":"`+busID+`"}` {
		t.Errorf("EventBusName: got %s, want the requests bus", got)
	}
	if got, want := jsonString(r["EventPattern"]), `{"account":["`+cfg.DestinationAccount+`"],"detail-type":["`+BatchEventDetailType+`"],"source":["`+RequestEventSource+`"]}`; got != want {
		t.Errorf("EventPattern: got %s, want %s", got, want)
	}
	targets := asList(r["Targets"])
	if len(targets) != 1 {
		t.Fatalf("got %d targets, want 1", len(targets))
	}
	tg := targets[0].(map[string]any)
	roleID, _ := resourceNamed(t, app.Dest, "AWS::IAM::Role", "RoleName", cfg.NamePrefix+"-events")
	if jsonString(tg["Arn"]) != `{"Ref":"`+smID+`"}` || tg["InputPath"] != "$.detail" || jsonString(tg["RoleArn"]) != `{"Fn::GetAtt":["`+roleID+`","Arn"]}` || tg["DeadLetterConfig"] == nil {
		t.Errorf("target: got %s, want the batch state machine with $.detail as the events role, with a dead-letter queue", jsonString(tg))
	}
}
