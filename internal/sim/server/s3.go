package server

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// S3 REST-XML, path style: /bucket and /bucket/key. Errors are <Error><Code/>...; HEAD
// errors carry only the status.

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

var s3Status = map[string]int{
	"NoSuchBucket": 404, "NoSuchKey": 404, "NoSuchBucketPolicy": 404,
	"BucketAlreadyExists": 409, "BucketAlreadyOwnedByYou": 409,
	"AccessDenied": 403, "InvalidAccessKeyId": 403, "SignatureDoesNotMatch": 403,
	"InvalidToken": 400, "ExpiredToken": 400, "MalformedPolicy": 400, "InvalidBucketName": 400,
	"InvalidArgument": 400, "BadDigest": 400, "IncompleteBody": 400, "KeyTooLongError": 400,
	"MalformedXML": 400, "IllegalLocationConstraintException": 400, "AccessControlListNotSupported": 400,
	"AuthorizationHeaderMalformed": 400, "MissingContentLength": 411, "MethodNotAllowed": 405,
	"NotImplemented": 501, "PermanentRedirect": 301, "SlowDown": 503, "InternalError": 500,
}

type s3Req struct {
	w      http.ResponseWriter
	r      *http.Request
	c      caller
	reqID  string
	bucket string
	key    string
	q      url.Values
}

func (s *Server) serveS3(w http.ResponseWriter, r *http.Request, c caller, authErr *store.Error, reqID string) {
	w.Header().Set("x-amz-request-id", reqID)
	w.Header().Set("x-amz-id-2", base64.StdEncoding.EncodeToString([]byte(reqID)))
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	req := &s3Req{w: w, r: r, c: c, reqID: reqID, bucket: bucket, key: key, q: r.URL.Query()}
	if authErr != nil {
		switch authErr.Code {
		case "InvalidClientTokenId":
			if c.sig.Token != "" {
				authErr = store.Errf("InvalidToken", "The provided token is malformed or otherwise invalid.")
			} else {
				authErr = store.Errf("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
			}
		case "ExpiredToken":
			authErr = store.Errf("ExpiredToken", "The provided token has expired.")
		case "MissingAuthenticationToken":
			authErr = store.Errf("AccessDenied", "Access Denied")
		case "IncompleteSignature":
			authErr = store.Errf("AuthorizationHeaderMalformed", "The authorization header is malformed.")
		}
		req.fail(authErr)
		return
	}
	op := s3Operation(r.Method, bucket, key, req.q)
	if kind := s.faults.take("s3", op); kind != "" {
		if kind == "throttle" {
			req.fail(store.Errf("SlowDown", "Please reduce your request rate."))
		} else {
			req.fail(store.Errf("InternalError", "We encountered an internal error. Please try again."))
		}
		return
	}
	s.s3Dispatch(req, op)
}

// s3Operation names the S3 API operation of a path-style request.
func s3Operation(method, bucket, key string, q url.Values) string {
	has := func(k string) bool { _, ok := q[k]; return ok }
	if bucket == "" {
		return "Unsupported"
	}
	if key == "" {
		switch method {
		case http.MethodPut:
			switch {
			case has("policy"):
				return "PutBucketPolicy"
			case has("ownershipControls"):
				return "PutBucketOwnershipControls"
			case len(q) == 0:
				return "CreateBucket"
			}
		case http.MethodGet:
			switch {
			case has("policy"):
				return "GetBucketPolicy"
			case has("ownershipControls"):
				return "GetBucketOwnershipControls"
			case q.Get("list-type") == "2":
				return "ListObjectsV2"
			}
		case http.MethodDelete:
			if has("policy") {
				return "DeleteBucketPolicy"
			}
		}
		return "Unsupported"
	}
	plain := len(q) == 0 || (len(q) == 1 && has("x-id")) || has("versionId") && len(q) <= 2
	switch method {
	case http.MethodPut:
		if plain {
			return "PutObject"
		}
	case http.MethodGet:
		if plain || has("response-content-type") || has("partNumber") {
			return "GetObject"
		}
	}
	return "Unsupported"
}

type s3ErrorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Fields    []xmlField
	RequestID string `xml:"RequestId"`
	HostID    string `xml:"HostId"`
}

type xmlField struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

