package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// MaxBucketPolicyBytes is S3's limit on the size of a bucket policy, measured by Size.
//
// S3 states the limit as "Bucket policies are limited to 20 KB in size" (Amazon S3 User
// Guide, "Bucket policies and user policies" and "Adding a bucket policy by using the
// Amazon S3 console") and does not say how it measures. IAM, for its own policies, "does
// not count white space when calculating the size of a policy" (IAM User Guide, "IAM and
// AWS STS quotas"). S3 keeps and measures a normalized form: published measurements
// (FogSecurity aws-size, "S3 policy size", 2025) put S3's count at about 0.87 of the
// policy's compact JSON. Size counts the compact JSON, which is also the exact text Merge
// and RevokeOurs write: whether S3 counts the bytes it receives, those bytes without
// whitespace, or its normalized form, a policy within MaxBucketPolicyBytes by Size is
// within S3's limit, so a policy Preflight accepts is never refused at PutBucketPolicy.
const MaxBucketPolicyBytes = 20 * 1024

// Size is the size of a policy text as dsmigrate measures it against
// MaxBucketPolicyBytes: its UTF-8 bytes without insignificant whitespace (the bytes of
// its compact JSON). Text that is not JSON counts as it is.
func Size(text string) int {
	return len(compact([]byte(text)))
}

// SidConflictError says a statement that is not ours already uses one of our Sids: its
// principals are not among the principals we grant. Merge refuses to overwrite it.
type SidConflictError struct {
	Sid     string
	Message string
}

func (e *SidConflictError) Error() string { return e.Message }

// TooLargeError says the merged policy would exceed MaxBucketPolicyBytes.
type TooLargeError struct {
	Size, Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the merged bucket policy would be %d bytes without whitespace; S3 allows %d (20 KB): remove unused statements from the source bucket policy", e.Size, e.Limit)
}

// field is one top-level key of a policy document and its raw value.
type field struct {
	key   string
	value json.RawMessage
}

// rawPolicy is a policy document as found: top-level keys in order, statements raw.
type rawPolicy struct {
	fields     []field
	statements []json.RawMessage
	stmtIndex  int // index of "Statement" in fields
}

// parseRaw splits text into its top-level fields and its statements, keeping every byte
// of each (compacted: insignificant whitespace removed).
func parseRaw(text string) (*rawPolicy, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	tok, err := dec.Token()
	if err != nil {
		return nil, &MalformedError{Err: err}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &MalformedError{Err: errors.New("a policy must be a JSON object")}
	}
	p := &rawPolicy{stmtIndex: -1}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, &MalformedError{Err: err}
		}
		key := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, &MalformedError{Err: err}
		}
		if key == "Statement" {
			if p.stmtIndex >= 0 {
				return nil, &MalformedError{Err: errors.New(`"Statement" appears twice`)}
			}
			p.stmtIndex = len(p.fields)
			if p.statements, err = splitStatements(raw); err != nil {
				return nil, &MalformedError{Err: err}
			}
		}
		p.fields = append(p.fields, field{key: key, value: compact(raw)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, &MalformedError{Err: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &MalformedError{Err: errors.New("text after the policy object")}
	}
	if p.stmtIndex < 0 {
		return nil, &MalformedError{Err: errNoStatement}
	}
	return p, nil
}

func splitStatements(raw json.RawMessage) ([]json.RawMessage, error) {
	t := bytes.TrimSpace(raw)
	if len(t) > 0 && t[0] == '{' {
		return []json.RawMessage{compact(t)}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(t, &list); err != nil {
		return nil, errors.New(`"Statement" must be an object or a list of objects`)
	}
	for i, s := range list {
		s = bytes.TrimSpace(s)
		if len(s) == 0 || s[0] != '{' {
			return nil, fmt.Errorf("statement %d is not an object", i)
		}
		list[i] = compact(s)
	}
	return list, nil
}

func compact(raw []byte) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return slices.Clone(raw)
	}
	return b.Bytes()
}

// sidOf returns the Sid of a raw statement, "" when absent or not a string.
func sidOf(raw json.RawMessage) string {
	var s struct {
		Sid any `json:"Sid"`
	}
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	sid, _ := s.Sid.(string)
	return sid
}

