// Package policy holds IAM policy documents as Go values: the DataSync trust policy, the
// two DataSync role policies, the source bucket-policy statements, and the merge and
// revoke of those statements into another team's bucket policy.
package policy

import (
	"encoding/json"

	"github.com/dsmigrate/dsmigrate/internal/naming"
)

// MaxBucketPolicyBytes is S3's limit on the size of a bucket policy.
const MaxBucketPolicyBytes = 20 * 1024

// StringList is an IAM value that may be one string or a list of strings.
type StringList []string

// Principal is "*" or an object of principal types.
type Principal struct {
	Wildcard      bool
	AWS           StringList
	Service       StringList
	Federated     StringList
	CanonicalUser StringList
}

// Condition maps an operator to keys and values.
type Condition map[string]map[string]StringList

// Statement is one IAM policy statement.
type Statement struct {
	Sid          string     `json:"Sid,omitempty"`
	Effect       string     `json:"Effect"`
	Principal    *Principal `json:"Principal,omitempty"`
	NotPrincipal *Principal `json:"NotPrincipal,omitempty"`
	Action       StringList `json:"Action,omitempty"`
	NotAction    StringList `json:"NotAction,omitempty"`
	Resource     StringList `json:"Resource,omitempty"`
	NotResource  StringList `json:"NotResource,omitempty"`
	Condition    Condition  `json:"Condition,omitempty"`
}

// Statements is a Statement value: one object or a list.
type Statements []Statement

// Document is an IAM policy document.
type Document struct {
	Version   string     `json:"Version,omitempty"`
	ID        string     `json:"Id,omitempty"`
	Statement Statements `json:"Statement"`
}

// Parse reads a policy document.
func Parse(text string) (*Document, error) {
	var d Document
	err := json.Unmarshal([]byte(text), &d)
	return &d, err
}

// TrustPolicy lets DataSync in accountID/region assume a role.
func TrustPolicy(accountID, region, partition string) Document { return Document{} }

// RolePolicy gives a DataSync role access to bucket (objects narrowed to prefix).
func RolePolicy(partition, bucket, prefix string) Document { return Document{} }

// SourceBucketStatements are our statements in the source bucket policy.
func SourceBucketStatements(partition string, sids naming.Sids, bucket, prefix, transferRoleArn, configRoleArn, locationsCallerArn string) []Statement {
	return nil
}

// SidConflictError says a foreign statement uses one of our Sids.
type SidConflictError struct {
	Sid     string
	Message string
}

func (e *SidConflictError) Error() string { return e.Message }

// TooLargeError says the merged policy would exceed MaxBucketPolicyBytes.
type TooLargeError struct {
	Size, Limit int
}

func (e *TooLargeError) Error() string { return "bucket policy too large" }

// MalformedError says the existing policy is not a policy document.
type MalformedError struct {
	Err error
}

func (e *MalformedError) Error() string { return "malformed bucket policy" }

// Merge adds or replaces our statements in the existing policy text.
func Merge(existing string, ours []Statement) (string, error) { return existing, nil }

// Revoke removes the statements with the given Sids.
func Revoke(existing string, sids []string) (result string, deleted bool, err error) {
	return existing, false, nil
}
