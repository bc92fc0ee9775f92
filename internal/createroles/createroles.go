// Package createroles is the step that gets or creates the two DataSync roles in account B:
// <prefix>-<id>-transfer (reads the source bucket) and <prefix>-<id>-config (writes the
// destination bucket), both trusted by DataSync, tagged with the migration id, each with an
// inline policy of exactly the field report's two statements.
package createroles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

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
const PolicyName = "dsmigrate-bucket-access"

// Config is the deployment's part of the step.
type Config struct {
	Env        request.Env
	RolePrefix string
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
		err = awserror.Boundary(err)
		slog.ErrorContext(ctx, "createroles failed", "errorName", awserror.Name(err), "error", err.Error(), "migrationId", in.Request.MigrationID)
		return nil, err
	}
	slog.InfoContext(ctx, "roles ready", "migrationId", in.Request.MigrationID,
		"transferRoleArn", out.TransferRole.Arn, "transferRoleCreated", out.TransferRole.Created,
		"configRoleArn", out.ConfigRole.Arn, "configRoleCreated", out.ConfigRole.Created)
	return out, nil
}

func (h *Handler) handle(ctx context.Context, in Input) (*execution.Roles, error) {
	r := in.Request
	if err := r.Validate(h.Config.Env); err != nil {
		return nil, err
	}
	partition := h.Config.Env.Partition
	if partition == "" {
		partition = request.Partition(h.Config.Env.Region)
	}
	trust := policy.TrustPolicy(h.Config.Env.AccountID, h.Config.Env.Region, partition)
	transfer, err := h.ensure(ctx, r.MigrationID, naming.TransferRoleName(h.Config.RolePrefix, r.MigrationID), trust,
		policy.RolePolicy(partition, r.Source.Bucket, r.Source.Prefix),
		fmt.Sprintf("dsmigrate %s: lets DataSync read source bucket %s", r.MigrationID, r.Source.Bucket))
	if err != nil {
		return nil, err
	}
	config, err := h.ensure(ctx, r.MigrationID, naming.ConfigRoleName(h.Config.RolePrefix, r.MigrationID), trust,
		policy.RolePolicy(partition, r.Destination.Bucket, r.Destination.Prefix),
		fmt.Sprintf("dsmigrate %s: lets DataSync write destination bucket %s", r.MigrationID, r.Destination.Bucket))
	if err != nil {
		return nil, err
	}
	return &execution.Roles{TransferRole: transfer, ConfigRole: config}, nil
}

// ensure gets or creates one role and puts its inline policy.
func (h *Handler) ensure(ctx context.Context, id, name string, trust, access policy.Document, description string) (execution.Role, error) {
	roleRef := h.roleArn(name)
	role, err := h.get(ctx, id, name, trust)
	if err != nil {
		return execution.Role{}, err
	}
	created := false
	if role == nil {
		out, err := h.IAM.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName:                 aws.String(name),
			AssumeRolePolicyDocument: aws.String(trust.String()),
			Description:              aws.String(description),
			Tags:                     []iamtypes.Tag{{Key: aws.String(naming.TagKey), Value: aws.String(id)}},
		})
		var exists *iamtypes.EntityAlreadyExistsException
		switch {
		case errors.As(err, &exists):
			// Another run created it between our GetRole and CreateRole: check it as ours.
			if role, err = h.get(ctx, id, name, trust); err != nil {
				return execution.Role{}, err
			}
			if role == nil {
				return execution.Role{}, &failure.TransientError{Message: fmt.Sprintf("IAM says role %s exists but GetRole does not find it yet; retry", roleRef)}
			}
		case err != nil:
			return execution.Role{}, awserror.Classify(err, awserror.Call{Action: "iam:CreateRole", Resource: roleRef}, awserror.Precondition)
		default:
			role, created = out.Role, true
		}
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

// get returns the role when it exists and is ours, nil when it does not exist, and a
// PreconditionError when a role of that name exists but is not ours to take over.
func (h *Handler) get(ctx context.Context, id, name string, trust policy.Document) (*iamtypes.Role, error) {
	out, err := h.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var missing *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &missing):
		return nil, nil
	case err != nil:
		return nil, awserror.Classify(err, awserror.Call{Action: "iam:GetRole", Resource: h.roleArn(name)}, awserror.Precondition)
	}
	role := out.Role
	if v, ok := tag(role.Tags, naming.TagKey); !ok || v != id {
		got := "no " + naming.TagKey + " tag"
		if ok {
			got = fmt.Sprintf("tag %s=%s", naming.TagKey, v)
		}
		return nil, &failure.PreconditionError{Message: fmt.Sprintf(
			"role %s already exists in account B with %s, so dsmigrate did not create it for migration %s and will not take it over; delete or rename that role, or use another migrationId or role prefix", name, got, id)}
	}
	text, err := url.QueryUnescape(aws.ToString(role.AssumeRolePolicyDocument))
	if err != nil {
		text = aws.ToString(role.AssumeRolePolicyDocument)
	}
	existing, err := policy.Parse(text)
	if err != nil || !existing.Equivalent(trust) {
		return nil, &failure.PreconditionError{Message: fmt.Sprintf(
			"role %s exists and is tagged for migration %s, but its trust policy is not the one dsmigrate writes (want %s, found %s); dsmigrate will not overwrite a trust policy: restore it or delete the role and re-run", name, id, trust.String(), text)}
	}
	return role, nil
}

func (h *Handler) roleArn(name string) string {
	partition := h.Config.Env.Partition
	if partition == "" {
		partition = request.Partition(h.Config.Env.Region)
	}
	return "arn:" + partition + ":iam::" + h.Config.Env.AccountID + ":role/" + name
}

func tag(tags []iamtypes.Tag, key string) (string, bool) {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value), true
		}
	}
	return "", false
}
