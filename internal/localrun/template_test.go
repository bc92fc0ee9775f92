package localrun

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/statemachine"
)

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %s: %v", s, err)
	}
	return v
}

func testTemplate(t *testing.T, resources string) *Template {
	t.Helper()
	var tm Template
	if err := json.Unmarshal([]byte(`{"Parameters":{"BootstrapVersion":{"Type":"String","Default":"/cdk-bootstrap/hnb659fds/version"}},"Resources":`+resources+`}`), &tm); err != nil {
		t.Fatal(err)
	}
	tm.StackName, tm.Path = "TestStack", "test.template.json"
	return &tm
}

func TestResolve(t *testing.T) {
	tm := testTemplate(t, `{
	  "FnRole": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "dsmigrate-fn-x"}},
	  "PathRole": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/svc/"}},
	  "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Join": ["", ["/aws/lambda/", "x"]]}}},
	  "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
	  "Odd": {"Type": "AWS::SQS::Queue", "Properties": {}}
	}`)
	r := &Resolver{T: tm, Partition: "aws", Account: "222222222222", Region: "ap-northeast-1", FunctionNames: map[string]string{"Fn": "dsmigrate-x"}}
	tests := []struct {
		name    string
		give    string
		want    string
		wantErr string
	}{
		{name: "pseudo parameters", give: `{"Fn::Join":[":",[{"Ref":"AWS::Partition"},{"Ref":"AWS::Region"},{"Ref":"AWS::AccountId"}]]}`, want: `"aws:ap-northeast-1:222222222222"`},
		{name: "role arn from name", give: `{"Fn::GetAtt":["FnRole","Arn"]}`, want: `"arn:aws:iam::222222222222:role/dsmigrate-fn-x"`},
		{name: "role arn with path and generated name", give: `{"Fn::GetAtt":"PathRole.Arn"}`, want: `"arn:aws:iam::222222222222:role/svc/TestStack-PathRole"`},
		{name: "ref role is its name", give: `{"Ref":"FnRole"}`, want: `"dsmigrate-fn-x"`},
		{name: "log group arn", give: `{"Fn::GetAtt":["Logs","Arn"]}`, want: `"arn:aws:logs:ap-northeast-1:222222222222:log-group:/aws/lambda/x:*"`},
		{name: "function arn", give: `{"Fn::GetAtt":["Fn","Arn"]}`, want: `"arn:aws:lambda:ap-northeast-1:222222222222:function:dsmigrate-x"`},
		{name: "sub with variables and attributes", give: `{"Fn::Sub":["arn:${AWS::Partition}:s3:::${B}/* ${FnRole.Arn} ${!Literal}",{"B":"team-a"}]}`, want: `"arn:aws:s3:::team-a/* arn:aws:iam::222222222222:role/dsmigrate-fn-x ${Literal}"`},
		{name: "sub string form", give: `{"Fn::Sub":"${AWS::Region}-${FnRole}"}`, want: `"ap-northeast-1-dsmigrate-fn-x"`},
		{name: "select split", give: `{"Fn::Select":[1,{"Fn::Split":["/","a/b/c"]}]}`, want: `"b"`},
		{name: "nested in a policy", give: `{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":[{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":s3:::b"]]}]}]}`, want: `{"Statement":[{"Action":"s3:ListBucket","Effect":"Allow","Resource":["arn:aws:s3:::b"]}]}`},
		{name: "no value drops the key", give: `{"A":{"Ref":"AWS::NoValue"},"B":1}`, want: `{"B":1}`},
		{name: "parameter default", give: `{"Ref":"BootstrapVersion"}`, want: `"/cdk-bootstrap/hnb659fds/version"`},
		{name: "unknown intrinsic fails", give: `{"Fn::ImportValue":"x"}`, wantErr: "Fn::ImportValue is not supported"},
		{name: "unknown resource fails", give: `{"Fn::GetAtt":["Nope","Arn"]}`, wantErr: `unknown resource "Nope"`},
		{name: "unsupported attribute fails", give: `{"Fn::GetAtt":["Odd","Arn"]}`, wantErr: "Odd.Arn (AWS::SQS::Queue) is not supported"},
		{name: "condition fails", give: `{"Fn::If":["C","a","b"]}`, wantErr: "Fn::If is not supported"},
		{name: "failure inside sub fails", give: `{"Fn::Sub":"${Odd.QueueUrl}"}`, wantErr: "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Resolve(mustJSON(t, tt.give))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want %s", err, tt.want)
			}
			if !reflect.DeepEqual(got, mustJSON(t, tt.want)) {
				b, _ := json.Marshal(got)
				t.Fatalf("got %s, want %s", b, tt.want)
			}
		})
	}
}

