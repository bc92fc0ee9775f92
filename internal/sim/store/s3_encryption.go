package store

import (
	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// Server-side encryption of S3 objects. Sources: S3 User Guide, "Using server-side
// encryption with AWS KMS keys (SSE-KMS)" (to upload or download an object encrypted with
// a KMS key "you need kms:GenerateDataKey and kms:Decrypt permissions on the key"; S3
// calls KMS on the requester's behalf, so the requester's permissions are evaluated, with
// kms:ViaService s3.<region>.amazonaws.com), "Setting default server-side encryption
// behavior for Amazon S3 buckets", and "Using server-side encryption with customer-provided
// keys (SSE-C)" (an SSE-C object can be read only with its key in the request).

// Server-side encryption algorithms.
const (
	SSES3  = "AES256"
	SSEKMS = "aws:kms"
	// SSEC marks an object written with a customer-provided key.
	SSEC = "SSE-C"
)

// BucketEncryption is a bucket's default encryption rule.
type BucketEncryption struct {
	Algorithm string // SSES3 or SSEKMS
	// KMSMasterKeyID is the key as configured (key id, key ARN or alias); "" with SSEKMS
	// means the AWS managed key aws/s3.
	KMSMasterKeyID   string
	BucketKeyEnabled bool
}

// PutBucketEncryption sets the default encryption.
func (s *Store) PutBucketEncryption(bucket string, e BucketEncryption) error {
	if e.Algorithm != SSES3 && e.Algorithm != SSEKMS {
		return Errf("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	if e.Algorithm == SSES3 && e.KMSMasterKeyID != "" {
		return Errf("InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return noSuchBucket(bucket)
	}
	b.Encryption = e
	return nil
}

// s3ViaService is the kms:ViaService value of S3's calls to KMS in region.
func s3ViaService(region string) string { return "s3." + region + ".amazonaws.com" }

// ObjectEncryption decides how a new object of bucket written by p is encrypted: the
// request's x-amz-server-side-encryption (and key id) or else the bucket default. For
// SSE-KMS it resolves the key in the bucket owner's account and authorizes p for
// kms:GenerateDataKey through S3; a refusal is S3's AccessDenied naming the KMS action
// and the key.
func (s *Store) ObjectEncryption(p identity.Principal, bucket, sse, keyID string) (algorithm, keyArn string, err error) {
	b, ok := s.Bucket(bucket)
	if !ok {
		return "", "", noSuchBucket(bucket)
	}
	if sse == "" {
		sse, keyID = b.Encryption.Algorithm, b.Encryption.KMSMasterKeyID
	}
	switch sse {
	case "", SSES3:
		return SSES3, "", nil
	case SSEKMS:
	default:
		return "", "", Errf("InvalidArgument", "The encryption method specified is not supported")
	}
	k, err := s.ResolveKeyForS3(b.Owner, keyID)
	if err != nil {
		return "", "", err
	}
	ctx := identity.Context{"kms:ViaService": {s3ViaService(b.Region)}}
	if err := s.AuthorizeKMS(p, "kms:GenerateDataKey", k.Arn, ctx); err != nil {
		return "", "", KMSDeniedError(err, "kms:GenerateDataKey", k.Arn)
	}
	return SSEKMS, k.Arn, nil
}

// AuthorizeObjectRead checks what reading o's body needs beyond s3:GetObject: kms:Decrypt
// on its key through S3 for an SSE-KMS object; an SSE-C object cannot be read without its
// key, which callers of this method never have.
func (s *Store) AuthorizeObjectRead(p identity.Principal, region string, o Object) error {
	switch o.SSE {
	case SSEC:
		return Errf("InvalidRequest", "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
	case SSEKMS:
		ctx := identity.Context{"kms:ViaService": {s3ViaService(region)}}
		if err := s.AuthorizeKMS(p, "kms:Decrypt", o.KMSKeyArn, ctx); err != nil {
			return KMSDeniedError(err, "kms:Decrypt", o.KMSKeyArn)
		}
	}
	return nil
}
