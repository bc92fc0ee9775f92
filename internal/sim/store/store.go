// Package store holds the simulator's state: accounts, users and their keys, IAM roles,
// STS sessions, S3 buckets and objects (bodies streamed to files in a data directory),
// and the run-time settings. Every method is safe for concurrent use.
package store

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/iampolicy"
	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// Error is an AWS API error the services render in their own protocol.
type Error struct {
	Code    string
	Message string
	// Fields are extra elements some S3 errors carry (BucketName, Key, Region).
	Fields map[string]string
}

func (e *Error) Error() string        { return e.Code + ": " + e.Message }
func (e *Error) ErrorCode() string    { return e.Code }
func (e *Error) ErrorMessage() string { return e.Message }

// Errf builds an Error.
func Errf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Settings are the run-time tunables.
type Settings struct {
	PropagationDelay       time.Duration
	TimeScale              float64
	TransferBytesPerSecond int64
}

// Credential is an access key and what it acts as.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // empty for long-term user keys
	Expiration      time.Time
	Principal       identity.Principal
}

// User is an IAM user from the config.
type User struct {
	Name      string
	AccountID string
	Arn       string
	UserID    string
	Docs      []string
	policies  []*iampolicy.Policy
}

type role struct {
	identity.Role
	trust    *iampolicy.Policy
	policies map[string]*iampolicy.Policy
}

// Store is the whole simulated world.
type Store struct {
	mu       sync.RWMutex
	region   string
	dataDir  string
	accounts map[string]string // id -> name
	users    map[string]*User  // user ARN -> user
	creds    map[string]*Credential
	roles    map[string]*role // role ARN -> role
	// policies are the customer managed policies by ARN.
	policies map[string]*managedPolicy
	buckets  map[string]*Bucket
	kmsKeys  map[string]*KMSKey // by key ARN
	settings Settings
	now      func() time.Time
	seg      segment
}

// New builds a store from a config; object bodies go under dataDir (created if absent).
func New(cfg *Config, dataDir string) (*Store, error) {
	// State lives in memory only, so bodies left by an earlier run are garbage.
	objects := filepath.Join(dataDir, "objects")
	if err := os.RemoveAll(objects); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(objects, 0o755); err != nil {
		return nil, err
	}
	s := &Store{
		region: cfg.Region, dataDir: dataDir,
		accounts: map[string]string{}, users: map[string]*User{}, creds: map[string]*Credential{},
		roles: map[string]*role{}, policies: map[string]*managedPolicy{}, buckets: map[string]*Bucket{}, kmsKeys: map[string]*KMSKey{}, now: time.Now,
		settings: Settings{PropagationDelay: time.Duration(cfg.PropagationDelaySeconds * float64(time.Second)),
			TimeScale: 1, TransferBytesPerSecond: cfg.TransferBytesPerSecond},
	}
	if cfg.TimeScale != nil {
		s.settings.TimeScale = *cfg.TimeScale
	}
	for _, a := range cfg.Accounts {
		s.accounts[a.ID] = a.Name
		for _, u := range a.Users {
			user := &User{Name: u.Name, AccountID: a.ID, Arn: "arn:aws:iam::" + a.ID + ":user/" + u.Name,
				UserID: "AIDA" + randomID(17)}
			for i, raw := range u.Policies {
				p, err := iampolicy.Parse(string(raw))
				if err != nil {
					return nil, fmt.Errorf("config: user %s policy %d: %w", user.Arn, i, err)
				}
				user.Docs = append(user.Docs, string(raw))
				user.policies = append(user.policies, p)
			}
			s.users[user.Arn] = user
			s.creds[u.AccessKeyID] = &Credential{AccessKeyID: u.AccessKeyID, SecretAccessKey: u.SecretAccessKey,
				Principal: identity.UserPrincipal(a.ID, u.Name, user.UserID)}
		}
	}
	return s, nil
}

// Region is the simulated region.
func (s *Store) Region() string { return s.region }

// Now is the simulator clock.
func (s *Store) Now() time.Time { return s.now() }

// Settings returns the current tunables.
func (s *Store) Settings() Settings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.settings
}

