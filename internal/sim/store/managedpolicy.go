package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/iampolicy"
	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// Customer managed policies, as far as permissions boundaries need them: created,
// read, given new versions and deleted; a role names one as its permissions boundary.
// Attaching managed policies to roles as permissions policies is not modelled (the
// local runner writes a stack's attached policies as the role's inline policies).

var policyNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

const (
	// maxManagedPolicyChars is IAM's managed policy size quota; IAM does not count
	// white space (IAM User Guide, "IAM and AWS STS quotas").
	maxManagedPolicyChars = 6144
	// maxPolicyVersions is how many versions a managed policy may keep.
	maxPolicyVersions = 5
)

// boundaryKeyActions are the IAM actions whose request context carries
// iam:PermissionsBoundary (Service Authorization Reference, "Actions, resources, and
// condition keys for AWS Identity and Access Management";
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html).
var boundaryKeyActions = map[string]bool{
	"iam:createrole": true, "iam:putrolepermissionsboundary": true, "iam:deleterolepermissionsboundary": true,
	"iam:putrolepolicy": true, "iam:deleterolepolicy": true, "iam:attachrolepolicy": true, "iam:detachrolepolicy": true,
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	VersionID  string
	Document   string
	IsDefault  bool
	CreateDate time.Time
}

// ManagedPolicy is a customer managed policy as GetPolicy describes it.
type ManagedPolicy struct {
	Name, Path, Arn, PolicyID, AccountID, Description string
	DefaultVersionID                                  string
	CreateDate, UpdateDate                            time.Time
	// BoundaryUsageCount is how many roles have it as their permissions boundary.
	BoundaryUsageCount int
}

type managedPolicy struct {
	ManagedPolicy
	versions    []PolicyVersion
	nextVersion int
	policy      *iampolicy.Policy // the default version, parsed
}

// CreatePolicyInput is what CreatePolicy takes.
type CreatePolicyInput struct {
	AccountID, Name, Path, Document, Description string
}

// parseManagedPolicy checks a managed policy document as IAM does.
func parseManagedPolicy(doc string) (*iampolicy.Policy, error) {
	var compact bytes.Buffer
	if json.Compact(&compact, []byte(doc)) == nil && compact.Len() > maxManagedPolicyChars {
		return nil, Errf("LimitExceeded", "Cannot exceed quota for PolicySize: %d", maxManagedPolicyChars)
	}
	return parseIdentityPolicy(doc)
}

