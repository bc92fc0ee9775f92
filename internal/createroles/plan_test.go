package createroles

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

// TestPlan: a plan request creates nothing and says, for each role, create, reuse or
// conflict.
func TestPlan(t *testing.T) {
	tests := []struct {
		name string
		give func(f *fakeIAM, h *Handler)
		want []string
	}{
		{name: "new migration", want: []string{execution.PlanCreate, execution.PlanCreate}},
		{name: "after a run", give: func(f *fakeIAM, h *Handler) {
			if _, err := h.Handle(context.Background(), Input{Request: requesttest.Valid()}); err != nil {
				t.Fatal(err)
			}
		}, want: []string{execution.PlanReuse, execution.PlanReuse}},
		{name: "transfer role tagged for another migration", give: func(f *fakeIAM, h *Handler) {
			if _, err := h.Handle(context.Background(), Input{Request: requesttest.Valid()}); err != nil {
				t.Fatal(err)
			}
			r := f.roles["dsmigrate-media-2026-11-transfer"]
			for i, tg := range r.Tags {
				if aws.ToString(tg.Key) == naming.TagKey {
					r.Tags[i].Value = aws.String("other")
				}
			}
		}, want: []string{execution.PlanConflict, execution.PlanReuse}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIAM()
			h := newHandler(f)
			if tt.give != nil {
				tt.give(f, h)
			}
			f.calls = nil
			r := requesttest.Valid()
			r.Mode = request.ModePlan
			got, err := h.Handle(context.Background(), Input{Request: r})
			if err != nil {
				t.Fatalf("got %v, want a plan", err)
			}
			if len(got.Plan) != 2 {
				t.Fatalf("got plan %+v, want two roles", got.Plan)
			}
			for i, p := range got.Plan {
				if p.Action != tt.want[i] || p.Kind != "role" || p.Reason == "" {
					t.Errorf("role %d: got %+v, want action %s with a reason", i, p, tt.want[i])
				}
			}
			if got.TransferRole.Arn != "arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-transfer" || got.TransferRole.Created {
				t.Errorf("got transfer role %+v, want its ARN, not created", got.TransferRole)
			}
			for _, c := range f.calls {
				if !strings.HasPrefix(c, "GetRole:") {
					t.Errorf("got call %s, want GetRole only", c)
				}
			}
		})
	}
}
