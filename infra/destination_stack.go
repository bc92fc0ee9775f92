package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/statemachine"
)

// The event that starts a migration: put it on the default bus of account B with this
// source and detail-type, and the migration request (docs/reference.md) as its detail.
const (
	RequestEventSource     = "dsmigrate.request"
	RequestEventDetailType = "DataSync Migration Requested"
)

// DefinitionFile is the state machine definition, relative to the repository root.
const DefinitionFile = "statemachine/" + statemachine.FileName

// DestinationStackProps configures the stack deployed in account B.
type DestinationStackProps struct {
	awscdk.StackProps
	Config Config
	// Definition is the text of DefinitionFile, with ${<Step>FunctionArn} placeholders.
	Definition string
	// AssetDir holds <step>/bootstrap for every step (make build writes dist/).
	AssetDir string
}

// DestinationStack is everything in account B: the step functions, the state machine,
// its triggers, the failure notifications, and the DataSync task log group.
type DestinationStack struct {
	awscdk.Stack
	Functions    map[string]stepLambda // by function directory (statemachine.Step.Dir)
	StateMachine awsstepfunctions.StateMachine
	// BatchStateMachine runs batches of migrations as child executions of StateMachine.
	BatchStateMachine awsstepfunctions.StateMachine
	// RequestBus is the front door: <prefix>-requests, whose policy names the producers.
	RequestBus  awsevents.EventBus
	RequestRule awsevents.Rule
	// EventsRole is the role EventBridge assumes to start executions, for this
	// deployment's rules only.
	EventsRole awsiam.Role
	// DeadLetterQueue holds the events EventBridge could not deliver to a target: a
	// trigger that could not start an execution, or an alert it could not publish.
	DeadLetterQueue awssqs.Queue
	Alerts          *Alerts
	TaskLogGroup    awslogs.LogGroup
	// RoleBoundary is the permissions boundary of every role createroles makes.
	RoleBoundary awsiam.ManagedPolicy
}