// UpdateSettings changes the tunables given (nil = unchanged).
func (s *Store) UpdateSettings(delay *time.Duration, timeScale *float64, bps *int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if delay != nil {
		s.settings.PropagationDelay = *delay
	}
	if timeScale != nil {
		s.settings.TimeScale = *timeScale
	}
	if bps != nil {
		s.settings.TransferBytesPerSecond = *bps
	}
}

// Credential looks up an access key. Expired session keys are returned with their
// expiration so the caller can answer ExpiredToken.
func (s *Store) Credential(accessKeyID string) (*Credential, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.creds[accessKeyID]
	if !ok {
		return nil, false
	}
	cp := *c
	return &cp, true
}

// IssueSession creates temporary credentials for a session of roleArn.
func (s *Store) IssueSession(roleArn, sessionName string, duration time.Duration) (*Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.roles[roleArn]
	if !ok {
		return nil, Errf("NoSuchEntity", "The role with name %s cannot be found.", roleNameFromArn(roleArn))
	}
	p := identity.SessionPrincipal(r.AccountID, r.Name, r.RoleID, sessionName)
	p.RoleArn = r.Arn
	c := &Credential{AccessKeyID: "ASIA" + randomID(16), SecretAccessKey: randomSecret(),
		SessionToken: "FwoGZXIvYXdzE" + randomSecret() + randomSecret(),
		Expiration:   s.now().Add(duration).UTC().Truncate(time.Second), Principal: p}
	s.creds[c.AccessKeyID] = c
	cp := *c
	return &cp, nil
}

// ServiceSession builds the principal of a role session started by an AWS service
// (no credentials are issued; the service acts in-process).
func (s *Store) ServiceSession(roleArn, sessionName string) (identity.Principal, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.roles[roleArn]
	if !ok {
		return identity.Principal{}, false
	}
	p := identity.SessionPrincipal(r.AccountID, r.Name, r.RoleID, sessionName)
	p.RoleArn = r.Arn
	return p, true
}

// identityPolicies returns the parsed identity-based policies of p. Caller holds mu.
func (s *Store) identityPolicies(p identity.Principal) []*iampolicy.Policy {
	switch p.Kind {
	case identity.KindUser:
		if u, ok := s.users[p.Arn]; ok {
			return u.policies
		}
	case identity.KindAssumedRole:
		// A session belongs to the role it was issued for (its unique id), not to a
		// role re-created with the same name since.
		if r, ok := s.roles[p.RoleArn]; ok && (p.UserID == "" || strings.HasPrefix(p.UserID, r.RoleID+":")) {
			out := make([]*iampolicy.Policy, 0, len(r.policies))
			for _, name := range sortedKeys(r.policies) {
				out = append(out, r.policies[name])
			}
			return out
		}
	}
	return nil
}

// Authorize evaluates p's identity policies and, for S3 resources, the bucket policy
// (and object ownership), like the real API call of action on resource. It returns nil
// or *identity.AccessDeniedError.
func (s *Store) Authorize(p identity.Principal, action, resource string, ctx identity.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.authorizeLocked(p, action, resource, ctx)
}

func (s *Store) authorizeLocked(p identity.Principal, action, resource string, ctx identity.Context) error {
	in := iampolicy.Input{Request: iampolicy.Request{Principal: p, Action: action, Resource: resource,
		Context: s.requestKeys(p, action, resource, ctx)}, IdentityPolicies: s.identityPolicies(p),
		PermissionsBoundary: s.permissionsBoundary(p)}
	if rest, ok := strings.CutPrefix(resource, "arn:aws:s3:::"); ok {
		bucketName, key, isObject := strings.Cut(rest, "/")
		if b, ok := s.buckets[bucketName]; ok {
			in.ResourceAccount = b.Owner
			in.ResourcePolicy = b.policy
			if isObject && b.Ownership != OwnershipEnforced {
				// With ACLs enabled, an object written by another account belongs to
				// that account: the bucket policy's grants do not cover it and only its
				// owner (by the default ACL) may use it. The bucket owner's explicit
				// Deny still applies: "In the bucket context, Amazon S3 reviews the
				// bucket policy to determine if the bucket owner has explicitly denied
				// access to the object" (S3 User Guide, How Amazon S3 authorizes a
				// request for an object operation).
				if o, ok := b.objects[key]; ok && o.Owner != b.Owner {
					in.ResourceAccount = o.Owner
					in.ResourcePolicy = denyOnly(b.policy)
				}
			}
		}
	} else if parts := strings.SplitN(resource, ":", 6); len(parts) == 6 {
		in.ResourceAccount = parts[4]
		if r, ok := s.roles[resource]; ok && action == "sts:AssumeRole" {
			in.ResourcePolicy, in.TrustPolicy = r.trust, true
		}
	}
	res := iampolicy.Evaluate(in)
	if res.Allowed {
		return nil
	}
	return res.Denied(in.Request)
}

