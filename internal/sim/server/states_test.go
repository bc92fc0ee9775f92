package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
)

func simAdmin(t *testing.T, inst *Instance, path string, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(inst.URL+"/_sim/"+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func sfnClient(inst *Instance, key, secret string) *sfn.Client {
	return sfn.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(inst.URL),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
}

// TestListExecutions: the executions the local runner registers are listed with the
// SDK's paginator, newest first, filtered by status, to a caller whose identity policy
// allows states:ListExecutions; others get AccessDeniedException.
func TestListExecutions(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	sm := "arn:aws:states:us-east-1:" + acctB + ":stateMachine:dsmigrate"
	if got := simAdmin(t, inst, "states/executions", map[string]string{"stateMachineArn": sm, "name": "early", "status": "RUNNING"}); got != 404 {
		t.Errorf("execution of an unregistered state machine: got status %d, want 404", got)
	}
	if got := simAdmin(t, inst, "states/state-machines", map[string]string{"arn": sm}); got != 200 {
		t.Fatalf("register state machine: got status %d", got)
	}
	for i := range 5 {
		simAdmin(t, inst, "states/executions", map[string]string{"stateMachineArn": sm, "name": fmt.Sprintf("run-%d", i), "status": "RUNNING"})
	}
	simAdmin(t, inst, "states/executions", map[string]string{"stateMachineArn": sm, "name": "run-1", "status": "SUCCEEDED"})

	admin := sfnClient(inst, "AKIAADMINB", "sb")
	var names []string
	p := sfn.NewListExecutionsPaginator(admin, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), StatusFilter: sfntypes.ExecutionStatusRunning, MaxResults: 2})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range page.Executions {
			names = append(names, aws.ToString(e.Name))
			if e.Status != sfntypes.ExecutionStatusRunning || aws.ToString(e.StateMachineArn) != sm ||
				!strings.HasPrefix(aws.ToString(e.ExecutionArn), "arn:aws:states:us-east-1:"+acctB+":execution:dsmigrate:") || e.StartDate == nil {
				t.Errorf("got %+v, want a RUNNING execution of %s", e, sm)
			}
		}
	}
	if got := strings.Join(names, ","); got != "run-4,run-3,run-2,run-0" || pages != 2 {
		t.Errorf("got %s in %d pages, want run-4,run-3,run-2,run-0 in 2", got, pages)
	}
	all, err := admin.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm)})
	if err != nil || len(all.Executions) != 5 {
		t.Errorf("without a filter: got %d executions (%v), want 5", len(all.Executions), err)
	}

	_, err = sfnClient(inst, "AKIAREADERB", "sr").ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "states:ListExecutions") {
		t.Errorf("reader: got %v, want AccessDeniedException naming states:ListExecutions", err)
	}
	_, err = admin.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm + "-other")})
	var missing *sfntypes.StateMachineDoesNotExist
	if !errors.As(err, &missing) {
		t.Errorf("unknown state machine: got %v, want StateMachineDoesNotExist", err)
	}
}