func (q *s3Req) fail(err error) {
	e := &store.Error{Code: "InternalError", Message: "We encountered an internal error. Please try again."}
	var se *store.Error
	var ad *identity.AccessDeniedError
	switch {
	case errors.As(err, &se):
		e = se
	case errors.As(err, &ad):
		e = &store.Error{Code: "AccessDenied", Message: "Access Denied"}
	}
	status, ok := s3Status[e.Code]
	if !ok {
		status = 400
	}
	if e.Code == "PermanentRedirect" || e.Code == "AuthorizationHeaderMalformed" {
		if reg := e.Fields["Region"]; reg != "" {
			q.w.Header().Set("x-amz-bucket-region", reg)
		}
	}
	if q.r.Method == http.MethodHead {
		q.w.WriteHeader(status)
		return
	}
	body := s3ErrorBody{Code: e.Code, Message: e.Message, RequestID: q.reqID, HostID: q.w.Header().Get("x-amz-id-2")}
	for _, k := range []string{"BucketName", "Key", "Region", "Endpoint", "Bucket"} {
		if v, ok := e.Fields[k]; ok {
			body.Fields = append(body.Fields, xmlField{XMLName: xml.Name{Local: k}, Value: v})
		}
	}
	q.w.Header().Set("Content-Type", "application/xml")
	q.w.WriteHeader(status)
	_, _ = q.w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(q.w).Encode(body)
}

func (q *s3Req) writeXML(status int, v any) {
	q.w.Header().Set("Content-Type", "application/xml")
	q.w.WriteHeader(status)
	_, _ = q.w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(q.w).Encode(v)
}

func (s *Server) authorizeS3(q *s3Req, action, resource string, ctx identity.Context) error {
	return s.store.Authorize(q.c.principal, "s3:"+action, resource, ctx)
}

// bucketFor looks the bucket up and checks that the request was signed for its region.
func (s *Server) bucketFor(q *s3Req) (store.BucketInfo, error) {
	b, ok := s.store.Bucket(q.bucket)
	if !ok {
		return b, &store.Error{Code: "NoSuchBucket", Message: "The specified bucket does not exist",
			Fields: map[string]string{"BucketName": q.bucket}}
	}
	if q.c.sig.Region != "" && q.c.sig.Region != b.Region {
		return b, &store.Error{Code: "PermanentRedirect",
			Message: "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
			Fields:  map[string]string{"Bucket": q.bucket, "Endpoint": "s3." + b.Region + ".amazonaws.com", "Region": b.Region}}
	}
	// x-amz-expected-bucket-owner: another owner is a 403, as S3 answers it.
	if want := q.r.Header.Get("x-amz-expected-bucket-owner"); want != "" && want != b.Owner {
		return b, store.Errf("AccessDenied", "Access Denied")
	}
	return b, nil
}

func bucketArn(b string) string    { return "arn:aws:s3:::" + b }
func objectArn(b, k string) string { return "arn:aws:s3:::" + b + "/" + k }

// s3Handlers serves the S3 operations dsmigrate calls (docs/FIDELITY.md, "Which
// operations exist"), by the name s3Operation gives a request.
var s3Handlers = map[string]func(*Server, *s3Req) error{
	"CreateBucket":               (*Server).s3CreateBucket,
	"ListObjectsV2":              (*Server).s3ListObjectsV2,
	"GetBucketPolicy":            (*Server).s3GetBucketPolicy,
	"PutBucketPolicy":            (*Server).s3PutBucketPolicy,
	"DeleteBucketPolicy":         (*Server).s3DeleteBucketPolicy,
	"GetBucketOwnershipControls": (*Server).s3GetBucketOwnershipControls,
	"PutBucketOwnershipControls": (*Server).s3PutBucketOwnershipControls,
	"PutObject":                  (*Server).s3PutObject,
	"GetObject":                  (*Server).s3GetObject,
}

func (s *Server) s3Dispatch(q *s3Req, op string) {
	h, ok := s3Handlers[op]
	if !ok {
		q.fail(store.Errf("NotImplemented", "A header or query you provided implies functionality that is not implemented."))
		return
	}
	if err := h(s, q); err != nil {
		q.fail(err)
	}
}

// s3Bucket runs fn for an existing bucket in the signed region after authorizing action
// on the bucket ARN (action "" = fn authorizes).
func (s *Server) s3Bucket(q *s3Req, action string, fn func(store.BucketInfo) error) error {
	b, err := s.bucketFor(q)
	if err != nil {
		return err
	}
	if action != "" {
		if err := s.authorizeS3(q, action, bucketArn(q.bucket), nil); err != nil {
			return err
		}
	}
	return fn(b)
}

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
	if q.r.Header.Get("x-amz-copy-source") != "" {
		return store.Errf("NotImplemented", "CopyObject is not simulated")
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
	o, err := s.store.PutObject(in)
	if err != nil {
		return err
	}
	q.w.Header().Set("ETag", o.ETag)
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

func (s *Server) s3GetObject(q *s3Req) error {
	if _, err := s.bucketFor(q); err != nil {
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
	h := q.w.Header()
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
