package main

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/statemachine"
)

// wantEnv is the contract's table of environment variables per function.
var wantEnv = map[string][]string{
	"preflight": {"DSMIGRATE_ACCOUNT_ID", "DSMIGRATE_ALLOW_REMOVE", "DSMIGRATE_ALLOW_STANDING_GRANT", "DSMIGRATE_DESTINATION_BUCKETS", "DSMIGRATE_LOCATIONS_CALLER_ROLE_ARN",
		"DSMIGRATE_MAX_GRANTS_PER_SOURCE_BUCKET", "DSMIGRATE_MAX_LIVE_MIGRATIONS", "DSMIGRATE_ROLE_PREFIX", "DSMIGRATE_STATE_MACHINE_ARN"},
	"createroles":     {"DSMIGRATE_ACCOUNT_ID", "DSMIGRATE_DESTINATION_BUCKETS", "DSMIGRATE_ROLE_BOUNDARY_ARN", "DSMIGRATE_ROLE_PREFIX", "DSMIGRATE_SOURCE_BUCKETS"},
	"putbucketpolicy": {"DSMIGRATE_ACCOUNT_ID", "DSMIGRATE_LOCATIONS_CALLER_ROLE_ARN", "DSMIGRATE_ROLE_PREFIX"},
	"createlocations": {"DSMIGRATE_ACCOUNT_ID", "DSMIGRATE_LOCATIONS_CALLER_ROLE_ARN", "DSMIGRATE_ROLE_PREFIX"},
	"starttask":       {"DSMIGRATE_ACCOUNT_ID", "DSMIGRATE_ALLOW_REMOVE", "DSMIGRATE_ALLOW_STANDING_GRANT", "DSMIGRATE_ROLE_PREFIX", "DSMIGRATE_TASK_LOG_GROUP_ARN"},
	"pollexecution":   {"DSMIGRATE_ACCOUNT_ID"},
	"teardown":        {"DSMIGRATE_ACCOUNT_ID", "DSMIGRATE_ROLE_PREFIX"},
	"record":          {"DSMIGRATE_ACCOUNT_ID", "DSMIGRATE_DESTINATION_BUCKETS"},
	"batch": {"DSMIGRATE_ACCOUNT_ID", "DSMIGRATE_ALLOW_REMOVE", "DSMIGRATE_ALLOW_STANDING_GRANT",
		"DSMIGRATE_MAX_GRANTS_PER_SOURCE_BUCKET", "DSMIGRATE_MAX_LIVE_MIGRATIONS", "DSMIGRATE_STATE_MACHINE_ARN"},
}

