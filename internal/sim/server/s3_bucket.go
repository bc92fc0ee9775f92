package server

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// S3 bucket operations: CreateBucket, ListObjectsV2, the bucket policy and Object
// Ownership.

func (s *Server) s3CreateBucket(q *s3Req) error {
	var cfg struct {
		LocationConstraint string `xml:"LocationConstraint"`
	}
	body, err := io.ReadAll(io.LimitReader(q.r.Body, 1<<20))
	if err != nil {
		return store.Errf("IncompleteBody", "The request body terminated unexpectedly")
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := xml.Unmarshal(body, &cfg); err != nil {
			return store.Errf("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
	}
	region := cfg.LocationConstraint
	signed := q.c.sig.Region
	switch {
	case region == "" && signed != "us-east-1" && signed != "":
		return store.Errf("IllegalLocationConstraintException", "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	case region != "" && signed != "us-east-1" && signed != "" && region != signed:
		return store.Errf("IllegalLocationConstraintException", "The %s location constraint is incompatible for the region specific endpoint this request was sent to.", region)
	case region == "us-east-1":
		return store.Errf("InvalidLocationConstraint", "The specified location-constraint is not valid")
	}
	if region == "" {
		region = "us-east-1"
	}
	if err := s.authorizeS3(q, "CreateBucket", bucketArn(q.bucket), nil); err != nil {
		return err
	}
	if err := s.store.CreateBucket(q.bucket, region, q.c.principal.AccountID, q.r.Header.Get("x-amz-object-ownership")); err != nil {
		return err
	}
	q.w.Header().Set("Location", "/"+q.bucket)
	q.w.WriteHeader(200)
	return nil
}

type xmlContents struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
	Owner        *struct {
		ID string `xml:"ID"`
	} `xml:"Owner,omitempty"`
}

type xmlPrefix struct {
	Prefix string `xml:"Prefix"`
}

func (s *Server) s3ListObjectsV2(q *s3Req) error {
	if _, err := s.bucketFor(q); err != nil {
		return err
	}
	prefix, delimiter := q.q.Get("prefix"), q.q.Get("delimiter")
	maxKeys, askedKeys := 1000, ""
	if v := q.q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return store.Errf("InvalidArgument", "Provided max-keys not an integer or within integer range")
		}
		maxKeys, askedKeys = min(n, 1000), strconv.Itoa(n)
	}
	encodeURL := false
	switch et := q.q.Get("encoding-type"); et {
	case "":
	case "url":
		encodeURL = true
	default:
		return store.Errf("InvalidArgument", "Invalid Encoding Method specified in Request")
	}
	ctx := identity.Context{}
	if _, ok := q.q["prefix"]; ok {
		ctx["s3:prefix"] = []string{prefix}
	}
	if _, ok := q.q["delimiter"]; ok {
		ctx["s3:delimiter"] = []string{delimiter}
	}
	// Like s3:prefix and s3:delimiter, s3:max-keys is in the request context only when
	// the request carries the parameter (S3's default of 1,000 is not a request value).
	if askedKeys != "" {
		ctx["s3:max-keys"] = []string{askedKeys}
	}
	if err := s.authorizeS3(q, "ListBucket", bucketArn(q.bucket), ctx); err != nil {
		return err
	}
	after := q.q.Get("start-after")
	token, hasToken := q.q["continuation-token"]
	if hasToken {
		raw, err := base64.RawURLEncoding.DecodeString(token[0])
		if err != nil || token[0] == "" {
			return store.Errf("InvalidArgument", "The continuation token provided is incorrect")
		}
		after = string(raw)
	}
	res, err := s.store.ListObjects(q.bucket, prefix, delimiter, after, maxKeys)
	if err != nil {
		return err
	}
	enc := func(s string) string {
		if encodeURL {
			return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
		}
		return s
	}
	fetchOwner := q.q.Get("fetch-owner") == "true"
	contents := make([]xmlContents, 0, len(res.Objects))
	for _, o := range res.Objects {
		c := xmlContents{Key: enc(o.Key), LastModified: o.LastModified.Format("2006-01-02T15:04:05.000Z"),
			ETag: o.ETag, Size: o.Size, StorageClass: o.StorageClass}
		if fetchOwner {
			c.Owner = &struct {
				ID string `xml:"ID"`
			}{ID: o.Owner}
		}
		contents = append(contents, c)
	}
	prefixes := make([]xmlPrefix, len(res.CommonPrefixes))
	for i, p := range res.CommonPrefixes {
		prefixes[i] = xmlPrefix{enc(p)}
	}
	encodingType := ""
	if encodeURL {
		encodingType = "url"
	}
	out := struct {
		XMLName               xml.Name      `xml:"ListBucketResult"`
		Xmlns                 string        `xml:"xmlns,attr"`
		Name                  string        `xml:"Name"`
		Prefix                string        `xml:"Prefix"`
		Delimiter             string        `xml:"Delimiter,omitempty"`
		MaxKeys               int           `xml:"MaxKeys"`
		EncodingType          string        `xml:"EncodingType,omitempty"`
		KeyCount              int           `xml:"KeyCount"`
		IsTruncated           bool          `xml:"IsTruncated"`
		ContinuationToken     string        `xml:"ContinuationToken,omitempty"`
		NextContinuationToken string        `xml:"NextContinuationToken,omitempty"`
		StartAfter            string        `xml:"StartAfter,omitempty"`
		Contents              []xmlContents `xml:"Contents"`
		CommonPrefixes        []xmlPrefix   `xml:"CommonPrefixes"`
	}{Xmlns: s3NS, Name: q.bucket, Prefix: enc(prefix), Delimiter: enc(delimiter), MaxKeys: maxKeys,
		EncodingType: encodingType, KeyCount: len(contents) + len(prefixes), IsTruncated: res.Truncated,
		StartAfter: enc(q.q.Get("start-after")), Contents: contents, CommonPrefixes: prefixes}
	if hasToken {
		out.ContinuationToken = token[0]
	}
	if res.Truncated {
		out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(res.Next))
	}
	q.writeXML(200, out)
	return nil
}

