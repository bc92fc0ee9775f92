package store

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/iampolicy"
)

// Object ownership settings (S3 Object Ownership).
const (
	OwnershipEnforced  = "BucketOwnerEnforced"
	OwnershipPreferred = "BucketOwnerPreferred"
	OwnershipWriter    = "ObjectWriter"
)

// maxBucketPolicyBytes is S3's bucket policy size limit (20 KB).
const maxBucketPolicyBytes = 20 * 1024

// Bucket is an S3 bucket.
type Bucket struct {
	Name    string
	Region  string
	Owner   string // account id
	Created time.Time
	Policy  string // "" = none
	// Ownership is the Object Ownership rule (BucketOwnerEnforced unless the bucket was
	// created or set otherwise).
	Ownership string
	// Encryption is the default encryption (GetBucketEncryption): SSE-S3 unless set.
	Encryption BucketEncryption
	// Settings are the bucket's versioning, Requester Pays and Object Lock settings.
	Settings BucketSettings
	// PolicySids is the Sids of each policy version stored, oldest first: what a bucket
	// policy held over time (the local tests read it, e.g. how many migrations held a grant
	// at once).
	PolicySids [][]string

	policy  *iampolicy.Policy
	objects map[string]*Object
	keys    []string // sorted
	bytes   int64    // total size of objects, kept current so info() is O(1)
}

// Object is an object's metadata; the body lives in a file.
type Object struct {
	Key          string
	Size         int64
	ETag         string // quoted MD5 hex
	LastModified time.Time
	Owner        string // account id
	ContentType  string
	StorageClass string
	Metadata     map[string]string
	// SSE is the object's server-side encryption: "AES256", "aws:kms", or "SSE-C" for
	// an object written with a customer-provided key; KMSKeyArn is the key of "aws:kms".
	SSE, KMSKeyArn string
	path           string // body file of a large object
	segOff         int64  // offset in the segment of a small object (-1: none)
}

// BucketInfo is a copy of a bucket's settings.
type BucketInfo struct {
	Name, Region, Owner, Policy, Ownership string
	Encryption                             BucketEncryption
	Created                                time.Time
	Objects                                int
	Bytes                                  int64
	PolicySids                             [][]string
}

var bucketNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func noSuchBucket(name string) *Error {
	return &Error{Code: "NoSuchBucket", Message: "The specified bucket does not exist",
		Fields: map[string]string{"BucketName": name}}
}

// CreateBucket creates a bucket owned by owner in region. ownership "" means the
// default for new buckets (BucketOwnerEnforced since April 2023).
func (s *Store) CreateBucket(name, region, owner, ownership string) error {
	if !bucketNameRe.MatchString(name) || strings.Contains(name, "..") {
		return &Error{Code: "InvalidBucketName", Message: "The specified bucket is not valid.",
			Fields: map[string]string{"BucketName": name}}
	}
	if ownership == "" {
		ownership = OwnershipEnforced
	}
	if ownership != OwnershipEnforced && ownership != OwnershipPreferred && ownership != OwnershipWriter {
		return Errf("InvalidArgument", "Invalid x-amz-object-ownership header: %s", ownership)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.buckets[name]; ok {
		if b.Owner == owner {
			if b.Region == "us-east-1" && region == "us-east-1" {
				return nil // us-east-1 answers 200 for the owner's re-create
			}
			return &Error{Code: "BucketAlreadyOwnedByYou", Message: "Your previous request to create the named bucket succeeded and you already own it.",
				Fields: map[string]string{"BucketName": name}}
		}
		return &Error{Code: "BucketAlreadyExists", Message: "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
			Fields: map[string]string{"BucketName": name}}
	}
	s.buckets[name] = &Bucket{Name: name, Region: region, Owner: owner, Created: s.now().UTC(),
		Ownership: ownership, objects: map[string]*Object{}, Encryption: BucketEncryption{Algorithm: SSES3}}
	return nil
}

// Bucket returns a bucket's settings.
func (s *Store) Bucket(name string) (BucketInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[name]
	if !ok {
		return BucketInfo{}, false
	}
	return b.info(), true
}

func (b *Bucket) info() BucketInfo {
	bi := BucketInfo{Name: b.Name, Region: b.Region, Owner: b.Owner, Policy: b.Policy, Ownership: b.Ownership, Encryption: b.Encryption,
		Created: b.Created, Objects: len(b.objects), Bytes: b.bytes, PolicySids: slices.Clone(b.PolicySids)}
	return bi
}

// Buckets lists all buckets sorted by name.
func (s *Store) Buckets() []BucketInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]BucketInfo, 0, len(s.buckets))
	for _, name := range sortedKeys(s.buckets) {
		out = append(out, s.buckets[name].info())
	}
	return out
}

