// Package naming derives every name dsmigrate gives to AWS resources from a migration id.
package naming

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
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

// Sids are the bucket-policy statement ids one migration owns in the source bucket policy.
type Sids struct {
	CreateLocation string // s3:ListBucket for the principal that calls CreateLocationS3
	BucketAccess   string // bucket-level actions for both DataSync roles
	ObjectAccess   string // object-level actions for both DataSync roles
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
