package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/dsmigrate/dsmigrate/internal/kmsgrant"
	"github.com/dsmigrate/dsmigrate/internal/naming"
)

// SourceAccessStackProps configures the stack deployed in account A.
type SourceAccessStackProps struct {
	awscdk.StackProps
	Config Config
}

// SourceAccessStack holds the two roles of a deployment in account A, one per function
// that acts there, each trusted by that function's role only. Nothing else of dsmigrate
// lives in A.
type SourceAccessStack struct {
	awscdk.Stack
	// ReadRole is what Preflight may do in A: read, never change.
	ReadRole awsiam.Role
	// PolicyWriterRole is what PutBucketPolicy may do in A: edit the bucket policies.
	PolicyWriterRole awsiam.Role
}

// sourceReadActions are the calls Preflight makes in account A (internal/preflight S3API:
// GetBucketOwnershipControls to check that ACLs are disabled, GetBucketPolicy to check the
// room and the Sids in the policy, ListObjectsV2 (s3:ListBucket) to find the folders of
// task.shards.byTopLevelPrefix and, for a plan, to sample the objects; a plan also reads
// GetBucketVersioning and GetBucketRequestPayment for its warnings), on the listed source
// buckets only. All of them read; none changes anything.
var sourceReadActions = []string{"s3:GetBucketOwnershipControls", "s3:GetBucketPolicy", "s3:GetBucketVersioning", "s3:GetBucketRequestPayment", "s3:ListBucket"}

// sourcePolicyWriterActions are the calls PutBucketPolicy makes in account A
// (internal/putbucketpolicy S3API: read, merge and write back, delete when nothing is
// left), on the listed source buckets only.
var sourcePolicyWriterActions = []string{"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"}

