package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
)

// newRoleBoundary creates the customer managed policy <prefix>-datasync-boundary that
// createroles must set as the permissions boundary of every role it makes (its own policy
// allows iam:CreateRole only with iam:PermissionsBoundary = this policy). A role's
// effective permissions are those both its inline policy and this boundary allow (IAM User
// Guide, "Permissions boundaries for IAM entities"), so whatever inline policy a role of
// this deployment is given, it can do no more than a DataSync bucket access role ever
// needs: the read actions on the deployment's source buckets, the write set on its
// destination buckets. Never IAM, never a bucket policy, never another bucket.
//
// The name is fixed (naming.BoundaryPolicyName) so that the functions derive its ARN.
func newRoleBoundary(scope constructs.Construct, cfg Config, a arns) awsiam.ManagedPolicy {
	statements := boundaryStatements(a)
	return awsiam.NewManagedPolicy(scope, jsii.String("DataSyncRoleBoundary"), &awsiam.ManagedPolicyProps{
		ManagedPolicyName: jsii.String(naming.BoundaryPolicyName(cfg.NamePrefix)),
		Description:       jsii.String("Permissions boundary of the DataSync bucket access roles that " + cfg.FunctionName("createroles") + " creates"),
		Statements:        &statements,
	})
}

// boundaryStatements are the most any per-migration role may do. The role's inline policy
// narrows it to one bucket and prefix.
func boundaryStatements(a arns) []awsiam.PolicyStatement {
	objects := func(buckets []string) []string {
		out := make([]string, len(buckets))
		for i, b := range buckets {
			out[i] = b + "/*"
		}
		return out
	}
	out := []awsiam.PolicyStatement{
		// The transfer role reads a source location: policy.SourceBucketActions and
		// SourceObjectActions cite AWS's list.
		allow("ReadListedSourceBuckets", policy.SourceBucketActions, a.sourceBuckets, nil),
		allow("ReadListedSourceObjects", policy.SourceObjectActions, objects(a.sourceBuckets), nil),
		// The config role writes a destination location: the field report's write set.
		allow("WriteListedDestinationBuckets", policy.DestinationBucketActions, a.destBuckets, nil),
		allow("WriteListedDestinationObjects", policy.DestinationObjectActions, objects(a.destBuckets), nil),
	}
	// SSE-KMS buckets. The transfer role decrypts with the listed source keys
	// (dsmigrate:sourceKmsKeys, never "*"), through S3 only (kms:ViaService: the source
	// bucket may be in another region than the deployment).
	if len(a.sourceKMSKeys) > 0 {
		out = append(out, allow("DecryptListedSourceKeysThroughS3", []string{"kms:Decrypt"}, a.sourceKMSKeys,
			map[string]any{"StringLike": map[string]any{"kms:ViaService": "s3.*.amazonaws.com"}}))
	}
	// The config role uses the destination bucket's key: any key of account B in the
	// deployment's region (the bucket's owner chooses its default key; it is not listed in
	// the configuration), through S3 in that region only; createroles names the one key in
	// the role's inline policy.
	return append(out, allow("UseDestinationKeysThroughS3", policy.DestinationKMSActions, []string{a.destinationKeys},
		map[string]any{"StringEquals": map[string]any{"kms:ViaService": policy.S3ViaService(a.region)}}))
}