// NewDestinationStack builds the stack. The definition must use exactly the steps'
// placeholders (statemachine.CheckPlaceholders); the caller reports a mismatch before
// calling this.
func NewDestinationStack(scope constructs.Construct, id string, props *DestinationStackProps) *DestinationStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	cfg := props.Config
	arns := arnsFor(cfg)
	s := &DestinationStack{Stack: stack, Functions: map[string]stepLambda{}}

	// DataSync task logs (starttask passes the group to CreateTask). DataSync writes with
	// its service principal, so the group needs a resource policy; it is limited to tasks
	// of this account and region.
	s.TaskLogGroup = awslogs.NewLogGroup(stack, jsii.String("TaskLogGroup"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/datasync/" + cfg.NamePrefix),
		Retention:     retention(cfg.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	s.TaskLogGroup.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DataSyncTaskLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("datasync.amazonaws.com"), nil)},
		Actions:    jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources:  &[]*string{s.TaskLogGroup.LogGroupArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": cfg.DestinationAccount},
			"ArnLike":      map[string]any{"aws:SourceArn": arns.tasks},
		},
	}))

	// The functions, with the contract's environment. DSMIGRATE_LOCATIONS_CALLER_ROLE_ARN
	// (the principal the source bucket policy grants s3:ListBucket) is the createlocations
	// execution role, whose fixed name gives its ARN without a reference between functions.
	env := func(step string) map[string]*string {
		e := map[string]*string{"DSMIGRATE_ACCOUNT_ID": jsii.String(cfg.DestinationAccount)}
		if len(cfg.ExtraRegions) > 0 {
			// Every function validates the request, so every one knows the extra regions.
			e["DSMIGRATE_EXTRA_REGIONS"] = jsii.String(strings.Join(cfg.ExtraRegions, ","))
		}
		deployment := func() {
			e["DSMIGRATE_ALLOW_REMOVE"] = jsii.String(strconv.FormatBool(cfg.AllowRemove))
			e["DSMIGRATE_ALLOW_STANDING_GRANT"] = jsii.String(strconv.FormatBool(cfg.AllowStandingGrant))
		}
		switch step {
		case "preflight":
			e["DSMIGRATE_LOCATIONS_CALLER_ROLE_ARN"] = jsii.String(cfg.ExecutionRoleArn("createlocations"))
			e["DSMIGRATE_ROLE_PREFIX"] = jsii.String(cfg.NamePrefix)
			deployment()
			e["DSMIGRATE_MAX_GRANTS_PER_SOURCE_BUCKET"] = jsii.String(strconv.Itoa(cfg.MaxGrantsPerSourceBucket))
			e["DSMIGRATE_MAX_LIVE_MIGRATIONS"] = jsii.String(strconv.Itoa(cfg.MaxLiveMigrations))
			e["DSMIGRATE_STATE_MACHINE_ARN"] = jsii.String(cfg.StateMachineArn())
			e["DSMIGRATE_DESTINATION_BUCKETS"] = jsii.String(strings.Join(cfg.DestinationBuckets, ","))
		case "putbucketpolicy":
			e["DSMIGRATE_LOCATIONS_CALLER_ROLE_ARN"] = jsii.String(cfg.ExecutionRoleArn("createlocations"))
			e["DSMIGRATE_ROLE_PREFIX"] = jsii.String(cfg.NamePrefix)
		case "createlocations":
			e["DSMIGRATE_LOCATIONS_CALLER_ROLE_ARN"] = jsii.String(cfg.ExecutionRoleArn("createlocations"))
			e["DSMIGRATE_ROLE_PREFIX"] = jsii.String(cfg.NamePrefix)
		case "createroles":
			e["DSMIGRATE_ROLE_PREFIX"] = jsii.String(cfg.NamePrefix)
			e["DSMIGRATE_ROLE_BOUNDARY_ARN"] = jsii.String(arns.boundary)
			e["DSMIGRATE_SOURCE_BUCKETS"] = jsii.String(strings.Join(cfg.SourceBuckets, ","))
			e["DSMIGRATE_DESTINATION_BUCKETS"] = jsii.String(strings.Join(cfg.DestinationBuckets, ","))
		case "starttask":
			e["DSMIGRATE_ROLE_PREFIX"] = jsii.String(cfg.NamePrefix)
			e["DSMIGRATE_TASK_LOG_GROUP_ARN"] = s.TaskLogGroup.LogGroupArn()
			deployment()
		case "teardown":
			e["DSMIGRATE_ROLE_PREFIX"] = jsii.String(cfg.NamePrefix)
		case "record":
			e["DSMIGRATE_DESTINATION_BUCKETS"] = jsii.String(strings.Join(cfg.DestinationBuckets, ","))
		}
		return e
	}
	for _, spec := range steps {
		s.Functions[spec.Dir] = newStepLambda(stack, stepLambdaProps{
			Config: cfg, Spec: spec, AssetDir: props.AssetDir, Environment: env(spec.Dir),
		})
	}
	s.RoleBoundary = newRoleBoundary(stack, cfg, arns)
	s.addStepPolicies(cfg, arns)

	// The state machine, from the file; CloudFormation substitutes the function ARNs.
	smLogGroup := awslogs.NewLogGroup(stack, jsii.String("StateMachineLogGroup"), &awslogs.LogGroupProps{
		// /aws/vendedlogs/ keeps the account's CloudWatch Logs resource policy small when
		// many state machines log (Step Functions documentation).
		LogGroupName:  jsii.String("/aws/vendedlogs/states/" + cfg.NamePrefix),
		Retention:     retention(cfg.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	subs := map[string]*string{}
	for _, spec := range steps {
		subs[spec.Placeholder] = s.Functions[spec.Dir].Function.FunctionArn()
	}
	// The Publish* states put Migration Succeeded / Migration Failed on the requests bus
	// (its name is fixed, so the definition does not depend on the bus resource).
	subs[statemachine.EventBusPlaceholder] = jsii.String(cfg.RequestBusName())
	s.StateMachine = awsstepfunctions.NewStateMachine(stack, jsii.String("StateMachine"), &awsstepfunctions.StateMachineProps{
		StateMachineName:        jsii.String(cfg.NamePrefix),
		StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(props.Definition)),
		DefinitionSubstitutions: &subs,
		// ERROR without execution data by default: the inputs and outputs hold the source
		// bucket policy (the backup revoke needs), which belongs in the execution's own
		// history and output, not in a log group kept for dsmigrate:logRetentionDays.
		Logs: &awsstepfunctions.LogOptions{
			Destination:          smLogGroup,
			Level:                stateMachineLogLevel(cfg.StateMachineLogLevel),
			IncludeExecutionData: jsii.Bool(cfg.LogExecutionData),
		},
		TracingEnabled: jsii.Bool(true),
	})
	for _, spec := range steps {
		s.Functions[spec.Dir].Function.GrantInvoke(s.StateMachine)
	}
	s.addDistributedMapPolicy(cfg)

	s.addTriggers(cfg)
	s.addBatch(cfg, props.AssetDir)
	s.addEventsOutPolicy(cfg)
	s.Alerts = NewAlerts(stack, "Alerts", &AlertsProps{
		Config: cfg, StateMachine: s.StateMachine, DeadLetterQueue: s.DeadLetterQueue,
	})
	s.addOutputs(cfg)
	s.addSuppressions(cfg)
	return s
}

// arns are the resource ARNs (and ARN patterns) the step policies are scoped to. They are
// literal strings: the local runner reads the policies from the template into a simulator.
type arns struct {
	datasyncRoles          []string // the per-migration roles createroles makes
	boundary               string   // their permissions boundary (naming.BoundaryArn)
	sourceReadRole         string   // the role in A that preflight assumes
	sourcePolicyWriterRole string   // the role in A that putbucketpolicy assumes
	stateMachine           string   // the deployment's own state machine
	sourceBuckets          []string
	destBuckets            []string
	sourceKMSKeys          []string // dsmigrate:sourceKmsKeys
	destinationKeys        string   // every KMS key of account B in the region
	region                 string
	locations              string
	tasks                  string
	taskExecutions         string
	// DataSync's service-linked role, which an Enhanced-mode CreateTask creates the first
	// time in an account (CreateTask's dependent action iam:CreateServiceLinkedRole).
	dataSyncServiceLinkedRole string
}

func arnsFor(cfg Config) arns {
	p, acct, region := cfg.Partition(), cfg.DestinationAccount, cfg.Region
	bucketArns := func(names []string) []string {
		var out []string
		for _, n := range names {
			out = append(out, fmt.Sprintf("arn:%s:s3:::%s", p, n))
		}
		return out
	}
	datasync := fmt.Sprintf("arn:%s:datasync:%s:%s:", p, region, acct)
	return arns{
		// <prefix>-<id>-transfer and <prefix>-<id>-config under the path
		// /dsmigrate/<prefix>/ (internal/naming). The path is a whole ARN segment, so the
		// patterns match no role of another deployment (a prefix "dsmigrate" no longer
		// matches "dsmigrate-x"'s roles) and none of the functions' own roles
		// (<prefix>-fn-<step>, path "/").
		datasyncRoles: []string{
			naming.RoleArn(p, acct, cfg.NamePrefix, naming.TransferRoleName(cfg.NamePrefix, "*")),
			naming.RoleArn(p, acct, cfg.NamePrefix, naming.ConfigRoleName(cfg.NamePrefix, "*")),
		},
		boundary:                  naming.BoundaryArn(p, acct, cfg.NamePrefix),
		sourceReadRole:            cfg.SourceRoleArn(cfg.SourceReadRoleName()),
		sourcePolicyWriterRole:    cfg.SourceRoleArn(cfg.SourcePolicyWriterRoleName()),
		stateMachine:              cfg.StateMachineArn(),
		sourceBuckets:             bucketArns(cfg.SourceBuckets),
		destBuckets:               bucketArns(cfg.DestinationBuckets),
		sourceKMSKeys:             cfg.SourceKMSKeys,
		destinationKeys:           fmt.Sprintf("arn:%s:kms:%s:%s:key/*", p, region, acct),
		region:                    region,
		locations:                 datasync + "location/*",
		dataSyncServiceLinkedRole: fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/datasync.amazonaws.com/AWSServiceRoleForDataSync", p, acct),
		tasks:                     datasync + "task/*",
		taskExecutions:            datasync + "task/*/execution/*",
	}
}

// configRoles is the pattern of the per-migration config roles (datasyncRoles' second).
func (a arns) configRoles() string { return a.datasyncRoles[1] }

// recordObjects are the keys the record function may write: a record folder in any of the
// destination buckets (request.Report.RecordKey).
func (a arns) recordObjects() []string {
	out := make([]string, len(a.destBuckets))
	for i, b := range a.destBuckets {
		out[i] = b + "/*/" + request.RecordFolder + "*"
	}
	return out
}

// allow is a shorthand for an Allow statement.
func allow(sid string, actions []string, resources []string, conditions map[string]any) awsiam.PolicyStatement {
	props := &awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(resources...),
	}
	if conditions != nil {
		props.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(props)
}

// passToDataSync lets a function pass the per-migration roles (this deployment's path) to
// DataSync and nothing else.
func passToDataSync(a arns) awsiam.PolicyStatement {
	return allow("PassDataSyncRoles", []string{"iam:PassRole"}, a.datasyncRoles,
		map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "datasync.amazonaws.com"}})
}

