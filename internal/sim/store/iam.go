package store

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/iampolicy"
	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

var roleNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// maxRoleInlinePolicyChars is IAM's aggregate inline-policy quota per role.
const maxRoleInlinePolicyChars = 10240

// CreateRoleInput is what CreateRole takes.
type CreateRoleInput struct {
	AccountID, Name, Path, TrustPolicy, Description string
	MaxSessionDuration                              int32
	Tags                                            []identity.Tag
	// PermissionsBoundary is the ARN of a managed policy of the account; "" for none.
	PermissionsBoundary string
}

func validationErr(value, member, constraint string) *Error {
	return Errf("ValidationError", "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s",
		value, member, constraint)
}

// CreateRole creates a role in the account.
func (s *Store) CreateRole(in CreateRoleInput) (identity.Role, error) {
	if !roleNameRe.MatchString(in.Name) {
		return identity.Role{}, validationErr(in.Name, "roleName", `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	if in.Path == "" {
		in.Path = "/"
	}
	if !strings.HasPrefix(in.Path, "/") || !strings.HasSuffix(in.Path, "/") {
		return identity.Role{}, validationErr(in.Path, "path", `Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
	}
	if in.MaxSessionDuration == 0 {
		in.MaxSessionDuration = 3600
	}
	if len(in.Tags) > 50 {
		return identity.Role{}, Errf("LimitExceeded", "Cannot exceed quota for TagsPerRole: 50.")
	}
	if err := validateTags(in.Tags); err != nil {
		return identity.Role{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	trust, err := s.validateTrustLocked(in.TrustPolicy)
	if err != nil {
		return identity.Role{}, err
	}
	if in.PermissionsBoundary != "" {
		if _, err := s.boundaryLocked(in.AccountID, in.PermissionsBoundary); err != nil {
			return identity.Role{}, err
		}
	}
	for _, r := range s.roles {
		if r.AccountID == in.AccountID && strings.EqualFold(r.Name, in.Name) {
			return identity.Role{}, Errf("EntityAlreadyExists", "Role with name %s already exists.", in.Name)
		}
	}
	r := &role{Role: identity.Role{Name: in.Name, Path: in.Path, AccountID: in.AccountID,
		Arn:    "arn:aws:iam::" + in.AccountID + ":role" + in.Path + in.Name,
		RoleID: "AROA" + randomID(17), AssumeRolePolicyDocument: in.TrustPolicy, Description: in.Description,
		MaxSessionDuration: in.MaxSessionDuration, CreateDate: s.now().UTC().Truncate(time.Second), PoliciesChanged: s.now().UTC(),
		Tags: append([]identity.Tag(nil), in.Tags...), InlinePolicies: map[string]string{},
		PermissionsBoundaryArn: in.PermissionsBoundary},
		trust: trust, policies: map[string]*iampolicy.Policy{}}
	s.roles[r.Arn] = r
	return cloneRole(r), nil
}

// validateTrustLocked checks a trust policy as IAM does.
func (s *Store) validateTrustLocked(doc string) (*iampolicy.Policy, error) {
	p, err := iampolicy.Parse(doc)
	if err != nil {
		return nil, malformedPolicyDocument(err)
	}
	for _, st := range p.Statements {
		if st.HasResource || st.HasNotResource {
			return nil, Errf("MalformedPolicyDocument", "Has prohibited field Resource")
		}
		if st.Principal == nil {
			if st.NotPrincipal != nil {
				return nil, Errf("MalformedPolicyDocument", "Has prohibited field NotPrincipal")
			}
			return nil, Errf("MalformedPolicyDocument", "Missing required field Principal")
		}
		for _, act := range st.Action {
			if !strings.HasPrefix(strings.ToLower(act), "sts:") && act != "*" {
				return nil, Errf("MalformedPolicyDocument", "AssumeRole policy may only specify STS AssumeRole actions.")
			}
		}
	}
	// A role named as a principal must have propagated: IAM resolves the principals of a
	// trust policy when it is saved and refuses one it cannot resolve yet with "Invalid
	// principal in policy" (IAM User Guide, Troubleshooting IAM, "Changes that I make are
	// not always immediately visible": IAM is eventually consistent).
	if bad := s.unknownPrincipalLocked(p); bad != "" {
		return nil, Errf("MalformedPolicyDocument", "Invalid principal in policy: \"AWS\":\"%s\"", bad)
	}
	return p, nil
}

// unknownPrincipalLocked returns the first AWS principal naming a user or role that does
// not exist in a simulated account (IAM and S3 resolve principals when a policy is saved).
// A role younger than the propagation delay is not known yet either (IAM eventual
// consistency, seen as IAM's and S3's "Invalid principal in policy" for new roles).
func (s *Store) unknownPrincipalLocked(p *iampolicy.Policy) string {
	for _, v := range p.PrincipalARNs() {
		if v == "*" || (len(v) == 12 && strings.Trim(v, "0123456789") == "") {
			continue
		}
		rest, ok := strings.CutPrefix(v, "arn:aws:iam::")
		if !ok {
			if strings.HasPrefix(v, "arn:aws:sts::") {
				continue
			}
			return v
		}
		acct, res, ok := strings.Cut(rest, ":")
		if !ok {
			return v
		}
		if _, known := s.accounts[acct]; !known {
			continue // an account we do not simulate: accept, as we cannot tell
		}
		switch {
		case res == "root":
		case strings.HasPrefix(res, "role/"):
			r, ok := s.roles[v]
			if !ok {
				return v
			}
			if s.now().Sub(r.CreateDate) < s.settings.PropagationDelay {
				return v
			}
		case strings.HasPrefix(res, "user/"):
			if _, ok := s.users[v]; !ok {
				return v
			}
		default:
			return v
		}
	}
	return ""
}

// parseIdentityPolicy parses an identity-based policy (inline or managed) as IAM checks it.
func parseIdentityPolicy(doc string) (*iampolicy.Policy, error) {
	p, err := iampolicy.Parse(doc)
	if err != nil {
		return nil, malformedPolicyDocument(err)
	}
	for _, st := range p.Statements {
		if st.Principal != nil || st.NotPrincipal != nil {
			return nil, Errf("MalformedPolicyDocument", "Policy document should not specify a principal.")
		}
		if !st.HasResource && !st.HasNotResource {
			return nil, Errf("MalformedPolicyDocument", "Policy statement must contain resources.")
		}
	}
	return p, nil
}

func malformedPolicyDocument(err error) *Error {
	var se *iampolicy.SyntaxError
	if errors.As(err, &se) {
		return Errf("MalformedPolicyDocument", "%s", se.Msg)
	}
	return Errf("MalformedPolicyDocument", "This policy contains invalid Json")
}

func (s *Store) roleLocked(accountID, name string) (*role, error) {
	for _, r := range s.roles {
		if r.AccountID == accountID && strings.EqualFold(r.Name, name) {
			return r, nil
		}
	}
	return nil, Errf("NoSuchEntity", "The role with name %s cannot be found.", name)
}

func cloneRole(r *role) identity.Role {
	c := r.Role
	c.Tags = append([]identity.Tag(nil), r.Tags...)
	c.InlinePolicies = make(map[string]string, len(r.InlinePolicies))
	for k, v := range r.InlinePolicies {
		c.InlinePolicies[k] = v
	}
	return c
}

// GetRole returns a role by account and name.
func (s *Store) GetRole(accountID, name string) (identity.Role, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, err := s.roleLocked(accountID, name)
	if err != nil {
		return identity.Role{}, err
	}
	return cloneRole(r), nil
}

// RoleByArn returns a role by ARN.
func (s *Store) RoleByArn(arn string) (identity.Role, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.roles[arn]
	if !ok {
		return identity.Role{}, false
	}
	return cloneRole(r), true
}

// PutRolePolicy adds or replaces an inline policy.
func (s *Store) PutRolePolicy(accountID, roleName, policyName, doc string) error {
	if !roleNameRe.MatchString(policyName) || len(policyName) > 128 {
		return validationErr(policyName, "policyName", `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	p, err := parseIdentityPolicy(doc)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.roleLocked(accountID, roleName)
	if err != nil {
		return err
	}
	total := len(doc)
	for name, d := range r.InlinePolicies {
		if name != policyName {
			total += len(d)
		}
	}
	if total > maxRoleInlinePolicyChars {
		return Errf("LimitExceeded", "Maximum policy size of %d bytes exceeded for role %s", maxRoleInlinePolicyChars, r.Name)
	}
	r.InlinePolicies[policyName] = doc
	r.policies[policyName] = p
	r.PoliciesChanged = s.now().UTC()
	return nil
}

func validateTags(tags []identity.Tag) error {
	for _, t := range tags {
		switch {
		case len(t.Key) < 1 || len(t.Key) > 128:
			return validationErr(t.Key, "tags.member.key", "Member must have length less than or equal to 128")
		case len(t.Value) > 256:
			return validationErr(t.Value, "tags.member.value", "Member must have length less than or equal to 256")
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return Errf("InvalidInput", "User-defined tag keys can't start with 'aws:'. This prefix is reserved for AWS tags.")
		}
	}
	return nil
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Store) UpdateAssumeRolePolicy(accountID, roleName, doc string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.roleLocked(accountID, roleName)
	if err != nil {
		return err
	}
	trust, err := s.validateTrustLocked(doc)
	if err != nil {
		return err
	}
	r.AssumeRolePolicyDocument, r.trust = doc, trust
	r.PoliciesChanged = s.now().UTC()
	return nil
}

// AuthorizeAssumeRole evaluates sts:AssumeRole by caller on roleArn with the trust
// policy. A missing role is reported as AccessDenied, as STS does.
func (s *Store) AuthorizeAssumeRole(caller identity.Principal, roleArn string, ctx identity.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.roles[roleArn]; !ok {
		return &identity.AccessDeniedError{PrincipalArn: caller.Arn, Action: "sts:AssumeRole", Resource: roleArn}
	}
	err := s.authorizeLocked(caller, "sts:AssumeRole", roleArn, ctx)
	if ad, ok := err.(*identity.AccessDeniedError); ok {
		ad.Reason = "" // STS words AssumeRole denials without a reason
		return ad
	}
	return err
}

// String gives a short description for logs.
func (c *Credential) String() string { return fmt.Sprintf("%s(%s)", c.AccessKeyID, c.Principal.Arn) }

// Roles lists every role sorted by ARN.
func (s *Store) Roles() []identity.Role {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]identity.Role, 0, len(s.roles))
	for _, arn := range sortedKeys(s.roles) {
		out = append(out, cloneRole(s.roles[arn]))
	}
	return out
}

// Accounts lists the configured accounts (id → name) and their users' ARNs.
func (s *Store) Accounts() map[string][]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string][]string{}
	for id := range s.accounts {
		out[id] = []string{}
	}
	for _, arn := range sortedKeys(s.users) {
		u := s.users[arn]
		out[u.AccountID] = append(out[u.AccountID], arn)
	}
	return out
}

// AuthorizeServiceAssume evaluates sts:AssumeRole on roleArn by an AWS service
// principal against the role's trust policy alone.
func (s *Store) AuthorizeServiceAssume(roleArn, service string, ctx identity.Context) error {
	p := identity.ServicePrincipal(service)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.roles[roleArn]; !ok {
		return &identity.AccessDeniedError{PrincipalArn: service, Action: "sts:AssumeRole", Resource: roleArn}
	}
	err := s.authorizeLocked(p, "sts:AssumeRole", roleArn, ctx)
	if ad, ok := err.(*identity.AccessDeniedError); ok {
		ad.Reason = ""
		return ad
	}
	return err
}

// Users lists the configured users sorted by ARN.
func (s *Store) Users() []User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]User, 0, len(s.users))
	for _, arn := range sortedKeys(s.users) {
		u := *s.users[arn]
		u.Docs = append([]string(nil), u.Docs...)
		u.policies = nil
		out = append(out, u)
	}
	return out
}

// DeleteRolePolicy removes an inline policy of a role.
func (s *Store) DeleteRolePolicy(accountID, roleName, policyName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.roleLocked(accountID, roleName)
	if err != nil {
		return err
	}
	if _, ok := r.InlinePolicies[policyName]; !ok {
		return Errf("NoSuchEntity", "The role policy with name %s cannot be found.", policyName)
	}
	delete(r.InlinePolicies, policyName)
	delete(r.policies, policyName)
	r.PoliciesChanged = s.now().UTC()
	return nil
}

// DeleteRole deletes a role that has no inline policies left, as IAM does ("you must
// first remove" the role's inline policies, DeleteRole API reference). The bucket and
// trust policies that name it then name its unique id (principalid.go), so a role
// re-created with the same name is not what they allow.
func (s *Store) DeleteRole(accountID, roleName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.roleLocked(accountID, roleName)
	if err != nil {
		return err
	}
	if len(r.InlinePolicies) > 0 {
		return Errf("DeleteConflict", "Cannot delete entity, must delete policies first.")
	}
	delete(s.roles, r.Arn)
	return s.forgetRoleLocked(r.Arn, r.RoleID)
}
