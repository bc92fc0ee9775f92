package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// Context keys read from cdk.json or `cdk synth -c key=value`.
const (
	ctxNamePrefix         = "dsmigrate:namePrefix"
	ctxDestinationAccount = "dsmigrate:destinationAccount"
	ctxSourceAccount      = "dsmigrate:sourceAccount"
	ctxRegion             = "dsmigrate:region"
	ctxSourceBuckets      = "dsmigrate:sourceBuckets"
	ctxDestinationBuckets = "dsmigrate:destinationBuckets"
	ctxSourceKMSKeys      = "dsmigrate:sourceKmsKeys"
	ctxLogRetentionDays   = "dsmigrate:logRetentionDays"
	ctxSchedule           = "dsmigrate:schedule"
	ctxScheduledRequest   = "dsmigrate:scheduledRequest"
	ctxAlertEmail         = "dsmigrate:alertEmail"
	ctxExtraRegions       = "dsmigrate:extraRegions"
	// What a request may ask for, and how much of it at once.
	ctxAllowRemove              = request.SettingAllowRemove
	ctxAllowStandingGrant       = request.SettingAllowStandingGrant
	ctxMaxGrantsPerSourceBucket = "dsmigrate:maxGrantsPerSourceBucket"
	ctxMaxLiveMigrations        = "dsmigrate:maxLiveMigrations"
	// Accounts besides B allowed to put request events on the <prefix>-requests bus.
	ctxRequestProducers = "dsmigrate:requestProducers"
	// What the state machine writes to its log group.
	ctxStateMachineLogLevel = "dsmigrate:stateMachineLogLevel"
	ctxLogExecutionData     = "dsmigrate:logExecutionData"
)

// retiredContext are context keys earlier versions read, with what to do instead.
var retiredContext = map[string]string{
	"dsmigrate:externalId": "is no longer used: the roles in account A trust only this deployment's preflight and putbucketpolicy roles by ARN, and requests no longer carry an external id (docs/operate.md); remove the key",
}

// Defaults for the optional context keys.
const (
	defaultNamePrefix               = "dsmigrate"
	defaultLogRetentionDays         = 30
	defaultMaxGrantsPerSourceBucket = 4
	defaultMaxLiveMigrations        = 20
	defaultStateMachineLogLevel     = "ERROR"
)

// stateMachineLogLevels are the Step Functions log levels (LoggingConfiguration.Level).
var stateMachineLogLevels = []string{"ALL", "ERROR", "FATAL", "OFF"}

// anyAccount in dsmigrate:sourceAccount lets the functions assume the deployment's roles
// in any account; each of those roles still trusts only one function role of B by ARN.
const anyAccount = "*"

// Config is the validated deployment configuration shared by both stacks.
type Config struct {
	NamePrefix         string   // prefix of every name we give (functions, roles, log groups)
	DestinationAccount string   // account B: the functions, the state machine, every DataSync resource
	SourceAccount      string   // account A (12 digits), or "*" for any account
	Region             string   // region of both stacks and of the DataSync resources
	SourceBuckets      []string // buckets in A whose policy the policy-writer role may edit
	// SourceKMSKeys are the customer managed keys of account A (full key ARNs) that the
	// policy-writer role may grant to this deployment's transfer roles; empty: none.
	SourceKMSKeys      []string
	DestinationBuckets []string // buckets in B that migrations may write to
	LogRetentionDays   int      // retention of every log group
	Schedule           string   // optional EventBridge schedule expression for recurring syncs
	ScheduledRequest   json.RawMessage
	AlertEmail         string // optional address subscribed to the alerts topic
	// ExtraRegions are regions requests may name although the AWS SDK the functions are
	// built with does not know them (newer regions); the functions get them in
	// DSMIGRATE_EXTRA_REGIONS.
	ExtraRegions []string

	AllowRemove              bool     // requests may use task.preserveDeletedFiles REMOVE
	AllowStandingGrant       bool     // requests may use cleanup.revokeBucketPolicy false
	MaxGrantsPerSourceBucket int      // migrations of this deployment granted on one source bucket at once
	MaxLiveMigrations        int      // executions of the state machine running at once
	RequestProducers         []string // accounts besides B that may put request events
	StateMachineLogLevel     string   // ALL, ERROR, FATAL or OFF
	LogExecutionData         bool     // the state machine log holds inputs and outputs
}