func TestFunctions(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	fns := resources(app.Dest, "AWS::Lambda::Function")
	if len(fns) != len(allSteps) {
		t.Fatalf("got %d functions, want %d: the migration's steps and the batch function", len(fns), len(allSteps))
	}
	for _, spec := range allSteps {
		t.Run(spec.Dir, func(t *testing.T) {
			p := fns[functionLogicalID(t, app.Dest, cfg.FunctionName(spec.Dir))]
			if p["Runtime"] != "provided.al2023" {
				t.Errorf("Runtime: got %v, want provided.al2023", p["Runtime"])
			}
			if got := strs(p["Architectures"]); !reflect.DeepEqual(got, []string{"arm64"}) {
				t.Errorf("Architectures: got %v, want [arm64]", got)
			}
			if p["Handler"] != "bootstrap" {
				t.Errorf("Handler: got %v, want bootstrap", p["Handler"])
			}
			logging, _ := p["LoggingConfig"].(map[string]any)
			if logging["LogFormat"] != "JSON" || logging["LogGroup"] == nil {
				t.Errorf("LoggingConfig: got %v, want JSON to an explicit log group", logging)
			}
			if got := jsonString(p["TracingConfig"]); got != `{"Mode":"Active"}` {
				t.Errorf("TracingConfig: got %s, want Active", got)
			}
			vars := p["Environment"].(map[string]any)["Variables"].(map[string]any)
			if got := slices.Sorted(maps.Keys(vars)); !reflect.DeepEqual(got, wantEnv[spec.Dir]) {
				t.Errorf("env: got %v, want %v", got, wantEnv[spec.Dir])
			}
			want := map[string]any{
				"DSMIGRATE_ACCOUNT_ID":                   cfg.DestinationAccount,
				"DSMIGRATE_ROLE_PREFIX":                  cfg.NamePrefix,
				"DSMIGRATE_LOCATIONS_CALLER_ROLE_ARN":    "arn:aws:iam::" + cfg.DestinationAccount + ":role/" + cfg.NamePrefix + "-fn-createlocations",
				"DSMIGRATE_ROLE_BOUNDARY_ARN":            "arn:aws:iam::" + cfg.DestinationAccount + ":policy/" + cfg.NamePrefix + "-datasync-boundary",
				"DSMIGRATE_SOURCE_BUCKETS":               strings.Join(cfg.SourceBuckets, ","),
				"DSMIGRATE_DESTINATION_BUCKETS":          strings.Join(cfg.DestinationBuckets, ","),
				"DSMIGRATE_ALLOW_REMOVE":                 "false",
				"DSMIGRATE_ALLOW_STANDING_GRANT":         "false",
				"DSMIGRATE_MAX_GRANTS_PER_SOURCE_BUCKET": "4",
				"DSMIGRATE_MAX_LIVE_MIGRATIONS":          "20",
				// The ARN the state machine below gets: derived, since a reference would be a cycle.
				"DSMIGRATE_STATE_MACHINE_ARN": "arn:aws:states:" + cfg.Region + ":" + cfg.DestinationAccount + ":stateMachine:" + cfg.NamePrefix,
			}
			for k, v := range want {
				if got, ok := vars[k]; ok && got != v {
					t.Errorf("%s: got %v, want %v", k, got, v)
				}
			}
			if v, ok := vars["DSMIGRATE_TASK_LOG_GROUP_ARN"]; ok && jsonString(v) != `{"Fn::GetAtt":["`+logGroupID(t, app.Dest, "/aws/datasync/"+cfg.NamePrefix)+`","Arn"]}` {
				t.Errorf("DSMIGRATE_TASK_LOG_GROUP_ARN: got %s, want the task log group's ARN", jsonString(v))
			}
		})
	}

	// The role that calls CreateLocationS3 is the createlocations function's role.
	roles := resources(app.Dest, "AWS::IAM::Role")
	fn := fns[functionLogicalID(t, app.Dest, cfg.FunctionName("createlocations"))]
	roleID := fn["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
	if got := roles[roleID]["RoleName"]; got != cfg.NamePrefix+"-fn-createlocations" {
		t.Errorf("createlocations role name: got %v, want %s-fn-createlocations", got, cfg.NamePrefix)
	}
}

// logGroupID returns the logical id of the log group named name.
func logGroupID(t *testing.T, tmpl map[string]any, name string) string {
	t.Helper()
	for id, p := range resources(tmpl, "AWS::Logs::LogGroup") {
		if p["LogGroupName"] == name {
			return id
		}
	}
	t.Fatalf("no log group named %s", name)
	return ""
}

// stateMachineID returns the logical id of the only state machine.
func stateMachineID(t *testing.T, tmpl map[string]any) string {
	t.Helper()
	for id, p := range resources(tmpl, "AWS::StepFunctions::StateMachine") {
		subs, _ := p["DefinitionSubstitutions"].(map[string]any)
		if _, batch := subs[statemachine.MigrationStateMachinePlaceholder]; !batch {
			return id
		}
	}
	t.Fatal("no migration state machine")
	return ""
}

// TestFunctionTimeoutsFitTheStates checks each function's timeout is below the
// TimeoutSeconds of every Task state that invokes it, so the function's own timeout (not
// States.Timeout) is what the state machine sees.
func TestFunctionTimeoutsFitTheStates(t *testing.T) {
	app := defaultSynth(t)
	var def struct {
		States map[string]struct {
			Type           string
			Resource       string
			TimeoutSeconds float64
		}
	}
	if err := json.Unmarshal([]byte(app.Definition), &def); err != nil {
		t.Fatal(err)
	}
	for name, st := range def.States {
		if st.Type != "Task" || st.TimeoutSeconds == 0 {
			continue
		}
		for _, spec := range steps {
			if st.Resource == "${"+spec.Placeholder+"}" && spec.TimeoutSeconds >= st.TimeoutSeconds {
				t.Errorf("state %s: function %s timeout %vs, want < TimeoutSeconds %vs", name, spec.Dir, spec.TimeoutSeconds, st.TimeoutSeconds)
			}
		}
	}
}

func TestStateMachineIsTheDefinitionFile(t *testing.T) {
	app := defaultSynth(t)
	sms := resources(app.Dest, "AWS::StepFunctions::StateMachine")
	if len(sms) != 2 {
		t.Fatalf("got %d state machines, want 2: migrations and batches", len(sms))
	}
	sm := sms[stateMachineID(t, app.Dest)]
	if sm["StateMachineType"] != "STANDARD" {
		t.Errorf("StateMachineType: got %v, want STANDARD", sm["StateMachineType"])
	}
	if got := jsonString(sm["TracingConfiguration"]); got != `{"Enabled":true}` {
		t.Errorf("TracingConfiguration: got %s", got)
	}
	logCfg := sm["LoggingConfiguration"].(map[string]any)
	if logCfg["Level"] != "ERROR" || logCfg["IncludeExecutionData"] != false || logCfg["Destinations"] == nil {
		t.Errorf("LoggingConfiguration: got %s, want level ERROR without execution data to a log group (the default)", jsonString(logCfg))
	}

	// CloudFormation substitutes DefinitionSubstitutions into DefinitionString. The string
	// must be the file verbatim, and each placeholder must stand for the function of its
	// step (statemachine.CheckPlaceholders, run by the app, ties the placeholders to the
	// steps): then the deployed document is the file with the right function ARNs.
	defString, ok := sm["DefinitionString"].(string)
	if !ok {
		t.Fatalf("DefinitionString is not a plain string: %s", jsonString(sm["DefinitionString"]))
	}
	if defString != app.Definition {
		t.Errorf("DefinitionString is not the file text verbatim")
	}
	fromTemplate := map[string]string{}
	for name, v := range sm["DefinitionSubstitutions"].(map[string]any) {
		if name == statemachine.EventBusPlaceholder {
			continue // the requests bus (TestOutgoingEventsDoNotStartMigrations)
		}
		m, _ := v.(map[string]any)
		getAtt, _ := m["Fn::GetAtt"].([]any)
		if len(getAtt) != 2 || getAtt[1] != "Arn" {
			t.Fatalf("substitution %s: got %s, want a function's Fn::GetAtt Arn", name, jsonString(v))
		}
		fromTemplate[name] = getAtt[0].(string)
	}
	want := map[string]string{}
	for _, spec := range steps {
		want[spec.Placeholder] = functionLogicalID(t, app.Dest, app.Config.FunctionName(spec.Dir))
	}
	if !maps.Equal(fromTemplate, want) {
		t.Errorf("DefinitionSubstitutions name the functions %v, want %v", fromTemplate, want)
	}

	// The state machine may invoke the seven functions.
	var invoke []string
	for _, st := range statements(app.Dest) {
		if contains(strs(st.S["Action"]), "lambda:InvokeFunction") {
			invoke = append(invoke, strs(st.S["Resource"])...)
		}
	}
	for _, spec := range steps {
		id := functionLogicalID(t, app.Dest, app.Config.FunctionName(spec.Dir))
		if !contains(invoke, jsonString(map[string]any{"Fn::GetAtt": []any{id, "Arn"}})) {
			t.Errorf("state machine may not invoke %s", spec.Dir)
		}
	}
}

// TestDefinitionIsReadFromDisk proves the template follows the file: a different file
// gives a different definition.
// TestStateMachineLoggingIsConfigurable: dsmigrate:stateMachineLogLevel and
// dsmigrate:logExecutionData reach the state machine, and cdk-nag accepts either choice.
func TestStateMachineLoggingIsConfigurable(t *testing.T) {
	app := synthApp(t, map[string]any{ctxStateMachineLogLevel: "ALL", ctxLogExecutionData: true}, "")
	for _, sm := range resources(app.Dest, "AWS::StepFunctions::StateMachine") {
		logCfg := sm["LoggingConfiguration"].(map[string]any)
		if logCfg["Level"] != "ALL" || logCfg["IncludeExecutionData"] != true {
			t.Errorf("LoggingConfiguration: got %s, want ALL with execution data", jsonString(logCfg))
		}
	}
	if got := nagFindings(app.Stacks.Destination.Stack); len(got) != 0 {
		t.Errorf("cdk-nag findings with ALL: %v", got)
	}
}

func TestDefinitionIsReadFromDisk(t *testing.T) {
	var def map[string]any
	if err := json.Unmarshal([]byte(standInDefinition()), &def); err != nil {
		t.Fatal(err)
	}
	def["Comment"] = "marker 6f1d0c2e"
	b, _ := json.Marshal(def)
	app := synthApp(t, nil, string(b))
	app.DestTmpl.HasResourceProperties(jsii.String("AWS::StepFunctions::StateMachine"), &map[string]any{
		"DefinitionString": string(b),
	})
}

// TestBuildAppChecksTheDefinition: a definition whose placeholders are not the steps' is
// refused with the file's name before any stack is built.
func TestBuildAppChecksTheDefinition(t *testing.T) {
	root, ctx := loadCDKContext(t)
	paths := defaultPaths(root)
	paths.Definition = filepath.Join(t.TempDir(), "definition.asl.json")
	writeFile(t, paths.Definition, strings.Replace(standInDefinition(), "${PollExecutionFunctionArn}", "${PollFunctionArn}", 1))
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(t.TempDir())})
	_, err := buildApp(app, paths)
	if err == nil || !strings.Contains(err.Error(), paths.Definition) || !strings.Contains(err.Error(), "${PollFunctionArn} is not a step's placeholder") {
		t.Fatalf("got %v, want the definition refused for ${PollFunctionArn}", err)
	}
	if n := len(*app.Node().Children()); n != 0 {
		t.Errorf("got %d constructs in the app, want none", n)
	}
}

