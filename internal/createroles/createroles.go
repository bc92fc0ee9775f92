// Package createroles is the step that gets or creates the two DataSync roles in account B:
// <prefix>-<id>-transfer (reads the source bucket) and <prefix>-<id>-config (writes the
// destination bucket), both under the path /dsmigrate/<prefix>/, inside the deployment's
// permissions boundary, trusted by DataSync, tagged with the deployment and the migration
// id, each with an inline policy of two statements (read for the source, the field
// report's write set for the destination).
package createroles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// IAMAPI is what createroles calls of IAM.
type IAMAPI interface {
	GetRole(ctx context.Context, params *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	CreateRole(ctx context.Context, params *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	PutRolePolicy(ctx context.Context, params *iam.PutRolePolicyInput, optFns ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
}

var _ IAMAPI = (*iam.Client)(nil)

// PolicyName is the name of the inline policy put on each role.
const PolicyName = naming.RolePolicyName

// Config is the deployment's part of the step.
type Config struct {
	Home       request.Home
	RolePrefix string
	// BoundaryArn is the customer managed policy every role gets as its permissions
	// boundary (naming.BoundaryArn: the CDK app creates it).
	BoundaryArn string
	// SourceBuckets and DestinationBuckets are the deployment's allow-lists
	// (dsmigrate:sourceBuckets, dsmigrate:destinationBuckets): a request for any other
	// bucket gets no role, as Preflight refuses it.
	SourceBuckets      []string
	DestinationBuckets []string
}

// Handler runs the createroles step.
type Handler struct {
	Config Config
	IAM    IAMAPI
}

// Input is the step input.
type Input struct {
	Request request.Request `json:"request"`
}

// Handle gets or creates the roles. On error it returns exactly one of the failure types.
func (h *Handler) Handle(ctx context.Context, in Input) (*execution.Roles, error) {
	out, err := h.handle(ctx, in)
	if err != nil {
		return nil, awserror.Fail(ctx, "createroles", err, "migrationId", in.Request.MigrationID)
	}
	slog.InfoContext(ctx, "roles ready", "migrationId", in.Request.MigrationID,
		"transferRoleArn", out.TransferRole.Arn, "transferRoleCreated", out.TransferRole.Created,
		"configRoleArn", out.ConfigRole.Arn, "configRoleCreated", out.ConfigRole.Created)
	return out, nil
}

func (h *Handler) handle(ctx context.Context, in Input) (*execution.Roles, error) {
	r := in.Request
	if err := r.Validate(h.Config.Home); err != nil {
		return nil, err
	}
	if err := h.checkBuckets(r); err != nil {
		return nil, err
	}
	partition := h.partition()
	trust := policy.TrustPolicy(h.Config.Home.AccountID, h.Config.Home.Region, partition)
	if r.Mode == request.ModePlan {
		return h.plan(ctx, r.MigrationID, trust)
	}
	source := policy.SourceRolePolicy(partition, r.Source.Bucket, r.Source.Prefix)
	if len(r.Source.KMSKeyArns) > 0 {
		source.Statement = append(source.Statement, policy.SourceKMSStatement(r.Source.Region, r.Source.KMSKeyArns))
	}
	destination := policy.DestinationRolePolicy(partition, r.Destination.Bucket, r.Destination.Prefix)
	if r.Destination.KMSKeyArn != "" {
		destination.Statement = append(destination.Statement, policy.DestinationKMSStatement(r.Destination.Region, r.Destination.KMSKeyArn))
	}
	if rep := r.Task.Report; rep != nil {
		destination.Statement = append(destination.Statement, policy.TaskReportStatement(partition, rep.Bucket, rep.TaskReportFolders(r.MigrationID)))
	}
	transfer, err := h.ensure(ctx, r.MigrationID, naming.TransferRoleName(h.Config.RolePrefix, r.MigrationID), trust,
		source,
		fmt.Sprintf("dsmigrate %s: lets DataSync read source bucket %s", r.MigrationID, r.Source.Bucket))
	if err != nil {
		return nil, err
	}
	config, err := h.ensure(ctx, r.MigrationID, naming.ConfigRoleName(h.Config.RolePrefix, r.MigrationID), trust,
		destination,
		fmt.Sprintf("dsmigrate %s: lets DataSync write destination bucket %s", r.MigrationID, r.Destination.Bucket))
	if err != nil {
		return nil, err
	}
	return &execution.Roles{TransferRole: transfer, ConfigRole: config}, nil
}

// checkBuckets refuses a bucket outside the deployment's allow-lists before any call.
func (h *Handler) checkBuckets(r request.Request) error {
	v := &failure.ValidationError{}
	if !slices.Contains(h.Config.SourceBuckets, r.Source.Bucket) {
		v.Add("source.bucket", "%q is not one of this deployment's source buckets %v (cdk.json dsmigrate:sourceBuckets); add it there and deploy both stacks, or migrate from a listed bucket",
			r.Source.Bucket, h.Config.SourceBuckets)
	}
	if !slices.Contains(h.Config.DestinationBuckets, r.Destination.Bucket) {
		v.Add("destination.bucket", "%q is not one of this deployment's destination buckets %v (cdk.json dsmigrate:destinationBuckets); add it there and deploy, or migrate into a listed bucket",
			r.Destination.Bucket, h.Config.DestinationBuckets)
	}
	if rep := r.Task.Report; rep != nil && !slices.Contains(h.Config.DestinationBuckets, rep.Bucket) {
		v.Add("task.report.bucket", "%q is not one of this deployment's destination buckets %v (cdk.json dsmigrate:destinationBuckets): DataSync writes the task reports with the config role, whose permissions boundary allows only those; add it there and deploy, or report into a listed bucket",
			rep.Bucket, h.Config.DestinationBuckets)
	}
	return v.OrNil()
}

// ensure creates one role, or finds it from an earlier run, and puts its inline policy.
//
// It creates first and reads only a role that exists: the function may read only roles
// of this deployment (path and tag), so GetRole of a role that does not exist is denied
// rather than answered NoSuchEntity.
func (h *Handler) ensure(ctx context.Context, id, name string, trust, access policy.Document, description string) (execution.Role, error) {
	roleRef := h.roleArn(name)
	out, err := h.IAM.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		Path:                     aws.String(naming.RolePath(h.Config.RolePrefix)),
		PermissionsBoundary:      aws.String(h.Config.BoundaryArn),
		AssumeRolePolicyDocument: aws.String(trust.String()),
		Description:              aws.String(description),
		Tags: []iamtypes.Tag{
			{Key: aws.String(naming.DeploymentTagKey), Value: aws.String(h.Config.RolePrefix)},
			{Key: aws.String(naming.TagKey), Value: aws.String(id)},
		},
	})
	var role *iamtypes.Role
	created := false
	var exists *iamtypes.EntityAlreadyExistsException
	switch {
	case errors.As(err, &exists):
		// An earlier run (or a concurrent one) created it: check it is ours.
		if role, err = h.get(ctx, id, name, trust); err != nil {
			return execution.Role{}, err
		}
	case err != nil:
		return execution.Role{}, awserror.Classify(err, awserror.Call{Action: "iam:CreateRole", Resource: roleRef}, awserror.Precondition)
	default:
		role, created = out.Role, true
	}
	if _, err := h.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName:       aws.String(name),
		PolicyName:     aws.String(PolicyName),
		PolicyDocument: aws.String(access.String()),
	}); err != nil {
		var missing *iamtypes.NoSuchEntityException
		if errors.As(err, &missing) {
			// IAM is eventually consistent: a role created a moment ago (here or by a
			// concurrent run) may not be found yet. A retry gets or creates it again.
			return execution.Role{}, &failure.TransientError{Message: fmt.Sprintf(
				"iam:PutRolePolicy on %s: IAM does not find the role yet (%s); IAM changes take a moment to propagate, retry", aws.ToString(role.Arn), awserror.Message(err))}
		}
		return execution.Role{}, awserror.Classify(err, awserror.Call{Action: "iam:PutRolePolicy", Resource: aws.ToString(role.Arn)}, awserror.Precondition)
	}
	return execution.Role{Name: name, Arn: aws.ToString(role.Arn), Created: created}, nil
}

