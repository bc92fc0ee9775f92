package server

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// S3 REST-XML, path style: /bucket and /bucket/key. Errors are <Error><Code/>...; HEAD
// errors carry only the status. This file routes a request to its operation and holds
// what every handler shares (errors, authorization, the bucket lookup);
// s3_bucket.go and s3_object.go hold the operations.

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

var s3Status = map[string]int{
	"NoSuchBucket": 404, "NoSuchKey": 404, "NoSuchBucketPolicy": 404,
	"ObjectLockConfigurationNotFoundError": 404,
	"BucketAlreadyExists":                  409, "BucketAlreadyOwnedByYou": 409,
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
	op := s3Operation(r.Method, bucket, key, req.q, r.Header)
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

// s3Operation names the S3 API operation of a path-style request ("Unsupported" for
// requests of no operation the simulator knows).
func s3Operation(method, bucket, key string, q url.Values, h http.Header) string {
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
			case has("encryption"):
				return "PutBucketEncryption"
			case len(q) == 0:
				return "CreateBucket"
			}
		case http.MethodGet:
			switch {
			case has("policy"):
				return "GetBucketPolicy"
			case has("ownershipControls"):
				return "GetBucketOwnershipControls"
			case has("encryption"):
				return "GetBucketEncryption"
			case has("versioning"):
				return "GetBucketVersioning"
			case has("requestPayment"):
				return "GetBucketRequestPayment"
			case has("object-lock"):
				return "GetObjectLockConfiguration"
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
	// Every query parameter of an object request must belong to the operation (x-id is
	// the SDK's name of the operation): a sub-resource such as ?acl or ?tagging makes it
	// another operation, with or without a versionId.
	only := func(belongs func(string) bool) bool {
		for k := range q {
			if k != "x-id" && !belongs(k) {
				return false
			}
		}
		return true
	}
	switch method {
	case http.MethodPut:
		switch {
		case h.Get("x-amz-copy-source") != "":
			return "CopyObject"
		case only(func(string) bool { return false }):
			return "PutObject"
		}
	case http.MethodGet:
		if only(func(k string) bool { return k == "versionId" || k == "partNumber" || strings.HasPrefix(k, "response-") }) {
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
	"GetBucketEncryption":        (*Server).s3GetBucketEncryption,
	"PutBucketEncryption":        (*Server).s3PutBucketEncryption,
	"GetBucketVersioning":        (*Server).s3GetBucketVersioning,
	"GetBucketRequestPayment":    (*Server).s3GetBucketRequestPayment,
	"GetObjectLockConfiguration": (*Server).s3GetObjectLockConfiguration,
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
