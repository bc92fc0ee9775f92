package awsrun

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// DefaultStack is the name of the stack that holds the state machine (infra, DestinationStack).
const DefaultStack = "DsmigrateDestination"

// StateMachineOutput is the stack output that names the state machine.
const StateMachineOutput = "StateMachineArn"

// StacksAPI is the part of CloudFormation the commands use to find the state machine.
type StacksAPI interface {
	DescribeStacks(ctx context.Context, params *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

var _ StacksAPI = (*cloudformation.Client)(nil)

// NewStacks loads the shared AWS configuration (profile when not empty; region when not
// empty, else the configuration's) and returns a CloudFormation client and its region.
func NewStacks(ctx context.Context, profile, region string) (StacksAPI, string, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, "", errors.New("no AWS region: give --region (or set AWS_REGION), or --state-machine-arn")
	}
	return cloudformation.NewFromConfig(cfg), cfg.Region, nil
}

// target is where a command finds the state machine: --state-machine-arn, or the output
// of --stack.
type target struct {
	arn, stack, profile, region *string
}

func (r *Runner) targetFlags(fs *flag.FlagSet) *target {
	return &target{
		arn:     fs.String("state-machine-arn", "", "the state machine (default: the "+StateMachineOutput+" output of --stack)"),
		stack:   fs.String("stack", DefaultStack, "the stack whose "+StateMachineOutput+" output names the state machine, when --state-machine-arn is not given"),
		profile: fs.String("profile", "", "AWS shared-config profile (default: the usual credential chain)"),
		region:  fs.String("region", "", "AWS region (default: the state machine ARN's, else the configuration's)"),
	}
}

// errStack marks a failed stack lookup (exit ExitAWS rather than ExitUsage).
var errStack = errors.New("stack lookup failed")

// stateMachine returns the state machine's ARN and the region to call: --state-machine-arn
// as given, or the StateMachineArn output of the stack (CloudFormation DescribeStacks).
func (r *Runner) stateMachine(ctx context.Context, t *target) (arn.ARN, string, error) {
	if *t.arn != "" {
		sm, err := stateMachineARN(*t.arn)
		if err != nil {
			return arn.ARN{}, "", err
		}
		reg, err := pickRegion(*t.region, sm.Region)
		return sm, reg, err
	}
	newStacks := r.NewStacks
	if newStacks == nil {
		newStacks = NewStacks
	}
	client, region, err := newStacks(ctx, *t.profile, *t.region)
	if err != nil {
		return arn.ARN{}, "", fmt.Errorf("%w: %v", errStack, err)
	}
	out, err := client.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(*t.stack)})
	if err != nil {
		return arn.ARN{}, "", fmt.Errorf("%w: CloudFormation DescribeStacks %s in %s: %v (deploy the stack, or give --stack or --state-machine-arn)", errStack, *t.stack, region, err)
	}
	for _, s := range out.Stacks {
		for _, o := range s.Outputs {
			if aws.ToString(o.OutputKey) == StateMachineOutput {
				sm, err := stateMachineARN(aws.ToString(o.OutputValue))
				if err != nil {
					return arn.ARN{}, "", fmt.Errorf("%w: stack %s: %v", errStack, *t.stack, err)
				}
				*t.arn = sm.String()
				return sm, sm.Region, nil
			}
		}
	}
	return arn.ARN{}, "", fmt.Errorf("%w: stack %s in %s has no output %s; is it dsmigrate's DestinationStack?", errStack, *t.stack, region, StateMachineOutput)
}

// errTarget reports a failed stateMachine: a usage problem, or ExitAWS for the lookup.
func (r *Runner) errTarget(err error) int {
	if errors.Is(err, errStack) {
		fmt.Fprintf(r.Stderr, "dsmigrate: %v\n", err)
		return ExitAWS
	}
	return r.errUsage(err)
}