// render writes the document with the given statements (always as a list).
func (p *rawPolicy) render(statements []json.RawMessage) string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range p.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		b.Write(k)
		b.WriteByte(':')
		if i == p.stmtIndex {
			b.WriteByte('[')
			for j, s := range statements {
				if j > 0 {
					b.WriteByte(',')
				}
				b.Write(s)
			}
			b.WriteByte(']')
			continue
		}
		b.Write(f.value)
	}
	b.WriteByte('}')
	return b.String()
}

// Merge adds our statements to the existing bucket policy text ("" = the bucket has no
// policy) and returns the new compact policy text.
//
// Every other statement is kept in its place, byte for byte (insignificant whitespace
// aside), as are the top-level Version, Id and any other key. A statement with one of our
// Sids is replaced in place (a second one with the same Sid is dropped); our other
// statements are appended in the given order. Merging twice gives the same text as once.
//
// earlier are principals that earlier versions of ours granted under the same Sids (see
// naming.EarlierRoleArns): a statement naming them is ours too, and is replaced.
//
// Errors: *MalformedError when existing is not a policy; *SidConflictError when a
// statement with one of our Sids has principals that are not all among ours (it is not
// ours to overwrite); *TooLargeError when the result exceeds MaxBucketPolicyBytes.
func Merge(existing string, ours []Statement, earlier ...string) (string, error) {
	ourRaw := make(map[string]json.RawMessage, len(ours))
	for _, s := range ours {
		if s.Sid == "" {
			return "", fmt.Errorf("policy.Merge: our statements need a Sid")
		}
		if _, dup := ourRaw[s.Sid]; dup {
			return "", fmt.Errorf("policy.Merge: Sid %q given twice", s.Sid)
		}
		b, err := json.Marshal(s)
		if err != nil {
			return "", fmt.Errorf("policy.Merge: %w", err)
		}
		ourRaw[s.Sid] = b
	}
	allowed := ourPrincipals(ours, earlier)

	var p *rawPolicy
	if strings.TrimSpace(existing) == "" {
		v, _ := json.Marshal(Version)
		p = &rawPolicy{fields: []field{{key: "Version", value: v}, {key: "Statement"}}, stmtIndex: 1}
	} else {
		var err error
		if p, err = parseRaw(existing); err != nil {
			return "", err
		}
	}

	placed := map[string]bool{}
	out := make([]json.RawMessage, 0, len(p.statements)+len(ours))
	for _, raw := range p.statements {
		sid := sidOf(raw)
		mine, ok := ourRaw[sid]
		if !ok {
			out = append(out, raw)
			continue
		}
		if err := checkOurs(sid, raw, allowed); err != nil {
			return "", err
		}
		if !placed[sid] {
			out = append(out, mine)
			placed[sid] = true
		}
	}
	for _, s := range ours {
		if !placed[s.Sid] {
			out = append(out, ourRaw[s.Sid])
		}
	}
	result := p.render(out)
	if n := Size(result); n > MaxBucketPolicyBytes {
		return "", &TooLargeError{Size: n, Limit: MaxBucketPolicyBytes}
	}
	return result, nil
}

// deletedRoleID matches the unique id of an IAM role (AROA…), which S3 shows in a bucket
// policy in place of a role ARN once that role was deleted.
var deletedRoleID = regexp.MustCompile(`^AROA[A-Z0-9]{12,28}$`)

// uniquePrincipalID matches the unique id of an IAM user (AIDA…) or role (AROA…).
var uniquePrincipalID = regexp.MustCompile(`^(AIDA|AROA)[A-Z0-9]{12,28}$`)

// DeletedPrincipal is a principal a policy names by its unique id, and its statement.
type DeletedPrincipal struct{ Sid, ID string }

// DeletedPrincipals lists the AWS principals of d's statements (Principal and
// NotPrincipal) that are unique ids of IAM users or roles. A resource policy keeps the
// users and roles it names by their unique ids and shows the id in place of the ARN once
// the user or role is deleted; S3 refuses to save a policy naming one ("Invalid principal
// in policy"): "If you edit the resource-based policy, you must either remove the
// principal ID or replace it with a valid Principal ARN" (re:Post Knowledge Center, "Why
// is there an unknown principal format in my IAM resource-based policy?").
func (d *Document) DeletedPrincipals() []DeletedPrincipal {
	var out []DeletedPrincipal
	for _, s := range d.Statement {
		for _, p := range []*Principal{s.Principal, s.NotPrincipal} {
			if p == nil {
				continue
			}
			for _, v := range p.AWS {
				if uniquePrincipalID.MatchString(v) {
					out = append(out, DeletedPrincipal{Sid: s.Sid, ID: v})
				}
			}
		}
	}
	return out
}

