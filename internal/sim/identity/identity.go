// Package identity holds the identity types the simulator's services share: who is
// calling (Principal), the roles the IAM service stores (Role), the condition context a
// request carries (Context) and the access-denied error every service words its own way.
package identity

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Kind says what sort of principal made a request.
type Kind int

const (
	// KindUser is an IAM user from the config file (arn:aws:iam::ACCT:user/NAME).
	KindUser Kind = iota
	// KindAssumedRole is a role session (arn:aws:sts::ACCT:assumed-role/ROLE/SESSION).
	KindAssumedRole
	// KindRoot is an account's root user (arn:aws:iam::ACCT:root).
	KindRoot
	// KindService is an AWS service principal such as datasync.amazonaws.com.
	KindService
)

// Principal is the authenticated caller of a request.
type Principal struct {
	Kind Kind
	// Arn is the principal's ARN as GetCallerIdentity reports it (for a service
	// principal: the service name, e.g. "datasync.amazonaws.com").
	Arn       string
	AccountID string
	// UserName is set for KindUser.
	UserName string
	// RoleName, RoleArn and SessionName are set for KindAssumedRole. RoleArn is the
	// IAM role ARN (arn:aws:iam::ACCT:role/NAME): the aws:PrincipalArn of a session.
	RoleName    string
	RoleArn     string
	SessionName string
	// UserID is the unique id GetCallerIdentity reports (AIDA... or AROA...:session).
	UserID string
	// IsService is true for KindService.
	IsService bool
	// Service is the service principal name for KindService.
	Service string
}

// PrincipalArn is the value of the aws:PrincipalArn condition key: the role ARN for a
// role session, the ARN otherwise.
func (p Principal) PrincipalArn() string {
	if p.Kind == KindAssumedRole {
		return p.RoleArn
	}
	return p.Arn
}

// UserPrincipal builds the principal of an IAM user.
func UserPrincipal(accountID, name, userID string) Principal {
	return Principal{Kind: KindUser, Arn: "arn:aws:iam::" + accountID + ":user/" + name,
		AccountID: accountID, UserName: name, UserID: userID}
}

// RootPrincipal builds the principal of an account's root user.
func RootPrincipal(accountID string) Principal {
	return Principal{Kind: KindRoot, Arn: "arn:aws:iam::" + accountID + ":root",
		AccountID: accountID, UserID: accountID}
}

// SessionPrincipal builds the principal of a session of role roleName in accountID.
func SessionPrincipal(accountID, roleName, roleID, session string) Principal {
	return Principal{Kind: KindAssumedRole,
		Arn:       "arn:aws:sts::" + accountID + ":assumed-role/" + roleName + "/" + session,
		AccountID: accountID, RoleName: roleName,
		RoleArn:     "arn:aws:iam::" + accountID + ":role/" + roleName,
		SessionName: session, UserID: roleID + ":" + session}
}

// ServicePrincipal builds an AWS service principal such as "datasync.amazonaws.com".
func ServicePrincipal(service string) Principal {
	return Principal{Kind: KindService, Arn: service, Service: service, IsService: true}
}

// Role is an IAM role as the IAM service stores it.
type Role struct {
	Name      string
	Path      string
	Arn       string
	RoleID    string
	AccountID string
	// AssumeRolePolicyDocument is the trust policy as given (not URL-encoded).
	AssumeRolePolicyDocument string
	Description              string
	MaxSessionDuration       int32
	CreateDate               time.Time
	// PoliciesChanged is the time of the role's last CreateRole, PutRolePolicy or
	// UpdateAssumeRolePolicy: IAM changes are eventually consistent, so a service that
	// uses the role sees it "not ready" until the propagation delay has passed since.
	PoliciesChanged time.Time
	Tags            []Tag
	// InlinePolicies maps policy name to document, in the order they were put.
	InlinePolicies map[string]string
	// PermissionsBoundaryArn is the managed policy set as the role's permissions
	// boundary; "" when none.
	PermissionsBoundaryArn string
}

// Tag is a key/value tag.
type Tag struct{ Key, Value string }

// Context is the request context the evaluator reads condition keys from. Keys are
// compared case-insensitively (store them in any case; Get lower-cases).
type Context map[string][]string

// Get returns the values of a key, or nil when absent.
func (c Context) Get(key string) ([]string, bool) {
	if v, ok := c[key]; ok {
		return v, true
	}
	lk := strings.ToLower(key)
	for k, v := range c {
		if strings.ToLower(k) == lk {
			return v, true
		}
	}
	return nil, false
}

// Set stores one value for a key.
func (c Context) Set(key, value string) { c[key] = []string{value} }

// AccessDeniedError is an authorization failure. Error() gives AWS's long form used by
// IAM, STS and DataSync; S3 answers only "Access Denied".
type AccessDeniedError struct {
	PrincipalArn string
	Action       string
	Resource     string
	// Reason is AWS's trailing clause, e.g.
	// "because no identity-based policy allows the s3:GetObject action" or
	// "with an explicit deny in a resource-based policy"; empty for none.
	Reason string
}

func (e *AccessDeniedError) Error() string {
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s",
		e.PrincipalArn, e.Action, e.Resource)
	if e.Reason != "" {
		msg += " " + e.Reason
	}
	return msg
}

// ErrorCode is the AWS error code ("AccessDenied").
func (e *AccessDeniedError) ErrorCode() string { return "AccessDenied" }

// ErrorMessage is the long AWS message (same as Error).
func (e *AccessDeniedError) ErrorMessage() string { return e.Error() }

type principalKey struct{}

// WithPrincipal returns a context carrying the authenticated caller.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller stored by WithPrincipal.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

type regionKey struct{}

// WithRequestedRegion returns a context carrying the Region a request was signed for
// (its SigV4 credential scope): the aws:RequestedRegion of the calls it makes.
func WithRequestedRegion(ctx context.Context, region string) context.Context {
	return context.WithValue(ctx, regionKey{}, region)
}

// RequestedRegionFrom returns the Region stored by WithRequestedRegion.
func RequestedRegionFrom(ctx context.Context) (string, bool) {
	r, ok := ctx.Value(regionKey{}).(string)
	return r, ok && r != ""
}
