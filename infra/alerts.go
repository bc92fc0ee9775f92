package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// AlertStatuses are the execution statuses that are sent to the alerts topic: every way
// an execution ends other than SUCCEEDED.
var AlertStatuses = []string{"FAILED", "TIMED_OUT", "ABORTED"}

// Step Functions' execution status events on the default bus.
const (
	executionEventSource     = "aws.states"
	executionEventDetailType = "Step Functions Execution Status Change"
)

// AlertsProps configures the failure notifications.
type AlertsProps struct {
	Config       Config
	StateMachine awsstepfunctions.IStateMachine
	// DeadLetterQueue receives a notification EventBridge could not publish after its
	// retries (the queue of the trigger rules: one place for undelivered events).
	DeadLetterQueue awssqs.IQueue
}

// Alerts tells someone when an execution ends badly, since event-started and scheduled
// migrations run with nobody watching: a rule on the state machine's status events
// publishes a readable message to the topic <prefix>-alerts. An alarm on the trigger
// dead-letter queue publishes there too: a request or schedule event that could not start
// an execution (or an alert that could not be published) fails no execution, so the rule
// would never tell.
//
// The topic is encrypted with a customer managed key: CloudWatch alarms publish with their
// service principal, which the key policy must allow, and the policy of the AWS managed
// key alias/aws/sns cannot be changed (Amazon SNS Developer Guide, "Key management").
//
// EventBridge publishes with a role (<prefix>-alerts-publisher) rather than through the
// topic and key policies: the role's trust takes aws:SourceArn/aws:SourceAccount, while the
// SNS guide says those keys are not supported in a KMS key policy for EventBridge
// delivering to an encrypted topic, so a key-policy grant to events.amazonaws.com could not
// be limited to this rule. CloudWatch has no such option; its grants in the topic and key
// policies name the alarm and the account.
//
// There is no CloudWatch alarm on the state machine's ExecutionsFailed metric: it counts
// only FAILED (not TIMED_OUT or ABORTED), names no execution, would mail the same failure
// a second time through the same topic and key, and stays silent for a second failure
// while already in ALARM. The rule says more, for every failure.
type Alerts struct {
	constructs.Construct
	Key   awskms.Key
	Topic awssns.Topic
	Rule  awsevents.Rule
	// PublisherRole is what EventBridge assumes to publish the rule's alerts.
	PublisherRole awsiam.Role
	// DeadLetterAlarm goes off when the trigger dead-letter queue holds a message.
	DeadLetterAlarm awscloudwatch.Alarm
}

// NewAlerts builds the key, the topic (with the optional email subscription) and the rule.
func NewAlerts(scope constructs.Construct, id string, props *AlertsProps) *Alerts {
	cfg := props.Config
	c := constructs.NewConstruct(scope, &id)
	a := &Alerts{Construct: c}

	a.Key = awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String(fmt.Sprintf("Encrypts the %s-alerts topic (dsmigrate failure notifications)", cfg.NamePrefix)),
		EnableKeyRotation: jsii.Bool(true),
		// The key protects only transient messages of a topic deleted with the stack.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		PendingWindow: awscdk.Duration_Days(jsii.Number(7)),
	})
	a.Topic = awssns.NewTopic(c, jsii.String("Topic"), &awssns.TopicProps{
		TopicName:   jsii.String(cfg.NamePrefix + "-alerts"),
		DisplayName: jsii.String(cfg.NamePrefix + " alerts"),
		MasterKey:   a.Key,
		EnforceSSL:  jsii.Bool(true),
	})
	if cfg.AlertEmail != "" {
		// SNS mails a confirmation link first; nothing is delivered until it is followed.
		a.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlertEmail), nil))
	}

	a.Rule = awsevents.NewRule(c, jsii.String("Rule"), &awsevents.RuleProps{
		RuleName:    jsii.String(cfg.NamePrefix + "-alerts"),
		Description: jsii.String("Sends every dsmigrate execution that ends FAILED, TIMED_OUT or ABORTED to the alerts topic"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(executionEventSource),
			DetailType: jsii.Strings(executionEventDetailType),
			Detail: &map[string]any{
				"status": AlertStatuses,
				// The batch state machine's failures too: its cause names the failed children
				// (each child, a migration execution, also alerts on its own).
				"stateMachineArn": []*string{props.StateMachine.StateMachineArn(), jsii.String(cfg.BatchStateMachineArn())},
			},
		},
	})
	// EventBridge publishes as this role, which only this deployment's alerts rule in this
	// account can make it assume (IAM User Guide: cross-service confused deputy prevention;
	// EventBridge User Guide: an SNS target may use an execution role). The rule ARN is
	// derived from its fixed name: a reference would make the role depend on the rule,
	// which depends on the role.
	a.PublisherRole = awsiam.NewRole(c, jsii.String("PublisherRole"), &awsiam.RoleProps{
		RoleName: jsii.String(cfg.NamePrefix + "-alerts-publisher"),
		AssumedBy: awsiam.NewPrincipalWithConditions(awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil), &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": cfg.DestinationAccount},
			"ArnEquals":    map[string]any{"aws:SourceArn": cfg.RuleArn("", cfg.NamePrefix+"-alerts")},
		}),
		Description: jsii.String("EventBridge publishes the " + cfg.NamePrefix + "-alerts rule's notifications to the alerts topic"),
	})
	// The target grants the role sns:Publish on the topic and, the topic being encrypted,
	// kms:Decrypt and kms:GenerateDataKey* on its key (Topic.grantPublish; the key policy
	// lets the account's IAM policies grant the key).
	a.Rule.AddTarget(awseventstargets.NewSnsTopic(a.Topic, &awseventstargets.SnsTopicProps{
		Message:            alertMessage(cfg),
		AuthorizeUsingRole: jsii.Bool(true),
		Role:               a.PublisherRole,
		DeadLetterQueue:    props.DeadLetterQueue,
		RetryAttempts:      jsii.Number(8),
		MaxEventAge:        awscdk.Duration_Hours(jsii.Number(2)),
	}))

	a.addDeadLetterAlarm(cfg, props.DeadLetterQueue)
	return a
}

