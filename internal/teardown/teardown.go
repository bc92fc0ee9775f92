// Package teardown is the step that removes what a migration created in account B: its
// DataSync task(s) (the shards' included), its two S3 locations and its two IAM roles.
// It deletes only resources tagged with this deployment and the migration id, refuses
// while an execution of the migration's task is queued or running, and is safe to repeat:
// a second teardown finds nothing and says so. The source bucket policy's statements are
// not its business: the state machine revokes them (putbucketpolicy, mode revoke) between
// the check and the delete.
package teardown

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/dsresource"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// DataSyncAPI is what teardown calls of DataSync.
type DataSyncAPI interface {
	ListTasks(ctx context.Context, params *datasync.ListTasksInput, optFns ...func(*datasync.Options)) (*datasync.ListTasksOutput, error)
	ListLocations(ctx context.Context, params *datasync.ListLocationsInput, optFns ...func(*datasync.Options)) (*datasync.ListLocationsOutput, error)
	ListTagsForResource(ctx context.Context, params *datasync.ListTagsForResourceInput, optFns ...func(*datasync.Options)) (*datasync.ListTagsForResourceOutput, error)
	ListTaskExecutions(ctx context.Context, params *datasync.ListTaskExecutionsInput, optFns ...func(*datasync.Options)) (*datasync.ListTaskExecutionsOutput, error)
	DeleteTask(ctx context.Context, params *datasync.DeleteTaskInput, optFns ...func(*datasync.Options)) (*datasync.DeleteTaskOutput, error)
	DeleteLocation(ctx context.Context, params *datasync.DeleteLocationInput, optFns ...func(*datasync.Options)) (*datasync.DeleteLocationOutput, error)
}

var _ DataSyncAPI = (*datasync.Client)(nil)

