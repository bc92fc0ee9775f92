package statemachine

import (
	"bytes"
	"fmt"
	"testing"
)

// Definition returns a copy of the definition with its placeholders as they are.
func Definition() []byte { return bytes.Clone(definition) }

// LocalFunctionArns returns the placeholder values the scenario tests give the local
// driver: the function ARNs arn:aws:lambda:<region>:<accountID>:function:dsmigrate-<function
// dir> of docs/reference.md ("Functions"), and the bus of the outgoing events.
func LocalFunctionArns(region, accountID string) map[string]string {
	values := make(map[string]string, len(steps))
	for _, s := range steps {
		values[s.Placeholder] = fmt.Sprintf("arn:aws:lambda:%s:%s:function:dsmigrate-%s", region, accountID, s.Dir)
	}
	values[EventBusPlaceholder] = "dsmigrate-requests"
	return values
}

func TestLocalFunctionArns(t *testing.T) {
	got := LocalFunctionArns("us-east-1", "222222222222")
	if want := "arn:aws:lambda:us-east-1:222222222222:function:dsmigrate-pollexecution"; got["PollExecutionFunctionArn"] != want {
		t.Errorf("got %q, want %q", got["PollExecutionFunctionArn"], want)
	}
}
