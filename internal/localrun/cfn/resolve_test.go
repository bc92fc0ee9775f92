package cfn

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %s: %v", s, err)
	}
	return v
}

// testTemplate is a template of the stack TestStack with the bootstrap parameter CDK
// adds and the given resources (a JSON object).
func testTemplate(t *testing.T, resources string) *Template {
	t.Helper()
	tm, err := ParseTemplate([]byte(`{"Parameters":{"BootstrapVersion":{"Type":"String","Default":"/cdk-bootstrap/hnb659fds/version"}},"Resources":`+resources+`}`), "test.template.json", "TestStack")
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestResolve(t *testing.T) {
	tm := testTemplate(t, `{
	  "FnRole": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "dsmigrate-fn-x"}},
	  "PathRole": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/svc/"}},
	  "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Join": ["", ["/aws/lambda/", "x"]]}}},
	  "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
	  "Boundary": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"ManagedPolicyName": "b", "Path": "/dsmigrate/"}},
	  "Odd": {"Type": "AWS::SQS::Queue", "Properties": {}}
	}`)
	r := &Resolver{Template: tm, Partition: "aws", Account: "222222222222", Region: "ap-northeast-1", FunctionNames: map[string]string{"Fn": "dsmigrate-x"}}
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
		{name: "managed policy arn with path", give: `{"Ref":"Boundary"}`, want: `"arn:aws:iam::222222222222:policy/dsmigrate/b"`},
		{name: "function arn", give: `{"Fn::GetAtt":["Fn","Arn"]}`, want: `"arn:aws:lambda:ap-northeast-1:222222222222:function:dsmigrate-x"`},
		{name: "sub with variables and attributes", give: `{"Fn::Sub":["arn:${AWS::Partition}:s3:::${B}/* ${FnRole.Arn} ${!Literal}",{"B":"team-a"}]}`, want: `"arn:aws:s3:::team-a/* arn:aws:iam::222222222222:role/dsmigrate-fn-x ${Literal}"`},
		{name: "sub string form", give: `{"Fn::Sub":"${AWS::Region}-${FnRole}"}`, want: `"ap-northeast-1-dsmigrate-fn-x"`},
		{name: "select split", give: `{"Fn::Select":[1,{"Fn::Split":["/","a/b/c"]}]}`, want: `"b"`},
		{name: "nested in a policy", give: `{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":[{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":s3:::b"]]}]}]}`, want: `{"Statement":[{"Action":"s3:ListBucket","Effect":"Allow","Resource":["arn:aws:s3:::b"]}]}`},
		{name: "no value drops the key", give: `{"A":{"Ref":"AWS::NoValue"},"B":1}`, want: `{"B":1}`},
		{name: "parameter default", give: `{"Ref":"BootstrapVersion"}`, want: `"/cdk-bootstrap/hnb659fds/version"`},
		{name: "unknown intrinsic fails", give: `{"Fn::ImportValue":"x"}`, wantErr: "Fn::ImportValue is not supported"},
		{name: "ref of a non-string fails", give: `{"Ref":1}`, wantErr: "argument of Ref is not a string"},
		{name: "ref to unknown fails", give: `{"Ref":"Nope"}`, wantErr: `unknown parameter or resource "Nope"`},
		{name: "ref to unsupported type fails", give: `{"Ref":"Odd"}`, wantErr: "Ref to Odd (AWS::SQS::Queue) is not supported"},
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