func TestCheckSettings(t *testing.T) {
	if err := checkSettings(statemachine.AllSteps(), settings); err != nil {
		t.Fatalf("got %v, want every step with settings", err)
	}
	extra := append(statemachine.AllSteps(), statemachine.Step{Dir: "deletetask", Placeholder: "DeleteTaskFunctionArn", State: "DeleteTask"})
	if err := checkSettings(extra, settings); err == nil || !strings.Contains(err.Error(), "step deletetask has no description and timeout") {
		t.Errorf("a step without settings: got %v", err)
	}
	if err := checkSettings(statemachine.AllSteps()[1:], settings); err == nil || !strings.Contains(err.Error(), "settings for preflight, which is not in statemachine.Steps") {
		t.Errorf("settings without a step: got %v", err)
	}
}

func TestRequestRuleStartsTheStateMachineWithTheDetail(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	smID := stateMachineID(t, app.Dest)
	if rules := resources(app.Dest, "AWS::Events::Rule"); len(rules) != 3 {
		t.Fatalf("got %d rules, want 3: request, batch request and alerts (no schedule in cdk.json)", len(rules))
	}
	busID, bus := resourceNamed(t, app.Dest, "AWS::Events::EventBus", "Name", cfg.NamePrefix+"-requests")
	if len(bus) != 2 { // Name and Description
		t.Errorf("bus: got %s, want a plain bus", jsonString(bus))
	}
	_, r := resourceNamed(t, app.Dest, "AWS::Events::Rule", "Name", cfg.NamePrefix+"-request")
	if got := jsonString(r["EventBusName"]); got != `{"Ref":"`+busID+`"}` {
		t.Errorf("EventBusName: got %s, want the requests bus %s", got, busID)
	}
	if got, want := jsonString(r["EventPattern"]), `{"account":["`+cfg.DestinationAccount+`"],"detail-type":["`+RequestEventDetailType+`"],"source":["`+RequestEventSource+`"]}`; got != want {
		t.Errorf("EventPattern: got %s, want %s", got, want)
	}
	targets := asList(r["Targets"])
	if len(targets) != 1 {
		t.Fatalf("got %d targets, want 1", len(targets))
	}
	tg := targets[0].(map[string]any)
	if got := jsonString(tg["Arn"]); got != `{"Ref":"`+smID+`"}` {
		t.Errorf("target: got %s, want the state machine %s", got, smID)
	}
	if tg["InputPath"] != "$.detail" {
		t.Errorf("InputPath: got %v, want $.detail", tg["InputPath"])
	}
	if tg["DeadLetterConfig"] == nil || tg["RetryPolicy"] == nil {
		t.Errorf("target: got %s, want a DeadLetterConfig and a RetryPolicy", jsonString(tg))
	}
	roleID, _ := resourceNamed(t, app.Dest, "AWS::IAM::Role", "RoleName", cfg.NamePrefix+"-events")
	if got := jsonString(tg["RoleArn"]); got != `{"Fn::GetAtt":["`+roleID+`","Arn"]}` {
		t.Errorf("target RoleArn: got %s, want the events role %s", got, roleID)
	}
	if n := len(resources(app.Dest, "AWS::Events::EventBusPolicy")); n != 0 {
		t.Errorf("got %d bus policies, want none when dsmigrate:requestProducers is empty (only account B may put)", n)
	}
}

