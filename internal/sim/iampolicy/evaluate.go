package iampolicy

import (
	"strconv"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// Request is one authorization question.
type Request struct {
	Principal identity.Principal
	Action    string // "s3:GetObject"
	Resource  string // "arn:aws:s3:::bucket/key"
	// ResourceAccount owns the resource; "" means the principal's own account.
	ResourceAccount string
	// Context holds the request's condition keys. Evaluate adds the global principal
	// keys (aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:userid,
	// aws:username, aws:PrincipalIsAWSService, aws:CurrentTime, aws:EpochTime) when they
	// are absent.
	Context identity.Context
}

// Input is a request plus the policies that apply to it.
type Input struct {
	Request
	// IdentityPolicies are the principal's identity-based policies. The account root
	// user is implicitly allowed everything in its account and needs none.
	IdentityPolicies []*Policy
	// PermissionsBoundary is the managed policy set as the permissions boundary of the
	// principal's IAM user or role (for a role session: of its role); nil when none.
	PermissionsBoundary *Policy
	// ResourcePolicy is the resource-based policy (bucket policy, role trust policy);
	// nil when the resource has none.
	ResourcePolicy *Policy
	// TrustPolicy marks ResourcePolicy as a role trust policy: STS does not fall back to
	// the caller's identity policy unless the trust policy names the caller's account.
	TrustPolicy bool
	// KeyPolicy marks ResourcePolicy as a KMS key policy, which, like a trust policy,
	// must itself let the caller in: "To use an IAM policy to allow access to a KMS key,
	// the key policy must explicitly allow it" (AWS KMS Developer Guide, "KMS key access
	// and permissions", https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html);
	// naming the caller's account (the default "Enable IAM User Permissions" statement)
	// delegates to its identity policies.
	KeyPolicy bool
}

// Result is the decision with AWS's wording of why a request was denied.
type Result struct {
	Allowed bool
	// ExplicitDeny is true when a Deny statement matched.
	ExplicitDeny bool
	// Reason is AWS's trailing clause for a denial: "with an explicit deny in a
	// resource-based policy", "because no identity-based policy allows the X action".
	Reason string
}

// Denied returns the access-denied error for a denied result, nil when allowed.
func (r Result) Denied(req Request) *identity.AccessDeniedError {
	if r.Allowed {
		return nil
	}
	return &identity.AccessDeniedError{PrincipalArn: req.Principal.Arn, Action: req.Action,
		Resource: req.Resource, Reason: r.Reason}
}

// match is how a resource-policy statement names the requester. AWS's "How AWS
// enforcement code logic evaluates requests to allow or deny access"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html)
// tells three grants apart within one account:
//   - directMatch: the statement names the IAM user, the role session ARN itself, or
//     everyone ("*"): the permission is granted directly, and an implicit deny in an
//     identity-based policy or a permissions boundary does not limit it;
//   - roleMatch: the statement names the role of a role session: "limited by an
//     implicit deny in a permissions boundary", but needs no identity-based policy;
//   - accountMatch: the statement names the account: it delegates to the account, so
//     the identity-based policies (within the boundary) must allow.
type match int

const (
	noMatch match = iota
	accountMatch
	roleMatch
	directMatch
)

// decision is one policy type's verdict on a request.
type decision int

const (
	notApplicable decision = iota
	implicitDeny
	allowed
	explicitDeny
)

// evalPolicies is the verdict of identity-based policies (or a boundary) alone: an
// explicit deny, an allow, or an implicit deny.
func evalPolicies(policies []*Policy, req Request) decision {
	d := implicitDeny
	for _, p := range policies {
		for i := range p.Statements {
			s := &p.Statements[i]
			if !statementMatches(s, req, false) {
				continue
			}
			if s.Effect == "Deny" {
				return explicitDeny
			}
			d = allowed
		}
	}
	return d
}

// Evaluate applies AWS's policy evaluation logic to identity-based policies, a
// permissions boundary and a resource-based policy (SCPs, RCPs and session policies
// are not modelled). Sources: IAM User Guide "Policy evaluation logic"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)
// and its pages on enforcement order (reference_policies_evaluation-logic_policy-eval-denyallow.html),
// cross-account requests (reference_policies_evaluation-logic-cross-account.html) and
// "Permissions boundaries for IAM entities"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html):
//   - an explicit deny in any policy wins;
//   - the effective identity permissions of a user or role session are those its
//     identity-based policies AND its permissions boundary allow;
//   - within one account a resource-based policy can grant on its own: fully when it
//     names the user, the role session or "*", within the boundary when it names the
//     role, through the identity-based policies when it names the account;
//   - across accounts the resource owner's policy AND the requester's identity
//     permissions (boundary included) must both allow.
func Evaluate(in Input) Result {
	ctx := withGlobalKeys(in.Request)
	req := in.Request
	req.Context = ctx
	p := req.Principal
	action := req.Action

	idRes := evalPolicies(in.IdentityPolicies, req)
	switch p.Kind {
	case identity.KindRoot:
		if idRes != explicitDeny {
			idRes = allowed // the root user may do everything in its account
		}
	case identity.KindService:
		idRes = implicitDeny // services have no identity policies
	}
	// A boundary applies to IAM users and roles only; the root user and services have none.
	boundRes := notApplicable
	bounded := in.PermissionsBoundary != nil && (p.Kind == identity.KindUser || p.Kind == identity.KindAssumedRole)
	if bounded {
		boundRes = evalPolicies([]*Policy{in.PermissionsBoundary}, req)
	}

	resRes := notApplicable
	grant := noMatch
	if in.ResourcePolicy != nil {
		resRes = implicitDeny
		for i := range in.ResourcePolicy.Statements {
			s := &in.ResourcePolicy.Statements[i]
			m := principalMatch(s, p, bounded)
			if m == noMatch || !statementMatches(s, req, true) {
				continue
			}
			if s.Effect == "Deny" {
				resRes = explicitDeny
				break
			}
			grant = max(grant, m)
		}
		if resRes != explicitDeny && grant != noMatch {
			resRes = allowed
		}
	}

	switch {
	case resRes == explicitDeny:
		return Result{ExplicitDeny: true, Reason: "with an explicit deny in a resource-based policy"}
	case idRes == explicitDeny:
		return Result{ExplicitDeny: true, Reason: "with an explicit deny in an identity-based policy"}
	case boundRes == explicitDeny:
		return Result{ExplicitDeny: true, Reason: "with an explicit deny in a permissions boundary"}
	}
	allow := Result{Allowed: true}
	noIdentity := Result{Reason: "because no identity-based policy allows the " + action + " action"}
	noResource := Result{Reason: "because no resource-based policy allows the " + action + " action"}
	noBoundary := Result{Reason: "because no permissions boundary allows the " + action + " action"}
	// identityOK: the identity-based policies allow, within the boundary if any.
	identityOK := func() (Result, bool) {
		switch {
		case idRes != allowed:
			return noIdentity, false
		case bounded && boundRes != allowed:
			return noBoundary, false
		}
		return allow, true
	}

	if p.Kind == identity.KindService {
		if resRes == allowed {
			return allow
		}
		return noResource
	}

	sameAccount := req.ResourceAccount == "" || req.ResourceAccount == p.AccountID
	if !sameAccount {
		// Cross-account: the resource owner must allow (naming the principal, its role
		// or its account) AND the principal's own account must allow.
		r, ok := identityOK()
		switch {
		case resRes != allowed && idRes == allowed:
			return noResource
		case !ok:
			return r
		}
		return allow
	}
	switch grant {
	case directMatch:
		return allow
	case roleMatch:
		if bounded && boundRes != allowed {
			return noBoundary
		}
		return allow
	}
	// A trust policy (or a key policy) must itself let the caller in: naming the
	// caller's account delegates to its identity policies; naming someone else does not.
	if (in.TrustPolicy || in.KeyPolicy) && in.ResourcePolicy != nil && grant != accountMatch {
		if idRes == allowed {
			return noResource
		}
		return noIdentity
	}
	r, _ := identityOK()
	return r
}

func withGlobalKeys(req Request) identity.Context {
	ctx := identity.Context{}
	for k, v := range req.Context {
		ctx[k] = v
	}
	set := func(k, v string) {
		if _, ok := ctx.Get(k); !ok && v != "" {
			ctx[k] = []string{v}
		}
	}
	now := time.Now().UTC()
	set("aws:CurrentTime", now.Format(time.RFC3339))
	set("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
	p := req.Principal
	switch p.Kind {
	case identity.KindService:
		set("aws:PrincipalIsAWSService", "true")
		set("aws:PrincipalServiceName", p.Service)
	default:
		set("aws:PrincipalIsAWSService", "false")
		set("aws:PrincipalArn", p.PrincipalArn())
		set("aws:PrincipalAccount", p.AccountID)
		set("aws:userid", p.UserID)
		switch p.Kind {
		case identity.KindUser:
			set("aws:PrincipalType", "User")
			set("aws:username", p.UserName)
		case identity.KindAssumedRole:
			set("aws:PrincipalType", "AssumedRole")
		case identity.KindRoot:
			set("aws:PrincipalType", "Account")
		}
	}
	return ctx
}

// statementMatches checks action, resource and conditions (not the principal).
func statementMatches(s *Statement, req Request, resourcePolicy bool) bool {
	if s.HasAction && !anyMatch(s.Action, req.Action, matchAction) {
		return false
	}
	if s.HasNotAction && anyMatch(s.NotAction, req.Action, matchAction) {
		return false
	}
	resourceMatch := func(pattern, resource string) bool {
		if hasVariables(s, pattern) {
			return pattern == "*" || arnVariableMatch(pattern, resource, req.Context)
		}
		return matchResource(pattern, resource)
	}
	switch {
	case s.HasResource:
		if !anyMatch(s.Resource, req.Resource, resourceMatch) {
			return false
		}
	case s.HasNotResource:
		if anyMatch(s.NotResource, req.Resource, resourceMatch) {
			return false
		}
	default:
		// A trust policy has no Resource element: it applies to the role itself. An
		// identity policy without one is invalid and never matches.
		if !resourcePolicy {
			return false
		}
	}
	return conditionsMatch(s, req.Context)
}

func anyMatch(patterns []string, value string, f func(pattern, value string) bool) bool {
	for _, p := range patterns {
		if f(p, value) {
			return true
		}
	}
	return false
}

// matchAction: "service:Action" with * and ? wildcards, case-insensitive.
func matchAction(pattern, action string) bool {
	return wildcard(strings.ToLower(pattern), strings.ToLower(action))
}

// matchResource: "*" or an ARN pattern; wildcards may appear in any segment and match
// across "/" within the resource segment; case-sensitive.
func matchResource(pattern, resource string) bool {
	if pattern == "*" {
		return true
	}
	return arnLike(pattern, resource)
}

// arnLike compares the six colon-separated ARN components separately (the last one may
// itself contain colons), each with * and ? wildcards, case-sensitive.
func arnLike(pattern, value string) bool {
	pp := strings.SplitN(pattern, ":", 6)
	vp := strings.SplitN(value, ":", 6)
	if len(pp) != 6 || len(vp) != 6 {
		return wildcard(pattern, value)
	}
	for i := range pp {
		if !wildcard(pp[i], vp[i]) {
			return false
		}
	}
	return true
}

// wildcard matches s against pattern where * is any sequence and ? any one character.
func wildcard(pattern, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

// principalMatch decides whether a resource-policy statement's Principal/NotPrincipal
// covers p, and how strongly (see match). A statement without either never applies.
// bounded says p is an IAM user or role session with a permissions boundary.
func principalMatch(s *Statement, p identity.Principal, bounded bool) match {
	if s.Principal != nil {
		return principalsMatch(s.Principal, p)
	}
	if s.NotPrincipal == nil {
		return noMatch
	}
	// AWS JSON policy elements: NotPrincipal
	// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html):
	// NotPrincipal works only with Effect Deny ("Using it with Allow is not supported"),
	// so an Allow with NotPrincipal grants nothing here (PutBucketPolicy refuses it).
	if s.Effect != "Deny" {
		return noMatch
	}
	// Permissions boundaries for IAM entities: a NotPrincipal Deny "will always deny any
	// IAM principal that has a permissions boundary policy attached, regardless of the
	// values specified in the NotPrincipal element".
	if bounded || !notPrincipalExempts(s.NotPrincipal, p) {
		return directMatch
	}
	return noMatch
}

// notPrincipalExempts reports whether a NotPrincipal element names p at every level AWS
// may check. The NotPrincipal page says AWS might validate the account first, then the
// role, then the assumed-role session (identified by its session name), and that
// leaving out the account or the role "might" deny the account or the role and all in
// it. The simulator takes the conservative reading of "might" (a local pass must mean
// an AWS pass): the account root exempts only the root user; a user is exempt only
// with its account; a role session only when the session ARN, the role ARN and the
// account are all listed (the role ARN alone does not name any session).
func notPrincipalExempts(ps *Principals, p identity.Principal) bool {
	if ps.Any {
		return true
	}
	named := func(typ, v string) bool {
		for _, x := range ps.Values[typ] {
			if x == v || (typ == "AWS" && x == "*") {
				return true
			}
		}
		return false
	}
	account := func() bool {
		return named("AWS", p.AccountID) || named("AWS", "arn:aws:iam::"+p.AccountID+":root")
	}
	switch p.Kind {
	case identity.KindService:
		return named("Service", p.Service)
	case identity.KindRoot:
		return account()
	case identity.KindUser:
		return account() && named("AWS", p.Arn)
	case identity.KindAssumedRole:
		return account() && named("AWS", p.RoleArn) && named("AWS", p.Arn)
	}
	return false
}

func principalsMatch(ps *Principals, p identity.Principal) match {
	if ps.Any {
		return directMatch
	}
	best := noMatch
	for typ, vals := range ps.Values {
		for _, v := range vals {
			var m match
			switch typ {
			case "AWS":
				m = awsPrincipalMatch(v, p)
			case "Service":
				if p.Kind == identity.KindService && v == p.Service {
					m = directMatch
				}
			}
			best = max(best, m)
		}
	}
	return best
}

func awsPrincipalMatch(v string, p identity.Principal) match {
	if v == "*" {
		return directMatch
	}
	if p.Kind == identity.KindService {
		return noMatch
	}
	if isAccountID(v) {
		if v == p.AccountID {
			return accountMatch
		}
		return noMatch
	}
	if acct, ok := strings.CutPrefix(v, "arn:aws:iam::"); ok && strings.HasSuffix(acct, ":root") {
		if strings.TrimSuffix(acct, ":root") == p.AccountID {
			if p.Kind == identity.KindRoot {
				return directMatch
			}
			return accountMatch
		}
		return noMatch
	}
	if v == p.Arn {
		return directMatch
	}
	if p.Kind == identity.KindAssumedRole && v == p.RoleArn {
		return roleMatch
	}
	return noMatch
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// WildcardMatch matches s against a pattern where * is any sequence of characters and
// ? exactly one (case-sensitive), as IAM does for resources and StringLike.
func WildcardMatch(pattern, s string) bool { return wildcard(pattern, s) }