// SourceReadRoleName is the role in A that Preflight assumes (read only).
func (c Config) SourceReadRoleName() string { return naming.SourceReadRoleName(c.NamePrefix) }

// SourcePolicyWriterRoleName is the role in A that PutBucketPolicy assumes.
func (c Config) SourcePolicyWriterRoleName() string {
	return naming.SourcePolicyWriterRoleName(c.NamePrefix)
}

// SourceRoleArn is the ARN of a role of this deployment in the source account
// ("*" for any account).
func (c Config) SourceRoleArn(name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", c.Partition(), c.SourceAccount, name)
}

// StateMachineArn is the ARN of the deployment's state machine, named after the prefix;
// derived rather than referenced so that a function may read it without a dependency
// cycle (the state machine references every function).
func (c Config) StateMachineArn() string {
	return fmt.Sprintf("arn:%s:states:%s:%s:stateMachine:%s", c.Partition(), c.Region, c.DestinationAccount, c.NamePrefix)
}

// StateMachineExecutionsArn matches the executions of the deployment's state machine,
// the child executions of its Distributed Map among them.
func (c Config) StateMachineExecutionsArn() string {
	return fmt.Sprintf("arn:%s:states:%s:%s:execution:%s/*", c.Partition(), c.Region, c.DestinationAccount, c.NamePrefix)
}

// RequestBusName is the event bus that takes migration requests.
func (c Config) RequestBusName() string { return c.NamePrefix + "-requests" }

// RuleArn is the ARN of an EventBridge rule of B on the default bus (bus "") or on a
// custom bus (EventBridge ARN format rule/[bus-name/]rule-name).
func (c Config) RuleArn(bus, rule string) string {
	name := rule
	if bus != "" {
		name = bus + "/" + rule
	}
	return fmt.Sprintf("arn:%s:events:%s:%s:rule/%s", c.Partition(), c.Region, c.DestinationAccount, name)
}

// FunctionName is the Lambda function name of a step ("dsmigrate-preflight"); the local
// runner uses the same names (docs/reference.md).
func (c Config) FunctionName(step string) string { return c.NamePrefix + "-" + step }

// ExecutionRoleName is the fixed name of a step function's execution role. Fixed names let
// the source account trust the preflight and putbucketpolicy roles before they exist in
// an account it cannot read.
func (c Config) ExecutionRoleName(step string) string {
	return naming.FunctionRoleName(c.NamePrefix, step)
}

// ExecutionRoleArn is the ARN of a step function's execution role in account B.
func (c Config) ExecutionRoleArn(step string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", c.Partition(), c.DestinationAccount, c.ExecutionRoleName(step))
}

