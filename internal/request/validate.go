package request

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
)

// Home is where dsmigrate runs, as the running function knows it: its account (B), its
// region, its partition, and the regions it accepts beyond those its AWS SDK knows.
// Validate checks a request against it.
type Home struct {
	AccountID string
	Region    string
	Partition string // empty: derived from Region
	// ExtraRegions are regions accepted although the AWS SDK this dsmigrate was built
	// with does not know them (regions newer than the SDK). Region itself is always
	// accepted.
	ExtraRegions []string
}

// ARNPartition is the partition of the ARNs dsmigrate makes: Partition, or the one of
// Region when it is empty.
func (h Home) ARNPartition() string {
	if h.Partition != "" {
		return h.Partition
	}
	return Partition(h.Region)
}

// knows reports whether region is a region this deployment accepts.
func (h Home) knows(region string) bool {
	return region == h.Region || KnownRegion(region) || slices.Contains(h.ExtraRegions, region)
}

// Enum values accepted in the request. They are DataSync's own values.
var (
	StorageClasses = []string{"STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
		"GLACIER", "GLACIER_INSTANT_RETRIEVAL", "DEEP_ARCHIVE"}
	TaskModes             = []string{"BASIC", "ENHANCED"}
	VerifyModes           = []string{"POINT_IN_TIME_CONSISTENT", "ONLY_FILES_TRANSFERRED", "NONE"}
	OverwriteModes        = []string{"ALWAYS", "NEVER"}
	TransferModes         = []string{"CHANGED", "ALL"}
	PreserveDeletedValues = []string{"PRESERVE", "REMOVE"}
	LogLevels             = []string{"OFF", "BASIC", "TRANSFER"}
)

