package server

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"hash/crc32"
	"net/http"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// S3 object operations: PutObject and GetObject.

// checksumHeaders maps x-amz-checksum-* headers to hash constructors.
var checksumHeaders = map[string]func() hash.Hash{
	"x-amz-checksum-crc32":  func() hash.Hash { return crc32.NewIEEE() },
	"x-amz-checksum-crc32c": func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"x-amz-checksum-sha1":   sha1.New,
	"x-amz-checksum-sha256": sha256.New,
}

// putObjectContext gives the PutObject condition keys S3 fills from request headers
// (s3:x-amz-acl, s3:x-amz-storage-class, s3:x-amz-server-side-encryption, ...), each only
// when the header is sent.
func putObjectContext(h http.Header) identity.Context {
	ctx := identity.Context{}
	for _, name := range []string{"x-amz-acl", "x-amz-storage-class", "x-amz-server-side-encryption",
		"x-amz-server-side-encryption-aws-kms-key-id", "x-amz-grant-full-control", "x-amz-grant-read",
		"x-amz-grant-read-acp", "x-amz-grant-write-acp", "x-amz-content-sha256"} {
		if v := h.Get(name); v != "" {
			ctx["s3:"+name] = []string{v}
		}
	}
	return ctx
}

func (s *Server) s3PutObject(q *s3Req) error {
	b, err := s.bucketFor(q)
	if err != nil {
		return err
	}
	if strings.Contains(q.r.Header.Get("Content-Encoding"), "aws-chunked") ||
		strings.HasPrefix(q.r.Header.Get("x-amz-content-sha256"), "STREAMING-") {
		return store.Errf("NotImplemented", "aws-chunked uploads are not simulated (the SDK only uses them over HTTPS)")
	}
	if err := s.authorizeS3(q, "PutObject", objectArn(q.bucket, q.key), putObjectContext(q.r.Header)); err != nil {
		return err
	}
	writer := q.c.principal.AccountID
	acl := q.r.Header.Get("x-amz-acl")
	switch {
	case b.Ownership == store.OwnershipEnforced && acl != "" && acl != "bucket-owner-full-control":
		return store.Errf("AccessControlListNotSupported", "The bucket does not allow ACLs")
	case b.Ownership == store.OwnershipPreferred && acl == "bucket-owner-full-control":
		writer = b.Owner
	}
	if q.r.ContentLength < 0 {
		return store.Errf("MissingContentLength", "You must provide the Content-Length HTTP header.")
	}
	in := store.PutObjectInput{Bucket: q.bucket, Key: q.key, Body: q.r.Body, Size: q.r.ContentLength,
		Writer: writer, ContentType: q.r.Header.Get("Content-Type"), StorageClass: q.r.Header.Get("x-amz-storage-class")}
	if v := q.r.Header.Get("Content-MD5"); v != "" {
		sum, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(sum) != 16 {
			return store.Errf("InvalidDigest", "The Content-MD5 you specified was invalid.")
		}
		in.ContentMD5 = sum
	}
	type check struct {
		name, want string
		h          hash.Hash
	}
	var checks []check
	for name, mk := range checksumHeaders {
		if v := q.r.Header.Get(name); v != "" {
			h := mk()
			checks = append(checks, check{name, v, h})
			in.Extra = append(in.Extra, h)
		}
	}
	in.Verify = func() error {
		for _, c := range checks {
			if base64.StdEncoding.EncodeToString(c.h.Sum(nil)) != c.want {
				algo := strings.ToUpper(strings.TrimPrefix(c.name, "x-amz-checksum-"))
				return store.Errf("BadDigest", "The %s you specified did not match the calculated checksum.", algo)
			}
		}
		return nil
	}
	in.Metadata = userMetadata(q.r.Header)
	if q.r.Header.Get("x-amz-server-side-encryption-customer-algorithm") != "" {
		in.SSE = store.SSEC
	} else if in.SSE, in.KMSKeyArn, err = s.store.ObjectEncryption(q.c.principal, q.bucket,
		q.r.Header.Get("x-amz-server-side-encryption"), q.r.Header.Get("x-amz-server-side-encryption-aws-kms-key-id")); err != nil {
		return err
	}
	o, err := s.store.PutObject(in)
	if err != nil {
		return err
	}
	q.w.Header().Set("ETag", o.ETag)
	setEncryptionHeaders(q.w.Header(), o)
	for _, c := range checks {
		q.w.Header().Set(c.name, c.want)
	}
	q.w.WriteHeader(200)
	return nil
}

func userMetadata(h http.Header) map[string]string {
	var m map[string]string
	for k, v := range h {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-meta-") && len(v) > 0 {
			if m == nil {
				m = map[string]string{}
			}
			m[strings.TrimPrefix(lk, "x-amz-meta-")] = v[0]
		}
	}
	return m
}

// setEncryptionHeaders reports an object's server-side encryption as S3 does.
func setEncryptionHeaders(h http.Header, o store.Object) {
	switch o.SSE {
	case store.SSEC:
		h.Set("x-amz-server-side-encryption-customer-algorithm", "AES256")
	case store.SSEKMS:
		h.Set("x-amz-server-side-encryption", store.SSEKMS)
		h.Set("x-amz-server-side-encryption-aws-kms-key-id", o.KMSKeyArn)
	default:
		h.Set("x-amz-server-side-encryption", store.SSES3)
	}
}

func (s *Server) s3GetObject(q *s3Req) error {
	b, err := s.bucketFor(q)
	if err != nil {
		return err
	}
	if err := s.authorizeS3(q, "GetObject", objectArn(q.bucket, q.key), nil); err != nil {
		return err
	}
	f, o, err := s.store.OpenObject(q.bucket, q.key)
	if err != nil {
		var se *store.Error
		if errors.As(err, &se) && se.Code == "NoSuchKey" {
			// Without s3:ListBucket, S3 hides whether the key exists.
			if aerr := s.authorizeS3(q, "ListBucket", bucketArn(q.bucket), identity.Context{"s3:prefix": {q.key}}); aerr != nil {
				return aerr
			}
		}
		return err
	}
	defer f.Close()
	if q.r.Header.Get("x-amz-server-side-encryption-customer-algorithm") == "" || o.SSE != store.SSEC {
		if err := s.store.AuthorizeObjectRead(q.c.principal, b.Region, o); err != nil {
			return err
		}
	}
	h := q.w.Header()
	setEncryptionHeaders(h, o)
	h.Set("ETag", o.ETag)
	h.Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	h.Set("Content-Type", o.ContentType)
	h.Set("Accept-Ranges", "bytes")
	if o.StorageClass != "" && o.StorageClass != "STANDARD" {
		h.Set("x-amz-storage-class", o.StorageClass)
	}
	for k, v := range o.Metadata {
		h.Set("x-amz-meta-"+k, v)
	}
	if v := q.q.Get("response-content-type"); v != "" {
		h.Set("Content-Type", v)
	}
	http.ServeContent(q.w, q.r, "", o.LastModified, f)
	return nil
}