// requestTags are the conditions on a call that creates a tagged resource of a migration:
// it must carry this deployment's tag and a migration id, and no other tag keys than ours
// (aws:RequestTag, aws:TagKeys). roleTag allows the naming.RoleTagKey and (for the task
// and execution of a shard) naming.ShardTagKey tags as well.
func requestTags(prefix string, roleTag bool) map[string]any {
	keys := []string{naming.DeploymentTagKey, naming.TagKey}
	if roleTag {
		keys = append(keys, naming.RoleTagKey, naming.ShardTagKey)
	}
	return map[string]any{
		"StringEquals":              map[string]any{"aws:RequestTag/" + naming.DeploymentTagKey: prefix},
		"Null":                      map[string]any{"aws:RequestTag/" + naming.TagKey: "false"},
		"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": keys},
	}
}

// ofDeployment is the condition of a call on an existing DataSync resource: it must carry
// this deployment's tag. key is aws:ResourceTag (DataSync) or iam:ResourceTag (IAM roles).
func ofDeployment(key, prefix string) map[string]any {
	return map[string]any{"StringEquals": map[string]any{key + "/" + naming.DeploymentTagKey: prefix}}
}

// tagOnCreate is the condition of datasync:TagResource, which DataSync evaluates when a
// create call carries tags (Service Authorization Reference: TagResource is a dependent
// action of CreateLocationS3, CreateTask and StartTaskExecution): the request tags as
// requestTags, and the resource, if it already has a deployment tag, must be this
// deployment's. DataSync has no condition key that tells tag-on-create from a later
// TagResource call, so the new resource (no tags yet) and a resource without any
// deployment tag cannot be told apart; the handlers never call TagResource themselves.
func tagOnCreate(prefix string) map[string]any {
	c := requestTags(prefix, true)
	c["StringEqualsIfExists"] = map[string]any{"aws:ResourceTag/" + naming.DeploymentTagKey: prefix}
	return c
}