// NewSourceAccessStack builds the stack. The trusted principals are the fixed-name
// execution roles of preflight and putbucketpolicy in account B. IAM resolves a role ARN
// in a trust policy when the policy is saved, so DestinationStack must be deployed first.
//
// The trust policies name one role ARN each and require no sts:ExternalId. An external id
// protects a role that trusts a whole other account run by a third party serving many
// customers (the confused deputy of the IAM User Guide); here the trusted principal is one
// role of this deployment, which only this deployment's code assumes (docs/operate.md).
func NewSourceAccessStack(scope constructs.Construct, id string, props *SourceAccessStackProps) *SourceAccessStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	cfg := props.Config
	var buckets []string
	for _, b := range cfg.SourceBuckets {
		buckets = append(buckets, fmt.Sprintf("arn:%s:s3:::%s", cfg.Partition(), b))
	}
	newRole := func(construct, name, step, what string) awsiam.Role {
		return awsiam.NewRole(stack, jsii.String(construct), &awsiam.RoleProps{
			RoleName:    jsii.String(name),
			AssumedBy:   awsiam.NewArnPrincipal(jsii.String(cfg.ExecutionRoleArn(step))),
			Description: jsii.String(fmt.Sprintf("dsmigrate: lets %s in account %s %s", cfg.FunctionName(step), cfg.DestinationAccount, what)),
			// The functions keep the credentials for one invocation (at most 110 s).
			MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
		})
	}
	s := &SourceAccessStack{Stack: stack}

	s.ReadRole = newRole("SourceReadRole", cfg.SourceReadRoleName(), "preflight",
		"read the Object Ownership and the policy of the source buckets")
	// Preflight checks; it must not be able to change anything in A (finding M1).
	// Settings only (ownership, policy, versioning, Requester Pays): no object is read.
	s.ReadRole.AddToPrincipalPolicy(allow("ReadSourceBuckets", sourceReadActions[:4], buckets, nil))
	// Folder listings only (s3:delimiter "/", a condition key of ListBucket: Service
	// Authorization Reference, Amazon S3), as Preflight lists them: one level per call,
	// not the bucket's keys in one flat listing. Key names at each level still show, which
	// any ListBucket permission means.
	s.ReadRole.AddToPrincipalPolicy(allow("ListSourceFolders", sourceReadActions[4:], buckets,
		map[string]any{"StringEquals": map[string]any{"s3:delimiter": "/"}}))

	// Preflight reads the default encryption of the source buckets
	// (s3:GetEncryptionConfiguration is GetBucketEncryption's action) and describes their
	// default key, to refuse the AWS managed key aws/s3 before anything changes.
	s.ReadRole.AddToPrincipalPolicy(allow("ReadSourceEncryption", []string{"s3:GetEncryptionConfiguration"}, buckets, nil))
	if len(cfg.SourceKMSKeys) > 0 {
		s.ReadRole.AddToPrincipalPolicy(allow("DescribeSourceKeys", []string{"kms:DescribeKey"}, cfg.SourceKMSKeys, nil))
	}

	s.PolicyWriterRole = newRole("SourcePolicyWriterRole", cfg.SourcePolicyWriterRoleName(), "putbucketpolicy",
		"add and remove its statements in the policies of the source buckets")
	// Grant and revoke: read the policy, write it back with our statements added or
	// removed, delete it when ours were the only statements.
	s.PolicyWriterRole.AddToPrincipalPolicy(allow("EditSourceBucketPolicies", sourcePolicyWriterActions, buckets, nil))
	for _, st := range sourceKMSGrantStatements(cfg) {
		s.PolicyWriterRole.AddToPrincipalPolicy(st)
	}

	awscdk.NewCfnOutput(stack, jsii.String("SourceReadRoleArn"), &awscdk.CfnOutputProps{
		Value:       s.ReadRole.RoleArn(),
		Description: jsii.String("Assumed by " + cfg.FunctionName("preflight") + " in account B: reads the source buckets' Object Ownership and policy"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("SourcePolicyWriterRoleArn"), &awscdk.CfnOutputProps{
		Value:       s.PolicyWriterRole.RoleArn(),
		Description: jsii.String("Assumed by " + cfg.FunctionName("putbucketpolicy") + " in account B: adds and removes dsmigrate's statements in the source bucket policies"),
	})
	return s
}

// sourceKMSGrantStatements let the policy-writer role manage the migrations' KMS grants
// (internal/kmsgrant) on the keys listed in dsmigrate:sourceKmsKeys, and nothing else:
//   - kms:CreateGrant only for a grantee that is one of this deployment's transfer roles
//     (kms:GranteePrincipal) and only for the operations kmsgrant asks (kms:GrantOperations,
//     ForAllValues with a Null check, since ForAllValues alone is true for a request without
//     the key): a writer role made to grant itself, another role, or kms:CreateGrant or
//     kms:Encrypt to anyone is refused (TestAttack... in internal/localrun);
//   - kms:ListGrants and kms:RevokeGrant on the same keys without
//     conditions: KMS documents kms:GranteePrincipal and kms:GrantOperations for
//     CreateGrant only (AWS KMS Developer Guide, "AWS KMS condition keys"), and reading the
//     grants or revoking one only ever removes access. kms:DescribeKey is not granted:
//     nothing the writer does needs it (the read role describes the default key).
//
// The keys' policies must keep the default statement that lets IAM policies of account A
// allow their use ("Default key policy"), or these statements have no effect.
func sourceKMSGrantStatements(cfg Config) []awsiam.PolicyStatement {
	if len(cfg.SourceKMSKeys) == 0 {
		return nil
	}
	transferRoles := naming.RoleArn(cfg.Partition(), cfg.DestinationAccount, cfg.NamePrefix, naming.TransferRoleName(cfg.NamePrefix, "*"))
	return []awsiam.PolicyStatement{
		allow("GrantSourceKeysToTransferRoles", []string{"kms:CreateGrant"}, cfg.SourceKMSKeys, map[string]any{
			"StringLike":                map[string]any{"kms:GranteePrincipal": transferRoles},
			"ForAllValues:StringEquals": map[string]any{"kms:GrantOperations": kmsgrant.OperationNames()},
			"Null":                      map[string]any{"kms:GrantOperations": "false"},
		}),
		allow("ListAndRevokeSourceKeyGrants", []string{"kms:ListGrants", "kms:RevokeGrant"}, cfg.SourceKMSKeys, nil),
	}
}