// Partition is the AWS partition of Region.
func (c Config) Partition() string {
	switch {
	case strings.HasPrefix(c.Region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(c.Region, "us-gov-"):
		return "aws-us-gov"
	default:
		return "aws"
	}
}

var (
	prefixPattern  = regexp.MustCompile(`^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2,4}(?:-gov|-iso[a-z]*)?-[a-z]+-[0-9]$`)
	// extraRegionPattern is the DSMIGRATE_EXTRA_REGIONS rule of internal/lambdaenv.
	extraRegionPattern = regexp.MustCompile(`^[a-z]{2,}(?:-[a-z0-9]+)+-[0-9]{1,2}$`)
	bucketPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	schedulePattern    = regexp.MustCompile(`^(?:rate\(\d+ (?:minute|minutes|hour|hours|day|days)\)|cron\(.+\))$`)
)

// retentionDays are the values CloudWatch Logs accepts for a retention period.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// ConfigFromContext reads and validates every dsmigrate:* key. get returns the raw context
// value (nil when absent); values given with `-c` arrive as strings, so lists and objects
// may also be JSON text and lists comma-separated text. All problems are reported at once,
// each naming its context key.
func ConfigFromContext(get func(key string) any) (Config, error) {
	var errs []error
	fail := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("context %q: %s", key, fmt.Sprintf(format, args...)))
	}
	str := func(key, def string) string {
		switch v := get(key).(type) {
		case nil:
			return def
		case string:
			if v == "" {
				return def
			}
			return v
		default:
			fail(key, "want a string, got %T", v)
			return ""
		}
	}
	required := func(key string) string {
		raw := get(key)
		if raw == nil {
			fail(key, "missing; set it in cdk.json or pass -c %s=...", key)
			return ""
		}
		if s, ok := raw.(string); ok && s == "" {
			fail(key, "must not be empty")
		}
		return str(key, "")
	}

	c := Config{
		NamePrefix:         str(ctxNamePrefix, defaultNamePrefix),
		DestinationAccount: required(ctxDestinationAccount),
		SourceAccount:      required(ctxSourceAccount),
		Region:             required(ctxRegion),
		Schedule:           str(ctxSchedule, ""),
		AlertEmail:         str(ctxAlertEmail, ""),
	}
	for key, what := range retiredContext {
		if get(key) != nil {
			fail(key, "%s", what)
		}
	}
	if !prefixPattern.MatchString(c.NamePrefix) {
		fail(ctxNamePrefix, "%q must be 1-20 lower-case letters, digits or '-', start with a letter and not end with '-'", c.NamePrefix)
	}
	if c.DestinationAccount != "" && !accountPattern.MatchString(c.DestinationAccount) {
		fail(ctxDestinationAccount, "%q is not a 12-digit account id", c.DestinationAccount)
	}
	if c.SourceAccount != "" && c.SourceAccount != anyAccount && !accountPattern.MatchString(c.SourceAccount) {
		fail(ctxSourceAccount, "%q is not a 12-digit account id (or %q for any account)", c.SourceAccount, anyAccount)
	}
	if c.SourceAccount != "" && c.SourceAccount == c.DestinationAccount {
		fail(ctxSourceAccount, "%q equals %s; dsmigrate moves data between two accounts", c.SourceAccount, ctxDestinationAccount)
	}
	if c.Region != "" && !regionPattern.MatchString(c.Region) {
		fail(ctxRegion, "%q is not a region name like ap-northeast-1", c.Region)
	}
	c.ExtraRegions = extraRegions(get, fail)
	c.SourceBuckets = buckets(get, ctxSourceBuckets, fail)
	c.SourceKMSKeys = kmsKeys(get, c.SourceAccount, fail)
	c.DestinationBuckets = buckets(get, ctxDestinationBuckets, fail)

	c.LogRetentionDays = defaultLogRetentionDays
	switch v := get(ctxLogRetentionDays).(type) {
	case nil:
	case float64:
		c.LogRetentionDays = int(v)
		if float64(c.LogRetentionDays) != v {
			fail(ctxLogRetentionDays, "%v is not a whole number of days", v)
		}
	case string:
		n, err := strconv.Atoi(v)
		if err != nil {
			fail(ctxLogRetentionDays, "%q is not a number of days", v)
		}
		c.LogRetentionDays = n
	default:
		fail(ctxLogRetentionDays, "want a number of days, got %T", v)
	}
	if !slices.Contains(retentionDays, c.LogRetentionDays) {
		fail(ctxLogRetentionDays, "%d is not a CloudWatch Logs retention period; use one of %v", c.LogRetentionDays, retentionDays)
	}

	c.AllowRemove = boolean(get, ctxAllowRemove, fail)
	c.AllowStandingGrant = boolean(get, ctxAllowStandingGrant, fail)
	c.LogExecutionData = boolean(get, ctxLogExecutionData, fail)
	c.MaxGrantsPerSourceBucket = count(get, ctxMaxGrantsPerSourceBucket, defaultMaxGrantsPerSourceBucket, fail)
	c.MaxLiveMigrations = count(get, ctxMaxLiveMigrations, defaultMaxLiveMigrations, fail)
	c.StateMachineLogLevel = str(ctxStateMachineLogLevel, defaultStateMachineLogLevel)
	if !slices.Contains(stateMachineLogLevels, c.StateMachineLogLevel) {
		fail(ctxStateMachineLogLevel, "%q is not a Step Functions log level; use one of %v", c.StateMachineLogLevel, stateMachineLogLevels)
	}
	c.RequestProducers = accounts(get, ctxRequestProducers, fail)
	for _, a := range c.RequestProducers {
		if a == c.DestinationAccount {
			fail(ctxRequestProducers, "%s is account B itself, which may always put request events; list only other accounts", a)
		}
	}

	if c.AlertEmail != "" && !isEmailAddress(c.AlertEmail) {
		fail(ctxAlertEmail, "%q is not an email address like ops@example.com (one bare address, no display name); leave it empty for no subscription", c.AlertEmail)
	}

	if c.Schedule != "" && !schedulePattern.MatchString(c.Schedule) {
		fail(ctxSchedule, "%q is not an EventBridge schedule expression like rate(1 day) or cron(0 3 * * ? *)", c.Schedule)
	}
	req := get(ctxScheduledRequest)
	if s, ok := req.(string); ok && s == "" {
		req = nil
	}
	switch {
	case c.Schedule != "" && req == nil:
		fail(ctxScheduledRequest, "missing; %s is set, so give the migration request (JSON object) each scheduled run starts", ctxSchedule)
	case c.Schedule == "" && req != nil:
		fail(ctxScheduledRequest, "is set but %s is empty; set both or neither", ctxSchedule)
	case req != nil:
		raw, err := jsonObject(req)
		if err != nil {
			fail(ctxScheduledRequest, "%v", err)
			break
		}
		c.ScheduledRequest = raw
		if len(errs) == 0 {
			if err := c.checkScheduledRequest(); err != nil {
				fail(ctxScheduledRequest, "%v", err)
			}
		}
	}
	return c, errors.Join(errs...)
}