// checkOurs accepts a statement with one of our Sids only when it names AWS principals
// and all of them are among the principals we grant, or are unique role ids: a statement
// of ours left from an earlier run whose roles were deleted since (the Sid carries the
// migration id, so only dsmigrate writes it).
func checkOurs(sid string, raw json.RawMessage, allowed map[string]bool) error {
	conflict := func(why string) error {
		return &SidConflictError{Sid: sid, Message: fmt.Sprintf(
			"the source bucket policy already has a statement with Sid %q that is not ours (%s); dsmigrate will not overwrite it: rename or remove that statement", sid, why)}
	}
	var s struct {
		Principal    *Principal      `json:"Principal"`
		NotPrincipal json.RawMessage `json:"NotPrincipal"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return conflict("it cannot be read as a statement: " + err.Error())
	}
	switch {
	case s.NotPrincipal != nil:
		return conflict("it uses NotPrincipal")
	case s.Principal == nil:
		return conflict("it has no Principal")
	case s.Principal.Wildcard:
		return conflict(`its principal is "*"`)
	case len(s.Principal.Service)+len(s.Principal.Federated)+len(s.Principal.CanonicalUser) > 0:
		return conflict("it names non-AWS principals")
	case len(s.Principal.AWS) == 0:
		return conflict("it names no AWS principal")
	}
	for _, a := range s.Principal.AWS {
		if !allowed[a] && !deletedRoleID.MatchString(a) {
			return conflict(fmt.Sprintf("principal %q is not one of our roles", a))
		}
	}
	return nil
}

// RevokeOurs removes the statements whose Sid is one of those of ours from the existing
// policy text and keeps everything else as Merge does. deleted is true when no statement
// is left: S3 refuses an empty policy, so the caller deletes the bucket policy instead of
// writing result (which is then ""). When no statement matches, result is existing
// unchanged. An existing "" (no policy) gives ("", false, nil).
//
// Only statements that are ours are removed: a statement with one of those Sids that
// Merge would refuse to overwrite (its principals are not all among those of ours and
// earlier, or it uses NotPrincipal, "*" or non-AWS principals) is someone else's. Then
// nothing is removed and the error is a *SidConflictError. earlier are as for Merge.
func RevokeOurs(existing string, ours []Statement, earlier ...string) (result string, deleted bool, err error) {
	if strings.TrimSpace(existing) == "" {
		return "", false, nil
	}
	p, err := parseRaw(existing)
	if err != nil {
		return "", false, err
	}
	sids := make([]string, 0, len(ours))
	for _, s := range ours {
		sids = append(sids, s.Sid)
	}
	allowed := ourPrincipals(ours, earlier)
	for _, raw := range p.statements {
		if sid := sidOf(raw); slices.Contains(sids, sid) {
			if err := checkOurs(sid, raw, allowed); err != nil {
				return "", false, err
			}
		}
	}
	return revoke(existing, p, sids)
}

// ourPrincipals is the set of AWS principals our statements grant, plus earlier.
func ourPrincipals(ours []Statement, earlier []string) map[string]bool {
	allowed := map[string]bool{}
	for _, a := range earlier {
		allowed[a] = true
	}
	for _, s := range ours {
		if s.Principal != nil {
			for _, a := range s.Principal.AWS {
				allowed[a] = true
			}
		}
	}
	return allowed
}

// revoke removes the statements whose Sid is in sids from the parsed existing policy p.
func revoke(existing string, p *rawPolicy, sids []string) (string, bool, error) {
	out := make([]json.RawMessage, 0, len(p.statements))
	for _, raw := range p.statements {
		if !slices.Contains(sids, sidOf(raw)) {
			out = append(out, raw)
		}
	}
	if len(out) == len(p.statements) {
		return existing, false, nil
	}
	if len(out) == 0 {
		return "", true, nil
	}
	return p.render(out), false, nil
}