// PutBucketPolicy validates and stores a bucket policy, as S3 does.
func (s *Store) PutBucketPolicy(bucket, doc string) error {
	if len(doc) > maxBucketPolicyBytes {
		return Errf("MalformedPolicy", "Policy exceeds the maximum allowed document size.")
	}
	p, err := iampolicy.Parse(doc)
	if err != nil {
		var se *iampolicy.SyntaxError
		if errors.As(err, &se) {
			return Errf("MalformedPolicy", "%s", se.Msg)
		}
		return Errf("MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
	}
	if len(p.Statements) == 0 {
		return Errf("MalformedPolicy", "Could not parse the policy: Statement is empty!")
	}
	sids := map[string]bool{}
	for _, st := range p.Statements {
		if st.Sid != "" {
			if sids[st.Sid] {
				return Errf("MalformedPolicy", "Statement IDs (SID) in a single policy must be unique.")
			}
			sids[st.Sid] = true
		}
		if st.Principal == nil && st.NotPrincipal == nil {
			return Errf("MalformedPolicy", "Missing required field Principal")
		}
		if st.NotPrincipal != nil && st.Effect != "Deny" {
			// "NotPrincipal must be used with Deny" (IAM User Guide, NotPrincipal); S3's
			// exact wording for this refusal is not documented.
			return Errf("MalformedPolicy", "NotPrincipal is supported only with Effect Deny")
		}
		if !st.HasResource && !st.HasNotResource {
			return Errf("MalformedPolicy", "Missing required field Resource")
		}
		for _, a := range append(append([]string(nil), st.Action...), st.NotAction...) {
			if a != "*" && !strings.HasPrefix(strings.ToLower(a), "s3:") {
				return Errf("MalformedPolicy", "Policy has invalid action")
			}
		}
		for _, r := range st.NotResource {
			if r == "*" {
				continue
			}
			rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
			name, _, _ := strings.Cut(rest, "/")
			if !ok || !matchesBucket(name, bucket) {
				return Errf("MalformedPolicy", "Policy has invalid resource")
			}
		}
		// A bucket policy's Resource must name this bucket or its objects: S3 refuses
		// "*" as it refuses another bucket, with "Policy has invalid resource" (the
		// answer S3 gives, reported in aws-samples/aws-serverless-appsync-app#4).
		for _, r := range st.Resource {
			rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
			name, _, _ := strings.Cut(rest, "/")
			if !ok || !matchesBucket(name, bucket) {
				return Errf("MalformedPolicy", "Policy has invalid resource")
			}
		}
		if !st.HasNotResource {
			if a := actionWithoutResource(st.Action, st.Resource); a != "" {
				return Errf("MalformedPolicy", "Action does not apply to any resource(s) in statement")
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return noSuchBucket(bucket)
	}
	if bad := s.unknownPrincipalLocked(p); bad != "" {
		return Errf("MalformedPolicy", "Invalid principal in policy")
	}
	b.Policy, b.policy = doc, p
	var list []string
	for _, st := range p.Statements {
		list = append(list, st.Sid)
	}
	b.PolicySids = append(b.PolicySids, list)
	return nil
}

// objectActions are the S3 actions whose resource type is object, and accountActions
// those with no bucket or object resource, per the Service Authorization Reference
// ("Actions, resources, and condition keys for Amazon S3", Resource types column);
// every other s3: action applies to the bucket resource type.
var (
	objectActions = setOf("AbortMultipartUpload", "BypassGovernanceRetention", "DeleteObject",
		"DeleteObjectTagging", "DeleteObjectVersion", "DeleteObjectVersionTagging", "GetObject",
		"GetObjectAcl", "GetObjectAttributes", "GetObjectLegalHold", "GetObjectRetention",
		"GetObjectTagging", "GetObjectTorrent", "GetObjectVersion", "GetObjectVersionAcl",
		"GetObjectVersionAttributes", "GetObjectVersionForReplication", "GetObjectVersionTagging",
		"GetObjectVersionTorrent", "InitiateReplication", "ListMultipartUploadParts",
		"ObjectOwnerOverrideToBucketOwner", "PutObject", "PutObjectAcl", "PutObjectLegalHold",
		"PutObjectRetention", "PutObjectTagging", "PutObjectVersionAcl", "PutObjectVersionTagging",
		"ReplicateDelete", "ReplicateObject", "ReplicateTags", "RestoreObject")
	accountActions = setOf("ListAllMyBuckets", "GetAccountPublicAccessBlock",
		"PutAccountPublicAccessBlock", "ListAccessPoints", "CreateJob", "ListJobs",
		"ListStorageLensConfigurations", "ListAccessPointsForObjectLambda")
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m["s3:"+strings.ToLower(n)] = true
	}
	return m
}

// actionWithoutResource returns the first action of a statement that applies to none of
// its resources (an object action with only bucket ARNs, a bucket action with only
// object ARNs, an account action at all); S3 refuses such a statement with "Action does
// not apply to any resource(s) in statement". A wildcard action matches actions of every
// resource type and always applies. A resource pattern with a wildcard in its bucket
// part and no "/" may also match objects (IAM wildcards cross "/"), so it counts as both.
func actionWithoutResource(actions, resources []string) string {
	var bucketRes, objectRes bool
	for _, r := range resources {
		rest := strings.TrimPrefix(r, "arn:aws:s3:::")
		if strings.Contains(rest, "/") {
			objectRes = true
			continue
		}
		bucketRes = true
		if strings.ContainsAny(rest, "*?") {
			objectRes = true
		}
	}
	for _, a := range actions {
		if strings.ContainsAny(a, "*?") {
			continue
		}
		la := strings.ToLower(a)
		switch {
		case objectActions[la]:
			if !objectRes {
				return a
			}
		case accountActions[la]:
			return a
		default:
			if !bucketRes {
				return a
			}
		}
	}
	return ""
}

// matchesBucket: a resource's bucket part must name this bucket (wildcards allowed).
func matchesBucket(pattern, bucket string) bool {
	return iampolicy.WildcardMatch(pattern, bucket)
}

// GetBucketPolicy returns the policy text.
func (s *Store) GetBucketPolicy(bucket string) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return "", noSuchBucket(bucket)
	}
	if b.Policy == "" {
		return "", &Error{Code: "NoSuchBucketPolicy", Message: "The bucket policy does not exist",
			Fields: map[string]string{"BucketName": bucket}}
	}
	return b.Policy, nil
}

