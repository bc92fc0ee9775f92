package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestEventBridgePutEvents drives the simulated PutEvents with the SDK's eventbridge
// client: a role allowed to put only one source and detail-type on one bus gets its event
// through, the others come back as failed entries, and GET /_sim/events lists what was
// accepted.
func TestEventBridgePutEvents(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	iamc, _, _ := clients(inst, "AKIAADMINB", "sb", "")
	const bus = "dsmigrate-requests"
	busArn := "arn:aws:events:us-east-1:" + acctB + ":event-bus/" + bus
	if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("publisher"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"states.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"events:PutEvents","Resource":"` + busArn + `",
		"Condition":{"StringEquals":{"events:source":"dsmigrate.migration","events:detail-type":["Migration Succeeded","Migration Failed"]}}}]}`
	if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("publisher"), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	creds := roleCreds(t, inst, "arn:aws:iam::"+acctB+":role/publisher")
	eb := eventbridge.NewFromConfig(awsCfg(inst, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, "us-east-1"))

	entry := func(source, detailType, bus, detail string) ebtypes.PutEventsRequestEntry {
		return ebtypes.PutEventsRequestEntry{Source: aws.String(source), DetailType: aws.String(detailType), EventBusName: aws.String(bus), Detail: aws.String(detail)}
	}
	out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		entry("dsmigrate.migration", "Migration Succeeded", bus, `{"migrationId":"m1"}`),
		entry("dsmigrate.request", "DataSync Migration Requested", bus, `{"migrationId":"evil"}`),
		entry("dsmigrate.migration", "Migration Failed", "default", `{"migrationId":"m1"}`),
		entry("dsmigrate.migration", "Migration Failed", bus, `not json`),
	}})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, e := range out.Entries {
		codes = append(codes, aws.ToString(e.ErrorCode))
	}
	want := []string{"", "AccessDeniedException", "AccessDeniedException", "MalformedDetail"}
	if out.FailedEntryCount != 3 || len(codes) != 4 || codes[0] != want[0] || codes[1] != want[1] || codes[2] != want[2] || codes[3] != want[3] {
		t.Errorf("got FailedEntryCount %d, error codes %q; want 3, %q", out.FailedEntryCount, codes, want)
	}
	if aws.ToString(out.Entries[0].EventId) == "" {
		t.Errorf("the accepted entry has no EventId")
	}

	res, err := http.Get(inst.URL + "/_sim/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var listed struct{ Events []PutEvent }
	if err := json.NewDecoder(res.Body).Decode(&listed); err != nil {
		t.Fatal(err)
	}
	if len(listed.Events) != 1 {
		t.Fatalf("got %d events kept, want 1: %+v", len(listed.Events), listed.Events)
	}
	e := listed.Events[0]
	if e.EventBusArn != busArn || e.Source != "dsmigrate.migration" || e.DetailType != "Migration Succeeded" || string(e.Detail) != `{"migrationId":"m1"}` || e.ID != aws.ToString(out.Entries[0].EventId) {
		t.Errorf("got event %+v, want the accepted entry on %s", e, busArn)
	}
}

type testCreds struct{ AccessKeyID, SecretAccessKey, SessionToken string }

// roleCreds asks the admin API for credentials of a session of roleArn.
func roleCreds(t *testing.T, inst *Instance, roleArn string) testCreds {
	t.Helper()
	resp, err := http.Post(inst.URL+"/_sim/credentials", "application/json", strings.NewReader(`{"roleArn":"`+roleArn+`","sessionName":"test"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c struct {
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
		SessionToken    string `json:"sessionToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || c.AccessKeyID == "" {
		t.Fatalf("credentials for %s: %v", roleArn, err)
	}
	return testCreds{c.AccessKeyID, c.SecretAccessKey, c.SessionToken}
}
