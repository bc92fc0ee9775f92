package localrun

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/sim/server"
)

func TestInventoryDiff(t *testing.T) {
	a := InventoryOf(&server.State{Roles: []server.RoleState{{Arn: "r1"}}, Buckets: []server.BucketState{{Name: "b", Policy: json.RawMessage(`{"Version":"2012-10-17","Statement":[]}`)}}})
	b := InventoryOf(&server.State{Roles: []server.RoleState{{Arn: "r1"}, {Arn: "r2"}}, Buckets: []server.BucketState{{Name: "b", Policy: json.RawMessage(`null`)}}})
	got := a.Diff(b)
	if !reflect.DeepEqual(got["roles"], []string{"+r2"}) || len(got["tasks"]) != 0 {
		t.Fatalf("got %v, want roles +r2 only", got)
	}
	if want := `{"Statement":[],"Version":"2012-10-17"}`; a.Policies["b"] != want || b.Policies["b"] != "" {
		t.Fatalf("got policies %q %q, want %s (keys sorted) and none", a.Policies["b"], b.Policies["b"], want)
	}
}