// DeleteBucketPolicy removes the policy (no error when there is none, as S3).
func (s *Store) DeleteBucketPolicy(bucket string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return noSuchBucket(bucket)
	}
	b.Policy, b.policy = "", nil
	return nil
}

// SetOwnership sets the bucket's Object Ownership rule.
func (s *Store) SetOwnership(bucket, ownership string) error {
	switch ownership {
	case OwnershipEnforced, OwnershipPreferred, OwnershipWriter:
	default:
		return Errf("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return noSuchBucket(bucket)
	}
	b.Ownership = ownership
	return nil
}

// BucketSettings are the settings of a bucket that the simulator only stores and reports
// (GetBucketVersioning, GetBucketRequestPayment, GetObjectLockConfiguration); they
// change nothing else it does: a versioned bucket keeps one version of each key.
type BucketSettings struct {
	// Versioning is "" (never enabled), "Enabled" or "Suspended".
	Versioning string `json:"versioning,omitempty"`
	// RequesterPays: the requester pays for requests and downloads.
	RequesterPays bool `json:"requesterPays,omitempty"`
	// ObjectLock: Object Lock is enabled on the bucket.
	ObjectLock bool `json:"objectLock,omitempty"`
}

// SetBucketSettings replaces the bucket's settings.
func (s *Store) SetBucketSettings(bucket string, set BucketSettings) error {
	switch set.Versioning {
	case "", "Enabled", "Suspended":
	default:
		return Errf("IllegalVersioningConfigurationException", "The versioning configuration specified in the request is invalid.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return noSuchBucket(bucket)
	}
	b.Settings = set
	return nil
}

// GetBucketSettings returns the bucket's settings.
func (s *Store) GetBucketSettings(bucket string) (BucketSettings, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return BucketSettings{}, noSuchBucket(bucket)
	}
	return b.Settings, nil
}

// GetOwnership returns the Object Ownership rule.
func (s *Store) GetOwnership(bucket string) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return "", noSuchBucket(bucket)
	}
	return b.Ownership, nil
}

