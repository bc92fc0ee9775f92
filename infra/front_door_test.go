package main

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/sim/iampolicy"
	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// TestAttackForeignProducerPutsRequest: EventBridge is not simulated, so the front door is
// proven on the synthesized bus policy with the simulator's IAM evaluator (AWS's policy
// evaluation logic: a principal of another account needs the bus policy to allow it) and
// on the rule's event pattern. A principal with every permission in its own account, in an
// account not in dsmigrate:requestProducers, cannot put a request on the bus; with the
// guard removed (a bus policy that does not name its producers) it can. A listed producer
// can put requests, and only requests. Should the policy be widened anyway, the rule's
// account filter still ignores the foreign account's events.
func TestAttackForeignProducerPutsRequest(t *testing.T) {
	const producer, foreign = "333333333333", "444444444444"
	app := synthApp(t, map[string]any{ctxRequestProducers: []any{producer}}, "")
	cfg := app.Config
	busArn := "arn:aws:events:" + cfg.Region + ":" + cfg.DestinationAccount + ":event-bus/" + cfg.RequestBusName()

	st := busPolicyStatement(t, app)
	st["Resource"] = busArn // the bus's Fn::GetAtt Arn, as CloudFormation resolves it
	guarded := busPolicy(t, st)
	unguarded := map[string]any{}
	for k, v := range st {
		unguarded[k] = v
	}
	unguarded["Principal"] = map[string]any{"AWS": "*"}
	withoutGuard := busPolicy(t, unguarded)

	admin, err := iampolicy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	put := func(account, source, detailType string, bus *iampolicy.Policy) bool {
		ctx := identity.Context{}
		ctx.Set("events:source", source)
		ctx.Set("events:detail-type", detailType)
		return iampolicy.Evaluate(iampolicy.Input{
			Request: iampolicy.Request{
				Principal:       identity.SessionPrincipal(account, "admin", "AROAADMIN", "attack"),
				Action:          "events:PutEvents",
				Resource:        busArn,
				ResourceAccount: cfg.DestinationAccount,
				Context:         ctx,
			},
			IdentityPolicies: []*iampolicy.Policy{admin},
			ResourcePolicy:   bus,
		}).Allowed
	}

	if !put(foreign, RequestEventSource, RequestEventDetailType, withoutGuard) {
		t.Fatalf("without the guard: a foreign account's request was denied; the check below could not fail")
	}
	if put(foreign, RequestEventSource, RequestEventDetailType, guarded) {
		t.Errorf("attack: account %s, not a listed producer, may put a migration request on %s", foreign, busArn)
	}
	if !put(producer, RequestEventSource, RequestEventDetailType, guarded) {
		t.Errorf("the listed producer %s may not put a migration request", producer)
	}
	if put(producer, "aws.s3", RequestEventDetailType, guarded) || put(producer, RequestEventSource, "Object Created", guarded) {
		t.Errorf("the listed producer may put events other than migration requests on the bus")
	}

	// The rule matches the event's account, which EventBridge sets to the sender's account.
	_, rule := resourceNamed(t, app.Dest, "AWS::Events::Rule", "Name", cfg.NamePrefix+"-request")
	accounts := strs(rule["EventPattern"].(map[string]any)["account"])
	if slices.Contains(accounts, foreign) || !slices.Contains(accounts, producer) || !slices.Contains(accounts, cfg.DestinationAccount) {
		t.Errorf("rule account filter: got %v, want B and %s only", accounts, producer)
	}
}

// busPolicy wraps one bus policy statement in a policy document and parses it.
func busPolicy(t *testing.T, st map[string]any) *iampolicy.Policy {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{st}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := iampolicy.Parse(string(b))
	if err != nil {
		t.Fatalf("bus policy %s: %v", b, err)
	}
	return p
}
