package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"github.com/dsmigrate/dsmigrate/statemachine"
)

// BatchEventDetailType is the detail-type of an event on the requests bus whose detail is
// a batch (docs/reference.md, "Batches").
const BatchEventDetailType = "DataSync Migration Batch Requested"

// BatchStateMachineArn is the ARN of the batch state machine, named <prefix>-batch.
func (c Config) BatchStateMachineArn() string {
	return fmt.Sprintf("arn:%s:states:%s:%s:stateMachine:%s-batch", c.Partition(), c.Region, c.DestinationAccount, c.NamePrefix)
}

// batchChildExecutionsArn matches the migration executions a batch starts: their names
// are <batchId>_<migrationId>_<attempt> (batch.ExecutionName), and only they have "_" in
// the name (a migration id or execution name picked by dsmigrate has none).
func (c Config) batchChildExecutionsArn() string {
	return fmt.Sprintf("arn:%s:states:%s:%s:execution:%s:*_*_*", c.Partition(), c.Region, c.DestinationAccount, c.NamePrefix)
}

// addBatch adds the batch state machine beside the migration one: its function, its
// state machine (statemachine.BatchFileName), and a rule on the requests bus for batch
// events.
func (s *DestinationStack) addBatch(cfg Config, assetDir string) {
	spec := batchSteps[0]
	env := map[string]*string{
		"DSMIGRATE_ACCOUNT_ID":                   jsii.String(cfg.DestinationAccount),
		"DSMIGRATE_ALLOW_REMOVE":                 jsii.String(strconv.FormatBool(cfg.AllowRemove)),
		"DSMIGRATE_ALLOW_STANDING_GRANT":         jsii.String(strconv.FormatBool(cfg.AllowStandingGrant)),
		"DSMIGRATE_MAX_GRANTS_PER_SOURCE_BUCKET": jsii.String(strconv.Itoa(cfg.MaxGrantsPerSourceBucket)),
		"DSMIGRATE_MAX_LIVE_MIGRATIONS":          jsii.String(strconv.Itoa(cfg.MaxLiveMigrations)),
		"DSMIGRATE_STATE_MACHINE_ARN":            jsii.String(cfg.StateMachineArn()),
	}
	if len(cfg.ExtraRegions) > 0 {
		env["DSMIGRATE_EXTRA_REGIONS"] = jsii.String(strings.Join(cfg.ExtraRegions, ","))
	}
	fn := newStepLambda(s.Stack, stepLambdaProps{Config: cfg, Spec: spec, AssetDir: assetDir, Environment: env})
	s.Functions[spec.Dir] = fn
	// PrepareBatch describes the executions an earlier run of the batch started, by name;
	// only names of batch children (with "_") match.
	fn.Role.AddToPrincipalPolicy(allow("DescribeBatchChildren", []string{"states:DescribeExecution"},
		[]string{cfg.batchChildExecutionsArn()}, nil))
	// ReportBatch writes report.json and report.csv to the batch input's report location,
	// a bucket of B: only the buckets migrations may already write (dsmigrate:
	// destinationBuckets), only s3:PutObject. The key is <prefix><batchId>/report.*, the
	// prefix picked per batch at run time, so the objects are "<bucket>/*"; the report adds
	// no bucket and no action beyond what a migration into those buckets does.
	if objs := cfg.batchReportObjectArns(); len(objs) > 0 {
		fn.Role.AddToPrincipalPolicy(allow("WriteBatchReports", []string{"s3:PutObject"}, objs, nil))
	}

	logGroup := awslogs.NewLogGroup(s.Stack, jsii.String("BatchStateMachineLogGroup"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/vendedlogs/states/" + cfg.NamePrefix + "-batch"),
		Retention:     retention(cfg.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	subs := map[string]*string{
		spec.Placeholder: fn.Function.FunctionArn(),
		statemachine.MigrationStateMachinePlaceholder: s.StateMachine.StateMachineArn(),
	}
	s.BatchStateMachine = awsstepfunctions.NewStateMachine(s.Stack, jsii.String("BatchStateMachine"), &awsstepfunctions.StateMachineProps{
		StateMachineName:        jsii.String(cfg.NamePrefix + "-batch"),
		StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(string(statemachine.BatchDefinition()))),
		DefinitionSubstitutions: &subs,
		Logs: &awsstepfunctions.LogOptions{
			Destination:          logGroup,
			Level:                stateMachineLogLevel(cfg.StateMachineLogLevel),
			IncludeExecutionData: jsii.Bool(cfg.LogExecutionData),
		},
		TracingEnabled: jsii.Bool(true),
	})
	fn.Function.GrantInvoke(s.BatchStateMachine)
	role := s.BatchStateMachine.Role()
	// states:startExecution.sync:2 of the migration state machine: start it, follow the
	// child and stop it when the batch stops, through the rule Step Functions manages for
	// .sync ("Start a new AWS Step Functions state machine from a running execution", IAM
	// policies, synchronous; Step Functions Developer Guide:
	// https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html).
	role.AddToPrincipalPolicy(allow("StartMigrations", []string{"states:StartExecution"}, []string{cfg.StateMachineArn()}, nil))
	role.AddToPrincipalPolicy(allow("FollowMigrations", []string{"states:DescribeExecution", "states:StopExecution"},
		[]string{cfg.batchChildExecutionsArn()}, nil))
	role.AddToPrincipalPolicy(allow("SyncRule", []string{"events:PutTargets", "events:PutRule", "events:DescribeRule"},
		[]string{cfg.RuleArn("", "StepFunctionsGetEventsForStepFunctionsExecutionRule")}, nil))
	// RunLanes is a Distributed Map: each lane is a child execution of the batch state
	// machine itself (IAM policies for using Distributed Map states, Step Functions
	// Developer Guide: https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html).
	role.AddToPrincipalPolicy(allow("RunLanesAsChildExecutions", []string{"states:StartExecution"}, []string{cfg.BatchStateMachineArn()}, nil))
	role.AddToPrincipalPolicy(allow("WatchLaneExecutions", []string{"states:DescribeExecution", "states:StopExecution"},
		[]string{cfg.batchLaneExecutionsArn()}, nil))

	// The same front door as a single migration: the requests bus, another detail-type.
	awsevents.NewRule(s.Stack, jsii.String("BatchRequestRule"), &awsevents.RuleProps{
		RuleName:    jsii.String(cfg.NamePrefix + "-batch-request"),
		Description: jsii.String("Starts a dsmigrate batch execution with the event's detail as the batch"),
		EventBus:    s.RequestBus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(RequestEventSource),
			DetailType: jsii.Strings(BatchEventDetailType),
			Account:    jsii.Strings(requestAccounts(cfg)...),
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSfnStateMachine(s.BatchStateMachine, &awseventstargets.SfnStateMachineProps{
			Input:           awsevents.RuleTargetInput_FromEventPath(jsii.String("$.detail")),
			Role:            s.EventsRole,
			DeadLetterQueue: s.DeadLetterQueue,
			RetryAttempts:   jsii.Number(8),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(2)),
		})},
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("BatchStateMachineArn"), &awscdk.CfnOutputProps{
		Value:       s.BatchStateMachine.StateMachineArn(),
		Description: jsii.String("Start a batch of migrations here, or put an event with detail-type " + BatchEventDetailType + " on the requests bus"),
	})
}

// batchLaneExecutionsArn matches the lanes of the batch state machine's Distributed Map.
func (c Config) batchLaneExecutionsArn() string {
	return fmt.Sprintf("arn:%s:states:%s:%s:execution:%s-batch/*", c.Partition(), c.Region, c.DestinationAccount, c.NamePrefix)
}

// batchReportObjectArns are the objects ReportBatch may write: any key of the
// deployment's destination buckets.
func (c Config) batchReportObjectArns() []string {
	var out []string
	for _, b := range c.DestinationBuckets {
		out = append(out, fmt.Sprintf("arn:%s:s3:::%s/*", c.Partition(), b))
	}
	return out
}