// get returns the existing role name when it is ours: under this deployment's path, with
// its permissions boundary, tagged with this deployment and migration, trusted by DataSync
// exactly as dsmigrate writes it. Anything else is a PreconditionError: dsmigrate does not
// take over a role it did not make, nor one whose boundary or trust someone changed.
func (h *Handler) get(ctx context.Context, id, name string, trust policy.Document) (*iamtypes.Role, error) {
	out, err := h.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var missing *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &missing):
		return nil, &failure.TransientError{Message: fmt.Sprintf("IAM says role %s exists but GetRole does not find it (%s); retry", name, awserror.Message(err))}
	case awserror.Code(err) == "AccessDenied":
		return nil, &failure.PreconditionError{Message: fmt.Sprintf(
			"role %s already exists in account %s, but not as a role of this deployment: this function may read only roles under the path %s tagged %s=%s, and IAM denied GetRole (%s). dsmigrate versions before the permissions boundary created their roles under the path \"/\"; another team may own the name. dsmigrate will not take it over. If it is an earlier dsmigrate role of this migration, delete it (aws iam delete-role-policy, then delete-role) and run the migration again: the run replaces the grant that version left in the source bucket policy and revokes it at the end. Otherwise use another migrationId",
			name, h.Config.Home.AccountID, naming.RolePath(h.Config.RolePrefix), naming.DeploymentTagKey, h.Config.RolePrefix, awserror.Message(err))}
	case err != nil:
		return nil, awserror.Classify(err, awserror.Call{Action: "iam:GetRole", Resource: h.roleArn(name)}, awserror.Precondition)
	}
	return h.check(id, name, trust, out.Role)
}