// Limits from the AWS documentation.
const (
	MaxPrefixLength = 1024   // an S3 key is at most 1,024 bytes
	MaxFilterLength = 102400 // DataSync FilterRule.Value
)

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^(?:us-gov|us|eu|ap|sa|ca|me|af|il|mx|cn)-(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-[1-9][0-9]?$`)
	ipLikePattern  = regexp.MustCompile(`^[0-9]{1,3}(?:\.[0-9]{1,3}){3}$`)
	// DataSync CreateLocationS3 Subdirectory pattern.
	subdirectoryPattern = regexp.MustCompile(`^[a-zA-Z0-9_\-\+\./\(\)\p{Zs}]*$`)
)

// Validate checks every rule of the (normalized) request and reports all broken rules at
// once in a *failure.ValidationError; it returns nil when the request is valid.
func (r *Request) Validate(home Home) error {
	v := &failure.ValidationError{}
	if r == nil {
		v.Add("(request)", "is missing")
		return v
	}
	homePartition := home.ARNPartition()

	switch {
	case r.MigrationID == "":
		v.Add("migrationId", "is required when the execution name has no letter or digit; give 1-32 characters a-z, 0-9 and -")
	case !naming.ValidID(r.MigrationID):
		v.Add("migrationId", "must be 1-32 characters a-z, 0-9 and -, starting and ending with a letter or digit (got %q)", r.MigrationID)
	}

	checkEnum(v, "mode", r.Mode, Modes)
	if r.Cleanup.DeleteResources && !r.Revoke() {
		v.Add("cleanup.deleteResources", "true deletes the roles that cleanup.revokeBucketPolicy false would keep access for; set only one of them")
	}

	s := r.Source
	checkBucket(v, "source.bucket", s.Bucket)
	switch {
	case s.AccountID == "":
		v.Add("source.accountId", "is required: the 12-digit id of account A that owns the source bucket")
	case !accountPattern.MatchString(s.AccountID):
		v.Add("source.accountId", "must be 12 digits (got %q)", s.AccountID)
	case s.AccountID == home.AccountID || s.AccountID == r.Destination.AccountID:
		v.Add("source.accountId", "is %s, the destination account: dsmigrate moves data across accounts, from a bucket in account A to one in account B. "+
			"To copy between buckets of one account, use S3 Batch Operations, S3 Replication or a DataSync task of your own", s.AccountID)
	}
	srcRegionOK := checkRegion(v, "source.region", s.Region, home)
	if srcRegionOK && Partition(s.Region) != homePartition {
		v.Add("source.region", "is in partition %s but dsmigrate runs in %s; DataSync cannot transfer across partitions", Partition(s.Region), homePartition)
	}
	checkPrefix(v, "source.prefix", s.Prefix)
	if srcRegionOK {
		checkKMSKeyArns(v, s)
	}

	d := r.Destination
	checkBucket(v, "destination.bucket", d.Bucket)
	switch {
	case d.AccountID == "":
	case !accountPattern.MatchString(d.AccountID):
		v.Add("destination.accountId", "must be 12 digits (got %q)", d.AccountID)
	case home.AccountID != "" && d.AccountID != home.AccountID:
		v.Add("destination.accountId", "is %s, but this dsmigrate runs in account %s, where every DataSync resource and the destination bucket must be; start the migration in the destination account's dsmigrate, or leave the field out", d.AccountID, home.AccountID)
	}
	if checkRegion(v, "destination.region", d.Region, home) && home.Region != "" && d.Region != home.Region {
		v.Add("destination.region", "must be %s, the region dsmigrate runs in: every DataSync resource lives in the destination account and region (got %q)", home.Region, d.Region)
	}
	checkPrefix(v, "destination.prefix", d.Prefix)
	if d.KMSKeyArn != "" {
		_, region, account, ok := KMSKeyArnParts(d.KMSKeyArn)
		switch {
		case !ok:
			v.Add("destination.kmsKeyArn", "must be the full ARN of a KMS key, arn:<partition>:kms:<region>:<account>:key/<key id>; got %q", d.KMSKeyArn)
		case region != d.Region || (home.AccountID != "" && account != home.AccountID):
			v.Add("destination.kmsKeyArn", "must be a key of account %s in region %s, where the destination bucket is (got %q)", home.AccountID, d.Region, d.KMSKeyArn)
		}
	}
	if d.StorageClass == "OUTPOSTS" {
		v.Add("destination.storageClass", "OUTPOSTS is for S3 on Outposts, which needs an agent; use one of %s", strings.Join(StorageClasses, ", "))
	} else {
		checkEnum(v, "destination.storageClass", d.StorageClass, StorageClasses)
	}
	if s.Bucket != "" && s.Bucket == d.Bucket && overlaps(s.Prefix, d.Prefix) {
		v.Add("destination.prefix", "overlaps source.prefix in the same bucket %q: the transfer would read what it writes; use disjoint prefixes", s.Bucket)
	}

	t := r.Task
	checkEnum(v, "task.taskMode", t.TaskMode, TaskModes)
	checkEnum(v, "task.verifyMode", t.VerifyMode, VerifyModes)
	checkEnum(v, "task.overwriteMode", t.OverwriteMode, OverwriteModes)
	checkEnum(v, "task.transferMode", t.TransferMode, TransferModes)
	checkEnum(v, "task.preserveDeletedFiles", t.PreserveDeletedFiles, PreserveDeletedValues)
	checkEnum(v, "task.logLevel", t.LogLevel, LogLevels)
	if t.TaskMode == "ENHANCED" && t.VerifyMode == "POINT_IN_TIME_CONSISTENT" {
		v.Add("task.verifyMode", "POINT_IN_TIME_CONSISTENT is not supported by ENHANCED task mode; use ONLY_FILES_TRANSFERRED or NONE, or taskMode BASIC")
	}
	if t.PreserveDeletedFiles == "REMOVE" && t.TransferMode == "ALL" {
		v.Add("task.preserveDeletedFiles", "REMOVE needs transferMode CHANGED: with ALL, DataSync does not scan the destination and cannot know what to delete")
	}
	if t.VerifyMode == "POINT_IN_TIME_CONSISTENT" && (d.StorageClass == "GLACIER" || d.StorageClass == "DEEP_ARCHIVE") {
		v.Add("task.verifyMode", "POINT_IN_TIME_CONSISTENT cannot be used with storage class %s (it would read back archived objects); use ONLY_FILES_TRANSFERRED", d.StorageClass)
	}
	checkFilters(v, "task.includes", t.Includes, true)
	checkFilters(v, "task.excludes", t.Excludes, false)
	checkShards(v, t)
	checkReport(v, t.Report, d, r.MigrationID)
	if b, err := json.Marshal(r); err == nil && len(b) > MaxDocumentBytes {
		v.Add("(request)", "%s", tooLargeForDocument(len(b)))
	}
	return v.OrNil()
}

func checkEnum(v *failure.ValidationError, field, value string, allowed []string) {
	if value == "" {
		return
	}
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	v.Add(field, "must be one of %s (got %q)", strings.Join(allowed, ", "), value)
}

// checkBucket applies the S3 naming rules for general purpose buckets.
func checkBucket(v *failure.ValidationError, field, name string) {
	if name == "" {
		v.Add(field, "is required: the bucket name (not an ARN or URL)")
		return
	}
	if strings.HasPrefix(name, "arn:") || strings.HasPrefix(name, "s3://") {
		v.Add(field, "must be the bare bucket name, not an ARN or URL (got %q)", name)
		return
	}
	if len(name) < 3 || len(name) > 63 {
		v.Add(field, "must be 3-63 characters long (got %d)", len(name))
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			v.Add(field, "may hold only lowercase letters, digits, '.' and '-' (got %q)", name)
			return
		}
	}
	first, last := name[0], name[len(name)-1]
	if first == '.' || first == '-' || last == '.' || last == '-' {
		v.Add(field, "must begin and end with a letter or digit")
	}
	if strings.Contains(name, "..") {
		v.Add(field, "must not contain two adjacent periods")
	}
	if ipLikePattern.MatchString(name) {
		v.Add(field, "must not be formatted as an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			v.Add(field, "must not start with the reserved prefix %q", p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			v.Add(field, "must not end with the reserved suffix %q", s)
		}
	}
}

// checkRegion accepts the regions the AWS SDK knows (its endpoint metadata, see
// regions.go), the region dsmigrate runs in and the deployment's extra regions.
func checkRegion(v *failure.ValidationError, field, region string, home Home) bool {
	switch {
	case region == "":
		v.Add(field, "is required: a region name such as us-east-1")
		return false
	case home.knows(region):
		return true
	case !regionPattern.MatchString(region):
		v.Add(field, "must be a region name such as us-east-1, eu-west-2 or cn-north-1 (got %q)", region)
		return false
	default:
		v.Add(field, "%q is not a region that the AWS SDK of this dsmigrate (%s) knows; check the spelling. "+
			"For a region newer than this dsmigrate, add it to the context key dsmigrate:extraRegions (cdk.json) and redeploy; "+
			"dsmigrate start takes --extra-regions %s", region, sdkRegionsSource, region)
		return false
	}
}

// checkPrefix applies the DataSync Subdirectory rules for S3 locations.
func checkPrefix(v *failure.ValidationError, field, prefix string) {
	if prefix == "" {
		return
	}
	if len(prefix) > MaxPrefixLength {
		v.Add(field, "must be at most %d bytes (got %d)", MaxPrefixLength, len(prefix))
	}
	if strings.HasPrefix(prefix, "/") {
		v.Add(field, "must not begin with '/': S3 keys have no leading slash (write %q)", strings.TrimLeft(prefix, "/"))
	}
	if strings.Contains(prefix, "//") {
		v.Add(field, "must not contain '//'")
	}
	for _, seg := range strings.Split(prefix, "/") {
		if seg == "." || seg == ".." {
			v.Add(field, "must not contain a '.' or '..' path segment")
			break
		}
	}
	if !subdirectoryPattern.MatchString(prefix) {
		v.Add(field, "may hold only letters, digits, spaces and _-+./() (DataSync rule for S3 prefixes)")
	}
}

// overlaps reports whether two prefixes of one bucket share objects. DataSync treats a
// prefix as a folder, so "a" and "a/" are the same and "a" does not contain "ab/".
func overlaps(a, b string) bool {
	a, b = folder(a), folder(b)
	return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
}

func folder(p string) string {
	if p == "" || strings.HasSuffix(p, "/") {
		return p
	}
	return p + "/"
}

// checkFilters applies the DataSync filter rules: patterns are joined with '|' into one
// FilterRule.Value of at most 102,400 characters; an include pattern is a path from the
// location root (starts with '/') and may use '*' only as its last character.
func checkFilters(v *failure.ValidationError, field string, patterns []string, include bool) {
	total := 0
	for i, p := range patterns {
		f := fmt.Sprintf("%s[%d]", field, i)
		total += len(p)
		if i > 0 {
			total++
		}
		switch {
		case strings.TrimSpace(p) == "":
			v.Add(f, "must not be empty")
			continue
		case strings.ContainsRune(p, '|'):
			v.Add(f, "must not contain '|': it separates patterns; give each pattern as its own list element")
		case strings.ContainsRune(p, 0):
			v.Add(f, "must not contain a NUL character")
		case !utf8.ValidString(p):
			v.Add(f, "must be valid UTF-8")
		}
		if include {
			if !strings.HasPrefix(p, "/") {
				v.Add(f, "an include pattern is a path from the source prefix and must start with '/' (got %q)", p)
			}
			if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
				v.Add(f, "an include pattern may use '*' only as its last character (got %q)", p)
			}
		}
	}
	if total > MaxFilterLength {
		v.Add(field, "joined with '|' is %d characters; DataSync allows %d", total, MaxFilterLength)
	}
}

// MaxKMSKeyArns is how many keys source.kmsKeyArns may name (one grant each).
const MaxKMSKeyArns = 10

// kmsKeyArnPattern is a KMS key ARN (not an alias): DataSync's SSE-KMS support across
// accounts needs the customer managed key named by its full key ARN (DataSync User Guide,
// "Creating your transfer source or destination location for Amazon S3", server-side
// encryption; AWS Storage Blog, "Transfer customer managed SSE-KMS encrypted objects
// across AWS accounts and Regions using AWS DataSync": "you must use a fully qualified
// Amazon Resource Name (ARN)"), and a grant names its key by ARN across accounts
// (CreateGrant, KeyId).
var kmsKeyArnPattern = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-eusc):kms:([a-z0-9-]+):([0-9]{12}):key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)

// KMSKeyArnParts splits a key ARN into partition, region and account (ok false when arn
// is not a key ARN).
func KMSKeyArnParts(arn string) (partition, region, account string, ok bool) {
	m := kmsKeyArnPattern.FindStringSubmatch(arn)
	if m == nil {
		return "", "", "", false
	}
	return m[1], m[2], m[3], true
}

func checkKMSKeyArns(v *failure.ValidationError, s Source) {
	if len(s.KMSKeyArns) > MaxKMSKeyArns {
		v.Add("source.kmsKeyArns", "names %d keys; at most %d (one KMS grant each)", len(s.KMSKeyArns), MaxKMSKeyArns)
		return
	}
	seen := map[string]bool{}
	for i, arn := range s.KMSKeyArns {
		field := fmt.Sprintf("source.kmsKeyArns[%d]", i)
		partition, region, account, ok := KMSKeyArnParts(arn)
		switch {
		case !ok:
			v.Add(field, "must be the full ARN of a KMS key, arn:<partition>:kms:<region>:<account>:key/<key id> (not an alias or a key id); got %q", arn)
		case partition != Partition(s.Region):
			v.Add(field, "is in partition %s, but the source bucket is in %s (got %q)", partition, Partition(s.Region), arn)
		case region != s.Region:
			v.Add(field, "is a key of region %s; S3 uses keys of the bucket's region %s only (got %q)", region, s.Region, arn)
		case account != s.AccountID:
			v.Add(field, "is a key of account %s, not of source account %s: dsmigrate creates its KMS grants in account A only; ask the key's owner for a grant to the transfer role instead (got %q)", account, s.AccountID, arn)
		case seen[arn]:
			v.Add(field, "repeats %q", arn)
		}
		seen[arn] = true
	}
}

// checkReport checks task.report: a bucket name, a prefix by DataSync's Subdirectory rules
// (ReportDestinationS3 Subdirectory has the pattern of an S3 location's, AWS DataSync API
// Reference), a level, and a place outside the migrated objects: reports inside
// destination.prefix of the destination bucket would be part of the destination, which
// a later run with preserveDeletedFiles REMOVE deletes.
func checkReport(v *failure.ValidationError, rep *Report, d Destination, migrationID string) {
	if rep == nil {
		return
	}
	checkBucket(v, "task.report.bucket", rep.Bucket)
	checkPrefix(v, "task.report.prefix", rep.Prefix)
	if len(rep.Prefix) > MaxReportPrefixLength {
		v.Add("task.report.prefix", "must be at most %d bytes, to leave room in S3's 1,024-byte keys for the migration id and the record's name (got %d)", MaxReportPrefixLength, len(rep.Prefix))
	}
	if rep.Prefix != "" && !strings.HasSuffix(rep.Prefix, "/") {
		v.Add("task.report.prefix", "must end with '/': each migration gets the folder <prefix><migrationId>/ below it (write %q)", rep.Prefix+"/")
	}
	checkEnum(v, "task.report.level", rep.Level, ReportLevels)
	if rep.Bucket != "" && rep.Bucket == d.Bucket && overlaps(rep.Folder(migrationID), d.Prefix) {
		v.Add("task.report.prefix", "puts the migration's reports (%s) inside destination.prefix %q of the destination bucket %q, so the reports would become part of the migrated data (a later run with preserveDeletedFiles REMOVE would delete them); choose a prefix outside it, or another bucket", rep.Folder(migrationID), d.Prefix, d.Bucket)
	}
}

// CheckBucketPrefix checks a bucket name and a key prefix of a field outside the request
// (a batch's report location) with the request's rules, under field+".bucket" and
// field+".prefix".
func CheckBucketPrefix(v *failure.ValidationError, field, bucket, prefix string) {
	checkBucket(v, field+".bucket", bucket)
	checkPrefix(v, field+".prefix", prefix)
}