// isEmailAddress reports whether s is one bare address (local@domain.tld) that SNS can
// subscribe: no display name, no angle brackets, a dot in the domain.
func isEmailAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	_, domain, _ := strings.Cut(s, "@")
	return strings.Contains(strings.Trim(domain, "."), ".")
}

// checkScheduledRequest validates the scheduled request as the functions will, so a bad one
// fails at synth instead of at every run. Scheduled executions get generated names, so the
// request must carry its migration id (the same id every run reuses the same resources).
func (c Config) checkScheduledRequest() error {
	r, err := request.Decode(c.ScheduledRequest)
	if err != nil {
		return err
	}
	if r.MigrationID == "" {
		return errors.New("migrationId is required: every scheduled run must reuse the same roles, locations and task")
	}
	r.Normalize("")
	home := request.Home{Region: c.Region, AccountID: c.DestinationAccount, Partition: c.Partition(), ExtraRegions: c.ExtraRegions}
	if err := r.Validate(home); err != nil {
		return err
	}
	if err := r.CheckDeployment(c.Deployment()); err != nil {
		return err
	}
	if !slices.Contains(c.SourceBuckets, r.Source.Bucket) {
		return fmt.Errorf("source.bucket %q is not in %s", r.Source.Bucket, ctxSourceBuckets)
	}
	if !slices.Contains(c.DestinationBuckets, r.Destination.Bucket) {
		return fmt.Errorf("destination.bucket %q is not in %s", r.Destination.Bucket, ctxDestinationBuckets)
	}
	return nil
}

// Deployment is what the deployment allows beyond a plain copy.
func (c Config) Deployment() request.Deployment {
	return request.Deployment{AllowRemove: c.AllowRemove, AllowStandingGrant: c.AllowStandingGrant}
}

// boolean reads an optional true/false (false when absent); -c gives it as text.
func boolean(get func(string) any, key string, fail func(key, format string, args ...any)) bool {
	switch v := get(key).(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		switch v {
		case "", "false":
			return false
		case "true":
			return true
		}
	}
	fail(key, "want true or false, got %v", get(key))
	return false
}

// count reads an optional whole number of at least 1; -c gives it as text.
func count(get func(string) any, key string, def int, fail func(key, format string, args ...any)) int {
	n := def
	switch v := get(key).(type) {
	case nil:
		return def
	case float64:
		n = int(v)
		if float64(n) != v {
			fail(key, "%v is not a whole number", v)
			return def
		}
	case string:
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			fail(key, "%q is not a whole number", v)
			return def
		}
	default:
		fail(key, "want a whole number, got %T", v)
		return def
	}
	if n < 1 {
		fail(key, "%d: must be at least 1", n)
	}
	return n
}

