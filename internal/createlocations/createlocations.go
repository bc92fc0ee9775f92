// Package createlocations is the step that gets (by tag) or creates the two DataSync S3
// locations in account B: the source bucket with the transfer role and the destination
// bucket with the config role.
package createlocations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/dsresource"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// DataSyncAPI is what createlocations calls of DataSync.
type DataSyncAPI interface {
	ListLocations(ctx context.Context, params *datasync.ListLocationsInput, optFns ...func(*datasync.Options)) (*datasync.ListLocationsOutput, error)
	ListTagsForResource(ctx context.Context, params *datasync.ListTagsForResourceInput, optFns ...func(*datasync.Options)) (*datasync.ListTagsForResourceOutput, error)
	CreateLocationS3(ctx context.Context, params *datasync.CreateLocationS3Input, optFns ...func(*datasync.Options)) (*datasync.CreateLocationS3Output, error)
	DescribeLocationS3(ctx context.Context, params *datasync.DescribeLocationS3Input, optFns ...func(*datasync.Options)) (*datasync.DescribeLocationS3Output, error)
}

var _ DataSyncAPI = (*datasync.Client)(nil)

// Values of the naming.RoleTagKey tag.
const (
	RoleSource      = "source"
	RoleDestination = "destination"
)

// Config is the deployment's part of the step.
type Config struct {
	Home request.Home
	// RolePrefix is the deployment's name prefix: the bucket access roles must be exactly
	// <prefix>-<id>-transfer and -config under the path /dsmigrate/<prefix>/ ("" skips the
	// name check), and the locations are tagged naming.DeploymentTagKey=<prefix>.
	RolePrefix string
	// LocationsCallerRoleArn is this function's own role: the principal that calls
	// CreateLocationS3 and needs s3:ListBucket on the source bucket.
	LocationsCallerRoleArn string
}

// Handler runs the createlocations step.
type Handler struct {
	Config   Config
	DataSync DataSyncAPI
}

// Input is the step input.
type Input struct {
	Request request.Request `json:"request"`
	Roles   execution.Roles `json:"roles"`
}

// Handle gets or creates the locations. On error it returns exactly one failure type.
func (h *Handler) Handle(ctx context.Context, in Input) (*execution.Locations, error) {
	out, err := h.handle(ctx, in)
	if err != nil {
		return nil, awserror.Fail(ctx, "createlocations", err, "migrationId", in.Request.MigrationID)
	}
	slog.InfoContext(ctx, "locations ready", "migrationId", in.Request.MigrationID,
		"sourceLocationArn", out.SourceLocationArn, "sourceCreated", out.SourceCreated,
		"destinationLocationArn", out.DestinationLocationArn, "destinationCreated", out.DestinationCreated)
	return out, nil
}

// location is one location to get or create.
type location struct {
	role         string // RoleSource or RoleDestination
	bucket       string
	prefix       string
	storageClass string
	accessRole   string
}

func (h *Handler) handle(ctx context.Context, in Input) (*execution.Locations, error) {
	r := in.Request
	if err := r.Validate(h.Config.Home); err != nil {
		return nil, err
	}
	if err := h.checkRoles(r.MigrationID, in.Roles); err != nil {
		return nil, err
	}
	wanted := []location{
		{role: RoleSource, bucket: r.Source.Bucket, prefix: r.Source.Prefix, storageClass: string(dstypes.S3StorageClassStandard), accessRole: in.Roles.TransferRole.Arn},
		{role: RoleDestination, bucket: r.Destination.Bucket, prefix: r.Destination.Prefix, storageClass: r.Destination.StorageClass, accessRole: in.Roles.ConfigRole.Arn},
	}
	if r.Mode == request.ModePlan {
		return h.plan(ctx, r.MigrationID, wanted)
	}
	found, err := h.find(ctx, r.MigrationID, wanted)
	if err != nil {
		return nil, err
	}
	out := &execution.Locations{}
	for _, loc := range wanted {
		locArn, created := found[loc.role], false
		if locArn == "" {
			if locArn, err = h.create(ctx, r.MigrationID, loc); err != nil {
				return nil, err
			}
			created = true
		} else if err := h.checkReused(ctx, r.MigrationID, locArn, loc); err != nil {
			return nil, err
		}
		if loc.role == RoleSource {
			out.SourceLocationArn, out.SourceCreated = locArn, created
		} else {
			out.DestinationLocationArn, out.DestinationCreated = locArn, created
		}
	}
	return out, nil
}

