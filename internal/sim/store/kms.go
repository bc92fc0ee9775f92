package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/iampolicy"
	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// KMS: keys with key policies and grants, and the authorization of their use. Sources:
// AWS KMS Developer Guide, "KMS key access and permissions" (control-access.html: the key
// policy must allow, itself or by delegating to IAM), "Default key policy" (the "Enable
// IAM User Permissions" statement), "Allowing users in other accounts to use a KMS key"
// (key-policy-modifying-external-accounts.html: cross-account use needs the key policy
// AND an IAM policy in the external account), "Grants in AWS KMS" (grants.html) and
// "Using a grant token" (using-grant-token.html: a new grant may not be effective at
// once; "it typically takes less than a few seconds ... in some cases it can take
// several minutes").

// Key managers (KeyMetadata.KeyManager).
const (
	KeyManagerCustomer = "CUSTOMER"
	KeyManagerAWS      = "AWS"
)

// grantOperations are the operations a grant may allow (CreateGrant, Operations).
var grantOperations = []string{"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
	"ReEncryptFrom", "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant",
	"DescribeKey", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac",
	"DeriveSharedSecret"}

// KMSKey is a KMS key as DescribeKey shows it, plus its key policy.
type KMSKey struct {
	KeyID, Arn, AccountID, Region string
	Description                   string
	KeyManager                    string
	// Alias is "alias/aws/s3" for the AWS managed key of S3, "" otherwise.
	Alias   string
	Policy  string
	Created time.Time

	policy *iampolicy.Policy
	grants []*KMSGrant
}

// KMSGrant is one grant on a key.
type KMSGrant struct {
	GrantID, GrantToken, KeyArn, Name   string
	GranteePrincipal, RetiringPrincipal string
	IssuingAccount                      string
	Operations                          []string
	Created                             time.Time
}

func kmsNotFound(id string) *Error {
	return Errf("NotFoundException", "Key '%s' does not exist", id)
}

// DefaultKeyPolicy is the key policy KMS gives a key created without one: "Enable IAM User
// Permissions", which lets the account's IAM policies allow every action on the key
// (AWS KMS Developer Guide, "Default key policy").
func DefaultKeyPolicy(partition, accountID string) string {
	return `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:` +
		partition + `:iam::` + accountID + `:root"},"Action":"kms:*","Resource":"*"}]}`
}

// awsManagedS3KeyPolicy is the key policy of an account's aws/s3 key: any principal of
// the account may use it through S3 (kms:CallerAccount and kms:ViaService), so no other
// account can (AWS KMS Developer Guide, "AWS managed keys"; DataSync User Guide, creating
// an S3 location: the AWS managed key works only within one account).
func awsManagedS3KeyPolicy(accountID, region string) string {
	return `{"Version":"2012-10-17","Id":"auto-s3-2","Statement":[{"Sid":"Allow access through S3 for all principals in the account that are authorized to use S3","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"` +
		accountID + `","kms:ViaService":"s3.` + region + `.amazonaws.com"}}},{"Sid":"Allow direct access to key metadata to the account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` +
		accountID + `:root"},"Action":["kms:Describe*","kms:Get*","kms:List*"],"Resource":"*"}]}`
}

func newKeyID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (k *KMSKey) copy() KMSKey {
	c := *k
	c.grants = nil
	return c
}

// CreateKey creates a customer managed key in accountID with the given key policy ("" =
// the default key policy).
func (s *Store) CreateKey(accountID, description, policy string) (KMSKey, error) {
	return s.CreateKeyWithID(accountID, "", description, policy)
}

