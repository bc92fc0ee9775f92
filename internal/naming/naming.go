// Package naming derives every name dsmigrate gives to AWS resources from a migration id.
package naming

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
)

// MaxIDLength is the longest migration id; it keeps role names within IAM's 64 characters.
const MaxIDLength = 32

// MaxPrefixLength is the longest role-name prefix ("<prefix>-<id>-transfer" ≤ 64).
const MaxPrefixLength = 20

// TagKey is the tag that marks every resource of a migration.
const TagKey = "dsmigrate:migration-id"

// RoleTagKey tells which part of a migration a DataSync resource is.
const RoleTagKey = "dsmigrate:role"

// DeploymentTagKey marks every resource a deployment creates at run time (the per-migration
// roles, DataSync locations, tasks and executions); its value is the deployment's name
// prefix. The IAM policies of the step functions allow acting only on resources that carry
// it with their own prefix, so two deployments in one account never touch each other's.
const DeploymentTagKey = "dsmigrate:deployment"

var idPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$`)

// ValidID reports whether id is a usable migration id.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// IDFromExecutionName derives a migration id from a Step Functions execution name.
// It returns "" when nothing usable is left.
func IDFromExecutionName(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	id := strings.Trim(b.String(), "-")
	if len(id) > MaxIDLength {
		sum := sha256.Sum256([]byte(name))
		id = strings.Trim(id[:23], "-") + "-" + hex.EncodeToString(sum[:])[:8]
	}
	return id
}

// TransferRoleName is the role DataSync uses to read the source bucket.
func TransferRoleName(prefix, id string) string { return prefix + "-" + id + "-transfer" }

// ConfigRoleName is the role DataSync uses to write the destination bucket.
func ConfigRoleName(prefix, id string) string { return prefix + "-" + id + "-config" }

// RolePath is the IAM path of the per-migration roles of the deployment with this prefix.
// The functions' IAM policies name role/dsmigrate/<prefix>/*: a path is a whole segment of
// the ARN, so it matches no role of a deployment whose prefix merely starts with this one.
func RolePath(prefix string) string { return "/dsmigrate/" + prefix + "/" }

// RoleArn is the ARN of the per-migration role name (TransferRoleName, ConfigRoleName) of
// the deployment with prefix, in account.
func RoleArn(partition, account, prefix, name string) string {
	return "arn:" + partition + ":iam::" + account + ":role" + RolePath(prefix) + name
}

// EarlierRoleArns are the ARNs that earlier versions gave the two roles of migration id:
// the same names under the default path "/". A statement of ours in a source bucket policy
// written by such a version names them (both of them: the config role was granted too), and
// a re-run or revoke must still recognize and replace or remove it.
func EarlierRoleArns(partition, account, prefix, id string) []string {
	arn := func(name string) string { return "arn:" + partition + ":iam::" + account + ":role/" + name }
	return []string{arn(TransferRoleName(prefix, id)), arn(ConfigRoleName(prefix, id))}
}

// BoundaryPolicyName is the customer managed policy every per-migration role has as its
// permissions boundary; its name is fixed so that the functions can derive its ARN.
func BoundaryPolicyName(prefix string) string { return prefix + "-datasync-boundary" }

// BoundaryArn is the ARN of BoundaryPolicyName (path "/") in account.
func BoundaryArn(partition, account, prefix string) string {
	return "arn:" + partition + ":iam::" + account + ":policy/" + BoundaryPolicyName(prefix)
}

// TaskName is the DataSync task name of migration id in the deployment with prefix.
func TaskName(prefix, id string) string { return prefix + "-" + id }

// ShardTaskName is the DataSync task name of shard index of a sharded migration.
func ShardTaskName(prefix, id string, index int) string {
	return TaskName(prefix, id) + "-shard-" + strconv.Itoa(index)
}

// ShardTagKey marks the task (and its executions) of one shard of a sharded migration;
// its value is the shard's index. An unsharded migration's task has no such tag.
const ShardTagKey = "dsmigrate:shard"

// RolePolicyName is the name of the inline policy createroles puts on each DataSync role,
// and the one teardown removes before it deletes the role.
const RolePolicyName = "dsmigrate-bucket-access"

// Sids are the bucket-policy statement ids one migration owns in the source bucket policy.
type Sids struct {
	CreateLocation string // s3:ListBucket for the principal that calls CreateLocationS3
	BucketAccess   string // bucket-level read actions for the transfer role
	ObjectAccess   string // object-level read actions for the transfer role
}

// All lists the Sids in the order they are written.
func (s Sids) All() []string { return []string{s.CreateLocation, s.BucketAccess, s.ObjectAccess} }

// SidsFor returns the Sids of migration id. Ids are lower case, so replacing '-' by 'X'
// keeps the mapping one-to-one and the Sids alphanumeric.
func SidsFor(id string) Sids {
	enc := "Dsm" + strings.ReplaceAll(id, "-", "X")
	return Sids{
		CreateLocation: enc + "DataSyncCreateS3Location",
		BucketAccess:   enc + "RolesBucketAccess",
		ObjectAccess:   enc + "RolesObjectAccess",
	}
}
