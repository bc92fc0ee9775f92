package server

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// AWS query protocol (IAM, STS): form-encoded POST with Action and Version; XML
// responses <ActionResponse><ActionResult>...</ActionResult><ResponseMetadata/>; errors
// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.

var namespaces = map[string]string{
	"iam": "https://iam.amazonaws.com/doc/2010-05-08/",
	"sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}

var queryStatus = map[string]int{
	"NoSuchEntity": 404, "EntityAlreadyExists": 409, "LimitExceeded": 409, "DeleteConflict": 409,
	"MalformedPolicyDocument": 400, "ValidationError": 400, "AccessDenied": 403,
	"InvalidClientTokenId": 403, "ExpiredToken": 403, "MissingAuthenticationToken": 403,
	"IncompleteSignature": 400, "Throttling": 400, "ServiceFailure": 500, "InternalFailure": 500,
	"InvalidAction": 400, "InvalidInput": 400, "InvalidParameterValue": 400, "MissingParameter": 400,
}

type xmlErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func writeQueryError(w http.ResponseWriter, service, reqID string, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(xmlErrorResponse{Xmlns: namespaces[service], Type: typ, Code: code,
		Message: msg, RequestID: reqID})
}

func writeQueryErr(w http.ResponseWriter, service, reqID string, err error) {
	code, msg := "ServiceFailure", err.Error()
	var ae interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if errors.As(err, &ae) {
		code, msg = ae.ErrorCode(), ae.ErrorMessage()
	}
	status, ok := queryStatus[code]
	if !ok {
		status = 400
	}
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	writeQueryError(w, service, reqID, status, typ, code, msg)
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// writeQueryResult writes <{Action}Response xmlns><{Action}Result>result</...>. result
// nil writes only the ResponseMetadata (operations without output).
func writeQueryResult(w http.ResponseWriter, service, action, reqID string, result any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(200)
	var b strings.Builder
	b.WriteString(`<` + action + `Response xmlns="` + namespaces[service] + `">`)
	enc := xml.NewEncoder(&b)
	if result != nil {
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			panic(err) // result types are ours; a failure is a programming error
		}
	}
	_ = enc.EncodeElement(responseMetadata{RequestID: reqID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	_ = enc.Flush()
	b.WriteString(`</` + action + `Response>`)
	_, _ = w.Write([]byte(b.String()))
}

func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, service string, c caller, authErr *store.Error, reqID string) {
	if authErr != nil {
		writeQueryErr(w, service, reqID, authErr)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeQueryError(w, service, reqID, 400, "Sender", "MalformedQueryString", err.Error())
		return
	}
	action := r.Form.Get("Action")
	if kind := s.faults.take(service, action); kind != "" {
		if kind == "throttle" {
			writeQueryError(w, service, reqID, 400, "Sender", "Throttling", "Rate exceeded")
		} else {
			code := "ServiceFailure"
			if service == "sts" {
				code = "InternalFailure"
			}
			writeQueryError(w, service, reqID, 500, "Receiver", code, "We encountered an internal error. Please try again.")
		}
		return
	}
	var result any
	var err error
	if service == "iam" {
		result, err = s.iamAction(c, action, r.Form)
	} else {
		result, err = s.stsAction(c, action, r.Form)
	}
	if err != nil {
		writeQueryErr(w, service, reqID, err)
		return
	}
	if result == noResult {
		result = nil
	}
	writeQueryResult(w, service, action, reqID, result)
}

// noResult marks an operation without output.
var noResult = &struct{ XMLName xml.Name }{}

func errUnknownAction(action string) error {
	return store.Errf("InvalidAction", "Could not find operation %s for version", action)
}

// ---- IAM ----

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlRole struct {
	Path                     string    `xml:"Path"`
	RoleName                 string    `xml:"RoleName"`
	RoleID                   string    `xml:"RoleId"`
	Arn                      string    `xml:"Arn"`
	CreateDate               string    `xml:"CreateDate"`
	AssumeRolePolicyDocument string    `xml:"AssumeRolePolicyDocument"`
	Description              string    `xml:"Description,omitempty"`
	MaxSessionDuration       int32     `xml:"MaxSessionDuration"`
	Tags                     *[]xmlTag `xml:"Tags>member,omitempty"`

	PermissionsBoundary *xmlBoundary `xml:"PermissionsBoundary,omitempty"`
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// urlEncodePolicy encodes a policy document as IAM returns it (RFC 3986 escaping).
func urlEncodePolicy(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

func toXMLRole(r identity.Role) xmlRole {
	x := xmlRole{Path: r.Path, RoleName: r.Name, RoleID: r.RoleID, Arn: r.Arn, CreateDate: isoTime(r.CreateDate),
		AssumeRolePolicyDocument: urlEncodePolicy(r.AssumeRolePolicyDocument), Description: r.Description,
		MaxSessionDuration: r.MaxSessionDuration, PermissionsBoundary: roleBoundary(r)}
	if len(r.Tags) > 0 {
		tags := make([]xmlTag, len(r.Tags))
		for i, t := range r.Tags {
			tags[i] = xmlTag{t.Key, t.Value}
		}
		x.Tags = &tags
	}
	return x
}

func tagMembers(f url.Values) []identity.Tag {
	var out []identity.Tag
	for i := 1; ; i++ {
		k, ok := f["Tags.member."+strconv.Itoa(i)+".Key"]
		if !ok {
			return out
		}
		out = append(out, identity.Tag{Key: k[0], Value: f.Get("Tags.member." + strconv.Itoa(i) + ".Value")})
	}
}

func required(f url.Values, names ...string) error {
	var missing []string
	for _, n := range names {
		if f.Get(n) == "" {
			missing = append(missing, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null",
				strings.ToLower(n[:1])+n[1:]))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	plural := ""
	if len(missing) > 1 {
		plural = "s"
	}
	return store.Errf("ValidationError", "%d validation error%s detected: %s", len(missing), plural, strings.Join(missing, "; "))
}

func (s *Server) iamAuthorize(c caller, action, roleName string, ctx identity.Context) error {
	acct := c.principal.AccountID
	arn := "arn:aws:iam::" + acct + ":role/" + roleName
	if r, err := s.store.GetRole(acct, roleName); err == nil {
		arn = r.Arn
	}
	return s.store.Authorize(c.principal, "iam:"+action, arn, ctx)
}

func (s *Server) iamAction(c caller, action string, f url.Values) (any, error) {
	acct := c.principal.AccountID
	roleName := f.Get("RoleName")
	if c.principal.IsService {
		return nil, store.Errf("AccessDenied", "service principals cannot call IAM")
	}
	if result, handled, err := s.iamPolicyAction(c, action, f); handled {
		return result, err
	}
	// The role operations dsmigrate calls (docs/FIDELITY.md, "Which operations exist")
	// and the parameters each requires.
	needs := map[string][]string{
		"CreateRole": {"RoleName", "AssumeRolePolicyDocument"}, "GetRole": {"RoleName"},
		"PutRolePolicy":          {"RoleName", "PolicyName", "PolicyDocument"},
		"UpdateAssumeRolePolicy": {"RoleName", "PolicyDocument"},
		"DeleteRolePolicy":       {"RoleName", "PolicyName"},
		"DeleteRole":             {"RoleName"},
	}
	names, ok := needs[action]
	if !ok {
		return nil, errUnknownAction(action)
	}
	if err := required(f, names...); err != nil {
		return nil, err
	}
	ctx := identity.Context{}
	if action == "CreateRole" {
		var keys []string
		for _, t := range tagMembers(f) {
			keys = append(keys, t.Key)
			ctx["aws:RequestTag/"+t.Key] = []string{t.Value}
		}
		if len(keys) > 0 {
			ctx["aws:TagKeys"] = keys
		}
		if b := f.Get("PermissionsBoundary"); b != "" {
			ctx["iam:PermissionsBoundary"] = []string{b}
		}
		path := f.Get("Path")
		if path == "" {
			path = "/"
		}
		newArn := "arn:aws:iam::" + acct + ":role" + path + roleName
		if err := s.store.Authorize(c.principal, "iam:CreateRole", newArn, ctx); err != nil {
			return nil, err
		}
		// Tags given at creation also need iam:TagRole (IAM User Guide, "Permissions
		// required to tag IAM entities").
		if len(tagMembers(f)) > 0 {
			if err := s.store.Authorize(c.principal, "iam:TagRole", newArn, ctx); err != nil {
				return nil, err
			}
		}
	} else if err := s.iamAuthorize(c, action, roleName, ctx); err != nil {
		return nil, err
	}
	switch action {
	case "CreateRole":
		var maxDur int32
		if v := f.Get("MaxSessionDuration"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 3600 || n > 43200 {
				return nil, store.Errf("ValidationError", "1 validation error detected: Value '%s' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200", v)
			}
			maxDur = int32(n)
		}
		r, err := s.store.CreateRole(store.CreateRoleInput{AccountID: acct, Name: roleName, Path: f.Get("Path"),
			TrustPolicy: f.Get("AssumeRolePolicyDocument"), Description: f.Get("Description"),
			MaxSessionDuration: maxDur, Tags: tagMembers(f), PermissionsBoundary: f.Get("PermissionsBoundary")})
		if err != nil {
			return nil, err
		}
		return &struct {
			Role xmlRole `xml:"Role"`
		}{Role: toXMLRole(r)}, nil
	case "GetRole":
		r, err := s.store.GetRole(acct, roleName)
		if err != nil {
			return nil, err
		}
		return &struct {
			Role xmlRole `xml:"Role"`
		}{Role: toXMLRole(r)}, nil
	case "PutRolePolicy":
		return noResult, s.store.PutRolePolicy(acct, roleName, f.Get("PolicyName"), f.Get("PolicyDocument"))
	case "UpdateAssumeRolePolicy":
		return noResult, s.store.UpdateAssumeRolePolicy(acct, roleName, f.Get("PolicyDocument"))
	case "DeleteRolePolicy":
		return noResult, s.store.DeleteRolePolicy(acct, roleName, f.Get("PolicyName"))
	case "DeleteRole":
		return noResult, s.store.DeleteRole(acct, roleName)
	}
	return nil, errUnknownAction(action)
}

// ---- STS ----

var (
	sessionNameRe = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDRe  = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
)

func (s *Server) stsAction(c caller, action string, f url.Values) (any, error) {
	switch action {
	case "GetCallerIdentity":
		p := c.principal
		return &struct {
			Arn     string `xml:"Arn"`
			UserID  string `xml:"UserId"`
			Account string `xml:"Account"`
		}{Arn: p.Arn, UserID: p.UserID, Account: p.AccountID}, nil
	case "AssumeRole":
		return s.assumeRole(c, f)
	}
	return nil, errUnknownAction(action)
}

func (s *Server) assumeRole(c caller, f url.Values) (any, error) {
	if err := required(f, "RoleArn", "RoleSessionName"); err != nil {
		return nil, err
	}
	roleArn, session := f.Get("RoleArn"), f.Get("RoleSessionName")
	// Input constraints are checked before anything else and reported together, in
	// AWS's "N validation error(s) detected" form.
	var problems []string
	bad := func(value, member, constraint string) {
		problems = append(problems, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint))
	}
	switch {
	case len(session) < 2:
		bad(session, "roleSessionName", "Member must have length greater than or equal to 2")
	case len(session) > 64:
		bad(session, "roleSessionName", "Member must have length less than or equal to 64")
	case !sessionNameRe.MatchString(session):
		bad(session, "roleSessionName", `Member must satisfy regular expression pattern: [\w+=,.@-]*`)
	}
	ctx := identity.Context{"sts:RoleSessionName": {session}}
	// aws:RequestedRegion is the Region called: the STS endpoint the request was signed
	// for (us-east-1 for the global endpoint), not the simulator's.
	if c.sig.Region != "" {
		ctx["aws:RequestedRegion"] = []string{c.sig.Region}
	}
	if _, given := f["ExternalId"]; given {
		ext := f.Get("ExternalId")
		switch {
		case len(ext) < 2:
			bad(ext, "externalId", "Member must have length greater than or equal to 2")
		case len(ext) > 1224:
			bad(ext, "externalId", "Member must have length less than or equal to 1224")
		case !externalIDRe.MatchString(ext):
			bad(ext, "externalId", `Member must satisfy regular expression pattern: [\w+=,.@:\/-]*`)
		}
		ctx["sts:ExternalId"] = []string{ext}
	}
	dur := 3600
	if v := f.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 900:
			bad(v, "durationSeconds", "Member must have value greater than or equal to 900")
		case n > 43200:
			bad(v, "durationSeconds", "Member must have value less than or equal to 43200")
		}
		dur = n
	}
	if len(problems) > 0 {
		plural := "error"
		if len(problems) > 1 {
			plural = "errors"
		}
		return nil, store.Errf("ValidationError", "%d validation %s detected: %s", len(problems), plural, strings.Join(problems, "; "))
	}
	if c.principal.Kind == identity.KindRoot {
		return nil, store.Errf("AccessDenied", "Roles may not be assumed by root accounts.")
	}
	if err := s.store.AuthorizeAssumeRole(c.principal, roleArn, ctx); err != nil {
		return nil, err
	}
	role, _ := s.store.RoleByArn(roleArn)
	if dur > int(role.MaxSessionDuration) {
		return nil, store.Errf("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	if c.principal.Kind == identity.KindAssumedRole && dur > 3600 {
		return nil, store.Errf("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	cred, err := s.store.IssueSession(roleArn, session, time.Duration(dur)*time.Second)
	if err != nil {
		return nil, err
	}
	type credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	}
	return &struct {
		Credentials      credentials `xml:"Credentials"`
		AssumedRoleID    string      `xml:"AssumedRoleUser>AssumedRoleId"`
		AssumedRoleArn   string      `xml:"AssumedRoleUser>Arn"`
		SourceIdentity   string      `xml:"SourceIdentity,omitempty"`
		PackedPolicySize *int        `xml:"PackedPolicySize,omitempty"`
	}{Credentials: credentials{cred.AccessKeyID, cred.SecretAccessKey, cred.SessionToken, isoTime(cred.Expiration)},
		AssumedRoleID: cred.Principal.UserID, AssumedRoleArn: cred.Principal.Arn}, nil
}

// sortedTags is used by the admin state dump.
func sortedTags(tags []identity.Tag) []identity.Tag {
	out := append([]identity.Tag(nil), tags...)
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
