package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// resourceNamed returns the logical id and properties of the resource of type typ whose
// property prop is name.
func resourceNamed(t *testing.T, tmpl map[string]any, typ, prop, name string) (string, map[string]any) {
	t.Helper()
	for id, p := range resources(tmpl, typ) {
		if p[prop] == name {
			return id, p
		}
	}
	t.Fatalf("no %s with %s %s", typ, prop, name)
	return "", nil
}

func alertsTopicID(t *testing.T, app synthesized) string {
	t.Helper()
	id, _ := resourceNamed(t, app.Dest, "AWS::SNS::Topic", "TopicName", app.Config.NamePrefix+"-alerts")
	return id
}

func TestAlertsRuleMatchesOurFailedExecutions(t *testing.T) {
	app := defaultSynth(t)
	smID := stateMachineID(t, app.Dest)
	_, rule := resourceNamed(t, app.Dest, "AWS::Events::Rule", "Name", app.Config.NamePrefix+"-alerts")
	if rule["EventBusName"] != nil {
		t.Errorf("EventBusName: got %v, want the default bus", rule["EventBusName"])
	}
	want := map[string]any{
		"source":      []any{"aws.states"},
		"detail-type": []any{"Step Functions Execution Status Change"},
		"detail": map[string]any{
			"status":          []any{"FAILED", "TIMED_OUT", "ABORTED"},
			"stateMachineArn": []any{map[string]any{"Ref": smID}, app.Config.BatchStateMachineArn()},
		},
	}
	if got := jsonString(rule["EventPattern"]); got != jsonString(want) {
		t.Errorf("EventPattern: got %s, want %s", got, jsonString(want))
	}

	targets := asList(rule["Targets"])
	if len(targets) != 1 {
		t.Fatalf("got %d targets, want 1", len(targets))
	}
	tg := targets[0].(map[string]any)
	if got, want := jsonString(tg["Arn"]), `{"Ref":"`+alertsTopicID(t, app)+`"}`; got != want {
		t.Errorf("target: got %s, want the alerts topic %s", got, want)
	}
	if got, want := jsonString(tg["DeadLetterConfig"]), `{"Arn":{"Fn::GetAtt":["`+queueID(t, app)+`","Arn"]}}`; got != want {
		t.Errorf("DeadLetterConfig: got %s, want the trigger dead-letter queue %s", got, want)
	}
	if tg["RetryPolicy"] == nil {
		t.Errorf("target: got %s, want a RetryPolicy", jsonString(tg))
	}
}

// queueID is the logical id of the only SQS queue (the dead-letter queue).
func queueID(t *testing.T, app synthesized) string {
	t.Helper()
	id, _ := resourceNamed(t, app.Dest, "AWS::SQS::Queue", "QueueName", app.Config.NamePrefix+"-trigger-dlq")
	return id
}

// TestAlertMessage applies the rule's input transformer to real-shaped FAILED events the
// way EventBridge does (each <var> replaced by the JSON-escaped value, each line a JSON
// string) and reads the message an operator gets: for a failure, and for a revoke that
// failed after the data was copied, whose cause says where the grant was left.
func TestAlertMessage(t *testing.T) {
	app := defaultSynth(t)
	_, rule := resourceNamed(t, app.Dest, "AWS::Events::Rule", "Name", app.Config.NamePrefix+"-alerts")
	tr, ok := asList(rule["Targets"])[0].(map[string]any)["InputTransformer"].(map[string]any)
	if !ok {
		t.Fatalf("target has no InputTransformer: %s", jsonString(rule["Targets"]))
	}
	for _, tt := range []struct{ file, wantError string }{
		{"execution-failed-event.json", "PermissionError"},
		{"execution-failed-grant-left-event.json", "TransientError"},
	} {
		t.Run(tt.file, func(t *testing.T) { checkAlertMessage(t, tr, tt.file, tt.wantError) })
	}
}

