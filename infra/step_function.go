package main

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// stepSpec describes one step Lambda (docs/reference.md, "Functions").
type stepSpec struct {
	Name        string // function dir under functions/ and dist/: "preflight"
	Placeholder string // ASL placeholder without ${}: "PreflightFunctionArn"
	Construct   string // construct id prefix: "Preflight"
	Description string
	// Timeout bounds one invocation. The state machine retries what is worth retrying, so
	// a timeout only has to cover one pass of the step's AWS calls with the SDK's own
	// retries (3 attempts, backoff up to 20 s).
	TimeoutSeconds float64
}

// steps are the six functions, in state-machine order.
var steps = []stepSpec{
	{"preflight", "PreflightFunctionArn", "Preflight",
		"dsmigrate: validate the request and check both buckets; changes nothing", 60},
	{"createroles", "CreateRolesFunctionArn", "CreateRoles",
		"dsmigrate: look up or create the DataSync transfer and config roles", 60},
	{"putbucketpolicy", "PutBucketPolicyFunctionArn", "PutBucketPolicy",
		"dsmigrate: merge (grant) or remove (revoke) our statements in the source bucket policy", 60},
	// CreateLocationS3 runs an access test against the bucket before it answers (tens of
	// seconds); two locations per invocation. Below the state's TimeoutSeconds (120) so
	// that the function's own timeout is what the state machine sees.
	{"createlocations", "CreateLocationsFunctionArn", "CreateLocations",
		"dsmigrate: look up or create the source and destination S3 locations", 110},
	{"starttask", "StartTaskFunctionArn", "StartTask",
		"dsmigrate: look up or create the task and start one execution", 60},
	{"pollexecution", "PollExecutionFunctionArn", "PollExecution",
		"dsmigrate: describe the task execution and say when to poll next", 30},
}

// stepMemoryMB is the memory of every step function. The handlers are I/O-bound and use
// well under 64 MB, but Lambda allots CPU in proportion to memory: 256 MB (vs 128) halves
// the cold-start TLS and SigV4 work for about the same cost per migration (a dozen
// invocations plus the polls).
const stepMemoryMB = 256

// stepFunctionProps configures one step Lambda.
type stepFunctionProps struct {
	Config      Config
	Spec        stepSpec
	AssetDir    string // holds <step>/bootstrap (make build)
	Environment map[string]*string
}

// stepFunction is one step Lambda with its own execution role and log group.
type stepFunction struct {
	Function awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
}

// newStepFunction creates the role (fixed name, no managed policies: the caller adds the
// step's statements), the log group and the function.
func newStepFunction(scope constructs.Construct, props stepFunctionProps) stepFunction {
	cfg, spec := props.Config, props.Spec
	id := spec.Construct

	role := awsiam.NewRole(scope, jsii.String(id+"Role"), &awsiam.RoleProps{
		RoleName:    jsii.String(cfg.ExecutionRoleName(spec.Name)),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Execution role of the " + cfg.FunctionName(spec.Name) + " function"),
	})

	logGroup := awslogs.NewLogGroup(scope, jsii.String(id+"LogGroup"), &awslogs.LogGroupProps{
		LogGroupName: jsii.String("/aws/lambda/" + cfg.FunctionName(spec.Name)),
		Retention:    retention(cfg.LogRetentionDays),
		// The group has a fixed name: keeping it after a destroy would make the next deploy
		// fail with "already exists". The retention period bounds what it holds.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// Only the two actions Lambda needs to write the function's logs, on this group only
	// (instead of AWSLambdaBasicExecutionRole, which allows every log group).
	logGroup.GrantWrite(role)

	fn := awslambda.NewFunction(scope, jsii.String(id+"Function"), &awslambda.FunctionProps{
		FunctionName:          jsii.String(cfg.FunctionName(spec.Name)),
		Description:           jsii.String(spec.Description),
		Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:          awslambda.Architecture_ARM_64(),
		Handler:               jsii.String("bootstrap"),
		Code:                  awslambda.Code_FromAsset(jsii.String(filepath.Join(props.AssetDir, spec.Name)), nil),
		MemorySize:            jsii.Number(stepMemoryMB),
		Timeout:               awscdk.Duration_Seconds(jsii.Number(spec.TimeoutSeconds)),
		Role:                  role,
		LogGroup:              logGroup,
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel_INFO,
		SystemLogLevelV2:      awslambda.SystemLogLevel_INFO,
		Tracing:               awslambda.Tracing_ACTIVE,
		Environment:           &props.Environment,
	})
	return stepFunction{Function: fn, Role: role, LogGroup: logGroup}
}

// retention maps a validated number of days to the CDK enum.
func retention(days int) awslogs.RetentionDays {
	names := map[int]awslogs.RetentionDays{
		1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS,
		5: awslogs.RetentionDays_FIVE_DAYS, 7: awslogs.RetentionDays_ONE_WEEK,
		14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
		60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS,
		120: awslogs.RetentionDays_FOUR_MONTHS, 150: awslogs.RetentionDays_FIVE_MONTHS,
		180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
		400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS,
		731: awslogs.RetentionDays_TWO_YEARS, 1096: awslogs.RetentionDays_THREE_YEARS,
		1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
		2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS,
		3288: awslogs.RetentionDays_NINE_YEARS, 3653: awslogs.RetentionDays_TEN_YEARS,
	}
	if r, ok := names[days]; ok {
		return r
	}
	return awslogs.RetentionDays_ONE_MONTH // unreachable: ConfigFromContext validates days
}
