package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
)

// TestRoleBoundary: the boundary has the fixed name createroles derives, and allows only
// S3, only the DataSync actions, only on the listed buckets: reads on the source buckets,
// the write set on the destination buckets.
func TestRoleBoundary(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	pols := resources(app.Dest, "AWS::IAM::ManagedPolicy")
	var boundary map[string]any
	for _, p := range pols {
		if p["ManagedPolicyName"] == naming.BoundaryPolicyName(cfg.NamePrefix) {
			boundary = p
		}
	}
	if boundary == nil {
		t.Fatalf("no managed policy named %s among %v", naming.BoundaryPolicyName(cfg.NamePrefix), pols)
	}
	if p, ok := boundary["Path"]; ok && p != "/" {
		t.Errorf("boundary path: got %v, want / (its ARN is derived)", p)
	}
	if boundary["Roles"] != nil || boundary["Users"] != nil || boundary["Groups"] != nil {
		t.Errorf("the boundary is attached as a permissions policy: %v", boundary)
	}
	src, dst := map[string]bool{}, map[string]bool{}
	for _, b := range cfg.SourceBuckets {
		src["arn:aws:s3:::"+b] = true
		src["arn:aws:s3:::"+b+"/*"] = true
	}
	for _, b := range cfg.DestinationBuckets {
		dst["arn:aws:s3:::"+b] = true
		dst["arn:aws:s3:::"+b+"/*"] = true
	}
	read := append(slices.Clone(policy.SourceBucketActions), policy.SourceObjectActions...)
	write := append(slices.Clone(policy.DestinationBucketActions), policy.DestinationObjectActions...)
	doc := boundary["PolicyDocument"].(map[string]any)
	// The KMS statements: the listed source keys and the destination account's keys, each
	// only through S3 (kms:ViaService).
	kmsWant := map[string]string{
		"DecryptListedSourceKeysThroughS3": `{"Action":"kms:Decrypt","Condition":{"StringLike":{"kms:ViaService":"s3.*.amazonaws.com"}},"Effect":"Allow","Resource":` + jsonString(cfg.SourceKMSKeys[0]) + `,"Sid":"DecryptListedSourceKeysThroughS3"}`,
		"UseDestinationKeysThroughS3": `{"Action":["kms:Decrypt","kms:Encrypt","kms:GenerateDataKey"],"Condition":{"StringEquals":{"kms:ViaService":"s3.` + cfg.Region + `.amazonaws.com"}},"Effect":"Allow","Resource":"arn:aws:kms:` +
			cfg.Region + `:` + cfg.DestinationAccount + `:key/*","Sid":"UseDestinationKeysThroughS3"}`,
	}
	var sids []string
	for _, s := range asList(doc["Statement"]) {
		st := s.(map[string]any)
		sids = append(sids, st["Sid"].(string))
		if want, ok := kmsWant[st["Sid"].(string)]; ok {
			if got := jsonString(st); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
			continue
		}
		if st["Effect"] != "Allow" || st["Condition"] != nil || st["NotAction"] != nil || st["NotResource"] != nil {
			t.Errorf("%v: want a plain Allow", st["Sid"])
		}
		for _, r := range strs(st["Resource"]) {
			for _, a := range strs(st["Action"]) {
				switch {
				case src[r] && slices.Contains(read, a):
				case dst[r] && slices.Contains(write, a):
				default:
					t.Errorf("%v: %s on %s is not a DataSync action on a listed bucket", st["Sid"], a, r)
				}
			}
		}
	}
	if len(sids) != 6 {
		t.Errorf("got statements %v, want the six of boundaryStatements", sids)
	}
}

