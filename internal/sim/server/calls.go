package server

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Call is one AWS API request the simulator received, as GET /_sim/calls lists it.
type Call struct {
	Service   string `json:"service"`   // iam, sts, s3, datasync, states
	Operation string `json:"operation"` // the API operation, e.g. GetBucketPolicy
	// Caller is the ARN of the authenticated principal ("" when the request was not
	// authenticated); an assumed role shows as arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION.
	Caller string `json:"caller"`
	Status int    `json:"status"` // the HTTP status of the answer
}

// callLog is every request in the order received (the tests read it to prove which
// operations a run called).
type callLog struct {
	mu    sync.Mutex
	calls []Call
}

func (l *callLog) add(c Call) {
	l.mu.Lock()
	l.calls = append(l.calls, c)
	l.mu.Unlock()
}

// since returns the calls from index from on.
func (l *callLog) since(from int) []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	if from < 0 || from > len(l.calls) {
		from = len(l.calls)
	}
	return append([]Call{}, l.calls[from:]...)
}

// operationOf names the API operation of a request: the Action of a query request
// (IAM, STS), the X-Amz-Target of a JSON one (DataSync, Step Functions), or the S3
// operation the path, query and headers select.
func operationOf(service string, r *http.Request) string {
	switch service {
	case "iam", "sts":
		if err := r.ParseForm(); err != nil {
			return "Unparsable"
		}
		return r.Form.Get("Action")
	case "s3":
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return "Unsupported"
		}
		return s3Operation(r.Method, bucket, key, q, r.Header)
	}
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndex(op, "."); i >= 0 {
		op = op[i+1:]
	}
	return op
}