// CreateKeyWithID is CreateKey with a chosen key id ("" = a new random one), for seeding a
// key that a deployment's configuration names by ARN (the admin API).
func (s *Store) CreateKeyWithID(accountID, keyID, description, policy string) (KMSKey, error) {
	if policy == "" {
		policy = DefaultKeyPolicy("aws", accountID)
	}
	p, err := iampolicy.Parse(policy)
	if err != nil {
		return KMSKey{}, Errf("MalformedPolicyDocumentException", "The new key policy will not allow you to update the key policy in the future.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[accountID]; !ok {
		return KMSKey{}, Errf("NotFoundException", "account %s is not simulated", accountID)
	}
	id := keyID
	if id == "" {
		id = newKeyID()
	}
	k := &KMSKey{KeyID: id, Arn: "arn:aws:kms:" + s.region + ":" + accountID + ":key/" + id, AccountID: accountID,
		Region: s.region, Description: description, KeyManager: KeyManagerCustomer, Policy: policy,
		Created: s.now().UTC(), policy: p}
	if _, taken := s.kmsKeys[k.Arn]; taken {
		return KMSKey{}, Errf("AlreadyExistsException", "key %s already exists", k.Arn)
	}
	s.kmsKeys[k.Arn] = k
	return k.copy(), nil
}

// awsManagedS3KeyLocked returns (creating it on first use, as S3 does) the aws/s3 key of
// an account. Caller holds mu for writing.
func (s *Store) awsManagedS3KeyLocked(accountID string) *KMSKey {
	for _, k := range s.kmsKeys {
		if k.AccountID == accountID && k.Alias == "alias/aws/s3" {
			return k
		}
	}
	doc := awsManagedS3KeyPolicy(accountID, s.region)
	p, err := iampolicy.Parse(doc)
	if err != nil {
		panic(err) // a constant document
	}
	id := newKeyID()
	k := &KMSKey{KeyID: id, Arn: "arn:aws:kms:" + s.region + ":" + accountID + ":key/" + id, AccountID: accountID,
		Region: s.region, Description: "Default key that protects my S3 objects when no other key is defined",
		KeyManager: KeyManagerAWS, Alias: "alias/aws/s3", Policy: doc, Created: s.now().UTC(), policy: p}
	s.kmsKeys[k.Arn] = k
	return k
}

// resolveKeyLocked finds a key by key ARN, alias ARN, or, in callerAccount, key id or alias
// name. A key of another account can be named by its ARN only (CreateGrant, KeyId:
// "To specify a KMS key in a different AWS account, you must use the key ARN").
func (s *Store) resolveKeyLocked(callerAccount, id string) (*KMSKey, bool) {
	if k, ok := s.kmsKeys[id]; ok {
		return k, true
	}
	account, name := callerAccount, id
	if strings.HasPrefix(id, "arn:") {
		parts := strings.SplitN(id, ":", 6)
		if len(parts) != 6 || parts[2] != "kms" || parts[3] != s.region {
			return nil, false
		}
		account, name = parts[4], parts[5]
	}
	for _, k := range s.kmsKeys {
		if k.AccountID != account {
			continue
		}
		if k.KeyID == name || strings.TrimPrefix(name, "key/") == k.KeyID || (k.Alias != "" && k.Alias == name) {
			return k, true
		}
	}
	return nil, false
}

// ResolveKeyForS3 resolves the key of an SSE-KMS request or bucket default in the bucket
// owner's account: "" or "aws/s3" means the AWS managed key of that account.
func (s *Store) ResolveKeyForS3(ownerAccount, id string) (KMSKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" || id == "alias/aws/s3" || strings.HasSuffix(id, ":alias/aws/s3") {
		return s.awsManagedS3KeyLocked(ownerAccount).copy(), nil
	}
	k, ok := s.resolveKeyLocked(ownerAccount, id)
	if !ok {
		return KMSKey{}, Errf("KMS.NotFoundException", "Invalid arn %s", id)
	}
	return k.copy(), nil
}

// DescribeKey returns a key's metadata, authorized as kms:DescribeKey.
func (s *Store) DescribeKey(p identity.Principal, id string) (KMSKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.resolveKeyLocked(p.AccountID, id)
	if !ok {
		return KMSKey{}, kmsNotFound(id)
	}
	if err := s.authorizeKMSLocked(p, "kms:DescribeKey", k, nil); err != nil {
		return KMSKey{}, err
	}
	return k.copy(), nil
}

// KMSKeys lists every key (admin state).
func (s *Store) KMSKeys() []KMSKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]KMSKey, 0, len(s.kmsKeys))
	for _, arn := range sortedKeys(s.kmsKeys) {
		out = append(out, s.kmsKeys[arn].copy())
	}
	return out
}

// AuthorizeKMS authorizes p to perform action (kms:Decrypt, ...) on the key keyArn, as
// KMS does: the key policy (with grants, which act like key-policy statements naming the
// grantee for the grant's operations) and p's identity policies.
func (s *Store) AuthorizeKMS(p identity.Principal, action, keyArn string, ctx identity.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.kmsKeys[keyArn]
	if !ok {
		return kmsNotFound(keyArn)
	}
	return s.authorizeKMSLocked(p, action, k, ctx)
}

