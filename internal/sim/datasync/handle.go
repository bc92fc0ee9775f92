package datasync

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// apiErr is an error answered to the client in JSON 1.1 form.
type apiErr struct {
	status int
	typ    string // __type: InvalidRequestException, InternalException, AccessDeniedException ...
	msg    string
	code   string // DataSync's optional errorCode field
}

func (e *apiErr) Error() string { return e.typ + ": " + e.msg }

func invalid(format string, a ...any) *apiErr {
	return &apiErr{status: http.StatusBadRequest, typ: "InvalidRequestException", msg: fmt.Sprintf(format, a...)}
}

// notFound is DataSync's answer for an ARN that names nothing the caller owns.
func notFound() *apiErr {
	return invalid("Request references a resource which does not exist.")
}

func accessDenied(err error) *apiErr {
	return &apiErr{status: http.StatusBadRequest, typ: "AccessDeniedException", msg: err.Error()}
}

func internal(err error) *apiErr {
	return &apiErr{status: http.StatusInternalServerError, typ: "InternalException", msg: err.Error()}
}

// validation is the "1 validation error detected" form AWS uses for constraint failures.
func validation(value, field, constraint string) *apiErr {
	return invalid("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint)
}

// opFunc is one API operation: it decodes body itself and returns a value to encode.
type opFunc func(ctx context.Context, caller identity.Principal, body []byte) (any, error)

func (s *Service) ops() map[string]opFunc {
	return map[string]opFunc{
		"CreateLocationS3":      s.createLocationS3,
		"DescribeLocationS3":    s.describeLocationS3,
		"ListLocations":         s.listLocations,
		"CreateTask":            s.createTask,
		"DescribeTask":          s.describeTask,
		"ListTasks":             s.listTasks,
		"StartTaskExecution":    s.startTaskExecution,
		"ListTaskExecutions":    s.listTaskExecutions,
		"DescribeTaskExecution": s.describeTaskExecution,
		"ListTagsForResource":   s.listTagsForResource,
		"TagResource":           s.tagResource,
		"DeleteTask":            s.deleteTask,
		"DeleteLocation":        s.deleteLocation,
	}
}

// Handle runs one DataSync operation (op is the X-Amz-Target suffix, e.g.
// "CreateLocationS3") for caller and returns the HTTP status and JSON body.
func (s *Service) Handle(ctx context.Context, caller identity.Principal, op string, body []byte) (int, []byte) {
	f, ok := s.ops()[op]
	if !ok {
		return http.StatusBadRequest, errBody("UnknownOperationException", "", "")
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	out, err := f(ctx, caller, body)
	if err != nil {
		var ae *apiErr
		if !errors.As(err, &ae) {
			ae = internal(err)
		}
		return ae.status, errBody(ae.typ, ae.msg, ae.code)
	}
	if out == nil {
		out = struct{}{}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return http.StatusInternalServerError, errBody("InternalException", err.Error(), "")
	}
	return http.StatusOK, b
}

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &apiErr{status: http.StatusBadRequest, typ: "SerializationException", msg: err.Error()}
	}
	return nil
}

// decodeAuthorized decodes body into in, then authorizes action on the resource that
// resource reads from the decoded input ("*" for actions without a resource type).
func (s *Service) decodeAuthorized(ctx context.Context, caller identity.Principal, body []byte, in any, action string, resource func() string) error {
	if err := decode(body, in); err != nil {
		return err
	}
	return s.authorize(ctx, caller, action, resource())
}

// authorize checks that caller may call the DataSync action on resource.
func (s *Service) authorize(ctx context.Context, caller identity.Principal, action, resource string) error {
	return s.authorizeWith(ctx, caller, action, resource, nil)
}

// authorizeWith is authorize with request condition keys (aws:RequestTag/KEY and
// aws:TagKeys of a call that carries tags). A call on an existing, tagged location, task
// or execution also carries its tags as aws:ResourceTag/KEY. s.mu must not be held.
func (s *Service) authorizeWith(ctx context.Context, caller identity.Principal, action, resource string, cond identity.Context) error {
	s.mu.Lock()
	tags, _ := s.taggable(caller, resource)
	if len(tags) > 0 {
		c := identity.Context{}
		for k, v := range cond {
			c[k] = v
		}
		for k, v := range tags {
			c["aws:ResourceTag/"+k] = []string{v}
		}
		cond = c
	}
	s.mu.Unlock()
	if err := s.b.Authorize(ctx, caller, "datasync:"+action, resource, cond); err != nil {
		if isCode(err, "AccessDenied") {
			return accessDenied(err)
		}
		return internal(err)
	}
	return nil
}