// addStepPolicies gives each execution role what its handler calls, scoped as far as each
// service allows: IAM to this deployment's role path, DataSync to resources tagged with
// this deployment (aws:ResourceTag) and creations that tag them so (aws:RequestTag). Where a
// statement has Resource "*", the actions in it support no resource-level permission
// (Service Authorization Reference, AWS DataSync: no resource type for CreateLocationS3
// outside Outposts, ListLocations, ListTasks, ListTaskExecutions).
func (s *DestinationStack) addStepPolicies(cfg Config, a arns) {
	add := func(step string, statements ...awsiam.PolicyStatement) {
		for _, st := range statements {
			s.Functions[step].Role.AddToPrincipalPolicy(st)
		}
	}
	prefix := cfg.NamePrefix

	// preflight: reads only. The source bucket through the read role in A (which trusts
	// only this role); the destination bucket's Object Ownership directly; the running
	// executions of its own state machine, for the live-migrations cap
	// (states:ListExecutions supports the stateMachine resource type).
	add("preflight",
		allow("AssumeSourceReadRole", []string{"sts:AssumeRole"}, []string{a.sourceReadRole}, nil),
		allow("ReadDestinationOwnership", []string{"s3:GetBucketOwnershipControls"}, a.destBuckets, nil),
		// The destination bucket's default encryption and, when it is a KMS key of account
		// B, that key's metadata and policy (read only), to check the config role can use it.
		allow("ReadDestinationEncryption", []string{"s3:GetEncryptionConfiguration"}, a.destBuckets, nil),
		allow("ReadDestinationKeys", []string{"kms:DescribeKey", "kms:GetKeyPolicy"}, []string{a.destinationKeys}, nil),
		// A plan request reads whether the destination has Object Lock, and, for REMOVE,
		// samples the destination prefix one folder level per call (s3:delimiter "/", as
		// the read role in A lists the source) to count what the transfer would delete.
		// Both read bucket-level data of the listed destination buckets only.
		allow("ReadDestinationObjectLock", []string{"s3:GetBucketObjectLockConfiguration"}, a.destBuckets, nil),
		allow("ListDestinationFolders", []string{"s3:ListBucket"}, a.destBuckets,
			map[string]any{"StringEquals": map[string]any{"s3:delimiter": "/"}}),
		allow("CountLiveMigrations", []string{"states:ListExecutions"}, []string{a.stateMachine}, nil),
	)

	// createroles (the pattern of IAM's "permissions boundaries for delegated role
	// creation"): it may create a role only under this deployment's path, only with this
	// deployment's boundary and tags, and change only the inline policy of such a role. No
	// delete, no managed-policy attachment, nothing that changes a trust policy or removes
	// or replaces a boundary (PutRolePermissionsBoundary, DeleteRolePermissionsBoundary,
	// UpdateAssumeRolePolicy are not granted). The Service Authorization Reference lists
	// iam:PermissionsBoundary for CreateRole and PutRolePolicy and iam:ResourceTag for
	// GetRole and PutRolePolicy.
	createConditions := requestTags(prefix, false)
	createConditions["StringEquals"].(map[string]any)["iam:PermissionsBoundary"] = a.boundary
	add("createroles",
		allow("CreateRolesInsideTheBoundary", []string{"iam:CreateRole"}, a.datasyncRoles, createConditions),
		// Tags given to CreateRole also need iam:TagRole (IAM User Guide, "Permissions
		// required to tag IAM entities"); the same tags only.
		allow("TagNewRoles", []string{"iam:TagRole"}, a.datasyncRoles, requestTags(prefix, false)),
		allow("PutPoliciesOnBoundedRoles", []string{"iam:PutRolePolicy"}, a.datasyncRoles, map[string]any{
			"StringEquals": map[string]any{
				"iam:ResourceTag/" + naming.DeploymentTagKey: prefix,
				"iam:PermissionsBoundary":                    a.boundary,
			},
		}),
		// A role found by name on a re-run is read to check it is ours.
		allow("ReadDeploymentRoles", []string{"iam:GetRole"}, a.datasyncRoles, ofDeployment("iam:ResourceTag", prefix)),
	)

	// putbucketpolicy: all its S3 calls go through the policy-writer role in A (which
	// trusts only this role).
	add("putbucketpolicy", allow("AssumeSourcePolicyWriterRole", []string{"sts:AssumeRole"}, []string{a.sourcePolicyWriterRole}, nil))

	// createlocations: the caller of CreateLocationS3 needs s3:ListBucket on both buckets
	// (the source bucket policy grants it on the A side), and passes the roles to DataSync.
	add("createlocations",
		allow("CreateTaggedS3Locations", []string{"datasync:CreateLocationS3"}, []string{"*"}, requestTags(prefix, true)),
		// ListLocations has no condition key either; it returns ARNs and URIs only.
		allow("ListLocations", []string{"datasync:ListLocations"}, []string{"*"}, nil),
		allow("TagNewLocations", []string{"datasync:TagResource"}, []string{a.locations}, tagOnCreate(prefix)),
		// Locations are found again by tag: only this deployment's can be read.
		allow("ReadDeploymentLocations", []string{"datasync:DescribeLocationS3", "datasync:ListTagsForResource"},
			[]string{a.locations}, ofDeployment("aws:ResourceTag", prefix)),
		passToDataSync(a),
		allow("ListMigrationBuckets", []string{"s3:ListBucket"}, append(slices.Clone(a.sourceBuckets), a.destBuckets...), nil),
	)

	// starttask: find or create the task, start an execution unless one is queued/running.
	startConditions := ofDeployment("aws:ResourceTag", prefix)
	startConditions["StringEquals"].(map[string]any)["aws:RequestTag/"+naming.DeploymentTagKey] = prefix
	createTask := requestTags(prefix, true)
	createTask["StringEquals"].(map[string]any)["aws:ResourceTag/"+naming.DeploymentTagKey] = prefix
	add("starttask",
		// CreateTask's resources are the two locations (Service Authorization Reference:
		// location* with aws:ResourceTag): a task can join only this deployment's locations.
		allow("CreateTasksOfDeploymentLocations", []string{"datasync:CreateTask"}, []string{a.locations}, createTask),
		// ListTasks has no resource type or condition key; ListTaskExecutions names
		// aws:ResourceTag but no resource type to read it from, so it stays unconditioned
		// (it returns execution ARNs and statuses only).
		allow("ListTasksAndExecutions", []string{"datasync:ListTasks", "datasync:ListTaskExecutions"}, []string{"*"}, nil),
		allow("ReadDeploymentTasks", []string{"datasync:DescribeTask", "datasync:ListTagsForResource"},
			[]string{a.tasks}, ofDeployment("aws:ResourceTag", prefix)),
		// Only this deployment's tasks, and the execution is tagged with it as well.
		allow("StartDeploymentTasks", []string{"datasync:StartTaskExecution"}, []string{a.tasks}, startConditions),
		allow("TagNewTasksAndExecutions", []string{"datasync:TagResource"}, []string{a.tasks, a.taskExecutions}, tagOnCreate(prefix)),
		// A task report (task.report) names the migration's config role as the role DataSync
		// uploads the reports with (TaskReportConfig BucketAccessRoleArn); passing it needs
		// iam:PassRole. Only the config roles, and only to DataSync.
		allow("PassConfigRolesForTaskReports", []string{"iam:PassRole"}, []string{a.configRoles()},
			map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "datasync.amazonaws.com"}}),
		// The first Enhanced-mode task of an account makes DataSync's service-linked role.
		allow("CreateDataSyncServiceLinkedRole", []string{"iam:CreateServiceLinkedRole"},
			[]string{a.dataSyncServiceLinkedRole},
			map[string]any{"StringEquals": map[string]any{"iam:AWSServiceName": "datasync.amazonaws.com"}}),
	)

	// starttask (mode plan) and pollexecution read this deployment's executions.
	readExecutions := allow("ReadDeploymentTaskExecutions", []string{"datasync:DescribeTaskExecution"}, []string{a.taskExecutions},
		ofDeployment("aws:ResourceTag", prefix))
	add("starttask", readExecutions)
	add("pollexecution", readExecutions)

	// record: write a migration's record into its task.report bucket, one of the
	// deployment's destination buckets, and only to keys in a record folder
	// (<prefix><migrationId>/dsmigrate-record/<execution>.json): the function cannot
	// overwrite the migrated objects of those buckets (TestAttackRecordOverwritesMigratedObject).
	// A bucket encrypted by default with a customer managed key needs kms:GenerateDataKey
	// for S3's PutObject (S3 User Guide, "Using server-side encryption with AWS KMS keys"):
	// the keys of this account in the region, as the config roles' boundary allows, only
	// through S3 there (kms:ViaService); the key is the bucket owner's choice.
	add("record",
		allow("WriteMigrationRecords", []string{"s3:PutObject"}, a.recordObjects(), nil),
		allow("EncryptRecordsThroughS3", []string{"kms:GenerateDataKey"}, []string{a.destinationKeys},
			map[string]any{"StringEquals": map[string]any{"kms:ViaService": policy.S3ViaService(a.region)}}),
	)

	// teardown: delete a migration's task(s), locations and roles, only this deployment's.
	// The handler also checks the migration id tag; IAM cannot, since one function serves
	// every migration. DeleteTask and DeleteLocation have the task and location resource
	// types, whose condition key is aws:ResourceTag; DeleteRolePolicy and DeleteRole the
	// role resource type, with iam:ResourceTag (Service Authorization Reference, AWS
	// DataSync and IAM). Without these conditions the function could delete any task,
	// location or role of the account matching the patterns (TestAttackTeardown...).
	add("teardown",
		// ListTasks and ListLocations have no resource type or condition key (as for
		// starttask and createlocations); ListTaskExecutions names aws:ResourceTag but no
		// resource type to read it from. They return ARNs, URIs and statuses only.
		allow("ListTasksLocationsAndExecutions", []string{"datasync:ListTasks", "datasync:ListLocations", "datasync:ListTaskExecutions"}, []string{"*"}, nil),
		allow("ReadDeploymentTags", []string{"datasync:ListTagsForResource"}, []string{a.tasks, a.locations}, ofDeployment("aws:ResourceTag", prefix)),
		allow("DeleteDeploymentTasksAndLocations", []string{"datasync:DeleteTask", "datasync:DeleteLocation"}, []string{a.tasks, a.locations},
			ofDeployment("aws:ResourceTag", prefix)),
		allow("ReadDeploymentRoles", []string{"iam:GetRole"}, a.datasyncRoles, ofDeployment("iam:ResourceTag", prefix)),
		allow("DeleteDeploymentRoles", []string{"iam:DeleteRolePolicy", "iam:DeleteRole"}, a.datasyncRoles, ofDeployment("iam:ResourceTag", prefix)),
	)
}

