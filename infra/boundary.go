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
	return []awsiam.PolicyStatement{
		// The transfer role reads a source location: policy.SourceBucketActions and
		// SourceObjectActions cite AWS's list.
		allow("ReadListedSourceBuckets", policy.SourceBucketActions, a.sourceBuckets, nil),
		allow("ReadListedSourceObjects", policy.SourceObjectActions, objects(a.sourceBuckets), nil),
		// The config role writes a destination location: the field report's write set.
		allow("WriteListedDestinationBuckets", policy.DestinationBucketActions, a.destBuckets, nil),
		allow("WriteListedDestinationObjects", policy.DestinationObjectActions, objects(a.destBuckets), nil),
		// Extension point, SSE-KMS buckets: DataSync needs kms:Decrypt on the source
		// bucket's customer managed key and kms:GenerateDataKey (and kms:Decrypt for
		// multipart uploads) on the destination's. Add those actions here on the listed
		// key ARNs only (never on "*"), with kms:ViaService s3.<region>.amazonaws.com, once
		// the deployment lists its keys; the roles' inline policies name the key of their
		// bucket.
	}
}