func checkAlertMessage(t *testing.T, tr map[string]any, file, wantError string) {
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var event map[string]any
	if err := json.Unmarshal(b, &event); err != nil {
		t.Fatal(err)
	}
	detail := event["detail"].(map[string]any)

	template := tr["InputTemplate"].(string)
	for name, path := range tr["InputPathsMap"].(map[string]any) {
		v := lookup(t, event, path.(string))
		s, ok := v.(string)
		if !ok {
			t.Fatalf("%s (%s) is %T in the event, want a string", name, path, v)
		}
		escaped, _ := json.Marshal(s)
		template = strings.ReplaceAll(template, "<"+name+">", string(escaped[1:len(escaped)-1]))
	}
	if m := regexp.MustCompile(`<[\w.-]+>`).FindString(template); m != "" {
		t.Errorf("template uses %s, which InputPathsMap does not define", m)
	}
	var lines []string
	for _, l := range strings.Split(template, "\n") {
		var s string
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("template line %s is not a JSON string: %v", l, err)
		}
		lines = append(lines, s)
	}
	msg := strings.Join(lines, "\n")

	wantLink := "https://ap-northeast-1.console.aws.amazon.com/states/home?region=ap-northeast-1#/v2/executions/details/" + detail["executionArn"].(string)
	for _, want := range []string{
		"execution media-2026-11 ended FAILED.",
		"Error: " + wantError,
		"Cause: " + detail["cause"].(string),
		"Console: " + wantLink,
		`When the cause says "Grant left behind"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

// lookup resolves a $.a.b path in v.
func lookup(t *testing.T, v any, path string) any {
	t.Helper()
	for _, k := range strings.Split(strings.TrimPrefix(path, "$."), ".") {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("path %s: %v is not an object", path, v)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("path %s: no %q in the event", path, k)
		}
	}
	return v
}

// TestAlertsTopicPublishers: the topic is encrypted with a rotating key of this stack;
// EventBridge publishes as a role that only the alerts rule of this account can make it
// assume, so neither the topic policy nor the key policy names events.amazonaws.com; the
// dead-letter alarm's CloudWatch grants in both are limited to that alarm in this account;
// nothing may publish without TLS.
func TestAlertsTopicPublishers(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	topicID, topic := resourceNamed(t, app.Dest, "AWS::SNS::Topic", "TopicName", cfg.NamePrefix+"-alerts")
	ref := `{"Ref":"` + topicID + `"}`

	getAtt, _ := topic["KmsMasterKeyId"].(map[string]any)["Fn::GetAtt"].([]any)
	if len(getAtt) != 2 || getAtt[1] != "Arn" {
		t.Fatalf("KmsMasterKeyId: got %s, want the Arn of a key in this stack", jsonString(topic["KmsMasterKeyId"]))
	}
	keyID := getAtt[0].(string)
	key, ok := resources(app.Dest, "AWS::KMS::Key")[keyID]
	if !ok {
		t.Fatalf("KmsMasterKeyId: %s is not an AWS::KMS::Key", keyID)
	}
	if key["EnableKeyRotation"] != true {
		t.Errorf("key EnableKeyRotation: got %v, want true", key["EnableKeyRotation"])
	}

	alarmArn := "arn:aws:cloudwatch:" + cfg.Region + ":" + cfg.DestinationAccount + ":alarm:" + cfg.NamePrefix + "-trigger-dlq-not-empty"
	onlyTheAlarm := `{"ArnEquals":{"aws:SourceArn":"` + alarmArn + `"},"StringEquals":{"aws:SourceAccount":"` + cfg.DestinationAccount + `"}}`
	var cloudwatchKey int
	for _, st := range asList(key["KeyPolicy"].(map[string]any)["Statement"]) {
		st := st.(map[string]any)
		switch jsonString(st["Principal"]) {
		case `{"Service":"events.amazonaws.com"}`:
			t.Errorf("key policy grants EventBridge (%s); it publishes as the publisher role", jsonString(st))
		case `{"Service":"cloudwatch.amazonaws.com"}`:
			cloudwatchKey++
			if got := jsonString(st["Condition"]); got != onlyTheAlarm {
				t.Errorf("key policy CloudWatch condition: got %s, want %s", got, onlyTheAlarm)
			}
			if got := strs(st["Action"]); !reflect.DeepEqual(got, []string{"kms:Decrypt", "kms:GenerateDataKey*"}) {
				t.Errorf("key policy CloudWatch actions: got %v", got)
			}
		}
	}
	if cloudwatchKey != 1 {
		t.Errorf("got %d key policy statements for CloudWatch, want 1", cloudwatchKey)
	}

	var cloudwatchTopic, denyPlain int
	for _, st := range statements(app.Dest) {
		if !contains(strs(st.S["Resource"]), ref) || !contains(strs(st.S["Action"]), "sns:Publish") {
			continue
		}
		switch p := jsonString(st.S["Principal"]); {
		case st.S["Effect"] == "Deny" && jsonString(st.S["Condition"]) == `{"Bool":{"aws:SecureTransport":"false"}}`:
			denyPlain++
		case p == `{"Service":"cloudwatch.amazonaws.com"}`:
			cloudwatchTopic++
			if got := jsonString(st.S["Condition"]); got != onlyTheAlarm {
				t.Errorf("topic policy CloudWatch condition: got %s, want %s", got, onlyTheAlarm)
			}
		case strings.Contains(p, "events.amazonaws.com"):
			t.Errorf("topic policy grants EventBridge (%s); it publishes as the publisher role", jsonString(st.S))
		}
	}
	if cloudwatchTopic != 1 || denyPlain != 1 {
		t.Errorf("topic policy: %d CloudWatch grants, %d TLS denials; want 1 and 1", cloudwatchTopic, denyPlain)
	}

	// The publisher role: trusted by EventBridge for the alerts rule of this account only,
	// allowed to publish to this topic with this key.
	roleID, role := resourceNamed(t, app.Dest, "AWS::IAM::Role", "RoleName", cfg.NamePrefix+"-alerts-publisher")
	ruleArn := "arn:aws:events:" + cfg.Region + ":" + cfg.DestinationAccount + ":rule/" + cfg.NamePrefix + "-alerts"
	checkEventsTrust(t, role, cfg.DestinationAccount, ruleArn)
	var publish, useKey bool
	for _, st := range statements(app.Dest) {
		if !strings.HasPrefix(st.Where, "AlertsPublisherRole") {
			continue
		}
		acts, res := strs(st.S["Action"]), jsonString(st.S["Resource"])
		publish = publish || (reflect.DeepEqual(acts, []string{"sns:Publish"}) && res == ref)
		useKey = useKey || (contains(acts, "kms:GenerateDataKey*") && res == `{"Fn::GetAtt":["`+keyID+`","Arn"]}`)
	}
	if !publish || !useKey {
		t.Errorf("publisher role: sns:Publish on the topic %v, the key %v; want both", publish, useKey)
	}
	_, rule := resourceNamed(t, app.Dest, "AWS::Events::Rule", "Name", cfg.NamePrefix+"-alerts")
	if got := jsonString(asList(rule["Targets"])[0].(map[string]any)["RoleArn"]); got != `{"Fn::GetAtt":["`+roleID+`","Arn"]}` {
		t.Errorf("alerts target RoleArn: got %s, want the publisher role", got)
	}

	out := app.Dest["Outputs"].(map[string]any)["AlertsTopicArn"]
	if got := jsonString(out.(map[string]any)["Value"]); got != ref {
		t.Errorf("output AlertsTopicArn: got %s, want %s", got, ref)
	}
}

// checkEventsTrust requires a role trust policy of one statement: events.amazonaws.com may
// assume the role for the given rules of this account only.
func checkEventsTrust(t *testing.T, role map[string]any, account string, ruleArns ...string) {
	t.Helper()
	trust := asList(role["AssumeRolePolicyDocument"].(map[string]any)["Statement"])
	if len(trust) != 1 {
		t.Fatalf("trust: got %s, want one statement", jsonString(trust))
	}
	st := trust[0].(map[string]any)
	if jsonString(st["Principal"]) != `{"Service":"events.amazonaws.com"}` || st["Action"] != "sts:AssumeRole" {
		t.Errorf("trust: got %s, want events.amazonaws.com sts:AssumeRole", jsonString(st))
	}
	cond := st["Condition"].(map[string]any)
	if got := jsonString(cond["StringEquals"]); got != `{"aws:SourceAccount":"`+account+`"}` {
		t.Errorf("trust aws:SourceAccount: got %s", got)
	}
	if got := strs(cond["ArnEquals"].(map[string]any)["aws:SourceArn"]); !reflect.DeepEqual(got, ruleArns) {
		t.Errorf("trust aws:SourceArn: got %v, want %v", got, ruleArns)
	}
}

// TestDeadLetterAlarm: a message in the trigger dead-letter queue raises an alarm to the
// alerts topic.
func TestDeadLetterAlarm(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	_, alarm := resourceNamed(t, app.Dest, "AWS::CloudWatch::Alarm", "AlarmName", cfg.NamePrefix+"-trigger-dlq-not-empty")
	want := map[string]any{
		"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Statistic": "Maximum", "Period": 300.0,
		"Threshold": 1.0, "EvaluationPeriods": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
	}
	for k, v := range want {
		if alarm[k] != v {
			t.Errorf("%s: got %v, want %v", k, alarm[k], v)
		}
	}
	if got, want := jsonString(alarm["Dimensions"]), `[{"Name":"QueueName","Value":{"Fn::GetAtt":["`+queueID(t, app)+`","QueueName"]}}]`; got != want {
		t.Errorf("Dimensions: got %s, want %s", got, want)
	}
	if got, want := jsonString(alarm["AlarmActions"]), `[{"Ref":"`+alertsTopicID(t, app)+`"}]`; got != want {
		t.Errorf("AlarmActions: got %s, want the alerts topic %s", got, want)
	}
}

// TestEventsRoleTrust: EventBridge may start executions as the events role for this
// deployment's request rule (and schedule rule, when there is one) in this account only.
func TestEventsRoleTrust(t *testing.T) {
	for _, schedule := range []bool{false, true} {
		overrides := map[string]any{}
		if schedule {
			overrides = map[string]any{ctxSchedule: "rate(1 day)", ctxScheduledRequest: scheduledRequestJSON}
		}
		app := synthApp(t, overrides, "")
		cfg := app.Config
		_, role := resourceNamed(t, app.Dest, "AWS::IAM::Role", "RoleName", cfg.NamePrefix+"-events")
		want := []string{"arn:aws:events:" + cfg.Region + ":" + cfg.DestinationAccount + ":rule/" + cfg.NamePrefix + "-requests/" + cfg.NamePrefix + "-request",
			"arn:aws:events:" + cfg.Region + ":" + cfg.DestinationAccount + ":rule/" + cfg.NamePrefix + "-requests/" + cfg.NamePrefix + "-batch-request"}
		if schedule {
			want = append(want, "arn:aws:events:"+cfg.Region+":"+cfg.DestinationAccount+":rule/"+cfg.NamePrefix+"-schedule")
		}
		checkEventsTrust(t, role, cfg.DestinationAccount, want...)
		// Every rule that targets the state machine is one the trust names.
		for _, r := range resources(app.Dest, "AWS::Events::Rule") {
			if strings.HasSuffix(r["Name"].(string), "-alerts") {
				continue
			}
			arn := cfg.RuleArn("", r["Name"].(string))
			if r["EventBusName"] != nil {
				arn = cfg.RuleArn(cfg.RequestBusName(), r["Name"].(string))
			}
			if !contains(want, arn) {
				t.Errorf("rule %s (%s) starts executions but the events role does not trust it", r["Name"], arn)
			}
		}
	}
}

func TestAlertEmailSubscription(t *testing.T) {
	tests := []struct {
		name string
		give any // dsmigrate:alertEmail; nil = absent
		want []string
	}{
		{name: "absent", give: nil},
		{name: "empty", give: ""},
		{name: "set", give: "ops@example.com", want: []string{"ops@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := synthApp(t, map[string]any{ctxAlertEmail: tt.give}, "")
			topicRef := `{"Ref":"` + alertsTopicID(t, app) + `"}`
			var got []string
			for _, s := range resources(app.Dest, "AWS::SNS::Subscription") {
				if s["Protocol"] != "email" || jsonString(s["TopicArn"]) != topicRef {
					t.Errorf("subscription: got %s, want email to the alerts topic", jsonString(s))
				}
				got = append(got, s["Endpoint"].(string))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("email subscriptions: got %v, want %v", got, tt.want)
			}
			if f := nagFindings(app.Stacks.Destination.Stack); len(f) != 0 {
				t.Errorf("cdk-nag findings: %v", f)
			}
		})
	}
}

func TestExecutionConsoleURL(t *testing.T) {
	tests := []struct {
		give string // region
		want string
	}{
		{"ap-northeast-1", "https://ap-northeast-1.console.aws.amazon.com/states/home?region=ap-northeast-1#/v2/executions/details/ARN"},
		{"cn-north-1", "https://cn-north-1.console.amazonaws.cn/states/home?region=cn-north-1#/v2/executions/details/ARN"},
		{"us-gov-west-1", "https://console.amazonaws-us-gov.com/states/home?region=us-gov-west-1#/v2/executions/details/ARN"},
	}
	for _, tt := range tests {
		if got := executionConsoleURL(Config{Region: tt.give}, "ARN"); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.give, got, tt.want)
		}
	}
}
