package localrun

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/localrun/cfn"
	"github.com/dsmigrate/dsmigrate/statemachine"
)

// destinationTemplate is a destination stand-in with the given resources (a JSON object).
func destinationTemplate(t *testing.T, resources string) *cfn.Template {
	t.Helper()
	tm, err := cfn.ParseTemplate([]byte(`{"Resources":`+resources+`}`), "test.template.json", "TestStack")
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// stepFunctionsTemplate builds a destination stand-in: every step's function, each with a role, a policy
// resource attached to it, and the state machine's substitutions naming them.
func stepFunctionsTemplate(extraStatement string) string {
	var b strings.Builder
	b.WriteString(`{`)
	subs := map[string]string{}
	for _, step := range statemachine.AllSteps() {
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
	tm := destinationTemplate(t, stepFunctionsTemplate(""))
	r, byDir, err := NewDestinationResolver(tm, "aws", "222222222222", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ReadDestination(r, byDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Functions) != len(Functions) {
		t.Fatalf("got %d functions, want %d", len(spec.Functions), len(Functions))
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
		{name: "unresolvable statement", give: stepFunctionsTemplate(`{"Effect":"Allow","Action":"sqs:SendMessage","Resource":{"Fn::GetAtt":["Queue","Arn"]}}`), wantErr: `unknown resource "Queue"`},
		{name: "unknown managed policy", give: strings.Replace(stepFunctionsTemplate(""), "service-role/AWSLambdaBasicExecutionRole", "AdministratorAccess", 1), wantErr: "cannot reproduce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := destinationTemplate(t, tt.give)
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
