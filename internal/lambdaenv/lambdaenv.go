// Package lambdaenv reads a Lambda function's environment variables (docs/reference.md) and
// reports every missing or malformed one in a single error, so that main can exit once
// with the whole list.
package lambdaenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// Names of the variables.
const (
	Region                 = "AWS_REGION"
	AccountID              = "DSMIGRATE_ACCOUNT_ID"
	RolePrefix             = "DSMIGRATE_ROLE_PREFIX"
	LocationsCallerRoleArn = "DSMIGRATE_LOCATIONS_CALLER_ROLE_ARN"
	TaskLogGroupArn        = "DSMIGRATE_TASK_LOG_GROUP_ARN"
	// ExtraRegions lists, comma-separated, regions that requests may name although the
	// AWS SDK the functions were built with does not know them (cdk.json context key
	// dsmigrate:extraRegions).
	ExtraRegions = "DSMIGRATE_EXTRA_REGIONS"
	// RoleBoundaryArn is the permissions boundary of the roles createroles makes.
	RoleBoundaryArn = "DSMIGRATE_ROLE_BOUNDARY_ARN"
	// SourceBuckets and DestinationBuckets are the deployment's bucket allow-lists,
	// comma-separated (cdk.json dsmigrate:sourceBuckets, dsmigrate:destinationBuckets).
	SourceBuckets      = "DSMIGRATE_SOURCE_BUCKETS"
	DestinationBuckets = "DSMIGRATE_DESTINATION_BUCKETS"
	// Deployment settings (cdk.json dsmigrate:allowRemove, allowStandingGrant,
	// maxGrantsPerSourceBucket, maxLiveMigrations) and the deployment's own state machine.
	AllowRemove              = "DSMIGRATE_ALLOW_REMOVE"
	AllowStandingGrant       = "DSMIGRATE_ALLOW_STANDING_GRANT"
	MaxGrantsPerSourceBucket = "DSMIGRATE_MAX_GRANTS_PER_SOURCE_BUCKET"
	MaxLiveMigrations        = "DSMIGRATE_MAX_LIVE_MIGRATIONS"
	StateMachineArn          = "DSMIGRATE_STATE_MACHINE_ARN"
)