// PutObjectInput describes an upload.
type PutObjectInput struct {
	Bucket, Key  string
	Body         io.Reader
	Size         int64  // -1 = unknown
	Writer       string // writer's account id
	ContentType  string
	StorageClass string
	Metadata     map[string]string
	// ContentMD5 is the base64-decoded Content-MD5 to verify (nil = none).
	ContentMD5 []byte
	// Extra hashes fed with the body (e.g. a CRC32 to check a checksum header).
	Extra []hash.Hash
	// SSE and KMSKeyArn are the encryption the object is stored with (ObjectEncryption
	// decides them); "" = SSE-S3.
	SSE, KMSKeyArn string
	// Verify, when set, is called after the body is stored and before the object is
	// installed; an error discards the upload.
	Verify func() error
}

// PutObject streams the body to disk (the shared segment for small objects of known
// size, a file of its own otherwise), then installs the object.
func (s *Store) PutObject(in PutObjectInput) (Object, error) {
	if in.Key == "" || len(in.Key) > 1024 {
		return Object{}, Errf("KeyTooLongError", "Your key is too long")
	}
	if _, ok := s.Bucket(in.Bucket); !ok {
		return Object{}, noSuchBucket(in.Bucket)
	}
	h := md5.New()
	also := []io.Writer{h}
	for _, x := range in.Extra {
		also = append(also, x)
	}
	path, segOff, n, err := s.writeBody(in.Body, in.Size, also)
	if err != nil {
		return Object{}, err
	}
	discard := func() {
		if path != "" {
			_ = os.Remove(path)
		}
	}
	fail := func(e error) (Object, error) {
		discard()
		return Object{}, e
	}
	if in.Size >= 0 && n != in.Size {
		return fail(Errf("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header."))
	}
	sum := h.Sum(nil)
	if in.ContentMD5 != nil && string(in.ContentMD5) != string(sum) {
		return fail(Errf("BadDigest", "The Content-MD5 you specified did not match what we received."))
	}
	if in.Verify != nil {
		if err := in.Verify(); err != nil {
			return fail(err)
		}
	}
	if in.StorageClass == "" {
		in.StorageClass = "STANDARD"
	}
	if in.ContentType == "" {
		in.ContentType = "binary/octet-stream"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[in.Bucket]
	if !ok {
		discard()
		return Object{}, noSuchBucket(in.Bucket)
	}
	owner := in.Writer
	if b.Ownership == OwnershipEnforced {
		owner = b.Owner
	}
	o := &Object{Key: in.Key, Size: n, ETag: `"` + hex.EncodeToString(sum) + `"`,
		LastModified: s.now().UTC().Truncate(time.Second), Owner: owner, ContentType: in.ContentType,
		StorageClass: in.StorageClass, Metadata: in.Metadata, SSE: in.SSE, KMSKeyArn: in.KMSKeyArn, path: path, segOff: segOff}
	if o.SSE == "" {
		o.SSE = SSES3
	}
	b.bytes += n
	if old, ok := b.objects[in.Key]; ok {
		b.bytes -= old.Size
		old.remove() // open readers keep their file
	} else {
		i := sort.SearchStrings(b.keys, in.Key)
		b.keys = append(b.keys, "")
		copy(b.keys[i+1:], b.keys[i:])
		b.keys[i] = in.Key
	}
	b.objects[in.Key] = o
	return o.copy(), nil
}

func (o *Object) copy() Object {
	c := *o
	if o.Metadata != nil {
		c.Metadata = make(map[string]string, len(o.Metadata))
		for k, v := range o.Metadata {
			c.Metadata[k] = v
		}
	}
	return c
}

func noSuchKey(bucket, key string) *Error {
	return &Error{Code: "NoSuchKey", Message: "The specified key does not exist.",
		Fields: map[string]string{"Key": key, "BucketName": bucket}}
}

// HeadObject returns an object's metadata.
func (s *Store) HeadObject(bucket, key string) (Object, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return Object{}, noSuchBucket(bucket)
	}
	o, ok := b.objects[key]
	if !ok {
		return Object{}, noSuchKey(bucket, key)
	}
	return o.copy(), nil
}