// TestCreateRolesPolicy: createroles may create a role only inside the boundary, under
// the path, tagged; change only the inline policy of a bounded role of this deployment;
// and nothing that removes or changes a boundary or a trust policy.
func TestCreateRolesPolicy(t *testing.T) {
	app := defaultSynth(t)
	cfg := app.Config
	a := arnsFor(cfg)
	boundary := naming.BoundaryArn("aws", cfg.DestinationAccount, cfg.NamePrefix)
	got := map[string]string{} // action -> condition JSON
	for _, st := range statements(app.Dest) {
		if !strings.HasPrefix(st.Where, "CreateRolesRole") {
			continue
		}
		for _, act := range strs(st.S["Action"]) {
			if !strings.HasPrefix(act, "iam:") {
				continue
			}
			if !slices.Equal(slices.Sorted(slices.Values(strs(st.S["Resource"]))), slices.Sorted(slices.Values(a.datasyncRoles))) {
				t.Errorf("%s on %v, want only the deployment's role path %v", act, strs(st.S["Resource"]), a.datasyncRoles)
			}
			got[act] = jsonString(st.S["Condition"])
		}
	}
	if keys := slices.Sorted(func(yield func(string) bool) {
		for k := range got {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(keys, []string{"iam:CreateRole", "iam:GetRole", "iam:PutRolePolicy", "iam:TagRole"}) {
		t.Errorf("createroles may %v, want exactly CreateRole, GetRole, PutRolePolicy, TagRole", keys)
	}
	tags := `"ForAllValues:StringEquals":{"aws:TagKeys":["dsmigrate:deployment","dsmigrate:migration-id"]},"Null":{"aws:RequestTag/dsmigrate:migration-id":"false"}`
	want := map[string]string{
		"iam:CreateRole":    `{` + tags + `,"StringEquals":{"aws:RequestTag/dsmigrate:deployment":"` + cfg.NamePrefix + `","iam:PermissionsBoundary":"` + boundary + `"}}`,
		"iam:TagRole":       `{` + tags + `,"StringEquals":{"aws:RequestTag/dsmigrate:deployment":"` + cfg.NamePrefix + `"}}`,
		"iam:PutRolePolicy": `{"StringEquals":{"iam:PermissionsBoundary":"` + boundary + `","iam:ResourceTag/dsmigrate:deployment":"` + cfg.NamePrefix + `"}}`,
		"iam:GetRole":       `{"StringEquals":{"iam:ResourceTag/dsmigrate:deployment":"` + cfg.NamePrefix + `"}}`,
	}
	for act, w := range want {
		if got[act] != w {
			t.Errorf("%s condition:\ngot  %s\nwant %s", act, got[act], w)
		}
	}
}

// TestDataSyncScopedByTag: every DataSync action on a resource requires this deployment's
// tag on it (aws:ResourceTag) or on the resource it creates (aws:RequestTag); the only
// exceptions are the actions the Service Authorization Reference gives no resource type.
func TestDataSyncScopedByTag(t *testing.T) {
	app := defaultSynth(t)
	prefix := app.Config.NamePrefix
	noResourceType := []string{"datasync:ListLocations", "datasync:ListTasks", "datasync:ListTaskExecutions"}
	seen := 0
	for _, st := range statements(app.Dest) {
		if !strings.Contains(st.Where, "Role") || strings.HasPrefix(st.Where, "StateMachine") {
			continue
		}
		cond := jsonString(st.S["Condition"])
		for _, act := range strs(st.S["Action"]) {
			if !strings.HasPrefix(act, "datasync:") || slices.Contains(noResourceType, act) {
				continue
			}
			seen++
			byResource := strings.Contains(cond, `"aws:ResourceTag/dsmigrate:deployment":"`+prefix+`"`)
			byRequest := strings.Contains(cond, `"aws:RequestTag/dsmigrate:deployment":"`+prefix+`"`)
			switch act {
			case "datasync:CreateLocationS3", "datasync:TagResource":
				if !byRequest {
					t.Errorf("%s: %s without aws:RequestTag of the deployment: %s", st.Where, act, cond)
				}
			case "datasync:CreateTask", "datasync:StartTaskExecution":
				if !byRequest || !byResource {
					t.Errorf("%s: %s needs aws:RequestTag and aws:ResourceTag of the deployment: %s", st.Where, act, cond)
				}
			default:
				if !byResource {
					t.Errorf("%s: %s without aws:ResourceTag of the deployment: %s", st.Where, act, cond)
				}
			}
		}
	}
	if seen < 8 {
		t.Errorf("checked %d DataSync grants, want the createlocations, starttask and pollexecution ones", seen)
	}
}

// TestEveryStatementHasASid: a reviewer can point at each grant by name.
func TestEveryStatementHasASid(t *testing.T) {
	app := defaultSynth(t)
	for _, st := range statements(app.Dest) {
		if !strings.Contains(st.Where, "Role") && !strings.HasPrefix(st.Where, "DataSyncRoleBoundary") {
			continue
		}
		if strings.HasPrefix(st.Where, "StateMachine") || strings.HasPrefix(st.Where, "BatchStateMachine") || strings.HasPrefix(st.Where, "EventsRole") || strings.HasPrefix(st.Where, "AlertsPublisherRole") {
			// GrantInvoke, GrantStartExecution, GrantPublish and the logging statements CDK
			// writes without a Sid; docs/operate.md lists each ("—") with its reason.
			continue
		}
		if sid, _ := st.S["Sid"].(string); sid == "" {
			if a := strs(st.S["Action"]); !slices.Contains(a, "logs:PutLogEvents") && !slices.Contains(a, "xray:PutTraceSegments") {
				t.Errorf("%s: statement %v has no Sid", st.Where, st.S)
			}
		}
	}
}