// TestRequestProducers: listed producer accounts are named in the bus policy, allowed only
// PutEvents of request events, and matched by the rule.
func TestRequestProducers(t *testing.T) {
	app := synthApp(t, map[string]any{ctxRequestProducers: []any{"333333333333", "444444444444"}}, "")
	cfg := app.Config
	_, r := resourceNamed(t, app.Dest, "AWS::Events::Rule", "Name", cfg.NamePrefix+"-request")
	if got := strs(r["EventPattern"].(map[string]any)["account"]); !reflect.DeepEqual(got, []string{cfg.DestinationAccount, "333333333333", "444444444444"}) {
		t.Errorf("rule account: got %v, want B and the two producers", got)
	}
	st := busPolicyStatement(t, app)
	if got := jsonString(st["Principal"]); got != `{"AWS":["arn:aws:iam::333333333333:root","arn:aws:iam::444444444444:root"]}` {
		t.Errorf("Principal: got %s, want the two producers", got)
	}
	if st["Effect"] != "Allow" || st["Action"] != "events:PutEvents" {
		t.Errorf("statement: got %s, want Allow events:PutEvents", jsonString(st))
	}
	if got, want := jsonString(st["Condition"]), `{"StringEquals":{"events:detail-type":["`+RequestEventDetailType+`","`+BatchEventDetailType+`"],"events:source":"`+RequestEventSource+`"}}`; got != want {
		t.Errorf("Condition: got %s, want %s", got, want)
	}
	if got := nagFindings(app.Stacks.Destination.Stack); len(got) != 0 {
		t.Errorf("cdk-nag findings with producers: %v", got)
	}
}

