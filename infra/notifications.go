package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
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
// publishes a readable message to the topic <prefix>-alerts.
//
// The topic is encrypted with a customer managed key because EventBridge can publish to
// an encrypted topic only if the key policy lets events.amazonaws.com use the key, and the
// policy of the AWS managed key alias/aws/sns cannot be changed (Amazon SNS Developer
// Guide, "Key management": event sources from AWS services need a customer managed key).
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
				"status":          AlertStatuses,
				"stateMachineArn": []*string{props.StateMachine.StateMachineArn()},
			},
		},
	})
	// The SnsTopic target grants events.amazonaws.com sns:Publish in the topic policy and,
	// the topic being encrypted, kms:Decrypt and kms:GenerateDataKey* in the key policy
	// (Topic.grantPublish); without the latter every notification would fail into the DLQ.
	a.Rule.AddTarget(awseventstargets.NewSnsTopic(a.Topic, &awseventstargets.SnsTopicProps{
		Message:         alertMessage(cfg),
		DeadLetterQueue: props.DeadLetterQueue,
		RetryAttempts:   jsii.Number(8),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(2)),
	}))
	return a
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
		"Fix what the cause names, then start a new execution with the same migrationId: finished steps are found again, not repeated (README: Errors and what to do).",
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