// addDistributedMapPolicy lets the state machine run the RunShards Map, whose mode is
// DISTRIBUTED: each shard runs as a child execution of this same state machine, which the
// parent starts, describes and, when the Map stops, stops ("IAM policies for using
// Distributed Map states", Step Functions Developer Guide:
// https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html).
// Only this state machine and its own executions: the ARNs are literal (the name is the
// deployment's prefix), so the policy does not depend on the state machine resource.
func (s *DestinationStack) addDistributedMapPolicy(cfg Config) {
	role := s.StateMachine.Role()
	role.AddToPrincipalPolicy(allow("RunShardsAsChildExecutions", []string{"states:StartExecution"},
		[]string{cfg.StateMachineArn()}, nil))
	role.AddToPrincipalPolicy(allow("WatchShardExecutions", []string{"states:DescribeExecution", "states:StopExecution"},
		[]string{cfg.StateMachineExecutionsArn()}, nil))
}

// Detail-types of the events the state machine puts on the requests bus when a migration
// ends (source statemachine.EventSource); other systems chain on them with rules of their
// own. They differ from the request event's, so the request rule never matches them.
const (
	MigrationSucceededDetailType = "Migration Succeeded"
	MigrationFailedDetailType    = "Migration Failed"
)

// addEventsOutPolicy lets the state machine (the events:putEvents states PublishSucceeded,
// PublishFailed and PublishFailedUnchecked) put its outgoing events on the requests bus,
// and only those: PutEvents has the event-bus resource type and the condition keys
// events:source and events:detail-type (Service Authorization Reference, Amazon
// EventBridge: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html;
// "Using IAM policy conditions in Amazon EventBridge"). Without the conditions the role
// could put a request event (dsmigrate.request / DataSync Migration Requested) and start
// a migration of its own choosing (TestAttackStateMachinePutsRequestEvent).
func (s *DestinationStack) addEventsOutPolicy(cfg Config) {
	s.StateMachine.Role().AddToPrincipalPolicy(allow("PublishMigrationOutcome", []string{"events:PutEvents"},
		[]string{cfg.EventBusArn(cfg.RequestBusName())}, map[string]any{"StringEquals": map[string]any{
			"events:source":      statemachine.EventSource,
			"events:detail-type": []string{MigrationSucceededDetailType, MigrationFailedDetailType},
		}}))
}