// CreatePolicy creates a customer managed policy (version v1, the default).
func (s *Store) CreatePolicy(in CreatePolicyInput) (ManagedPolicy, error) {
	if !policyNameRe.MatchString(in.Name) {
		return ManagedPolicy{}, validationErr(in.Name, "policyName", `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	if in.Path == "" {
		in.Path = "/"
	}
	if !strings.HasPrefix(in.Path, "/") || !strings.HasSuffix(in.Path, "/") {
		return ManagedPolicy{}, validationErr(in.Path, "path", `Member must satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/`)
	}
	p, err := parseManagedPolicy(in.Document)
	if err != nil {
		return ManagedPolicy{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, mp := range s.policies {
		if mp.AccountID == in.AccountID && mp.Name == in.Name {
			return ManagedPolicy{}, Errf("EntityAlreadyExists", "A policy called %s already exists. Duplicate names are not allowed.", in.Name)
		}
	}
	now := s.now().UTC().Truncate(time.Second)
	mp := &managedPolicy{ManagedPolicy: ManagedPolicy{Name: in.Name, Path: in.Path, AccountID: in.AccountID,
		Arn:      "arn:aws:iam::" + in.AccountID + ":policy" + in.Path + in.Name,
		PolicyID: "ANPA" + randomID(17), Description: in.Description, DefaultVersionID: "v1",
		CreateDate: now, UpdateDate: now},
		versions: []PolicyVersion{{VersionID: "v1", Document: in.Document, IsDefault: true, CreateDate: now}}, nextVersion: 2, policy: p}
	s.policies[mp.Arn] = mp
	return s.describePolicyLocked(mp), nil
}

func noSuchPolicy(arn string) *Error {
	return Errf("NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
}

// describePolicyLocked copies a policy with its usage count. Caller holds mu.
func (s *Store) describePolicyLocked(mp *managedPolicy) ManagedPolicy {
	d := mp.ManagedPolicy
	for _, r := range s.roles {
		if r.PermissionsBoundaryArn == mp.Arn {
			d.BoundaryUsageCount++
		}
	}
	return d
}

// GetPolicy describes a managed policy.
func (s *Store) GetPolicy(arn string) (ManagedPolicy, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mp, ok := s.policies[arn]
	if !ok {
		return ManagedPolicy{}, noSuchPolicy(arn)
	}
	return s.describePolicyLocked(mp), nil
}

// GetPolicyVersion returns one version of a managed policy.
func (s *Store) GetPolicyVersion(arn, versionID string) (PolicyVersion, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mp, ok := s.policies[arn]
	if !ok {
		return PolicyVersion{}, noSuchPolicy(arn)
	}
	for _, v := range mp.versions {
		if v.VersionID == versionID {
			return v, nil
		}
	}
	return PolicyVersion{}, Errf("NoSuchEntity", "Policy %s version %s does not exist or is not attachable.", arn, versionID)
}

// CreatePolicyVersion adds a version; with setAsDefault it becomes the policy's
// document (and so, at once, the boundary of every role that has the policy as one).
func (s *Store) CreatePolicyVersion(arn, doc string, setAsDefault bool) (PolicyVersion, error) {
	p, err := parseManagedPolicy(doc)
	if err != nil {
		return PolicyVersion{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mp, ok := s.policies[arn]
	if !ok {
		return PolicyVersion{}, noSuchPolicy(arn)
	}
	if len(mp.versions) >= maxPolicyVersions {
		return PolicyVersion{}, Errf("LimitExceeded", "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
	}
	now := s.now().UTC().Truncate(time.Second)
	v := PolicyVersion{VersionID: fmt.Sprintf("v%d", mp.nextVersion), Document: doc, IsDefault: setAsDefault, CreateDate: now}
	mp.nextVersion++
	if setAsDefault {
		for i := range mp.versions {
			mp.versions[i].IsDefault = false
		}
		mp.DefaultVersionID, mp.policy, mp.UpdateDate = v.VersionID, p, now
	}
	mp.versions = append(mp.versions, v)
	return v, nil
}

// ManagedPolicies lists the managed policies sorted by ARN.
func (s *Store) ManagedPolicies() []ManagedPolicy {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]ManagedPolicy, 0, len(s.policies))
	for _, arn := range sortedKeys(s.policies) {
		out = append(out, s.describePolicyLocked(s.policies[arn]))
	}
	return out
}

// boundaryLocked returns the managed policy arn names if a role of accountID may have
// it as its permissions boundary. Caller holds mu.
func (s *Store) boundaryLocked(accountID, arn string) (*managedPolicy, error) {
	mp, ok := s.policies[arn]
	if !ok || mp.AccountID != accountID {
		// IAM's wording for a boundary that names no policy of the account.
		return nil, Errf("NoSuchEntity", "Scope ARN: %s does not exist or is not attachable.", arn)
	}
	return mp, nil
}

// PutRolePermissionsBoundary sets or replaces a role's permissions boundary.
func (s *Store) PutRolePermissionsBoundary(accountID, roleName, policyArn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.roleLocked(accountID, roleName)
	if err != nil {
		return err
	}
	if _, err := s.boundaryLocked(accountID, policyArn); err != nil {
		return err
	}
	r.PermissionsBoundaryArn = policyArn
	return nil
}

// permissionsBoundary is the parsed boundary of p's role (users from the config have
// none). Caller holds mu.
func (s *Store) permissionsBoundary(p identity.Principal) *iampolicy.Policy {
	if p.Kind != identity.KindAssumedRole {
		return nil
	}
	r, ok := s.roles[p.RoleArn]
	if !ok || r.PermissionsBoundaryArn == "" {
		return nil
	}
	// Managed policies are never deleted, so the boundary is there.
	return s.policies[r.PermissionsBoundaryArn].policy
}