// s3PolicyBucket checks a bucket policy call: the bucket exists in the signed region,
// the caller may call action on it, and belongs to the bucket owner's account (S3 answers
// other accounts 405 MethodNotAllowed, even when a policy allows them).
func (s *Server) s3PolicyBucket(q *s3Req, action string) error {
	b, err := s.bucketFor(q)
	if err != nil {
		return err
	}
	if err := s.authorizeS3(q, action, bucketArn(q.bucket), nil); err != nil {
		return err
	}
	if q.c.principal.AccountID != b.Owner {
		return store.Errf("MethodNotAllowed", "The specified method is not allowed against this resource.")
	}
	return nil
}

func (s *Server) s3GetBucketPolicy(q *s3Req) error {
	if err := s.s3PolicyBucket(q, "GetBucketPolicy"); err != nil {
		return err
	}
	doc, err := s.store.GetBucketPolicy(q.bucket)
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "application/json")
	q.w.WriteHeader(200)
	_, _ = io.WriteString(q.w, doc)
	return nil
}

func (s *Server) s3PutBucketPolicy(q *s3Req) error {
	if err := s.s3PolicyBucket(q, "PutBucketPolicy"); err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(q.r.Body, 1<<20))
	if err != nil {
		return store.Errf("IncompleteBody", "The request body terminated unexpectedly")
	}
	if err := s.store.PutBucketPolicy(q.bucket, string(body)); err != nil {
		return err
	}
	q.w.WriteHeader(204)
	return nil
}

