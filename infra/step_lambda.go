package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/dsmigrate/dsmigrate/statemachine"
)

// stepSettings are what the CDK app adds to each step of statemachine.Steps.
type stepSettings struct {
	Description string
	// TimeoutSeconds bounds one invocation. The state machine retries what is worth
	// retrying, so a timeout only has to cover one pass of the step's AWS calls with the
	// SDK's own retries (3 attempts, backoff up to 20 s).
	TimeoutSeconds float64
}

// settings are the step Lambdas' settings by function directory (statemachine.Step.Dir).
var settings = map[string]stepSettings{
	"preflight":       {"dsmigrate: validate the request and check both buckets; changes nothing", 60},
	"createroles":     {"dsmigrate: look up or create the DataSync transfer and config roles", 60},
	"putbucketpolicy": {"dsmigrate: merge (grant) or remove (revoke) our statements in the source bucket policy", 60},
	// CreateLocationS3 runs an access test against the bucket before it answers (tens of
	// seconds); two locations per invocation. Below the state's TimeoutSeconds (120) so
	// that the function's own timeout is what the state machine sees.
	"createlocations": {"dsmigrate: look up or create the source and destination S3 locations", 110},
	"starttask":       {"dsmigrate: look up or create the task and start one execution", 60},
	"pollexecution":   {"dsmigrate: describe the task execution and say when to poll next", 30},
	"teardown":        {"dsmigrate: find a migration's task(s), locations and roles by tag and delete them", 60},
	"record":          {"dsmigrate: write a migration's JSON record to its task.report bucket", 60},
	"batch":           {"dsmigrate: check and plan a batch of migrations before anything starts, and report it", 60},
}

// stepSpec is one step Lambda (docs/reference.md, "Functions"): its place in the state
// machine and its settings. Its constructs are named after its state (Step.State).
type stepSpec struct {
	statemachine.Step
	stepSettings
}

// steps are the step Lambdas in state-machine order: statemachine.Steps with settings.
var steps = withSettings(statemachine.Steps(), settings)

// batchSteps are the batch state machine's step Lambdas with settings.
var batchSteps = withSettings(statemachine.BatchSteps(), settings)

// allSteps are the step Lambdas of both state machines: one per functions/* directory.
var allSteps = append(slices.Clone(steps), batchSteps...)

func withSettings(list []statemachine.Step, settings map[string]stepSettings) []stepSpec {
	specs := make([]stepSpec, len(list))
	for i, s := range list {
		specs[i] = stepSpec{Step: s, stepSettings: settings[s.Dir]}
	}
	return specs
}

// checkSettings reports a step without settings, or settings for a directory that is no
// step: a step added to statemachine.Steps needs its settings here.
func checkSettings(list []statemachine.Step, settings map[string]stepSettings) error {
	var problems []string
	dirs := map[string]bool{}
	for _, s := range list {
		dirs[s.Dir] = true
		if set, ok := settings[s.Dir]; !ok || set.Description == "" || set.TimeoutSeconds <= 0 {
			problems = append(problems, fmt.Sprintf("step %s has no description and timeout in infra/step_lambda.go", s.Dir))
		}
	}
	for dir := range settings {
		if !dirs[dir] {
			problems = append(problems, fmt.Sprintf("infra/step_lambda.go has settings for %s, which is not in statemachine.Steps", dir))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// stepMemoryMB is the memory of every step function. The handlers are I/O-bound and use
// well under 64 MB, but Lambda allots CPU in proportion to memory: 256 MB (vs 128) halves
// the cold-start TLS and SigV4 work for about the same cost per migration (a dozen
// invocations plus the polls).
const stepMemoryMB = 256

// stepLambdaProps configures one step Lambda.
type stepLambdaProps struct {
	Config      Config
	Spec        stepSpec
	AssetDir    string // holds <step>/bootstrap (make build)
	Environment map[string]*string
}

// stepLambda is one step's Lambda function with its own execution role and log group.
type stepLambda struct {
	Function awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
}

// newStepLambda creates the role (fixed name, no managed policies: the caller adds the
// step's statements), the log group and the function.
func newStepLambda(scope constructs.Construct, props stepLambdaProps) stepLambda {
	cfg, spec := props.Config, props.Spec
	id := spec.State

	role := awsiam.NewRole(scope, jsii.String(id+"Role"), &awsiam.RoleProps{
		RoleName:    jsii.String(cfg.ExecutionRoleName(spec.Dir)),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Execution role of the " + cfg.FunctionName(spec.Dir) + " function"),
	})

	logGroup := awslogs.NewLogGroup(scope, jsii.String(id+"LogGroup"), &awslogs.LogGroupProps{
		LogGroupName: jsii.String("/aws/lambda/" + cfg.FunctionName(spec.Dir)),
		Retention:    retention(cfg.LogRetentionDays),
		// The group has a fixed name: keeping it after a destroy would make the next deploy
		// fail with "already exists". The retention period bounds what it holds.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// Only the two actions Lambda needs to write the function's logs, on this group only
	// (instead of AWSLambdaBasicExecutionRole, which allows every log group).
	logGroup.GrantWrite(role)

	fn := awslambda.NewFunction(scope, jsii.String(id+"Function"), &awslambda.FunctionProps{
		FunctionName:          jsii.String(cfg.FunctionName(spec.Dir)),
		Description:           jsii.String(spec.Description),
		Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:          awslambda.Architecture_ARM_64(),
		Handler:               jsii.String("bootstrap"),
		Code:                  awslambda.Code_FromAsset(jsii.String(filepath.Join(props.AssetDir, spec.Dir)), nil),
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
	return stepLambda{Function: fn, Role: role, LogGroup: logGroup}
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