// addTriggers starts the state machine from a request event and, optionally, on a schedule.
func (s *DestinationStack) addTriggers(cfg Config) {
	// Events that cannot be delivered after the retries land here, with the reason in the
	// message attributes (the alerts rule uses it too).
	dlq := awssqs.NewQueue(s.Stack, jsii.String("TriggerDeadLetterQueue"), &awssqs.QueueProps{
		QueueName:       jsii.String(cfg.NamePrefix + "-trigger-dlq"),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(dlq, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is itself the dead-letter queue of the EventBridge targets; nothing consumes it automatically"),
	}}, jsii.Bool(false))
	s.DeadLetterQueue = dlq

	// The role EventBridge assumes to start executions. Its trust names this deployment's
	// rules (aws:SourceArn) in this account (aws:SourceAccount), so that no other rule, of
	// this account or any other, can have EventBridge start migrations with it (IAM User
	// Guide, "The confused deputy problem": cross-service confused deputy prevention). The
	// rule ARNs are derived from the fixed names: a reference would make the role depend on
	// the rules, which depend on the role.
	sources := []string{cfg.RuleArn(cfg.RequestBusName(), cfg.NamePrefix+"-request"), cfg.RuleArn(cfg.RequestBusName(), cfg.NamePrefix+"-batch-request")}
	if cfg.Schedule != "" {
		sources = append(sources, cfg.RuleArn("", cfg.NamePrefix+"-schedule"))
	}
	s.EventsRole = awsiam.NewRole(s.Stack, jsii.String("EventsRole"), &awsiam.RoleProps{
		RoleName: jsii.String(cfg.NamePrefix + "-events"),
		AssumedBy: awsiam.NewPrincipalWithConditions(awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil), &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": cfg.DestinationAccount},
			"ArnEquals":    map[string]any{"aws:SourceArn": sources},
		}),
		Description: jsii.String("EventBridge starts " + cfg.NamePrefix + " executions for the request and schedule rules of this deployment"),
	})
	target := func(input awsevents.RuleTargetInput) awsevents.IRuleTarget {
		// SfnStateMachine grants the role states:StartExecution on this state machine only.
		return awseventstargets.NewSfnStateMachine(s.StateMachine, &awseventstargets.SfnStateMachineProps{
			Input:           input,
			Role:            s.EventsRole,
			DeadLetterQueue: dlq,
			RetryAttempts:   jsii.Number(8),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(2)),
		})
	}

	// The front door: a bus of its own, so that who may start a migration is decided by
	// this bus's policy and not by whatever the account's default bus allows.
	s.RequestBus = awsevents.NewEventBus(s.Stack, jsii.String("RequestBus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(cfg.RequestBusName()),
		Description:  jsii.String("dsmigrate migration requests; the bus policy names the accounts besides this one that may put them"),
	})
	if st := requestProducersStatement(cfg, s.RequestBus.EventBusArn()); st != nil {
		s.RequestBus.AddToResourcePolicy(st)
	}
	// The rule also matches the event's account, which EventBridge sets to the sender's
	// account (a producer cannot choose it): should the bus policy ever be widened, events
	// from accounts not listed still start nothing.
	s.RequestRule = awsevents.NewRule(s.Stack, jsii.String("RequestRule"), &awsevents.RuleProps{
		RuleName:    jsii.String(cfg.NamePrefix + "-request"),
		Description: jsii.String("Starts a dsmigrate execution with the event's detail as the migration request"),
		EventBus:    s.RequestBus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(RequestEventSource),
			DetailType: jsii.Strings(RequestEventDetailType),
			Account:    jsii.Strings(requestAccounts(cfg)...),
		},
		Targets: &[]awsevents.IRuleTarget{target(awsevents.RuleTargetInput_FromEventPath(jsii.String("$.detail")))},
	})

	if cfg.Schedule == "" {
		return
	}
	var request map[string]any
	if err := json.Unmarshal(cfg.ScheduledRequest, &request); err != nil {
		panic(err) // unreachable: ConfigFromContext checked it is a JSON object
	}
	awsevents.NewRule(s.Stack, jsii.String("ScheduleRule"), &awsevents.RuleProps{
		RuleName:    jsii.String(cfg.NamePrefix + "-schedule"),
		Description: jsii.String("Recurring dsmigrate sync with the fixed request from dsmigrate:scheduledRequest"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(cfg.Schedule)),
		Targets:     &[]awsevents.IRuleTarget{target(awsevents.RuleTargetInput_FromObject(request))},
	})
}

// requestAccounts are the accounts whose request events start a migration: B itself and
// the listed producers.
func requestAccounts(cfg Config) []string {
	return append([]string{cfg.DestinationAccount}, cfg.RequestProducers...)
}

// requestProducersStatement is the bus policy statement that lets the listed producer
// accounts put request events, and only request events (events:source and
// events:detail-type, EventBridge's condition keys for PutEvents); nil when none are
// listed: then only account B's own principals, by their identity policies, may put.
func requestProducersStatement(cfg Config, busArn *string) awsiam.PolicyStatement {
	if len(cfg.RequestProducers) == 0 {
		return nil
	}
	var principals []awsiam.IPrincipal
	for _, a := range cfg.RequestProducers {
		principals = append(principals, awsiam.NewAccountPrincipal(jsii.String(a)))
	}
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("ListedProducersPutRequests"),
		Principals: &principals,
		Actions:    jsii.Strings("events:PutEvents"),
		Resources:  &[]*string{busArn},
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"events:source": RequestEventSource,
			// A single request or a batch of them (BatchEventDetailType).
			"events:detail-type": []string{RequestEventDetailType, BatchEventDetailType},
		}},
	})
}

// stateMachineLogLevel maps a validated dsmigrate:stateMachineLogLevel to the CDK enum.
func stateMachineLogLevel(level string) awsstepfunctions.LogLevel {
	switch level {
	case "ALL":
		return awsstepfunctions.LogLevel_ALL
	case "FATAL":
		return awsstepfunctions.LogLevel_FATAL
	case "OFF":
		return awsstepfunctions.LogLevel_OFF
	default:
		return awsstepfunctions.LogLevel_ERROR
	}
}

