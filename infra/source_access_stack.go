package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// SourceAccessStackProps configures the stack deployed in account A.
type SourceAccessStackProps struct {
	awscdk.StackProps
	Config Config
}

// SourceAccessStack holds the one role in account A: the functions in B assume it to read
// and edit the source buckets' policies. Nothing else of dsmigrate lives in A.
type SourceAccessStack struct {
	awscdk.Stack
	Role awsiam.Role
}

// sourceBucketActions are all the role may do, on the named source buckets only.
var sourceBucketActions = []string{
	"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:GetBucketOwnershipControls",
}

// NewSourceAccessStack builds the stack. The trusted principals are the fixed-name
// execution roles of preflight and putbucketpolicy in account B. IAM resolves a role ARN
// in a trust policy when the policy is saved, so DestinationStack must be deployed first.
func NewSourceAccessStack(scope constructs.Construct, id string, props *SourceAccessStackProps) *SourceAccessStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	cfg := props.Config

	trusted := awsiam.NewCompositePrincipal(
		awsiam.NewArnPrincipal(jsii.String(cfg.ExecutionRoleArn("preflight"))),
		awsiam.NewArnPrincipal(jsii.String(cfg.ExecutionRoleArn("putbucketpolicy"))),
	)
	role := awsiam.NewRole(stack, jsii.String("SourceAccessRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(cfg.SourceAccessRoleName()),
		AssumedBy:   trusted,
		ExternalIds: jsii.Strings(cfg.ExternalID),
		Description: jsii.String(fmt.Sprintf(
			"dsmigrate: lets the functions in account %s read and edit the policies of the source buckets", cfg.DestinationAccount)),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	var buckets []string
	for _, b := range cfg.SourceBuckets {
		buckets = append(buckets, fmt.Sprintf("arn:%s:s3:::%s", cfg.Partition(), b))
	}
	role.AddToPrincipalPolicy(allow("EditSourceBucketPolicies", sourceBucketActions, buckets, nil))

	awscdk.NewCfnOutput(stack, jsii.String("SourceAccessRoleArn"), &awscdk.CfnOutputProps{
		Value:       role.RoleArn(),
		Description: jsii.String("Use as source.policyRoleArn in the migration request"),
	})
	return &SourceAccessStack{Stack: stack, Role: role}
}