// authorizeTagOnCreate: a creating call that carries tags also needs datasync:TagResource
// on the new resource, with the tags as aws:RequestTag/KEY and aws:TagKeys (DataSync User
// Guide, "Permissions for tagging DataSync resources during creation").
func (s *Service) authorizeTagOnCreate(ctx context.Context, caller identity.Principal, arn string, tags []tagEntry) error {
	if len(tags) == 0 {
		return nil
	}
	return s.authorizeWith(ctx, caller, "TagResource", arn, tagContext(tags))
}

// tagContext gives the request condition keys of tags (nil for none).
func tagContext(tags []tagEntry) identity.Context {
	var keys []string
	cond := identity.Context{}
	for _, t := range tags {
		if t.Key == nil {
			continue
		}
		cond["aws:RequestTag/"+*t.Key] = []string{str(t.Value)}
		keys = append(keys, *t.Key)
	}
	if len(keys) == 0 {
		return nil
	}
	cond["aws:TagKeys"] = keys
	return cond
}

func isCode(err error, code string) bool {
	var ae APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

func hex17() string {
	var b [9]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])[:17]
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func sp(s string) *string { return &s }

// page cuts a sorted list of n items into a page. The token is the next offset.
func page(n int, maxResults *int32, token *string) (from, to int, next *string, err error) {
	limit := 100
	if maxResults != nil {
		if *maxResults < 0 || *maxResults > 100 {
			return 0, 0, nil, validation(strconv.Itoa(int(*maxResults)), "maxResults", "Member must have value less than or equal to 100")
		}
		if *maxResults > 0 {
			limit = int(*maxResults)
		}
	}
	if token != nil && *token != "" {
		raw, derr := base64.RawURLEncoding.DecodeString(*token)
		off, cerr := strconv.Atoi(string(raw))
		if derr != nil || cerr != nil || off < 0 || off > n {
			return 0, 0, nil, invalid("Invalid pagination token.")
		}
		from = off
	}
	to = min(from+limit, n)
	if to < n {
		t := base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(to)))
		next = &t
	}
	return from, to, next, nil
}

// tags

func validateTags(tags []tagEntry) error {
	if len(tags) > 50 {
		return validation(fmt.Sprint(len(tags)), "tags", "Member must have length less than or equal to 50")
	}
	for _, t := range tags {
		if t.Key == nil || *t.Key == "" || len(*t.Key) > 256 {
			return validation(str(t.Key), "tags.member.key", "Member must have length between 1 and 256")
		}
		if t.Value != nil && len(*t.Value) > 256 {
			return validation(*t.Value, "tags.member.value", "Member must have length less than or equal to 256")
		}
	}
	return nil
}

func mergeTags(have map[string]string, add []tagEntry) {
	for _, t := range add {
		have[*t.Key] = str(t.Value)
	}
}

func tagList(m map[string]string) []tagEntry {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]tagEntry, 0, len(keys))
	for _, k := range keys {
		out = append(out, tagEntry{Key: sp(k), Value: sp(m[k])})
	}
	return out
}

func (s *Service) taggable(caller identity.Principal, arn string) (map[string]string, bool) {
	if l, ok := s.st.locations[arn]; ok && l.account == caller.AccountID {
		return l.tags, true
	}
	if t, ok := s.st.tasks[arn]; ok && t.account == caller.AccountID {
		return t.tags, true
	}
	if e, ok := s.st.execs[arn]; ok && e.task.account == caller.AccountID {
		return e.tags, true
	}
	return nil, false
}

// tagResource serves TagResource, which no step calls (they tag at creation) but the
// attack tests do: a step's credentials re-tagging another deployment's task.
func (s *Service) tagResource(ctx context.Context, caller identity.Principal, body []byte) (any, error) {
	var in tagIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	// TagResource's condition keys are aws:RequestTag/KEY and aws:TagKeys of the tags
	// given, and aws:ResourceTag/KEY of the resource's (Service Authorization Reference).
	if err := s.authorizeWith(ctx, caller, "TagResource", str(in.ResourceArn), tagContext(in.Tags)); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tags, ok := s.taggable(caller, str(in.ResourceArn))
	if !ok {
		return nil, notFound()
	}
	mergeTags(tags, in.Tags)
	return nil, nil
}

func (s *Service) listTagsForResource(ctx context.Context, caller identity.Principal, body []byte) (any, error) {
	var in listIn
	if err := s.decodeAuthorized(ctx, caller, body, &in, "ListTagsForResource", func() string { return str(in.ResourceArn) }); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tags, ok := s.taggable(caller, str(in.ResourceArn))
	if !ok {
		return nil, notFound()
	}
	all := tagList(tags)
	from, to, next, err := page(len(all), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return struct {
		Tags      []tagEntry `json:"Tags"`
		NextToken *string    `json:"NextToken,omitempty"`
	}{all[from:to], next}, nil
}

// now is the simulator clock.
func (s *Service) now() time.Time { return s.b.Now() }