// addOutputs prints what operators and account A need.
func (s *DestinationStack) addOutputs(cfg Config) {
	out := func(id, value, description string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{
			Value: jsii.String(value), Description: jsii.String(description),
		})
	}
	awscdk.NewCfnOutput(s.Stack, jsii.String("StateMachineArn"), &awscdk.CfnOutputProps{
		Value:       s.StateMachine.StateMachineArn(),
		Description: jsii.String("Start a migration here (console: Start execution; CLI: aws stepfunctions start-execution)"),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("LocationsCallerRoleArn"), &awscdk.CfnOutputProps{
		Value:       s.Functions["createlocations"].Role.RoleArn(),
		Description: jsii.String("Principal that calls CreateLocationS3; the source bucket policy grants it s3:ListBucket"),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("TaskLogGroupArn"), &awscdk.CfnOutputProps{
		Value:       s.TaskLogGroup.LogGroupArn(),
		Description: jsii.String("CloudWatch log group of the DataSync task executions"),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("AlertsTopicArn"), &awscdk.CfnOutputProps{
		Value:       s.Alerts.Topic.TopicArn(),
		Description: jsii.String("Executions that end FAILED, TIMED_OUT or ABORTED are published here; subscribe to be told"),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("RequestBusArn"), &awscdk.CfnOutputProps{
		Value:       s.RequestBus.EventBusArn(),
		Description: jsii.String("Put migration requests here (" + RequestEventSource + " / " + RequestEventDetailType + "); accounts besides this one need to be in dsmigrate:requestProducers"),
	})
	out("RequestEvent", fmt.Sprintf("bus=%s source=%s detail-type=%s", cfg.RequestBusName(), RequestEventSource, RequestEventDetailType),
		"Put an event with this source and detail-type on this bus; its detail is the migration request")
	out("SourceRoleArns",
		cfg.SourceRoleArn(cfg.SourceReadRoleName())+","+cfg.SourceRoleArn(cfg.SourcePolicyWriterRoleName()),
		"The roles in account A that preflight and putbucketpolicy assume; deploy them with the command in SourceAccessDeployCommand")
	out("SourceAccessDeployCommand", sourceAccessDeployCommand(cfg),
		"Run in this repository with a profile for account A, after this stack is deployed")
}

// sourceAccessDeployCommand is the cdk command that deploys the matching SourceAccessStack.
func sourceAccessDeployCommand(cfg Config) string {
	bucketsJSON, _ := json.Marshal(cfg.SourceBuckets)
	destJSON, _ := json.Marshal(cfg.DestinationBuckets)
	args := []string{
		"npx cdk deploy " + SourceAccessStackID,
		"-c " + ctxNamePrefix + "=" + cfg.NamePrefix,
		"-c " + ctxDestinationAccount + "=" + cfg.DestinationAccount,
		"-c " + ctxSourceAccount + "=" + cfg.SourceAccount,
		"-c " + ctxRegion + "=" + cfg.Region,
		"-c '" + ctxSourceBuckets + "=" + string(bucketsJSON) + "'",
		"-c '" + ctxDestinationBuckets + "=" + string(destJSON) + "'",
		"--profile <profile for account A>",
	}
	return strings.Join(args, " ")
}

// addSuppressions records, with the reason, each cdk-nag finding that is by design.
// Each is limited to one resource and, for IAM5, to the exact wildcard it accepts.
func (s *DestinationStack) addSuppressions(cfg Config) {
	suppress := func(c constructs.IConstruct, id, reason string, appliesTo ...any) {
		sup := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
		if len(appliesTo) > 0 {
			sup.AppliesTo = &appliesTo
		}
		cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{sup}, jsii.Bool(true))
	}
	a := arnsFor(cfg)
	xray := "X-Ray PutTraceSegments and PutTelemetryRecords (active tracing) support no resource-level permission"
	locations := "DataSync location ids are generated by CreateLocationS3, so the statement names this account's and region's locations; its condition limits it to locations tagged " + naming.DeploymentTagKey + "=" + cfg.NamePrefix
	tasks := "DataSync task and execution ids are generated by CreateTask and StartTaskExecution, so the statements name this account's and region's tasks and executions; their conditions limit them to resources tagged " + naming.DeploymentTagKey + "=" + cfg.NamePrefix
	for _, spec := range steps {
		role := s.Functions[spec.Dir].Role
		switch spec.Dir {
		case "createlocations":
			suppress(role, "AwsSolutions-IAM5", xray+"; neither do datasync:CreateLocationS3 (S3 locations outside Outposts; its condition requires this deployment's tags) and datasync:ListLocations",
				"Resource::*")
			suppress(role, "AwsSolutions-IAM5", locations, "Resource::"+a.locations)
		case "starttask":
			suppress(role, "AwsSolutions-IAM5", xray+"; neither do datasync:ListTasks and ListTaskExecutions",
				"Resource::*")
			suppress(role, "AwsSolutions-IAM5", "datasync:CreateTask's resources are the locations it joins; the condition requires both to be tagged "+naming.DeploymentTagKey+"="+cfg.NamePrefix,
				"Resource::"+a.locations)
			suppress(role, "AwsSolutions-IAM5", tasks, "Resource::"+a.tasks, "Resource::"+a.taskExecutions)
			suppress(role, "AwsSolutions-IAM5", "iam:PassRole of the per-migration config roles (<prefix>-<migration id>-config under the path "+naming.RolePath(cfg.NamePrefix)+", named at run time), only to DataSync (iam:PassedToService), which uploads a migration's task reports with it",
				"Resource::"+a.configRoles())
		case "pollexecution":
			suppress(role, "AwsSolutions-IAM5", xray, "Resource::*")
			suppress(role, "AwsSolutions-IAM5", tasks, "Resource::"+a.taskExecutions)
		case "teardown":
			suppress(role, "AwsSolutions-IAM5", xray+"; neither do datasync:ListTasks, ListLocations and ListTaskExecutions",
				"Resource::*")
			suppress(role, "AwsSolutions-IAM5", tasks+"; "+locations, "Resource::"+a.tasks, "Resource::"+a.locations)
		case "record":
			suppress(role, "AwsSolutions-IAM5", xray, "Resource::*")
			suppress(role, "AwsSolutions-IAM5", "WriteRecord writes <prefix><migrationId>/dsmigrate-record/<execution>.json into the request's task.report bucket, the prefix, migration id and execution known only at run time; only s3:PutObject, only into dsmigrate:destinationBuckets and only keys in a record folder, so never over migrated objects",
				stringsToAny(prefixAll("Resource::", a.recordObjects()))...)
			suppress(role, "AwsSolutions-IAM5", "kms:GenerateDataKey, only through S3 in the region (kms:ViaService), on this account's keys there: a report bucket's default key is chosen by its owner and known only at run time, as for the config roles' boundary",
				"Resource::"+a.destinationKeys)
		default:
			suppress(role, "AwsSolutions-IAM5", xray, "Resource::*")
		}
		if spec.Dir == "preflight" {
			suppress(role, "AwsSolutions-IAM5", "kms:DescribeKey and kms:GetKeyPolicy (read only) on this account's keys in the region: the destination bucket's default key is chosen by the bucket's owner and known only when Preflight reads the bucket's encryption",
				"Resource::"+a.destinationKeys)
		}
		if cfg.SourceAccount == anyAccount && spec.Dir == "preflight" {
			suppress(role, "AwsSolutions-IAM5", "dsmigrate:sourceAccount is \"*\": the read role may be in any source account; its name is fixed and its trust policy names this role only",
				"Resource::"+a.sourceReadRole)
		}
		if cfg.SourceAccount == anyAccount && spec.Dir == "putbucketpolicy" {
			suppress(role, "AwsSolutions-IAM5", "dsmigrate:sourceAccount is \"*\": the policy-writer role may be in any source account; its name is fixed and its trust policy names this role only",
				"Resource::"+a.sourcePolicyWriterRole)
		}
		if spec.Dir == "createroles" || spec.Dir == "createlocations" || spec.Dir == "teardown" {
			suppress(role, "AwsSolutions-IAM5", "The per-migration DataSync roles are named <prefix>-<migration id>-transfer|config at run time under the path "+naming.RolePath(cfg.NamePrefix)+"; the patterns match only those, never another deployment's roles or the functions' own, and createroles' and teardown's statements also require the deployment's tag (createroles' the permissions boundary too)",
				stringsToAny(prefixAll("Resource::", a.datasyncRoles))...)
		}
	}
	var objects []any
	for _, b := range append(slices.Clone(a.sourceBuckets), a.destBuckets...) {
		objects = append(objects, "Resource::"+b+"/*")
	}
	suppress(s.RoleBoundary, "AwsSolutions-IAM5", "A permissions boundary of DataSync bucket access roles: the objects of the deployment's listed buckets (each role's inline policy narrows it to one bucket and prefix), and the use through S3 (kms:ViaService) of this account's keys in the region, of which each config role's inline policy names the destination bucket's one key",
		append(objects, "Resource::"+a.destinationKeys)...)
	suppress(s.StateMachine.Role(), "AwsSolutions-IAM5",
		"Logging to CloudWatch Logs (logs:*LogDelivery, PutResourcePolicy, Describe*) and X-Ray tracing need Resource *; lambda:InvokeFunction on <function ARN>:* is GrantInvoke's grant for versions of the seven step functions only",
		"Resource::*",
		cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<[A-Za-z0-9]+Function[A-Z0-9]+\.Arn>:\*$/`)})
	suppress(s.StateMachine.Role(), "AwsSolutions-IAM5",
		"The RunShards Distributed Map starts, describes and stops child executions of this state machine; their ARNs are execution:"+cfg.NamePrefix+"/<map run>:<id>, known only at run time (Step Functions Developer Guide, IAM policies for Distributed Map states)",
		"Resource::"+cfg.StateMachineExecutionsArn())
	if cfg.StateMachineLogLevel != "ALL" {
		suppress(s.StateMachine, "AwsSolutions-SF1", fmt.Sprintf(
			"Logging is %s (dsmigrate:stateMachineLogLevel, ALL available) by choice: ALL with execution data wrote every request and the source bucket policy backup to the log group for %d days; each execution's full history and output stay in Step Functions",
			cfg.StateMachineLogLevel, cfg.LogRetentionDays))
	}
	suppress(s.Functions["batch"].Role, "AwsSolutions-IAM5", xray, "Resource::*")
	suppress(s.Functions["batch"].Role, "AwsSolutions-IAM5",
		"PrepareBatch describes the migrations an earlier run of a batch started; their names <batchId>_<migrationId>_<attempt> are known only at run time, and the pattern matches only names with \"_\", which only batch children have",
		"Resource::"+cfg.batchChildExecutionsArn())
	if objs := cfg.batchReportObjectArns(); len(objs) > 0 {
		applies := make([]any, len(objs))
		for i, o := range objs {
			applies[i] = "Resource::" + o
		}
		suppress(s.Functions["batch"].Role, "AwsSolutions-IAM5",
			"ReportBatch writes <prefix><batchId>/report.json and report.csv where the batch input asks, the prefix and batch id known only at run time; only s3:PutObject, only into dsmigrate:destinationBuckets, which migrations already write",
			applies...)
	}
	suppress(s.BatchStateMachine.Role(), "AwsSolutions-IAM5",
		"Logging to CloudWatch Logs (logs:*LogDelivery, PutResourcePolicy, Describe*) and X-Ray tracing need Resource *; lambda:InvokeFunction on <function ARN>:* is GrantInvoke's grant for versions of the batch function only",
		"Resource::*",
		cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<[A-Za-z0-9]+Function[A-Z0-9]+\.Arn>:\*$/`)})
	suppress(s.BatchStateMachine.Role(), "AwsSolutions-IAM5",
		"startExecution.sync:2 follows and, when the batch stops, stops the migrations it started, named <batchId>_<migrationId>_<attempt> at run time; the RunLanes Distributed Map does the same for its lanes, execution:"+cfg.NamePrefix+"-batch/<map run>:<id> (Step Functions Developer Guide, IAM policies for nested workflows and for Distributed Map states)",
		"Resource::"+cfg.batchChildExecutionsArn(), "Resource::"+cfg.batchLaneExecutionsArn())
	if cfg.StateMachineLogLevel != "ALL" {
		suppress(s.BatchStateMachine, "AwsSolutions-SF1", fmt.Sprintf(
			"Logging is %s (dsmigrate:stateMachineLogLevel), as for the migration state machine: each execution's full history and output stay in Step Functions",
			cfg.StateMachineLogLevel))
	}
	suppress(s.Alerts.PublisherRole, "AwsSolutions-IAM5",
		"kms:GenerateDataKey* is Topic.grantPublish's grant for a KMS-encrypted topic (SNS calls GenerateDataKey for the publisher), on the alerts key only",
		"Action::kms:GenerateDataKey*")
}

func prefixAll(prefix string, ss []string) []string {
	out := make([]string, len(ss))
	for i, x := range ss {
		out[i] = prefix + x
	}
	return out
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, x := range ss {
		out[i] = x
	}
	return out
}