// authorizeKMSLocked evaluates. A grant counts once it is older than the propagation delay
// (or its token is given in ctx as kms:GrantToken). Grants are modelled as statements of
// the key policy naming the grantee, so the cross-account rule is the same as for the key
// policy: the grantee's own account must allow too. That is the conservative reading: the
// Developer Guide says cross-account use needs the key policy and an IAM policy, and does
// not say that a grant needs none, so a local pass must mean an AWS pass.
func (s *Store) authorizeKMSLocked(p identity.Principal, action string, k *KMSKey, ctx identity.Context) error {
	c := identity.Context{}
	for key, v := range ctx {
		c[key] = v
	}
	if _, ok := c.Get("kms:CallerAccount"); !ok && p.AccountID != "" {
		c["kms:CallerAccount"] = []string{p.AccountID}
	}
	c["aws:RequestedRegion"] = []string{k.Region}
	pol := &iampolicy.Policy{Version: k.policy.Version, Statements: append([]iampolicy.Statement(nil), k.policy.Statements...)}
	tokens, _ := c.Get("kms:GrantToken")
	now := s.now()
	op := strings.TrimPrefix(action, "kms:")
	for _, g := range k.grants {
		if !slices.Contains(g.Operations, op) {
			continue
		}
		if now.Sub(g.Created) < s.settings.PropagationDelay && !slices.Contains(tokens, g.GrantToken) {
			continue // not yet known to all of KMS
		}
		pol.Statements = append(pol.Statements, iampolicy.Statement{Sid: "grant " + g.GrantID, Effect: "Allow",
			Principal: &iampolicy.Principals{Values: map[string][]string{"AWS": {g.GranteePrincipal}}},
			Action:    []string{action}, HasAction: true, Resource: []string{"*"}, HasResource: true})
	}
	in := iampolicy.Input{Request: iampolicy.Request{Principal: p, Action: action, Resource: k.Arn,
		ResourceAccount: k.AccountID, Context: s.requestKeys(p, action, k.Arn, c)},
		IdentityPolicies: s.identityPolicies(p), PermissionsBoundary: s.permissionsBoundary(p),
		ResourcePolicy: pol, KeyPolicy: true}
	res := iampolicy.Evaluate(in)
	if res.Allowed {
		return nil
	}
	return res.Denied(in.Request)
}

// CreateGrantInput is a CreateGrant request.
type CreateGrantInput struct {
	KeyID, GranteePrincipal, RetiringPrincipal, Name string
	Operations                                       []string
}

