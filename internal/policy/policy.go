// Package policy holds IAM policy documents as Go values: the DataSync trust policy, the
// two DataSync role policies, the source bucket-policy statements, and the merge and
// revoke of those statements into another team's bucket policy.
package policy
