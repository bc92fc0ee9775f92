package naming

import "strings"

// The two roles of a deployment in account A (SourceAccessStack). Their names derive from
// the deployment's name prefix alone, so the functions in B compute their ARNs from the
// request's source.accountId: a request cannot steer which role in A is assumed.

// SourceReadRoleName is the role Preflight assumes in account A: it may only read the
// source buckets' policy and Object Ownership.
func SourceReadRoleName(prefix string) string { return prefix + "-source-read" }

// SourcePolicyWriterRoleName is the role PutBucketPolicy assumes in account A: it may
// read, write and delete the source buckets' policy.
func SourcePolicyWriterRoleName(prefix string) string { return prefix + "-source-policy-writer" }

// DefaultPathRoleArn is the ARN of a role with the default path "/".
func DefaultPathRoleArn(partition, accountID, name string) string {
	return "arn:" + partition + ":iam::" + accountID + ":role/" + name
}

// FunctionRoleName is the fixed name of a step function's execution role in account B
// ("<prefix>-fn-preflight"). Fixed names let account A trust these roles by ARN before
// they exist in an account it cannot read.
func FunctionRoleName(prefix, step string) string { return prefix + "-fn-" + step }

// sidSuffixes are the endings of the Sids of SidsFor.
var sidSuffixes = []string{"DataSyncCreateS3Location", "RolesBucketAccess", "RolesObjectAccess"}

// MigrationIDOfSid returns the migration id whose SidsFor holds sid, and false when sid is
// not one of them.
func MigrationIDOfSid(sid string) (string, bool) {
	rest, ok := strings.CutPrefix(sid, "Dsm")
	if !ok {
		return "", false
	}
	for _, suffix := range sidSuffixes {
		if enc, ok := strings.CutSuffix(rest, suffix); ok {
			id := strings.ReplaceAll(enc, "X", "-")
			if ValidID(id) && enc == strings.ReplaceAll(id, "-", "X") {
				return id, true
			}
		}
	}
	return "", false
}
