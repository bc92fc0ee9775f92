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
	// ResourcePolicy is the resource-based policy (bucket policy, role trust policy);
	// nil when the resource has none.
	ResourcePolicy *Policy
	// TrustPolicy marks ResourcePolicy as a role trust policy: STS does not fall back to
	// the caller's identity policy unless the trust policy names the caller's account.
	TrustPolicy bool
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

// principal match strength, as in AWS's docs: a statement can name the exact principal
// (or the role of a session), or only its account, which delegates to the account's
// identity policies.
type match int

const (
	noMatch match = iota
	accountMatch
	exactMatch
)

type analysis int

const (
	notApplicable analysis = iota
	implicitDeny
	allowedForAccount
	allowed
	explicitDeny
)

// Evaluate applies AWS's policy evaluation logic (without SCPs, RCPs, permission
// boundaries and session policies, which the simulator does not model).
func Evaluate(in Input) Result {
	ctx := withGlobalKeys(in.Request)
	req := in.Request
	req.Context = ctx

	idRes := implicitDeny
	if req.Principal.Kind == identity.KindRoot {
		idRes = allowed
	}
	for _, p := range in.IdentityPolicies {
		for i := range p.Statements {
			s := &p.Statements[i]
			if !statementMatches(s, req, false) {
				continue
			}
			if s.Effect == "Deny" {
				idRes = explicitDeny
			} else if idRes != explicitDeny {
				idRes = allowed
			}
		}
	}
	if req.Principal.Kind == identity.KindService {
		idRes = implicitDeny // services have no identity policies
	}

	resRes := notApplicable
	if in.ResourcePolicy != nil {
		resRes = implicitDeny
		var denyExact, denyAcct, allowExact, allowAcct bool
		for i := range in.ResourcePolicy.Statements {
			s := &in.ResourcePolicy.Statements[i]
			m := principalMatch(s, req.Principal)
			if m == noMatch || !statementMatches(s, req, true) {
				continue
			}
			switch {
			case s.Effect == "Deny" && m == exactMatch:
				denyExact = true
			case s.Effect == "Deny":
				denyAcct = true
			case m == exactMatch:
				allowExact = true
			default:
				allowAcct = true
			}
		}
		switch {
		case denyExact || denyAcct:
			resRes = explicitDeny
		case allowExact:
			resRes = allowed
		case allowAcct:
			resRes = allowedForAccount
		}
	}

	action := req.Action
	if resRes == explicitDeny {
		return Result{ExplicitDeny: true, Reason: "with an explicit deny in a resource-based policy"}
	}
	if idRes == explicitDeny {
		return Result{ExplicitDeny: true, Reason: "with an explicit deny in an identity-based policy"}
	}
	noIdentity := Result{Reason: "because no identity-based policy allows the " + action + " action"}
	noResource := Result{Reason: "because no resource-based policy allows the " + action + " action"}

	if req.Principal.Kind == identity.KindService {
		if resRes == allowed {
			return Result{Allowed: true}
		}
		return noResource
	}

	sameAccount := req.ResourceAccount == "" || req.ResourceAccount == req.Principal.AccountID
	if sameAccount {
		if resRes == allowed {
			return Result{Allowed: true}
		}
		trustsAccount := true
		if in.TrustPolicy {
			trustsAccount = resRes == notApplicable || resRes == allowedForAccount
		}
		if trustsAccount && idRes == allowed {
			return Result{Allowed: true}
		}
		if in.TrustPolicy && idRes == allowed {
			return noResource
		}
		return noIdentity
	}
	// Cross-account: the resource owner must allow (naming the principal or its
	// account) AND the principal's own account must allow.
	resOK := resRes == allowed || resRes == allowedForAccount
	switch {
	case resOK && idRes == allowed:
		return Result{Allowed: true}
	case !resOK && idRes == allowed:
		return noResource
	default:
		return noIdentity
	}
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
// covers p. A statement without either never applies.
func principalMatch(s *Statement, p identity.Principal) match {
	if s.Principal != nil {
		return principalsMatch(s.Principal, p)
	}
	if s.NotPrincipal != nil {
		// NotPrincipal applies to everyone the element does not name; naming the
		// principal's account, role or session (at any strength) exempts it.
		if principalsMatch(s.NotPrincipal, p) != noMatch {
			return noMatch
		}
		return exactMatch
	}
	return noMatch
}

func principalsMatch(ps *Principals, p identity.Principal) match {
	if ps.Any {
		return exactMatch
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
					m = exactMatch
				}
			}
			if m > best {
				best = m
			}
		}
	}
	return best
}

func awsPrincipalMatch(v string, p identity.Principal) match {
	if v == "*" {
		return exactMatch
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
				return exactMatch
			}
			return accountMatch
		}
		return noMatch
	}
	if v == p.Arn {
		return exactMatch
	}
	if p.Kind == identity.KindAssumedRole && v == p.RoleArn {
		return exactMatch
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
