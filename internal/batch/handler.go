package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// Config is the deployment's part of the batch step.
type Config struct {
	Home       request.Home
	Deployment request.Deployment
	Limits     Limits
	// StateMachineArn is the migration state machine the children run on.
	StateMachineArn string
}

// Handler runs the batch step in one of three modes (the batch definition's Tasks).
type Handler struct {
	Config Config
	SFN    SFNAPI
	S3     S3API
}

// StepInput is the step input. Mode "prepare": Batch is the batch input. Mode "failure": Item
// and Failure, a child that failed or could not start. Mode "report": BatchID,
// ToleratedFailurePercentage and Lanes, the outer Map's results, and Report, where to write
// the report as objects.
type StepInput struct {
	Mode                       string          `json:"mode"`
	Batch                      json.RawMessage `json:"batch,omitempty"`
	Item                       *Item           `json:"item,omitempty"`
	Failure                    *CaughtError    `json:"failure,omitempty"`
	BatchID                    string          `json:"batchId,omitempty"`
	ToleratedFailurePercentage float64         `json:"toleratedFailurePercentage,omitempty"`
	Lanes                      [][]Entry       `json:"lanes,omitempty"`
	// Report is the plan's report location (mode "report"), nil when none.
	Report *ReportLocation `json:"report,omitempty"`
}

// Handle runs the mode. On error it returns exactly one of the failure types.
func (h *Handler) Handle(ctx context.Context, in StepInput) (any, error) {
	out, err := h.handle(ctx, in)
	if err != nil {
		return nil, awserror.Fail(ctx, "batch "+in.Mode, err)
	}
	return out, nil
}

func (h *Handler) handle(ctx context.Context, in StepInput) (any, error) {
	switch in.Mode {
	case "prepare":
		p, err := Check(in.Batch, h.Config.Home, h.Config.Deployment, h.Config.Limits)
		if err != nil {
			return nil, err
		}
		if err := Resume(ctx, h.SFN, h.Config.StateMachineArn, p); err != nil {
			return nil, err
		}
		skipped := 0
		for _, l := range p.Lanes {
			for _, it := range l.Items {
				if it.Skip {
					skipped++
				}
			}
		}
		slog.InfoContext(ctx, "batch prepared", "batchId", p.BatchID, "migrations", p.Total, "lanes", len(p.Lanes), "fromEarlierRuns", skipped)
		return p, nil
	case "failure":
		if in.Item == nil || in.Failure == nil {
			return nil, modeError("mode failure needs item and failure")
		}
		r := Failed(*in.Item, *in.Failure)
		slog.WarnContext(ctx, "migration of the batch failed", "migrationId", r.MigrationID, "executionName", r.ExecutionName, "errorName", r.Error)
		return r, nil
	case "report":
		rep := Summarize(in.BatchID, in.ToleratedFailurePercentage, in.Lanes)
		if in.Report != nil {
			objs, err := WriteReport(ctx, h.S3, *in.Report, rep)
			if err != nil {
				return nil, err
			}
			rep.ReportObjects = objs
		}
		slog.InfoContext(ctx, "batch finished", "batchId", rep.BatchID, "status", rep.Status, "succeeded", rep.Succeeded, "failed", rep.Failed)
		return rep, nil
	}
	return nil, modeError(fmt.Sprintf("unknown mode %q: want prepare, failure or report", in.Mode))
}

// modeError is a step input the batch definition never sends.
func modeError(rule string) error {
	return &failure.ValidationError{Subject: "batch step input", Fields: []failure.FieldError{{Field: "mode", Rule: rule}}}
}