func (s *Server) s3DeleteBucketPolicy(q *s3Req) error {
	if err := s.s3PolicyBucket(q, "DeleteBucketPolicy"); err != nil {
		return err
	}
	if err := s.store.DeleteBucketPolicy(q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(204)
	return nil
}

type xmlOwnershipControls struct {
	XMLName xml.Name `xml:"OwnershipControls"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Rules   []struct {
		ObjectOwnership string `xml:"ObjectOwnership"`
	} `xml:"Rule"`
}

func (s *Server) s3GetBucketOwnershipControls(q *s3Req) error {
	return s.s3Bucket(q, "GetBucketOwnershipControls", func(store.BucketInfo) error {
		own, err := s.store.GetOwnership(q.bucket)
		if err != nil {
			return err
		}
		out := xmlOwnershipControls{Xmlns: s3NS}
		out.Rules = append(out.Rules, struct {
			ObjectOwnership string `xml:"ObjectOwnership"`
		}{own})
		q.writeXML(200, out)
		return nil
	})
}

func (s *Server) s3PutBucketOwnershipControls(q *s3Req) error {
	return s.s3Bucket(q, "PutBucketOwnershipControls", func(store.BucketInfo) error {
		var in xmlOwnershipControls
		body, _ := io.ReadAll(io.LimitReader(q.r.Body, 1<<20))
		if err := xml.Unmarshal(body, &in); err != nil || len(in.Rules) != 1 || in.Rules[0].ObjectOwnership == "" {
			return store.Errf("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
		if err := s.store.SetOwnership(q.bucket, in.Rules[0].ObjectOwnership); err != nil {
			return err
		}
		q.w.WriteHeader(200)
		return nil
	})
}

// xmlEncryption is ServerSideEncryptionConfiguration (GetBucketEncryption,
// PutBucketEncryption).
type xmlEncryption struct {
	XMLName xml.Name `xml:"ServerSideEncryptionConfiguration"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Rules   []struct {
		Default struct {
			SSEAlgorithm   string `xml:"SSEAlgorithm"`
			KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
		} `xml:"ApplyServerSideEncryptionByDefault"`
		BucketKeyEnabled bool `xml:"BucketKeyEnabled"`
	} `xml:"Rule"`
}

// s3GetBucketEncryption answers with the bucket's default encryption (every bucket has
// one: SSE-S3 unless set), authorized as s3:GetEncryptionConfiguration.
func (s *Server) s3GetBucketEncryption(q *s3Req) error {
	return s.s3Bucket(q, "GetEncryptionConfiguration", func(b store.BucketInfo) error {
		out := xmlEncryption{Xmlns: s3NS}
		out.Rules = make([]struct {
			Default struct {
				SSEAlgorithm   string `xml:"SSEAlgorithm"`
				KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
			} `xml:"ApplyServerSideEncryptionByDefault"`
			BucketKeyEnabled bool `xml:"BucketKeyEnabled"`
		}, 1)
		out.Rules[0].Default.SSEAlgorithm = b.Encryption.Algorithm
		out.Rules[0].Default.KMSMasterKeyID = b.Encryption.KMSMasterKeyID
		out.Rules[0].BucketKeyEnabled = b.Encryption.BucketKeyEnabled
		q.writeXML(200, out)
		return nil
	})
}

// s3PutBucketEncryption sets it, authorized as s3:PutEncryptionConfiguration.
func (s *Server) s3PutBucketEncryption(q *s3Req) error {
	return s.s3Bucket(q, "PutEncryptionConfiguration", func(store.BucketInfo) error {
		var in xmlEncryption
		body, _ := io.ReadAll(io.LimitReader(q.r.Body, 1<<20))
		if err := xml.Unmarshal(body, &in); err != nil || len(in.Rules) != 1 {
			return store.Errf("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
		r := in.Rules[0]
		if err := s.store.PutBucketEncryption(q.bucket, store.BucketEncryption{Algorithm: r.Default.SSEAlgorithm,
			KMSMasterKeyID: r.Default.KMSMasterKeyID, BucketKeyEnabled: r.BucketKeyEnabled}); err != nil {
			return err
		}
		q.w.WriteHeader(200)
		return nil
	})
}

// s3GetBucketVersioning answers an empty VersioningConfiguration for a bucket whose
// versioning was never enabled, as S3 does (S3 API Reference, GetBucketVersioning).
func (s *Server) s3GetBucketVersioning(q *s3Req) error {
	return s.s3Bucket(q, "GetBucketVersioning", func(store.BucketInfo) error {
		set, err := s.store.GetBucketSettings(q.bucket)
		if err != nil {
			return err
		}
		q.writeXML(200, struct {
			XMLName xml.Name `xml:"VersioningConfiguration"`
			Xmlns   string   `xml:"xmlns,attr"`
			Status  string   `xml:"Status,omitempty"`
		}{Xmlns: s3NS, Status: set.Versioning})
		return nil
	})
}

// s3GetBucketRequestPayment answers Requester or BucketOwner (S3 API Reference,
// GetBucketRequestPayment).
func (s *Server) s3GetBucketRequestPayment(q *s3Req) error {
	return s.s3Bucket(q, "GetBucketRequestPayment", func(store.BucketInfo) error {
		set, err := s.store.GetBucketSettings(q.bucket)
		if err != nil {
			return err
		}
		payer := "BucketOwner"
		if set.RequesterPays {
			payer = "Requester"
		}
		q.writeXML(200, struct {
			XMLName xml.Name `xml:"RequestPaymentConfiguration"`
			Xmlns   string   `xml:"xmlns,attr"`
			Payer   string   `xml:"Payer"`
		}{Xmlns: s3NS, Payer: payer})
		return nil
	})
}

// s3GetObjectLockConfiguration answers ObjectLockConfigurationNotFoundError (404) for a
// bucket without Object Lock, else ObjectLockEnabled "Enabled"; the IAM action is
// s3:GetBucketObjectLockConfiguration (S3 API Reference, GetObjectLockConfiguration).
func (s *Server) s3GetObjectLockConfiguration(q *s3Req) error {
	return s.s3Bucket(q, "GetBucketObjectLockConfiguration", func(store.BucketInfo) error {
		set, err := s.store.GetBucketSettings(q.bucket)
		if err != nil {
			return err
		}
		if !set.ObjectLock {
			return &store.Error{Code: "ObjectLockConfigurationNotFoundError", Message: "Object Lock configuration does not exist for this bucket",
				Fields: map[string]string{"BucketName": q.bucket}}
		}
		q.writeXML(200, struct {
			XMLName           xml.Name `xml:"ObjectLockConfiguration"`
			Xmlns             string   `xml:"xmlns,attr"`
			ObjectLockEnabled string   `xml:"ObjectLockEnabled"`
		}{Xmlns: s3NS, ObjectLockEnabled: "Enabled"})
		return nil
	})
}