// plan reports, for a plan request, what handle would do with each location, reading
// only (ListLocations, ListTagsForResource, DescribeLocationS3).
func (h *Handler) plan(ctx context.Context, id string, wanted []location) (*execution.Locations, error) {
	out := &execution.Locations{}
	found, err := h.find(ctx, id, wanted)
	var pre *failure.PreconditionError
	if errors.As(err, &pre) {
		// A location tagged for this migration points elsewhere: both would stop there.
		for _, loc := range wanted {
			out.Plan = append(out.Plan, execution.PlannedResource{Kind: "location", Name: loc.role, Action: execution.PlanConflict, Reason: execution.PlanText(pre.Message)})
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, loc := range wanted {
		p := execution.PlannedResource{Kind: "location", Name: loc.role, Arn: found[loc.role]}
		var err error
		if p.Arn != "" {
			err = h.checkReused(ctx, id, p.Arn, loc)
		}
		switch {
		case p.Arn == "":
			p.Action, p.Reason = execution.PlanCreate, fmt.Sprintf("no location of this migration for s3://%s/%s (storage class %s, bucket access role %s)", loc.bucket, loc.prefix, loc.storageClass, loc.accessRole)
		case errors.As(err, &pre):
			p.Action, p.Reason = execution.PlanConflict, pre.Message
		case err != nil:
			return nil, err
		default:
			p.Action, p.Reason = execution.PlanReuse, fmt.Sprintf("the location of this migration for s3://%s/%s from an earlier run, with the same storage class and role", loc.bucket, loc.prefix)
		}
		if loc.role == RoleSource {
			out.SourceLocationArn = p.Arn
		} else {
			out.DestinationLocationArn = p.Arn
		}
		p.Reason = execution.PlanText(p.Reason)
		out.Plan = append(out.Plan, p)
	}
	return out, nil
}

// checkReused makes sure a location found by tag still is what the request asks for: a
// re-run with another storage class or bucket access role would otherwise silently reuse
// the old settings (a location cannot be changed in place for those).
func (h *Handler) checkReused(ctx context.Context, id, locArn string, loc location) error {
	d, err := h.DataSync.DescribeLocationS3(ctx, &datasync.DescribeLocationS3Input{LocationArn: aws.String(locArn)})
	if err != nil {
		return awserror.Classify(err, awserror.Call{Action: "datasync:DescribeLocationS3", Resource: locArn}, awserror.Precondition)
	}
	var problems []string
	if got := string(d.S3StorageClass); got != "" && got != loc.storageClass {
		problems = append(problems, fmt.Sprintf("storage class %s, the request asks for %s", got, loc.storageClass))
	}
	if d.S3Config != nil {
		if got := aws.ToString(d.S3Config.BucketAccessRoleArn); got != loc.accessRole {
			problems = append(problems, fmt.Sprintf("bucket access role %s, this migration's is %s", got, loc.accessRole))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return &failure.PreconditionError{Message: fmt.Sprintf(
		"DataSync location %s (the %s of migration %s) has %s; DataSync cannot change that on an existing location: start a new migration with another migrationId, or delete the location (aws datasync delete-location --location-arn %s) and re-run",
		locArn, loc.role, id, strings.Join(problems, "; "), locArn)}
}

// checkRoles rejects, before any call, a bucket access role that DataSync would refuse.
func (h *Handler) checkRoles(id string, roles execution.Roles) error {
	v := &failure.ValidationError{}
	for _, role := range []struct{ field, value, name string }{
		{"roles.transferRole.arn", roles.TransferRole.Arn, naming.TransferRoleName(h.Config.RolePrefix, id)},
		{"roles.configRole.arn", roles.ConfigRole.Arn, naming.ConfigRoleName(h.Config.RolePrefix, id)},
	} {
		a, err := arn.Parse(role.value)
		if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
			v.Add(role.field, "must be an IAM role ARN as CreateRoles returns it (got %q)", role.value)
			continue
		}
		if a.AccountID != h.Config.Home.AccountID {
			return &failure.PreconditionError{Message: fmt.Sprintf(
				"bucket access role %s is in account %s, but the DataSync locations are created in account %s: DataSync requires the bucket access role in the account that creates the location (AWS answers \"Cross-account pass role is not allowed\"). dsmigrate's CreateRoles step creates both roles in account %s; pass its output as roles",
				role.value, a.AccountID, h.Config.Home.AccountID, h.Config.Home.AccountID)}
		}
		if want := "role" + naming.RolePath(h.Config.RolePrefix) + role.name; h.Config.RolePrefix != "" && a.Resource != want {
			v.Add(role.field, "must be the role %s that CreateRoles makes for this migration (got %q)", want, role.value)
		}
	}
	return v.OrNil()
}

// find returns the ARNs of this migration's existing locations: tagged with this
// deployment, this migration and the role. Only locations whose URI points into one of
// our buckets have their tags read; one whose tags this function may not read (its policy
// allows only this deployment's locations) belongs to someone else and is skipped.
func (h *Handler) find(ctx context.Context, id string, wanted []location) (map[string]string, error) {
	found := map[string]string{}
	p := datasync.NewListLocationsPaginator(h.DataSync, &datasync.ListLocationsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awserror.Classify(err, awserror.Call{Action: "datasync:ListLocations", Resource: "*"}, awserror.Precondition)
		}
		for _, e := range page.Locations {
			uri := aws.ToString(e.LocationUri)
			var candidates []location
			for _, w := range wanted {
				if strings.HasPrefix(uri, "s3://"+w.bucket+"/") || uri == "s3://"+w.bucket {
					candidates = append(candidates, w)
				}
			}
			if len(candidates) == 0 {
				continue
			}
			locArn := aws.ToString(e.LocationArn)
			tags, err := dsresource.Tags(ctx, h.DataSync, locArn)
			if errors.Is(err, dsresource.ErrNotOurs) {
				slog.DebugContext(ctx, "skipping a location whose tags this deployment may not read", "locationArn", locArn)
				continue
			}
			if err != nil {
				return nil, err
			}
			if tags[naming.DeploymentTagKey] != h.Config.RolePrefix || tags[naming.TagKey] != id {
				continue
			}
			for _, w := range candidates {
				if tags[naming.RoleTagKey] != w.role {
					continue
				}
				if !samePath(uri, w.bucket, w.prefix) {
					return nil, &failure.PreconditionError{Message: fmt.Sprintf(
						"DataSync location %s is tagged as the %s of migration %s but points at %s, not s3://%s/%s; delete it or use another migrationId",
						locArn, w.role, id, uri, w.bucket, w.prefix)}
				}
				if prev := found[w.role]; prev != "" && prev != locArn {
					slog.WarnContext(ctx, "more than one location tagged for the migration; using the first", "migrationId", id, "locationArn", locArn, "kept", prev)
					continue
				}
				found[w.role] = locArn
			}
		}
	}
	return found, nil
}

// samePath compares a location URI (s3://bucket/prefix/) with bucket and prefix,
// ignoring leading and trailing slashes of the prefix.
func samePath(uri, bucket, prefix string) bool {
	path := strings.TrimPrefix(uri, "s3://"+bucket)
	return strings.Trim(path, "/") == strings.Trim(prefix, "/")
}

func (h *Handler) create(ctx context.Context, id string, loc location) (string, error) {
	out, err := h.DataSync.CreateLocationS3(ctx, &datasync.CreateLocationS3Input{
		S3BucketArn:    aws.String(policy.BucketArn(h.partition(), loc.bucket)),
		Subdirectory:   aws.String("/" + loc.prefix),
		S3StorageClass: dstypes.S3StorageClass(loc.storageClass),
		S3Config:       &dstypes.S3Config{BucketAccessRoleArn: aws.String(loc.accessRole)},
		Tags: []dstypes.TagListEntry{
			{Key: aws.String(naming.DeploymentTagKey), Value: aws.String(h.Config.RolePrefix)},
			{Key: aws.String(naming.TagKey), Value: aws.String(id)},
			{Key: aws.String(naming.RoleTagKey), Value: aws.String(loc.role)},
		},
	})
	if err != nil {
		return "", h.createError(err, loc)
	}
	return aws.ToString(out.LocationArn), nil
}

// createError names DataSync's refusals of CreateLocationS3 and says what fixes them.
func (h *Handler) createError(err error, loc location) error {
	msg := awserror.Message(err)
	lower := strings.ToLower(msg)
	bucketArn := policy.BucketArn(h.partition(), loc.bucket)
	switch {
	case strings.Contains(lower, "cross-account pass role is not allowed"):
		return &failure.PreconditionError{Message: fmt.Sprintf(
			"DataSync refused the %s location of bucket %s: %q. The bucket access role %s must be in the account that creates the location (account %s); dsmigrate's CreateRoles step creates it there",
			loc.role, loc.bucket, msg, loc.accessRole, h.Config.Home.AccountID)}
	case strings.Contains(lower, "access test failed") && (strings.Contains(lower, "listbucket") || strings.Contains(lower, "headbucket")) && loc.role == RoleSource:
		return &failure.NotReadyError{Message: fmt.Sprintf(
			"DataSync could not reach source bucket %s: %q. Grant s3:ListBucket on the source bucket to %s and to role %s — dsmigrate's PutBucketPolicy step does this and IAM changes take a minute to apply; if this persists check the source bucket policy in account A",
			loc.bucket, msg, orUnknown(h.Config.LocationsCallerRoleArn), loc.accessRole)}
	case strings.Contains(lower, "access test failed"):
		return &failure.NotReadyError{Message: fmt.Sprintf(
			"DataSync could not reach %s bucket %s with role %s: %q. The role's inline policy must allow the bucket actions on %s (dsmigrate's CreateRoles step puts it; IAM changes take a minute to apply); if this persists check the role policy and the bucket policy",
			loc.role, loc.bucket, loc.accessRole, msg, bucketArn)}
	case strings.Contains(lower, "unable to assume role") || strings.Contains(lower, "assume role"):
		return &failure.NotReadyError{Message: fmt.Sprintf(
			"DataSync could not assume role %s for the %s location of bucket %s: %q. A new role takes up to a minute or two to become usable; if this persists check that its trust policy lets datasync.amazonaws.com assume it (aws:SourceAccount %s)",
			loc.accessRole, loc.role, loc.bucket, msg, h.Config.Home.AccountID)}
	}
	return awserror.Classify(err, awserror.Call{Principal: h.Config.LocationsCallerRoleArn, Action: "datasync:CreateLocationS3", Resource: bucketArn}, awserror.Precondition)
}

func (h *Handler) partition() string {
	return h.Config.Home.ARNPartition()
}

func orUnknown(s string) string {
	if s == "" {
		return "the createlocations function's role"
	}
	return s
}
