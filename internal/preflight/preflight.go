// Package preflight is the first step: it validates the migration request, refuses what
// the deployment does not allow (REMOVE, a standing grant, more live migrations or more
// grants on one source bucket than its caps), and checks, without changing anything, that
// both buckets are where the request says, that their ACLs are disabled, and that the
// source bucket policy has room for our statements. In account A it acts as the
// deployment's read-only role.
package preflight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

// S3API is what preflight reads of a bucket.
type S3API interface {
	GetBucketOwnershipControls(ctx context.Context, params *s3.GetBucketOwnershipControlsInput, optFns ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error)
	GetBucketPolicy(ctx context.Context, params *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	// GetBucketEncryption reads the default encryption (encryption.go).
	GetBucketEncryption(ctx context.Context, params *s3.GetBucketEncryptionInput, optFns ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	// ListObjectsV2 lists the folders under source.prefix for task.shards.byTopLevelPrefix
	// (with delimiter "/" only: the read role may list nothing else).
	ListObjectsV2(ctx context.Context, params *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	// A plan request (request.ModePlan) also reads the source bucket's versioning and
	// Requester Pays settings and the destination bucket's Object Lock configuration.
	GetBucketVersioning(ctx context.Context, params *s3.GetBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	GetBucketRequestPayment(ctx context.Context, params *s3.GetBucketRequestPaymentInput, optFns ...func(*s3.Options)) (*s3.GetBucketRequestPaymentOutput, error)
	GetObjectLockConfiguration(ctx context.Context, params *s3.GetObjectLockConfigurationInput, optFns ...func(*s3.Options)) (*s3.GetObjectLockConfigurationOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// SFNAPI is what preflight reads of the deployment's own state machine: its running
// executions, the live migrations the cap counts.
type SFNAPI interface {
	ListExecutions(ctx context.Context, params *sfn.ListExecutionsInput, optFns ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error)
}

var _ SFNAPI = (*sfn.Client)(nil)

// Assumer gives an S3 client acting as a role in account A
// (sourceaccess.S3Assumer[S3API] in the Lambda).
type Assumer interface {
	AssumeS3(ctx context.Context, p sourceaccess.Params) (S3API, error)
}

// Config is the deployment's part of the check.
type Config struct {
	Home request.Home
	// RolePrefix names the DataSync roles (<prefix>-<id>-transfer, -config).
	RolePrefix string
	// LocationsCallerRoleArn is the createlocations function's role, granted s3:ListBucket.
	LocationsCallerRoleArn string
	// Deployment says whether REMOVE and a standing grant are allowed.
	Deployment request.Deployment
	// MaxLiveMigrations caps the running executions of StateMachineArn (this one included).
	MaxLiveMigrations int
	// MaxGrantsPerSourceBucket caps the migrations of this deployment whose statements one
	// source bucket policy holds at once.
	MaxGrantsPerSourceBucket int
	// StateMachineArn is the deployment's own state machine.
	StateMachineArn string
	// DestinationBuckets are the deployment's destination buckets
	// (dsmigrate:destinationBuckets); task.report.bucket must be one of them. nil: not
	// checked here (createroles checks it again).
	DestinationBuckets []string
}

// Handler runs the preflight step.
type Handler struct {
	Config  Config
	S3      S3API // account B, the function's own credentials
	SFN     SFNAPI
	Assumer Assumer
	// KMS reads the destination's key in account B; SourceKMS the source's default key
	// as the read role of account A. Both are used only for a bucket encrypted by default
	// with a KMS key.
	KMS       KMSAPI
	SourceKMS KMSAssumer
}

// Input is the step input: the raw request and the execution name.
type Input struct {
	Request       json.RawMessage `json:"request"`
	ExecutionName string          `json:"executionName"`
}

// Handle runs the checks. On error it returns exactly one of the failure types.
func (h *Handler) Handle(ctx context.Context, in Input) (*execution.Preflight, error) {
	out, err := h.handle(ctx, in)
	if err != nil {
		return nil, awserror.Fail(ctx, "preflight", err, "executionName", in.ExecutionName)
	}
	slog.InfoContext(ctx, "preflight passed", "migrationId", out.Request.MigrationID,
		"sourceBucket", out.Request.Source.Bucket, "destinationBucket", out.Request.Destination.Bucket,
		"sourcePolicyBytes", out.SourcePolicyBytes, "sourcePolicyStatements", out.SourcePolicyStatements)
	return out, nil
}

func (h *Handler) handle(ctx context.Context, in Input) (*execution.Preflight, error) {
	r, err := request.Decode(in.Request)
	if err != nil {
		return nil, err
	}
	r.Normalize(in.ExecutionName)
	if err := validate(r, h.Config); err != nil {
		return nil, err
	}
	if r.Mode == request.ModePlan {
		return h.plan(ctx, r) // the PlanPreflight state
	}
	if err := h.checkLiveMigrations(ctx); err != nil {
		return nil, err
	}
	partition := h.partition()
	src := r.Source

	readRole := naming.DefaultPathRoleArn(partition, src.AccountID, naming.SourceReadRoleName(h.Config.RolePrefix))
	sourceS3, err := h.Assumer.AssumeS3(ctx, sourceaccess.Params{RoleArn: readRole, MigrationID: r.MigrationID, Region: src.Region})
	if err != nil {
		return nil, sourceaccess.AssumeRoleError(err, readRole, h.ownRoleArn())
	}
	if err := checkOwnership(ctx, sourceS3, partition, "source", src.Bucket, src.Region, src.AccountID, readRole); err != nil {
		return nil, err
	}
	keys, err := h.sourceKeys(ctx, sourceS3, r, readRole)
	if err != nil {
		return nil, err
	}
	r.Source.KMSKeyArns = keys
	existing, err := getPolicy(ctx, sourceS3, partition, src.Bucket, src.Region, src.AccountID, readRole)
	if err != nil {
		return nil, err
	}
	statements := 0
	if existing != "" {
		doc, err := policy.Parse(existing)
		if err != nil {
			return nil, &failure.PreconditionError{Message: fmt.Sprintf("the policy of source bucket %s cannot be read as a policy document (%v); fix it in account %s", src.Bucket, err, src.AccountID)}
		}
		statements = len(doc.Statement)
		if err := h.checkGrants(doc, r.MigrationID, src.Bucket, src.AccountID); err != nil {
			return nil, err
		}
		if err := checkDeletedPrincipals(doc, naming.SidsFor(r.MigrationID).All(), src.Bucket, src.AccountID); err != nil {
			return nil, err
		}
	}
	acct, prefix := h.Config.Home.AccountID, h.Config.RolePrefix
	ours := policy.SourceBucketStatements(partition, naming.SidsFor(r.MigrationID), src.Bucket, src.Prefix,
		h.transferRoleArn(r.MigrationID),
		h.Config.LocationsCallerRoleArn)
	merged, err := policy.Merge(existing, ours, naming.EarlierRoleArns(partition, acct, prefix, r.MigrationID)...)
	if err != nil {
		return nil, sourceaccess.MergeError(err, src.Bucket, src.AccountID)
	}
	slog.DebugContext(ctx, "source policy after the grant would be", "sourceBucket", src.Bucket, "policyBytes", policy.Size(merged))

	dst := r.Destination
	if err := checkOwnership(ctx, h.S3, partition, "destination", dst.Bucket, dst.Region, h.Config.Home.AccountID, ""); err != nil {
		return nil, err
	}
	if r.Destination.KMSKeyArn, err = h.destinationKey(ctx, r); err != nil {
		return nil, err
	}
	if err := h.checkReportBucket(ctx, r); err != nil {
		return nil, err
	}
	shards, err := shardsOf(ctx, sourceS3, partition, r, readRole)
	if err != nil {
		return nil, err
	}
	return &execution.Preflight{Request: r, SourcePolicyBytes: policy.Size(existing), SourcePolicyStatements: statements, Shards: shards}, nil
}

func (h *Handler) partition() string {
	return h.Config.Home.ARNPartition()
}

// roleArn is the ARN of a role with the default path "/".
func roleArn(partition, accountID, name string) string {
	return naming.DefaultPathRoleArn(partition, accountID, name)
}

// transferRoleArn is the transfer role of migration id of this deployment: the principal
// our statements in the source bucket policy name.
func (h *Handler) transferRoleArn(id string) string {
	return naming.RoleArn(h.partition(), h.Config.Home.AccountID, h.Config.RolePrefix, naming.TransferRoleName(h.Config.RolePrefix, id))
}

// ownRoleArn is this function's execution role, the principal the read role trusts.
func (h *Handler) ownRoleArn() string {
	return roleArn(h.partition(), h.Config.Home.AccountID, naming.FunctionRoleName(h.Config.RolePrefix, "preflight"))
}

// validate reports every rule the request breaks, its own and the deployment's, at once.
func validate(r *request.Request, c Config) error {
	v := &failure.ValidationError{}
	for _, err := range []error{r.Validate(c.Home), r.CheckDeployment(c.Deployment)} {
		var fields *failure.ValidationError
		if errors.As(err, &fields) {
			v.Fields = append(v.Fields, fields.Fields...)
		} else if err != nil {
			return err
		}
	}
	// ChooseMode sends the other modes elsewhere before Preflight (a plan to this
	// function's plan, PlanPreflight): one that reaches it (a state machine older than the
	// request, or a direct invocation) must not copy.
	if rep := r.Task.Report; rep != nil && c.DestinationBuckets != nil && !slices.Contains(c.DestinationBuckets, rep.Bucket) {
		v.Add("task.report.bucket", "%q is not one of this deployment's destination buckets %v (cdk.json dsmigrate:destinationBuckets): DataSync writes the task reports with the migration's config role, which may write only those; report into a listed bucket, or add it there and deploy",
			rep.Bucket, c.DestinationBuckets)
	}
	if r.Mode != "" && r.Mode != request.ModeMigrate && r.Mode != request.ModePlan {
		v.Add("mode", "%q does not run through Preflight, which starts a migration; this state machine handles it in its own branch (docs/reference.md, \"Modes\")", r.Mode)
	}
	return v.OrNil()
}

// ownershipFix is what to do when ACLs are enabled on a bucket.
const ownershipFix = "disable ACLs: set Object Ownership to \"Bucket owner enforced\" (aws s3api put-bucket-ownership-controls --bucket %s --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'); DataSync needs it for a transfer between accounts so that account B owns the copied objects"

// checkOwnership requires Object Ownership BucketOwnerEnforced (ACLs disabled).
func checkOwnership(ctx context.Context, c S3API, partition, side, bucket, region, owner, principal string) error {
	out, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{
		Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner),
	})
	var notFound interface{ ErrorCode() string }
	switch {
	case err != nil && errors.As(err, &notFound) && notFound.ErrorCode() == "OwnershipControlsNotFoundError":
		return &failure.PreconditionError{Message: fmt.Sprintf("%s bucket %s has no Object Ownership setting, so ACLs are enabled; "+ownershipFix, side, bucket, bucket)}
	case err != nil:
		if p := sourceaccess.BucketError(err, side, bucket, region, owner); p != nil {
			return p
		}
		who := principal
		if who == "" {
			who = "the preflight function's role"
		}
		return awserror.Classify(err, awserror.Call{
			Principal: principal, Action: "s3:GetBucketOwnershipControls", Resource: policy.BucketArn(partition, bucket),
			Grant: fmt.Sprintf("grant s3:GetBucketOwnershipControls on %s to %s; if it is granted, check that the %s bucket belongs to account %s (S3 also answers AccessDenied when ExpectedBucketOwner does not match)",
				policy.BucketArn(partition, bucket), who, side, owner),
		}, awserror.Precondition)
	}
	ownership := ""
	if out.OwnershipControls != nil && len(out.OwnershipControls.Rules) > 0 {
		ownership = string(out.OwnershipControls.Rules[0].ObjectOwnership)
	}
	if ownership != string(s3types.ObjectOwnershipBucketOwnerEnforced) {
		return &failure.PreconditionError{Message: fmt.Sprintf("%s bucket %s has Object Ownership %q, so ACLs are enabled; "+ownershipFix, side, bucket, ownership, bucket)}
	}
	return nil
}

// getPolicy returns the bucket policy text, "" when the bucket has none.
func getPolicy(ctx context.Context, c S3API, partition, bucket, region, owner, principal string) (string, error) {
	out, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner)})
	switch {
	case awserror.HasCode(err, "NoSuchBucketPolicy"):
		return "", nil
	case err != nil:
		if p := sourceaccess.BucketError(err, "source", bucket, region, owner); p != nil {
			return "", p
		}
		return "", awserror.Classify(err, awserror.Call{Principal: principal, Action: "s3:GetBucketPolicy", Resource: policy.BucketArn(partition, bucket)}, awserror.Precondition)
	}
	return aws.ToString(out.Policy), nil
}

// checkDeletedPrincipals refuses, before anything changes, a source policy whose
// statements other than ours name a deleted user or role (policy.DeletedPrincipals): the
// grant keeps every other statement, so S3 would refuse the merged policy. Our own
// statements naming a deleted role (an earlier run of this migration) are replaced by
// the grant and do not count.
func checkDeletedPrincipals(doc *policy.Document, ours []string, bucket, owner string) error {
	for _, d := range doc.DeletedPrincipals() {
		if slices.Contains(ours, d.Sid) {
			continue
		}
		return &failure.PreconditionError{Message: fmt.Sprintf(
			"the policy of source bucket %s names %q in statement %q: the unique id of an IAM user or role that was deleted, which S3 shows in place of its ARN. S3 refuses to save a policy that names it, so dsmigrate cannot add its grant; in account %s, remove that principal from the statement or replace it with the ARN of an existing user or role (when the statement is dsmigrate's own, from another migration whose role was deleted, run that migration again: it replaces and removes its statements)",
			bucket, d.ID, d.Sid, owner)}
	}
	return nil
}