// busPolicyStatement returns the one statement of the requests bus policy, with its
// intrinsics resolved as CloudFormation would for the synthesized account and region.
func busPolicyStatement(t *testing.T, app synthesized) map[string]any {
	t.Helper()
	pols := resources(app.Dest, "AWS::Events::EventBusPolicy")
	if len(pols) != 1 {
		t.Fatalf("got %d bus policies, want 1", len(pols))
	}
	for _, p := range pols {
		st, ok := p["Statement"].(map[string]any)
		if !ok {
			t.Fatalf("bus policy: got %s, want one Statement", jsonString(p))
		}
		if st["Sid"] == nil || st["Sid"] != p["StatementId"] {
			t.Errorf("bus policy: Sid %v and StatementId %v, want both set and equal", st["Sid"], p["StatementId"])
		}
		return st
	}
	return nil
}

func TestScheduleFromContext(t *testing.T) {
	var request map[string]any
	if err := json.Unmarshal([]byte(scheduledRequestJSON), &request); err != nil {
		t.Fatal(err)
	}
	app := synthApp(t, map[string]any{ctxSchedule: "rate(1 day)", ctxScheduledRequest: request}, "")
	app.DestTmpl.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(4)) // request, batch request, alerts, schedule
	app.DestTmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), &map[string]any{
		"ScheduleExpression": "rate(1 day)",
		"Targets": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
			"Input": jsonString(request),
		})}),
	})
	if got := nagFindings(app.Stacks.Destination.Stack); len(got) != 0 {
		t.Errorf("cdk-nag findings with a schedule: %v", got)
	}
}