// stringList reads a context value that lists names: a list (cdk.json), or text from -c,
// a JSON list or comma-separated names. nil and blank text give no names. ok is false,
// after fail, when the value is none of these; an element that is not a string is
// reported with fail and left out. one and many name an element ("a bucket name") and
// the elements ("bucket names") in the messages.
func stringList(get func(string) any, key, one, many string, fail func(key, format string, args ...any)) (names []string, ok bool) {
	switch v := get(key).(type) {
	case nil:
	case []any:
		for i, e := range v {
			s, isString := e.(string)
			if !isString {
				fail(key, "element %d: want %s, got %T", i, one, e)
				continue
			}
			names = append(names, s)
		}
	case string:
		switch t := strings.TrimSpace(v); {
		case t == "":
		case strings.HasPrefix(t, "["):
			if err := json.Unmarshal([]byte(t), &names); err != nil {
				fail(key, "not a JSON list of %s: %v", many, err)
				return nil, false
			}
		default:
			for _, s := range strings.Split(t, ",") {
				names = append(names, strings.TrimSpace(s))
			}
		}
	default:
		fail(key, "want a list of %s, got %T", many, v)
		return nil, false
	}
	return names, true
}

// accounts reads an optional list of 12-digit account ids (a list, JSON text or
// comma-separated text).
func accounts(get func(string) any, key string, fail func(key, format string, args ...any)) []string {
	ids, ok := stringList(get, key, "an account id", "account ids", fail)
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	for _, id := range ids {
		switch {
		case !accountPattern.MatchString(id):
			fail(key, "%q is not a 12-digit account id", id)
		case seen[id]:
			fail(key, "%q is listed twice", id)
		}
		seen[id] = true
	}
	return ids
}

// extraRegions reads the optional list of regions newer than the AWS SDK (a JSON list,
// or comma-separated text from -c).
func extraRegions(get func(string) any, fail func(key, format string, args ...any)) []string {
	names, ok := stringList(get, ctxExtraRegions, "a region name", "region names", fail)
	if !ok {
		return nil
	}
	for _, n := range names {
		if !extraRegionPattern.MatchString(n) {
			fail(ctxExtraRegions, "%q is not a region name like ap-northeast-9", n)
		}
	}
	return names
}

// buckets reads a non-empty list of bucket names.
func buckets(get func(string) any, key string, fail func(key, format string, args ...any)) []string {
	if get(key) == nil {
		fail(key, "missing; list the bucket names, e.g. [\"team-a-media\"]")
		return nil
	}
	names, ok := stringList(get, key, "a bucket name", "bucket names", fail)
	if !ok {
		return nil
	}
	if len(names) == 0 {
		fail(key, "must name at least one bucket")
	}
	seen := map[string]bool{}
	for _, n := range names {
		switch {
		case !bucketPattern.MatchString(n) || strings.Contains(n, ".."):
			fail(key, "%q is not an S3 bucket name (3-63 lower-case letters, digits, '.', '-')", n)
		case seen[n]:
			fail(key, "%q is listed twice", n)
		}
		seen[n] = true
	}
	return names
}

// jsonObject returns v (a decoded JSON value or JSON text) as the text of a JSON object.
func jsonObject(v any) (json.RawMessage, error) {
	if s, ok := v.(string); ok {
		v = nil
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("not JSON: %v", err)
		}
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("want a JSON object (a migration request), got %T", v)
	}
	return json.Marshal(v)
}

// repoRoot is the directory holding cdk.json: the working directory under `cdk synth`,
// a parent of it under `go test ./infra`.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "cdk.json")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cdk.json not found in the working directory or any parent")
		}
		dir = parent
	}
}

// kmsKeys reads dsmigrate:sourceKmsKeys: full KMS key ARNs (not aliases) of the source
// account; absent or [] means none.
func kmsKeys(get func(string) any, account string, fail func(key, format string, args ...any)) []string {
	if get(ctxSourceKMSKeys) == nil {
		return nil
	}
	keys, ok := stringList(get, ctxSourceKMSKeys, "key ARN", "key ARNs", fail)
	if !ok {
		return nil
	}
	for _, k := range keys {
		_, _, acct, ok := request.KMSKeyArnParts(k)
		switch {
		case !ok:
			fail(ctxSourceKMSKeys, "%q is not the full ARN of a KMS key (arn:<partition>:kms:<region>:<account>:key/<key id>; aliases are not accepted)", k)
		case account != anyAccount && acct != account:
			fail(ctxSourceKMSKeys, "%q is a key of account %s, not of %s %s", k, acct, ctxSourceAccount, account)
		}
	}
	return keys
}

// EventBusArn is the ARN of an event bus of this deployment's account and region.
func (c Config) EventBusArn(bus string) string {
	return fmt.Sprintf("arn:%s:events:%s:%s:event-bus/%s", c.Partition(), c.Region, c.DestinationAccount, bus)
}
