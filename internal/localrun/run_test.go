package localrun

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/datasync"
	"github.com/dsmigrate/dsmigrate/internal/sim/server"
)

// TestExecutionsWithBytes decodes a state dump as the simulator writes it and finds the
// executions that have written bytes to the destination.
func TestExecutionsWithBytes(t *testing.T) {
	ds := datasync.State{Executions: []datasync.ExecutionState{
		{Arn: "arn:exec-launching", Status: "LAUNCHING", Start: time.Now()},
		{Arn: "arn:exec-copying", Status: "TRANSFERRING", Start: time.Now(),
			Describe: datasync.DescribeTaskExecutionOutput{TaskExecutionArn: "arn:exec-copying", BytesTransferred: 10, BytesWritten: 7}},
		{Arn: "arn:exec-read-only", Status: "TRANSFERRING", Start: time.Now(),
			Describe: datasync.DescribeTaskExecutionOutput{TaskExecutionArn: "arn:exec-read-only", BytesTransferred: 10}},
	}}
	dump, err := json.Marshal(server.State{Region: "us-east-1", DataSync: &ds, State: &ds})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_sim/state" {
			http.NotFound(w, r)
			return
		}
		w.Write(dump)
	}))
	defer ts.Close()
	sim := &Sim{Addr: ts.URL, http: ts.Client()}
	st, err := sim.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := executionsWithBytes(st), []string{"arn:exec-copying"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := executionsWithBytes(&server.State{}); got != nil {
		t.Errorf("got %v for a simulator without DataSync, want none", got)
	}
}