// sixFunctions builds a destination stand-in: six functions, each with a role, a policy
// resource attached to it, and the state machine's substitutions naming them.
func sixFunctions(extraStatement string) string {
	var b strings.Builder
	b.WriteString(`{`)
	subs := map[string]string{}
	for _, step := range statemachine.Steps() {
		f := step.Dir
		id := strings.ToUpper(f[:1]) + f[1:]
		fmt.Fprintf(&b, `"%sRole": {"Type":"AWS::IAM::Role","Properties":{"RoleName":"dsmigrate-fn-%s","AssumeRolePolicyDocument":{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]},
		  "ManagedPolicyArns":[{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]}]}},`, id, f)
		stmt := `{"Effect":"Allow","Action":"datasync:ListTasks","Resource":"*"}`
		if f == "createlocations" && extraStatement != "" {
			stmt = extraStatement
		}
		fmt.Fprintf(&b, `"%sPolicy": {"Type":"AWS::IAM::Policy","Properties":{"PolicyName":"%sPolicy","Roles":[{"Ref":"%sRole"}],"PolicyDocument":{"Statement":[%s]}}},`, id, id, id, stmt)
		fmt.Fprintf(&b, `"%sFunction%d": {"Type":"AWS::Lambda::Function","Properties":{"Role":{"Fn::GetAtt":["%sRole","Arn"]},"Timeout":30,
		  "Environment":{"Variables":{"DSMIGRATE_ACCOUNT_ID":{"Ref":"AWS::AccountId"},"DSMIGRATE_LOCATIONS_CALLER_ROLE_ARN":{"Fn::GetAtt":["CreatelocationsRole","Arn"]}}}}},`, id, len(f), id)
		subs[step.Placeholder] = fmt.Sprintf(`{"Fn::GetAtt":["%sFunction%d","Arn"]}`, id, len(f))
	}
	b.WriteString(`"Machine":{"Type":"AWS::StepFunctions::StateMachine","Properties":{"DefinitionSubstitutions":{`)
	i := 0
	for k, v := range subs {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%s", k, v)
		i++
	}
	b.WriteString(`}}}}`)
	return b.String()
}