// addDeadLetterAlarm alarms to the topic as soon as the dead-letter queue holds a message.
// CloudWatch publishes with its service principal, so the topic policy and the key policy
// grant it, each limited to this alarm (aws:SourceArn) in this account (aws:SourceAccount);
// the alarm ARN is derived from its fixed name for the same reason as the rule's.
func (a *Alerts) addDeadLetterAlarm(cfg Config, dlq awssqs.IQueue) {
	name := cfg.NamePrefix + "-trigger-dlq-not-empty"
	a.DeadLetterAlarm = awscloudwatch.NewAlarm(a.Construct, jsii.String("DeadLetterAlarm"), &awscloudwatch.AlarmProps{
		AlarmName: jsii.String(name),
		AlarmDescription: jsii.String(fmt.Sprintf("The queue %s-trigger-dlq holds an event EventBridge could not deliver: a migration request or schedule that started no execution, or an alert that was not published. Read the message and its attributes (ERROR_CODE, ERROR_MESSAGE, RULE_ARN), fix the cause, start the migration again, then delete the message.",
			cfg.NamePrefix)),
		Metric: dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period:    awscdk.Duration_Minutes(jsii.Number(5)),
			Statistic: jsii.String("Maximum"),
		}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	a.DeadLetterAlarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(a.Topic))

	cloudwatch := awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)
	onlyThisAlarm := map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": cfg.DestinationAccount},
		"ArnEquals":    map[string]any{"aws:SourceArn": fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", cfg.Partition(), cfg.Region, cfg.DestinationAccount, name)},
	}
	a.Topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DeadLetterAlarmPublishes"),
		Principals: &[]awsiam.IPrincipal{cloudwatch},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{a.Topic.TopicArn()},
		Conditions: &onlyThisAlarm,
	}))
	// An encrypted topic needs the publisher to be allowed the key (Amazon SNS Developer
	// Guide, "Key management": event sources from AWS services and encrypted topics).
	a.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DeadLetterAlarmUsesKey"),
		Principals: &[]awsiam.IPrincipal{cloudwatch},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &onlyThisAlarm,
	}), nil)
}

// alertMessage is the notification text: which execution, how it ended, why, and where
// to read it. Each line is a JSON string in the input template (EventBridge's form for
// multi-line text); EventBridge escapes the values it substitutes.
func alertMessage(cfg Config) awsevents.RuleTargetInput {
	field := func(path string) string { return *awsevents.EventField_FromPath(jsii.String(path)) }
	lines := []string{
		fmt.Sprintf("dsmigrate execution %s ended %s.", field("$.detail.name"), field("$.detail.status")),
		"Error: " + field("$.detail.error"),
		"Cause: " + field("$.detail.cause"),
		"Console: " + executionConsoleURL(cfg, field("$.detail.executionArn")),
		"Fix what the cause names, then start a new execution with the same migrationId (for a batch: the same batch input): finished steps are found again, not repeated (README: Errors and what to do).",
		// putbucketpolicy's explanation (ExplainFailure) writes these words when the revoke failed.
		`When the cause says "Grant left behind", dsmigrate's statements are still in the source bucket policy: the cause names the bucket, the account and the statements, and gives the commands that remove them.`,
	}
	return awsevents.RuleTargetInput_FromMultilineText(jsii.String(strings.Join(lines, "\n")))
}

// executionConsoleURL is the Step Functions console page of an execution in cfg.Region.
func executionConsoleURL(cfg Config, executionArn string) string {
	host := cfg.Region + ".console.aws.amazon.com"
	switch cfg.Partition() {
	case "aws-cn":
		host = cfg.Region + ".console.amazonaws.cn"
	case "aws-us-gov":
		host = "console.amazonaws-us-gov.com"
	}
	return fmt.Sprintf("https://%s/states/home?region=%s#/v2/executions/details/%s", host, cfg.Region, executionArn)
}
