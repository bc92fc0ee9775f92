package createlocations

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// TestPlan: a plan request creates nothing and says, for each location, create, reuse or
// conflict.
func TestPlan(t *testing.T) {
	tests := []struct {
		name   string
		before func(h *Handler, f *fakeDataSync)
		change func(in *Input)
		want   []string
	}{
		{name: "new migration", want: []string{execution.PlanCreate, execution.PlanCreate}},
		{name: "after a run", before: func(h *Handler, f *fakeDataSync) {
			if _, err := h.Handle(context.Background(), input()); err != nil {
				t.Fatal(err)
			}
		}, want: []string{execution.PlanReuse, execution.PlanReuse}},
		{name: "after a run, other storage class", before: func(h *Handler, f *fakeDataSync) {
			if _, err := h.Handle(context.Background(), input()); err != nil {
				t.Fatal(err)
			}
		}, change: func(in *Input) { in.Request.Destination.StorageClass = "GLACIER_INSTANT_RETRIEVAL" },
			want: []string{execution.PlanReuse, execution.PlanConflict}},
		{name: "a location of this migration with another prefix", before: func(h *Handler, f *fakeDataSync) {
			f.locations = []*fakeLocation{{
				arn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-1", uri: "s3://team-a-media/videos/",
				tags: []dstypes.TagListEntry{{Key: aws.String(naming.DeploymentTagKey), Value: aws.String("dsmigrate")}, {Key: aws.String(naming.TagKey), Value: aws.String("media-2026-11")}, {Key: aws.String(naming.RoleTagKey), Value: aws.String("source")}},
			}}
		}, want: []string{execution.PlanConflict, execution.PlanConflict}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDataSync{}
			h := newHandler(f)
			if tt.before != nil {
				tt.before(h, f)
			}
			f.calls = nil
			in := input()
			in.Request.Mode = request.ModePlan
			if tt.change != nil {
				tt.change(&in)
			}
			got, err := h.Handle(context.Background(), in)
			if err != nil {
				t.Fatalf("got %v, want a plan", err)
			}
			if len(got.Plan) != 2 {
				t.Fatalf("got %+v, want two locations", got.Plan)
			}
			for i, p := range got.Plan {
				if p.Action != tt.want[i] || p.Reason == "" {
					t.Errorf("location %s: got %+v, want %s with a reason", p.Name, p, tt.want[i])
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