// CreateGrant adds a grant, authorized as kms:CreateGrant with the condition keys
// kms:GranteePrincipal, kms:RetiringPrincipal and kms:GrantOperations (AWS KMS Developer
// Guide, "AWS KMS condition keys"). A retried request with the same Name and parameters
// returns the existing grant (CreateGrant, Name: "you can retry a CreateGrant request
// with identical parameters; if the grant already exists, the original GrantId is
// returned without creating a new grant").
func (s *Store) CreateGrant(p identity.Principal, in CreateGrantInput) (KMSGrant, error) {
	if in.GranteePrincipal == "" || len(in.Operations) == 0 {
		return KMSGrant{}, Errf("ValidationException", "GranteePrincipal and Operations are required")
	}
	for _, op := range in.Operations {
		if !slices.Contains(grantOperations, op) {
			return KMSGrant{}, Errf("ValidationException", "1 validation error detected: Value '[%s]' at 'operations' failed to satisfy constraint", op)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.resolveKeyLocked(p.AccountID, in.KeyID)
	if !ok {
		return KMSGrant{}, kmsNotFound(in.KeyID)
	}
	if !strings.HasPrefix(in.GranteePrincipal, "arn:") || !strings.Contains(in.GranteePrincipal, ":iam::") && !strings.Contains(in.GranteePrincipal, ":sts::") {
		return KMSGrant{}, Errf("ValidationException", "Invalid principal: %s", in.GranteePrincipal)
	}
	ctx := identity.Context{"kms:GranteePrincipal": {in.GranteePrincipal}, "kms:GrantOperations": in.Operations}
	if in.RetiringPrincipal != "" {
		ctx["kms:RetiringPrincipal"] = []string{in.RetiringPrincipal}
	}
	if err := s.authorizeKMSLocked(p, "kms:CreateGrant", k, ctx); err != nil {
		return KMSGrant{}, err
	}
	ops := slices.Clone(in.Operations)
	slices.Sort(ops)
	if in.Name != "" {
		for _, g := range k.grants {
			if g.Name == in.Name && g.GranteePrincipal == in.GranteePrincipal && g.RetiringPrincipal == in.RetiringPrincipal && slices.Equal(g.Operations, ops) {
				return *g, nil
			}
		}
	}
	id := strings.ReplaceAll(newKeyID()+newKeyID(), "-", "")
	g := &KMSGrant{GrantID: id, GrantToken: "AQpAM2" + randomSecret(), KeyArn: k.Arn, Name: in.Name,
		GranteePrincipal: in.GranteePrincipal, RetiringPrincipal: in.RetiringPrincipal,
		IssuingAccount: "arn:aws:iam::" + p.AccountID + ":root", Operations: ops, Created: s.now().UTC()}
	k.grants = append(k.grants, g)
	return *g, nil
}

// ListGrants lists a key's grants (filtered by grant id or grantee), authorized as
// kms:ListGrants.
func (s *Store) ListGrants(p identity.Principal, keyID, grantID, grantee string) ([]KMSGrant, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.resolveKeyLocked(p.AccountID, keyID)
	if !ok {
		return nil, kmsNotFound(keyID)
	}
	if err := s.authorizeKMSLocked(p, "kms:ListGrants", k, nil); err != nil {
		return nil, err
	}
	var out []KMSGrant
	for _, g := range k.grants {
		if (grantID == "" || g.GrantID == grantID) && (grantee == "" || g.GranteePrincipal == grantee) {
			out = append(out, *g)
		}
	}
	return out, nil
}

// RevokeGrant deletes a grant, authorized as kms:RevokeGrant.
func (s *Store) RevokeGrant(p identity.Principal, keyID, grantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.resolveKeyLocked(p.AccountID, keyID)
	if !ok {
		return kmsNotFound(keyID)
	}
	if err := s.authorizeKMSLocked(p, "kms:RevokeGrant", k, nil); err != nil {
		return err
	}
	return k.removeGrant(grantID)
}

// RetireGrant deletes a grant as its retiring principal, as its grantee when the grant
// allows RetireGrant, or as a principal allowed kms:RetireGrant ("Retiring and revoking
// grants", AWS KMS Developer Guide).
func (s *Store) RetireGrant(p identity.Principal, keyID, grantID, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var k *KMSKey
	var g *KMSGrant
	if token != "" && keyID == "" {
		for _, key := range s.kmsKeys {
			for _, x := range key.grants {
				if x.GrantToken == token {
					k, g = key, x
				}
			}
		}
	} else if key, ok := s.resolveKeyLocked(p.AccountID, keyID); ok {
		k = key
		for _, x := range key.grants {
			if x.GrantID == grantID {
				g = x
			}
		}
	}
	if k == nil {
		return kmsNotFound(keyID)
	}
	if g == nil {
		return Errf("NotFoundException", "Grant ID %s not found", grantID)
	}
	names := func(v string) bool { return v != "" && (v == p.Arn || v == p.RoleArn) }
	if !names(g.RetiringPrincipal) && !(names(g.GranteePrincipal) && slices.Contains(g.Operations, "RetireGrant")) {
		if err := s.authorizeKMSLocked(p, "kms:RetireGrant", k, nil); err != nil {
			return err
		}
	}
	return k.removeGrant(g.GrantID)
}

func (k *KMSKey) removeGrant(grantID string) error {
	for i, g := range k.grants {
		if g.GrantID == grantID {
			k.grants = slices.Delete(k.grants, i, i+1)
			return nil
		}
	}
	return Errf("NotFoundException", "Grant ID %s not found", grantID)
}

// KMSGrants lists every grant of every key (admin state).
func (s *Store) KMSGrants() []KMSGrant {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []KMSGrant
	for _, arn := range sortedKeys(s.kmsKeys) {
		for _, g := range s.kmsKeys[arn].grants {
			out = append(out, *g)
		}
	}
	return out
}

// KMSDeniedError is S3's answer when the KMS call it makes for the caller is denied: an
// AccessDenied whose message names the KMS action and the key.
func KMSDeniedError(err error, action, keyArn string) error {
	var ad *identity.AccessDeniedError
	if errors.As(err, &ad) {
		return &Error{Code: "AccessDenied", Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s",
			ad.PrincipalArn, action, keyArn, ad.Reason)}
	}
	return err
}

// KeyPolicy returns a key with its policy, authorized as kms:GetKeyPolicy.
func (s *Store) KeyPolicy(p identity.Principal, id string) (KMSKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.resolveKeyLocked(p.AccountID, id)
	if !ok {
		return KMSKey{}, kmsNotFound(id)
	}
	if err := s.authorizeKMSLocked(p, "kms:GetKeyPolicy", k, nil); err != nil {
		return KMSKey{}, err
	}
	return k.copy(), nil
}