var (
	accountPattern      = regexp.MustCompile(`^[0-9]{12}$`)
	prefixPattern       = regexp.MustCompile(`^[\w+=,.@-]+$`)
	roleArnPattern      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,64}$`)
	logGroupPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:logs:[a-z0-9-]+:[0-9]{12}:log-group:[^:]+(?::\*)?$`)
	regionPattern       = regexp.MustCompile(`^[a-z]{2,}(?:-[a-z0-9]+)+-[0-9]{1,2}$`)
	policyArnPattern    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:policy/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,128}$`)
	bucketPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	stateMachinePattern = regexp.MustCompile(`^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[\w-]{1,80}$`)
)

// Reader collects values and problems. LookupEnv defaults to os.LookupEnv.
type Reader struct {
	LookupEnv func(string) (string, bool)
	problems  []string
}

func (r *Reader) lookup(name string) (string, bool) {
	if r.LookupEnv == nil {
		r.LookupEnv = os.LookupEnv
	}
	v, ok := r.LookupEnv(name)
	return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
}

// Required returns the variable; it records a problem when it is missing or empty.
func (r *Reader) Required(name string) string {
	v, ok := r.lookup(name)
	if !ok {
		r.problems = append(r.problems, name+" is missing")
	}
	return v
}

// Optional returns the variable, or "" when it is unset.
func (r *Reader) Optional(name string) string {
	v, _ := r.lookup(name)
	return v
}

func (r *Reader) check(name, v string, ok bool, rule string) string {
	if v != "" && !ok {
		r.problems = append(r.problems, fmt.Sprintf("%s %s (got %q)", name, rule, v))
	}
	return v
}

// Home reads AWS_REGION, DSMIGRATE_ACCOUNT_ID and the optional DSMIGRATE_EXTRA_REGIONS:
// where the function runs (its own region and account), and the regions newer than the
// SDK it accepts.
func (r *Reader) Home() request.Home {
	e := request.Home{Region: r.Required(Region)}
	if v := r.Optional(ExtraRegions); v != "" {
		for _, region := range strings.Split(v, ",") {
			region = strings.TrimSpace(region)
			if !regionPattern.MatchString(region) {
				r.problems = append(r.problems, fmt.Sprintf("%s must list region names such as ap-east-9, separated by commas (got %q)", ExtraRegions, v))
				break
			}
			e.ExtraRegions = append(e.ExtraRegions, region)
		}
	}
	e.AccountID = r.Required(AccountID)
	r.check(AccountID, e.AccountID, accountPattern.MatchString(e.AccountID), "must be 12 digits")
	e.Partition = request.Partition(e.Region)
	return e
}

// Deployment reads DSMIGRATE_ALLOW_REMOVE and DSMIGRATE_ALLOW_STANDING_GRANT ("true" or
// "false"; unset is false).
func (r *Reader) Deployment() request.Deployment {
	return request.Deployment{AllowRemove: r.bool(AllowRemove), AllowStandingGrant: r.bool(AllowStandingGrant)}
}

func (r *Reader) bool(name string) bool {
	v := r.Optional(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	r.check(name, v, err == nil && (v == "true" || v == "false"), "must be true or false")
	return b
}

// Cap reads a required whole number of at least 1 (a cap such as
// DSMIGRATE_MAX_LIVE_MIGRATIONS).
func (r *Reader) Cap(name string) int {
	v := r.Required(name)
	n, err := strconv.Atoi(v)
	r.check(name, v, err == nil && n >= 1, "must be a whole number of at least 1")
	return n
}

// StateMachineArn reads DSMIGRATE_STATE_MACHINE_ARN, the deployment's own state machine.
func (r *Reader) StateMachineArn() string {
	v := r.Required(StateMachineArn)
	return r.check(StateMachineArn, v, stateMachinePattern.MatchString(v), "must be a Step Functions state machine ARN")
}

// RolePrefix reads DSMIGRATE_ROLE_PREFIX (at most naming.MaxPrefixLength characters, so
// that role names stay within 64).
func (r *Reader) RolePrefix() string {
	v := r.Required(RolePrefix)
	return r.check(RolePrefix, v, len(v) <= naming.MaxPrefixLength && prefixPattern.MatchString(v),
		fmt.Sprintf("must be 1-%d characters of letters, digits and +=,.@_-", naming.MaxPrefixLength))
}

// LocationsCallerRoleArn reads DSMIGRATE_LOCATIONS_CALLER_ROLE_ARN.
func (r *Reader) LocationsCallerRoleArn() string {
	v := r.Required(LocationsCallerRoleArn)
	return r.check(LocationsCallerRoleArn, v, roleArnPattern.MatchString(v), "must be an IAM role ARN")
}

// TaskLogGroupArn reads the optional DSMIGRATE_TASK_LOG_GROUP_ARN.
func (r *Reader) TaskLogGroupArn() string {
	v := r.Optional(TaskLogGroupArn)
	return r.check(TaskLogGroupArn, v, logGroupPattern.MatchString(v), "must be a CloudWatch Logs log group ARN")
}

// RoleBoundaryArn reads DSMIGRATE_ROLE_BOUNDARY_ARN.
func (r *Reader) RoleBoundaryArn() string {
	v := r.Required(RoleBoundaryArn)
	return r.check(RoleBoundaryArn, v, policyArnPattern.MatchString(v), "must be an IAM managed policy ARN")
}

// Buckets reads a required comma-separated list of bucket names (SourceBuckets or
// DestinationBuckets).
func (r *Reader) Buckets(name string) []string {
	v := r.Required(name)
	if v == "" {
		return nil
	}
	var out []string
	for _, b := range strings.Split(v, ",") {
		b = strings.TrimSpace(b)
		if !bucketPattern.MatchString(b) {
			r.problems = append(r.problems, fmt.Sprintf("%s must be a comma-separated list of S3 bucket names (got %q)", name, v))
			return nil
		}
		out = append(out, b)
	}
	return out
}

// Err returns one error listing every problem, or nil.
func (r *Reader) Err() error {
	if len(r.problems) == 0 {
		return nil
	}
	return fmt.Errorf("environment: %s", strings.Join(r.problems, "; "))
}

// AWSConfig ends a function's start: after the variables are read, it exits with the
// one error that lists every problem (Err), else returns the AWS SDK's default
// configuration, exiting when that cannot be loaded.
func (r *Reader) AWSConfig() aws.Config {
	if err := r.Err(); err != nil {
		slog.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("cannot load the AWS configuration", "error", err.Error())
		os.Exit(1)
	}
	return cfg
}