// check returns the role when it is ours (see get), else a PreconditionError.
func (h *Handler) check(id, name string, trust policy.Document, role *iamtypes.Role) (*iamtypes.Role, error) {
	refuse := func(format string, args ...any) error {
		return &failure.PreconditionError{Message: fmt.Sprintf("role %s already exists in account %s ", name, h.Config.Home.AccountID) + fmt.Sprintf(format, args...)}
	}
	if v, ok := tag(role.Tags, naming.TagKey); !ok || v != id {
		got := "no " + naming.TagKey + " tag"
		if ok {
			got = fmt.Sprintf("tag %s=%s", naming.TagKey, v)
		}
		return nil, refuse("with %s, so dsmigrate did not create it for migration %s and will not take it over; delete or rename that role, or use another migrationId or role prefix", got, id)
	}
	if v, _ := tag(role.Tags, naming.DeploymentTagKey); v != h.Config.RolePrefix {
		return nil, refuse("for migration %s but tagged %s=%q, not this deployment's %q; dsmigrate will not take it over: delete it or use another migrationId", id, naming.DeploymentTagKey, v, h.Config.RolePrefix)
	}
	if got := aws.ToString(role.Path); got != naming.RolePath(h.Config.RolePrefix) {
		return nil, refuse("under the path %s, not %s; dsmigrate will not take it over: delete it or use another migrationId", got, naming.RolePath(h.Config.RolePrefix))
	}
	if got := boundaryOf(role); got != h.Config.BoundaryArn {
		if got == "" {
			got = "none"
		}
		return nil, refuse("with permissions boundary %s, not %s; someone changed it. dsmigrate will not use a role whose boundary it does not know: set the boundary back (aws iam put-role-permissions-boundary --role-name %s --permissions-boundary %s) or delete the role and re-run",
			got, h.Config.BoundaryArn, name, h.Config.BoundaryArn)
	}
	text, err := url.QueryUnescape(aws.ToString(role.AssumeRolePolicyDocument))
	if err != nil {
		text = aws.ToString(role.AssumeRolePolicyDocument)
	}
	existing, err := policy.Parse(text)
	if err != nil || !existing.Equivalent(trust) {
		return nil, refuse("and is tagged for migration %s, but its trust policy is not the one dsmigrate writes (want %s, found %s); dsmigrate will not overwrite a trust policy: restore it or delete the role and re-run", id, trust.String(), text)
	}
	return role, nil
}

// plan reports, for a plan request, what ensure would do with each role, reading only
// (GetRole). The function may read only roles of this deployment, so a role IAM does not
// let it read is one that does not exist or belongs to someone else: CreateRole tells the
// two apart, and the plan says so.
func (h *Handler) plan(ctx context.Context, id string, trust policy.Document) (*execution.Roles, error) {
	out := &execution.Roles{}
	for i, name := range []string{naming.TransferRoleName(h.Config.RolePrefix, id), naming.ConfigRoleName(h.Config.RolePrefix, id)} {
		role := execution.Role{Name: name, Arn: h.roleArn(name)}
		planned := execution.PlannedResource{Kind: "role", Name: name, Arn: role.Arn}
		got, err := h.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		var missing *iamtypes.NoSuchEntityException
		switch {
		case errors.As(err, &missing), awserror.Code(err) == "AccessDenied":
			planned.Action, planned.Reason = execution.PlanCreate, fmt.Sprintf(
				"no role of this deployment has the name (the function may read only roles tagged %s=%s); should another role hold it, CreateRole refuses and the migration stops there",
				naming.DeploymentTagKey, h.Config.RolePrefix)
		case err != nil:
			return nil, awserror.Classify(err, awserror.Call{Action: "iam:GetRole", Resource: role.Arn}, awserror.Precondition)
		default:
			if _, err := h.check(id, name, trust, got.Role); err != nil {
				planned.Action, planned.Reason = execution.PlanConflict, err.Error()
			} else {
				planned.Action, planned.Reason = execution.PlanReuse, "a role of this migration from an earlier run: its inline policy "+PolicyName+" is written again"
			}
		}
		planned.Reason = execution.PlanText(planned.Reason)
		out.Plan = append(out.Plan, planned)
		if i == 0 {
			out.TransferRole = role
		} else {
			out.ConfigRole = role
		}
	}
	return out, nil
}

func boundaryOf(r *iamtypes.Role) string {
	if r.PermissionsBoundary == nil {
		return ""
	}
	return aws.ToString(r.PermissionsBoundary.PermissionsBoundaryArn)
}

func (h *Handler) partition() string {
	return h.Config.Home.ARNPartition()
}

func (h *Handler) roleArn(name string) string {
	return naming.RoleArn(h.partition(), h.Config.Home.AccountID, h.Config.RolePrefix, name)
}

func tag(tags []iamtypes.Tag, key string) (string, bool) {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value), true
		}
	}
	return "", false
}