func TestNoIAMStatementAllowsAllActions(t *testing.T) {
	app := defaultSynth(t)
	for _, tmpl := range []map[string]any{app.Dest, app.Source} {
		for _, st := range statements(tmpl) {
			if st.S["NotAction"] != nil && st.S["Effect"] == "Allow" {
				t.Errorf("%s: Allow with NotAction %v", st.Where, st.S["NotAction"])
			}
			for _, a := range strs(st.S["Action"]) {
				if a == "*" || (st.S["Effect"] == "Allow" && strings.HasSuffix(a, ":*")) {
					t.Errorf("%s: Allow of action %q", st.Where, a)
				}
			}
		}
	}
}

// TestExecutionRolesAreScoped checks the rules of the issue on every function policy:
// IAM only on the per-migration roles, PassRole only to DataSync, AssumeRole only on the
// function's own role in A, and "*" only with actions that need it.
func TestExecutionRolesAreScoped(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	a := arnsFor(cfg)
	// Actions whose Service Authorization Reference entry lists no resource type.
	needStar := []string{
		"xray:PutTraceSegments", "xray:PutTelemetryRecords", "datasync:CreateLocationS3",
		"datasync:ListLocations", "datasync:ListTasks", "datasync:ListTaskExecutions",
	}
	passRoles := 0
	for _, st := range statements(app.Dest) {
		if !strings.Contains(st.Where, "Role") || strings.HasPrefix(st.Where, "StateMachine") || strings.HasPrefix(st.Where, "BatchStateMachine") {
			continue
		}
		actions, res := strs(st.S["Action"]), strs(st.S["Resource"])
		for _, act := range actions {
			switch {
			case act == "iam:PassRole":
				passRoles++
				if got := jsonString(st.S["Condition"]); got != `{"StringEquals":{"iam:PassedToService":"datasync.amazonaws.com"}}` {
					t.Errorf("%s: PassRole condition: got %s, want iam:PassedToService datasync.amazonaws.com", st.Where, got)
				}
				// starttask passes only the config roles, which upload task reports.
				if strings.HasPrefix(st.Where, "StartTaskRole") {
					if !reflect.DeepEqual(res, []string{a.configRoles()}) {
						t.Errorf("%s: %s on %v, want only the config roles %s", st.Where, act, res, a.configRoles())
					}
					continue
				}
				fallthrough
			case strings.HasPrefix(act, "iam:") && act != "iam:CreateServiceLinkedRole":
				if !reflect.DeepEqual(slices.Sorted(slices.Values(res)), slices.Sorted(slices.Values(a.datasyncRoles))) {
					t.Errorf("%s: %s on %v, want only %v", st.Where, act, res, a.datasyncRoles)
				}
			case act == "iam:CreateServiceLinkedRole":
				if !reflect.DeepEqual(res, []string{a.dataSyncServiceLinkedRole}) {
					t.Errorf("%s: %s on %v, want only DataSync's service-linked role", st.Where, act, res)
				}
				if got := jsonString(st.S["Condition"]); got != `{"StringEquals":{"iam:AWSServiceName":"datasync.amazonaws.com"}}` {
					t.Errorf("%s: CreateServiceLinkedRole condition: got %s, want iam:AWSServiceName datasync.amazonaws.com", st.Where, got)
				}
			case act == "sts:AssumeRole":
				want := map[string]string{"PreflightRole": "-source-read", "PutBucketPolicyRole": "-source-policy-writer"}
				var role string
				for prefix, suffix := range want {
					if strings.HasPrefix(st.Where, prefix) {
						role = "arn:aws:iam::" + cfg.SourceAccount + ":role/" + cfg.NamePrefix + suffix
					}
				}
				if role == "" || !reflect.DeepEqual(res, []string{role}) {
					t.Errorf("%s: sts:AssumeRole on %v, want only preflight on the read role and putbucketpolicy on the policy-writer role (%s)", st.Where, res, role)
				}
			}
			if contains(res, "*") && !contains(needStar, act) {
				t.Errorf("%s: %s on *, but the action supports resource-level permissions", st.Where, act)
			}
		}
		for _, r := range res {
			if hasPrefixAny(r, "arn:aws:iam::") && !strings.Contains(r, ":role/dsmigrate/"+cfg.NamePrefix+"/"+cfg.NamePrefix+"-") &&
				!strings.Contains(r, ":role/"+cfg.NamePrefix+"-") && r != a.dataSyncServiceLinkedRole {
				t.Errorf("%s: IAM resource %s outside %s-* and the deployment's role path", st.Where, r, cfg.NamePrefix)
			}
		}
	}
	if passRoles != 2 {
		t.Errorf("got %d PassRole grants, want 2 (createlocations, starttask)", passRoles)
	}
	for _, r := range a.datasyncRoles {
		// The functions' own roles must not match the patterns they may modify, nor the
		// roles of a deployment whose prefix starts with this one.
		for _, spec := range steps {
			if globMatch(r, cfg.ExecutionRoleArn(spec.Dir)) {
				t.Errorf("pattern %s matches the execution role %s", r, cfg.ExecutionRoleArn(spec.Dir))
			}
		}
		other := cfg.NamePrefix + "-x"
		for _, name := range []string{naming.TransferRoleName(other, "m"), naming.ConfigRoleName(other, "m")} {
			if arn := naming.RoleArn("aws", cfg.DestinationAccount, other, name); globMatch(r, arn) {
				t.Errorf("pattern %s matches %s, a role of the deployment %q", r, arn, other)
			}
		}
	}
}