// IAMAPI is what teardown calls of IAM.
type IAMAPI interface {
	GetRole(ctx context.Context, params *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	DeleteRolePolicy(ctx context.Context, params *iam.DeleteRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	DeleteRole(ctx context.Context, params *iam.DeleteRoleInput, optFns ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
}

var _ IAMAPI = (*iam.Client)(nil)

// Modes of the step.
const (
	// ModeCheck validates the request, lists what the migration left and refuses while
	// an execution runs. It changes nothing.
	ModeCheck = "check"
	// ModeDelete deletes what ModeCheck lists (after the same refusal).
	ModeDelete = "delete"
)

// Config is the deployment's part of the step.
type Config struct {
	Home request.Home
	// Prefix is the deployment's name prefix: the value of naming.DeploymentTagKey on
	// everything it creates, and the roles' path and name prefix.
	Prefix string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Handler runs the teardown step.
type Handler struct {
	Config   Config
	DataSync DataSyncAPI
	IAM      IAMAPI
}

// Input is the step input: the raw request in mode check ($.request, the execution
// input) and the normalized one in mode delete ($.preflight.request, or the summary's
// request after a migration).
type Input struct {
	Mode          string          `json:"mode"`
	Request       json.RawMessage `json:"request"`
	ExecutionName string          `json:"executionName,omitempty"`
}

// Invoke is the function's entry point: mode check returns the normalized request as
// Preflight does ($.preflight, for the revoke and the delete), mode delete what was
// deleted ($.teardown). On error it returns exactly one of the failure types.
func (h *Handler) Invoke(ctx context.Context, in Input) (any, error) {
	left, err := h.handle(ctx, in)
	if err != nil {
		return nil, awserror.Fail(ctx, "teardown", err, "mode", in.Mode)
	}
	slog.InfoContext(ctx, "teardown "+in.Mode, "migrationId", left.MigrationID, "tasks", left.Tasks,
		"locations", left.Locations, "roles", left.Roles, "nothingLeft", left.NothingLeft, "message", left.Message)
	if in.Mode == ModeCheck {
		return &execution.Preflight{Request: left.request}, nil
	}
	return &left.Teardown, nil
}

// found is what handle found (and, in mode delete, deleted), with the request it read.
type found struct {
	execution.Teardown
	request *request.Request
}

func (h *Handler) handle(ctx context.Context, in Input) (*found, error) {
	if in.Mode != ModeCheck && in.Mode != ModeDelete {
		return nil, &failure.ValidationError{Fields: []failure.FieldError{{Field: "mode",
			Rule: fmt.Sprintf("must be %q or %q (got %q); the state machine sets it", ModeCheck, ModeDelete, in.Mode)}}}
	}
	r, err := request.Decode(in.Request)
	if err != nil {
		return nil, err
	}
	r.Normalize(in.ExecutionName)
	if err := r.Validate(h.Config.Home); err != nil {
		return nil, err
	}
	left, err := h.find(ctx, r.MigrationID)
	if err != nil {
		return nil, err
	}
	if err := h.refuseRunning(ctx, r.MigrationID, left.Tasks); err != nil {
		return nil, err
	}
	out := &found{Teardown: *left, request: r}
	if in.Mode == ModeCheck {
		out.Message = describe(left, "would delete")
		return out, nil
	}
	if err := h.delete(ctx, left); err != nil {
		return nil, err
	}
	out.Deleted = true
	out.FinishedAt = h.now().UTC().Format(time.RFC3339)
	out.Message = describe(left, "deleted")
	return out, nil
}

func (h *Handler) now() time.Time {
	if h.Config.Now != nil {
		return h.Config.Now()
	}
	return time.Now()
}

// find lists the migration's task(s), locations and roles: those tagged with this
// deployment and the migration id. A resource whose tags this function may not read (its
// policy allows ListTagsForResource only on this deployment's resources) is another
// deployment's or another team's, and left alone.
func (h *Handler) find(ctx context.Context, id string) (*execution.Teardown, error) {
	out := &execution.Teardown{MigrationID: id, Tasks: []string{}, Locations: []string{}, Roles: []string{}}
	tasks := datasync.NewListTasksPaginator(h.DataSync, &datasync.ListTasksInput{})
	for tasks.HasMorePages() {
		page, err := tasks.NextPage(ctx)
		if err != nil {
			return nil, awserror.Classify(err, awserror.Call{Action: "datasync:ListTasks", Resource: "*"}, awserror.Precondition)
		}
		for _, t := range page.Tasks {
			arn := aws.ToString(t.TaskArn)
			ours, err := h.ours(ctx, arn, id)
			if err != nil {
				return nil, err
			}
			if ours {
				out.Tasks = append(out.Tasks, arn)
			}
		}
	}
	locs := datasync.NewListLocationsPaginator(h.DataSync, &datasync.ListLocationsInput{})
	for locs.HasMorePages() {
		page, err := locs.NextPage(ctx)
		if err != nil {
			return nil, awserror.Classify(err, awserror.Call{Action: "datasync:ListLocations", Resource: "*"}, awserror.Precondition)
		}
		for _, l := range page.Locations {
			if !strings.HasPrefix(aws.ToString(l.LocationUri), "s3://") {
				continue
			}
			arn := aws.ToString(l.LocationArn)
			ours, err := h.ours(ctx, arn, id)
			if err != nil {
				return nil, err
			}
			if ours {
				out.Locations = append(out.Locations, arn)
			}
		}
	}
	for _, name := range []string{naming.TransferRoleName(h.Config.Prefix, id), naming.ConfigRoleName(h.Config.Prefix, id)} {
		arn, err := h.role(ctx, id, name)
		if err != nil {
			return nil, err
		}
		if arn != "" {
			out.Roles = append(out.Roles, arn)
		}
	}
	slices.Sort(out.Tasks)
	slices.Sort(out.Locations)
	out.NothingLeft = len(out.Tasks)+len(out.Locations)+len(out.Roles) == 0
	return out, nil
}

// ours reads a DataSync resource's tags and reports whether it is this deployment's and
// this migration's.
func (h *Handler) ours(ctx context.Context, arn, id string) (bool, error) {
	tags, err := dsresource.Tags(ctx, h.DataSync, arn)
	if errors.Is(err, dsresource.ErrNotOurs) {
		slog.DebugContext(ctx, "leaving a resource whose tags this deployment may not read", "resourceArn", arn)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return tags[naming.DeploymentTagKey] == h.Config.Prefix && tags[naming.TagKey] == id, nil
}

// role returns the role's ARN when it exists and is this deployment's and migration's
// (tags), "" otherwise. GetRole is allowed only on roles tagged with this deployment, so
// a role that does not exist and a role of someone else are both denied: neither is ours.
func (h *Handler) role(ctx context.Context, id, name string) (string, error) {
	out, err := h.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var missing *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &missing), awserror.Code(err) == "AccessDenied":
		return "", nil
	case err != nil:
		return "", awserror.Classify(err, awserror.Call{Action: "iam:GetRole", Resource: name}, awserror.Precondition)
	}
	tags := map[string]string{}
	for _, t := range out.Role.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if tags[naming.DeploymentTagKey] != h.Config.Prefix || tags[naming.TagKey] != id ||
		aws.ToString(out.Role.Path) != naming.RolePath(h.Config.Prefix) {
		slog.WarnContext(ctx, "leaving a role with the migration's name that is not tagged with this deployment and migration", "roleName", name)
		return "", nil
	}
	return aws.ToString(out.Role.Arn), nil
}

// refuseRunning returns a *failure.MigrationRunningError when an execution of one of the
// tasks is queued or running: deleting the task would stop a copy half-way, and its
// locations and roles are what the execution uses.
func (h *Handler) refuseRunning(ctx context.Context, id string, tasks []string) error {
	for _, taskArn := range tasks {
		p := datasync.NewListTaskExecutionsPaginator(h.DataSync, &datasync.ListTaskExecutionsInput{TaskArn: aws.String(taskArn)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return awserror.Classify(err, awserror.Call{Action: "datasync:ListTaskExecutions", Resource: taskArn}, awserror.Precondition)
			}
			for _, e := range page.TaskExecutions {
				if slices.Contains(dsresource.Running, e.Status) {
					return &failure.MigrationRunningError{Message: fmt.Sprintf(
						"migration %s is still running: execution %s of DataSync task %s is %s. Teardown deleted nothing; "+
							"wait until the migration's execution ends (or cancel the task execution: aws datasync cancel-task-execution --task-execution-arn %s) and start the teardown again",
						id, aws.ToString(e.TaskExecutionArn), taskArn, e.Status, aws.ToString(e.TaskExecutionArn))}
				}
			}
		}
	}
	return nil
}

// delete removes the tasks first (they use the locations), then the locations, then the
// roles (the locations name them). Each delete of something already gone counts as done,
// so a retry after a partial teardown finishes it.
func (h *Handler) delete(ctx context.Context, left *execution.Teardown) error {
	// The migration's KMS grants are revoked before this step, with its bucket-policy
	// statements (RevokeLeftoverGrant), while the grantee role still exists.
	for _, arn := range left.Tasks {
		_, err := h.DataSync.DeleteTask(ctx, &datasync.DeleteTaskInput{TaskArn: aws.String(arn)})
		if err != nil && !gone(err) {
			return awserror.Classify(err, awserror.Call{Action: "datasync:DeleteTask", Resource: arn}, awserror.Precondition)
		}
	}
	for _, arn := range left.Locations {
		_, err := h.DataSync.DeleteLocation(ctx, &datasync.DeleteLocationInput{LocationArn: aws.String(arn)})
		if err != nil && !gone(err) {
			return awserror.Classify(err, awserror.Call{Action: "datasync:DeleteLocation", Resource: arn}, awserror.Precondition)
		}
	}
	for _, arn := range left.Roles {
		name := arn[strings.LastIndex(arn, "/")+1:]
		// DeleteRole refuses a role that still has inline policies (IAM API Reference,
		// DeleteRole: "you must first remove ... inline policies"); createroles puts one.
		_, err := h.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(naming.RolePolicyName)})
		var missing *iamtypes.NoSuchEntityException
		if err != nil && !errors.As(err, &missing) {
			return awserror.Classify(err, awserror.Call{Action: "iam:DeleteRolePolicy", Resource: arn}, awserror.Precondition)
		}
		_, err = h.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
		var conflict *iamtypes.DeleteConflictException
		switch {
		case errors.As(err, &missing):
		case errors.As(err, &conflict):
			return &failure.PreconditionError{Message: fmt.Sprintf(
				"IAM refuses to delete role %s: %s. Someone attached a policy dsmigrate does not put; detach it (aws iam list-attached-role-policies / list-role-policies --role-name %s) and start the teardown again",
				arn, awserror.Message(err), name)}
		case err != nil:
			return awserror.Classify(err, awserror.Call{Action: "iam:DeleteRole", Resource: arn}, awserror.Precondition)
		}
	}
	return nil
}

// gone reports DataSync's answer for a resource that no longer exists (InvalidRequest
// "Request references a resource which does not exist.").
func gone(err error) bool {
	return awserror.Code(err) == "InvalidRequestException" && strings.Contains(awserror.Message(err), "does not exist")
}

// describe says in one sentence what the teardown found and did (verb: "would delete" or
// "deleted"), or that nothing of the migration is left.
func describe(t *execution.Teardown, verb string) string {
	if t.NothingLeft {
		return fmt.Sprintf("nothing to delete: no DataSync task, location or role of migration %s tagged with this deployment is left (it was torn down already, or never created)", t.MigrationID)
	}
	return fmt.Sprintf("%s %d DataSync task(s), %d location(s) and %d role(s) of migration %s",
		verb, len(t.Tasks), len(t.Locations), len(t.Roles), t.MigrationID)
}