// OpenObject opens an object's body; the caller closes it.
func (s *Store) OpenObject(bucket, key string) (Body, Object, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return nil, Object{}, noSuchBucket(bucket)
	}
	o, ok := b.objects[key]
	if !ok {
		return nil, Object{}, noSuchKey(bucket, key)
	}
	body, err := s.openBody(o)
	if err != nil {
		return nil, Object{}, err
	}
	return body, o.copy(), nil
}

// DeleteObject removes an object (no error when absent, as S3).
func (s *Store) DeleteObject(bucket, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return noSuchBucket(bucket)
	}
	o, ok := b.objects[key]
	if !ok {
		return nil
	}
	o.remove()
	b.bytes -= o.Size
	delete(b.objects, key)
	i := sort.SearchStrings(b.keys, key)
	if i < len(b.keys) && b.keys[i] == key {
		b.keys = append(b.keys[:i], b.keys[i+1:]...)
	}
	return nil
}

// ListResult is one page of a listing.
type ListResult struct {
	Objects        []Object
	CommonPrefixes []string
	Truncated      bool
	// Next is the last key or common prefix returned (the next page starts after it).
	Next string
}

// ListObjects lists keys with prefix strictly after `after`, grouping by delimiter,
// returning at most max entries (objects plus common prefixes).
func (s *Store) ListObjects(bucket, prefix, delimiter, after string, max int) (ListResult, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return ListResult{}, noSuchBucket(bucket)
	}
	var res ListResult
	start := sort.SearchStrings(b.keys, prefix)
	if after > prefix {
		start = sort.SearchStrings(b.keys, after)
	}
	count := 0
	for i := start; i < len(b.keys); i++ {
		k := b.keys[i]
		if !strings.HasPrefix(k, prefix) {
			break
		}
		if k <= after {
			continue
		}
		entry, isPrefix := k, false
		if delimiter != "" {
			if j := strings.Index(k[len(prefix):], delimiter); j >= 0 {
				entry, isPrefix = k[:len(prefix)+j+len(delimiter)], true
				if entry <= after || (len(res.CommonPrefixes) > 0 && res.CommonPrefixes[len(res.CommonPrefixes)-1] == entry) {
					continue
				}
			}
		}
		if count == max {
			res.Truncated = max > 0
			break
		}
		if isPrefix {
			res.CommonPrefixes = append(res.CommonPrefixes, entry)
			// skip every key under this common prefix
			i = sort.SearchStrings(b.keys, entry+"\xff\xff\xff") - 1
		} else {
			res.Objects = append(res.Objects, b.objects[k].copy())
		}
		res.Next = entry
		count++
	}
	return res, nil
}
