package server

import (
	"net/http"
	"strings"
)

// sigV4 is what the simulator reads from a SigV4 Authorization header (or presigned
// query): the access key id and the credential scope. The signature itself is not
// verified.
type sigV4 struct {
	AccessKeyID string
	Date        string
	Region      string
	Service     string
	Token       string
}

// parseSigV4 reads "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request,
// SignedHeaders=..., Signature=..." or the X-Amz-Credential query parameter. ok is false
// when the request carries no SigV4 credentials; malformed is true when it carries a
// header that cannot be parsed.
func parseSigV4(r *http.Request) (s sigV4, ok, malformed bool) {
	cred := ""
	if h := r.Header.Get("Authorization"); h != "" {
		alg, rest, found := strings.Cut(h, " ")
		if !found || alg != "AWS4-HMAC-SHA256" {
			return s, false, true
		}
		for _, part := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k == "Credential" {
				cred = v
			}
		}
		if cred == "" {
			return s, false, true
		}
		s.Token = r.Header.Get("X-Amz-Security-Token")
	} else if q := r.URL.Query(); q.Get("X-Amz-Credential") != "" {
		cred = q.Get("X-Amz-Credential")
		s.Token = q.Get("X-Amz-Security-Token")
	} else {
		return s, false, false
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" {
		return s, false, true
	}
	s.AccessKeyID, s.Date, s.Region, s.Service = parts[0], parts[1], parts[2], parts[3]
	return s, true, false
}