// globMatch matches IAM's * wildcard.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return true
}

func TestTaskLogGroupAcceptsDataSync(t *testing.T) {
	app := defaultSynth(t)
	pols := resources(app.Dest, "AWS::Logs::ResourcePolicy")
	if len(pols) != 1 {
		t.Fatalf("got %d log resource policies, want 1", len(pols))
	}
	for _, p := range pols {
		doc := jsonString(p["PolicyDocument"])
		for _, want := range []string{`\"Service\":\"datasync.amazonaws.com\"`, `logs:PutLogEvents`, `aws:SourceAccount`} {
			if !strings.Contains(doc, want) {
				t.Errorf("task log group policy %s lacks %s", doc, want)
			}
		}
	}
}

// nagFindings returns the cdk-nag errors and warnings (unsuppressed findings) of a stack:
// the error and warning metadata that the rule pack's aspect adds to the constructs when
// the stack is synthesized.
func nagFindings(stack awscdk.Stack) []string {
	assertions.Annotations_FromStack(stack) // synthesizes the stack, which runs the aspects
	var out []string
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		for _, m := range *c.Node().Metadata() {
			data := jsonString(m.Data)
			if (*m.Type == "aws:cdk:error" || *m.Type == "aws:cdk:warning") && strings.Contains(data, "AwsSolutions-") {
				out = append(out, *c.Node().Path()+": "+data)
			}
		}
	}
	return out
}

