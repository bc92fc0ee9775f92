package starttask

import (
	"context"
	"strings"
	"testing"

	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

// TestPreview: a plan request creates and starts nothing, and says what a migration
// would do with the task and its execution.
func TestPreview(t *testing.T) {
	tests := []struct {
		name   string
		before func(h *Handler, f *fakeDataSync)
		locs   func(l *execution.Locations)
		shards []execution.Shard
		want   []string // task, execution, ...
	}{
		{name: "new migration", locs: func(l *execution.Locations) { *l = execution.Locations{} },
			want: []string{execution.PlanCreate, execution.PlanCreate}},
		{name: "a running execution", before: func(h *Handler, f *fakeDataSync) {
			if _, err := h.Handle(context.Background(), Input{Request: requesttest.Valid(), Locations: locations()}); err != nil {
				t.Fatal(err)
			}
		}, want: []string{execution.PlanReuse, execution.PlanReuse}},
		{name: "after a completed run", before: func(h *Handler, f *fakeDataSync) {
			if _, err := h.Handle(context.Background(), Input{Request: requesttest.Valid(), Locations: locations()}); err != nil {
				t.Fatal(err)
			}
			f.tasks[0].executions[0].status = dstypes.TaskExecutionStatusSuccess
		}, want: []string{execution.PlanReuse, execution.PlanCreate}},
		{name: "task with other locations", before: func(h *Handler, f *fakeDataSync) {
			if _, err := h.Handle(context.Background(), Input{Request: requesttest.Valid(), Locations: locations()}); err != nil {
				t.Fatal(err)
			}
		}, locs: func(l *execution.Locations) { l.DestinationLocationArn = "" },
			want: []string{execution.PlanConflict, execution.PlanConflict}},
		{name: "shards", shards: []execution.Shard{{Index: 0, Folders: []string{"a/"}}, {Index: 1, Rest: true}},
			want: []string{execution.PlanCreate, execution.PlanCreate, execution.PlanCreate, execution.PlanCreate}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDataSync{}
			h := newHandler(f, logGroup)
			if tt.before != nil {
				tt.before(h, f)
			}
			f.calls = nil
			r := requesttest.Valid()
			r.Mode = request.ModePlan
			in := Input{Request: r, Locations: locations(), Shards: tt.shards}
			if tt.locs != nil {
				tt.locs(&in.Locations)
			}
			got, err := h.Invoke(context.Background(), in)
			if err != nil {
				t.Fatalf("got %v, want a plan", err)
			}
			plan := got.(*execution.Task).Plan
			if len(plan) != len(tt.want) {
				t.Fatalf("got %+v, want %d entries", plan, len(tt.want))
			}
			for i, p := range plan {
				if p.Action != tt.want[i] || p.Reason == "" {
					t.Errorf("%s %s: got %+v, want %s with a reason", p.Kind, p.Name, p, tt.want[i])
				}
			}
			for _, c := range f.calls {
				if !strings.HasPrefix(c, "List") && !strings.HasPrefix(c, "Describe") {
					t.Errorf("got call %s, want reads only", c)
				}
			}
		})
	}
}