func TestReadDestination(t *testing.T) {
	tm := testTemplate(t, sixFunctions(""))
	r, byDir, err := NewDestinationResolver(tm, "aws", "222222222222", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ReadDestination(r, byDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Functions) != 6 {
		t.Fatalf("got %d functions, want 6", len(spec.Functions))
	}
	f := spec.Functions[3]
	if f.Dir != "createlocations" || f.Name != "dsmigrate-createlocations" || f.Arn != "arn:aws:lambda:us-east-1:222222222222:function:dsmigrate-createlocations" {
		t.Errorf("got %s %s %s, want createlocations and the contract's local name", f.Dir, f.Name, f.Arn)
	}
	if got, want := f.Env["DSMIGRATE_LOCATIONS_CALLER_ROLE_ARN"], "arn:aws:iam::222222222222:role/dsmigrate-fn-createlocations"; got != want {
		t.Errorf("got env %s, want %s", got, want)
	}
	if got := string(f.Role.Policies["CreatelocationsPolicy"]); got != `{"Statement":[{"Action":"datasync:ListTasks","Effect":"Allow","Resource":"*"}]}` {
		t.Errorf("got policy %s", got)
	}
	if len(f.Role.SkippedManaged) != 1 {
		t.Errorf("got skipped managed policies %v, want the basic execution role", f.Role.SkippedManaged)
	}
	if got := spec.Substitutions["StartTaskFunctionArn"]; got != "arn:aws:lambda:us-east-1:222222222222:function:dsmigrate-starttask" {
		t.Errorf("got substitution %s", got)
	}
}

func TestReadDestinationFailsLoudly(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		wantErr string
	}{
		{name: "unresolvable statement", give: sixFunctions(`{"Effect":"Allow","Action":"sqs:SendMessage","Resource":{"Fn::GetAtt":["Queue","Arn"]}}`), wantErr: `unknown resource "Queue"`},
		{name: "unknown managed policy", give: strings.Replace(sixFunctions(""), "service-role/AWSLambdaBasicExecutionRole", "AdministratorAccess", 1), wantErr: "cannot reproduce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := testTemplate(t, tt.give)
			r, byDir, err := NewDestinationResolver(tm, "aws", "222222222222", "us-east-1")
			if err == nil {
				_, err = ReadDestination(r, byDir)
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckPrerequisitesNamesMakeTargets(t *testing.T) {
	t.Setenv("DSMIGRATE_CDK_OUT", "")
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o600)
	o := Options{Root: root, Arch: "amd64"}
	err := o.CheckPrerequisites()
	if err == nil {
		t.Fatal("got no error for an empty checkout, want missing prerequisites")
	}
	for _, want := range []string{"make deps", "make build-local", "make synth", "aws-lambda-rie", "dist-amd64/preflight/bootstrap"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to mention %q", err, want)
		}
	}
}

func TestSampleSetDeterministic(t *testing.T) {
	a, b := DemoSamples.Objects(), DemoSamples.Objects()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("got two different object lists from one seed, want the same")
	}
	if n := len(a); n < 200 || n > 400 {
		t.Errorf("got %d objects, want a few hundred", n)
	}
	seen := map[string]bool{}
	var large int
	for _, o := range a {
		if seen[o.Key] {
			t.Errorf("got duplicate key %s", o.Key)
		}
		seen[o.Key] = true
		if o.Size >= 20<<20 {
			large++
		}
	}
	if large != 2 {
		t.Errorf("got %d objects ≥ 20 MiB, want 2", large)
	}
	o := a[0]
	if string(o.Body()) != string(o.Body()) || len(o.Body()) != int(o.Size) {
		t.Error("got different bodies for one object, want deterministic content")
	}
}

func TestInventoryDiff(t *testing.T) {
	a := InventoryOf(mustJSON(t, `{"roles":[{"arn":"r1"}],"tasks":[],"buckets":[{"name":"b","policy":"{}"}]}`).(map[string]any))
	b := InventoryOf(mustJSON(t, `{"roles":[{"arn":"r1"},{"arn":"r2"}],"tasks":[],"buckets":[{"name":"b"}]}`).(map[string]any))
	got := a.Diff(b)
	if !reflect.DeepEqual(got["roles"], []string{"+r2"}) || len(got["tasks"]) != 0 {
		t.Fatalf("got %v, want roles +r2 only", got)
	}
	if a.Policies["b"] != "{}" || b.Policies["b"] != "" {
		t.Fatalf("got policies %v %v", a.Policies, b.Policies)
	}
}

func TestCompressPath(t *testing.T) {
	got := compressPath([]string{"Start", "Poll", "Check", "Wait", "Poll", "Check", "Done"})
	if want := "Start → Poll×2 → Check×2 → Wait → Done"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