func TestNoUnsuppressedNagFindings(t *testing.T) {
	app := defaultSynth(t)
	for _, s := range []awscdk.Stack{app.Stacks.Destination.Stack, app.Stacks.SourceAccess.Stack} {
		if got := nagFindings(s); len(got) != 0 {
			t.Errorf("%s: %d cdk-nag findings:\n%s", *s.StackName(), len(got), strings.Join(got, "\n"))
		}
	}
}

// TestNagReportsUnsuppressedFindings shows the check above can fail: the same rule pack on
// a queue without the suppression reports an error.
func TestNagReportsUnsuppressedFindings(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("Canary"), nil)
	awssqs.NewQueue(stack, jsii.String("Queue"), &awssqs.QueueProps{EnforceSSL: jsii.Bool(true)})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	got := nagFindings(stack)
	if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "AwsSolutions-SQS3") }) {
		t.Errorf("got findings %v, want AwsSolutions-SQS3", got)
	}
}

// TestExtraRegionsReachEveryFunction: every function validates the request, so each one
// gets dsmigrate:extraRegions as DSMIGRATE_EXTRA_REGIONS.
func TestExtraRegionsReachEveryFunction(t *testing.T) {
	app := synthApp(t, map[string]any{ctxExtraRegions: []any{"ap-northeast-9", "eu-south-7"}}, "")
	fns := resources(app.Dest, "AWS::Lambda::Function")
	for _, spec := range steps {
		p := fns[functionLogicalID(t, app.Dest, app.Config.FunctionName(spec.Dir))]
		vars := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		if got := vars["DSMIGRATE_EXTRA_REGIONS"]; got != "ap-northeast-9,eu-south-7" {
			t.Errorf("%s: DSMIGRATE_EXTRA_REGIONS: got %v, want ap-northeast-9,eu-south-7", spec.Dir, got)
		}
	}
}

// TestTeardownDeletesOnlyTheDeploymentsResources: every delete the teardown function may
// make is conditioned on the deployment's tag (TestAttackTeardownDeletesAnotherDeployment
// shows the conditions matter).
func TestTeardownDeletesOnlyTheDeploymentsResources(t *testing.T) {
	app := defaultSynth(t)
	prefix := app.Config.NamePrefix
	tag := map[string]any{"StringEquals": map[string]any{}}
	for _, c := range []struct{ sid, key string }{
		{"DeleteDeploymentTasksAndLocations", "aws:ResourceTag/dsmigrate:deployment"},
		{"ReadDeploymentTags", "aws:ResourceTag/dsmigrate:deployment"},
		{"DeleteDeploymentRoles", "iam:ResourceTag/dsmigrate:deployment"},
		{"ReadDeploymentRoles", "iam:ResourceTag/dsmigrate:deployment"},
	} {
		tag["StringEquals"] = map[string]any{c.key: prefix}
		app.DestTmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), &map[string]any{
			"PolicyName": assertions.Match_StringLikeRegexp(jsii.String("^DeleteResourcesRole")),
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Sid": c.sid, "Effect": "Allow", "Condition": tag,
			})})},
		})
	}
	// No statement of the role deletes without a condition.
	for id, p := range resources(app.Dest, "AWS::IAM::Policy") {
		if !strings.HasPrefix(id, "DeleteResourcesRole") {
			continue
		}
		for _, s := range asList(p["PolicyDocument"].(map[string]any)["Statement"]) {
			st := s.(map[string]any)
			for _, a := range strs(st["Action"]) {
				if strings.Contains(a, ":Delete") && st["Condition"] == nil {
					t.Errorf("%s allows %s without a condition", st["Sid"], a)
				}
			}
		}
	}
}