// requestKeys adds the keys every AWS request carries that the evaluator cannot know:
// aws:RequestedRegion (us-east-1 for IAM, a global service; the simulated region
// otherwise), aws:SecureTransport (true: AWS's endpoints are reached over TLS, the plain
// HTTP to the simulator stands in for that), aws:PrincipalTag/KEY for a session of a
// tagged role, and aws:ResourceTag/KEY (and iam:ResourceTag/KEY) when the resource is a
// tagged role. Caller holds mu.
func (s *Store) requestKeys(p identity.Principal, action, resource string, ctx identity.Context) identity.Context {
	out := identity.Context{}
	for k, v := range ctx {
		out[k] = v
	}
	setTags := func(prefix string, tags []identity.Tag) {
		for _, t := range tags {
			if _, ok := out.Get(prefix + t.Key); !ok {
				out[prefix+t.Key] = []string{t.Value}
			}
		}
	}
	if r, ok := s.roles[p.RoleArn]; ok && p.Kind == identity.KindAssumedRole {
		setTags("aws:PrincipalTag/", r.Tags)
	}
	if r, ok := s.roles[resource]; ok {
		setTags("aws:ResourceTag/", r.Tags)
		if strings.HasPrefix(strings.ToLower(action), "iam:") {
			setTags("iam:ResourceTag/", r.Tags)
		}
		// On the actions that change a role's permissions, iam:PermissionsBoundary is
		// the boundary the role has (the service authorization reference lists the key
		// for them; AWS's delegation example uses it "to manage permissions policies
		// for users with this permissions boundary set"). CreateRole and
		// PutRolePermissionsBoundary carry the requested boundary in ctx instead.
		if _, given := out.Get("iam:PermissionsBoundary"); !given && r.PermissionsBoundaryArn != "" && boundaryKeyActions[strings.ToLower(action)] {
			out["iam:PermissionsBoundary"] = []string{r.PermissionsBoundaryArn}
		}
	}
	region := s.region
	if strings.HasPrefix(strings.ToLower(action), "iam:") {
		region = "us-east-1"
	}
	// aws:RequestedRegion is "the AWS Region that was called in the request" (IAM User
	// Guide, global condition context keys). An S3 request on a bucket is signed for the
	// bucket's Region (any other is redirected before it is authorized), DataSync's own
	// reads and writes of a bucket in another Region included.
	if rest, ok := strings.CutPrefix(resource, "arn:aws:s3:::"); ok {
		name, _, _ := strings.Cut(rest, "/")
		if b, ok := s.buckets[name]; ok && b.Region != "" {
			region = b.Region
		}
	}
	for k, v := range map[string]string{"aws:RequestedRegion": region, "aws:SecureTransport": "true"} {
		if _, ok := out.Get(k); !ok && v != "" {
			out[k] = []string{v}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

func randomSecret() string {
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func roleNameFromArn(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// denyOnly returns p's Deny statements (nil when there are none).
func denyOnly(p *iampolicy.Policy) *iampolicy.Policy {
	if p == nil {
		return nil
	}
	out := *p
	out.Statements = nil
	for _, st := range p.Statements {
		if st.Effect == "Deny" {
			out.Statements = append(out.Statements, st)
		}
	}
	if len(out.Statements) == 0 {
		return nil
	}
	return &out
}
