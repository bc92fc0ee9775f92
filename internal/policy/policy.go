// Package policy holds IAM policy documents as Go values: the DataSync trust policy, the
// two DataSync role policies, the source bucket-policy statements, and the merge and
// revoke of those statements into another team's bucket policy.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Version is the current IAM policy language version.
const Version = "2012-10-17"

// StringList is an IAM value that may be written as one string or as a list of strings.
// It unmarshals from either; it marshals one element as a string and more as a list.
type StringList []string

// UnmarshalJSON accepts "a" or ["a", "b"].
func (l *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = StringList{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*l = list
	return nil
}

// MarshalJSON writes one element as a string, else a list.
func (l StringList) MarshalJSON() ([]byte, error) {
	if len(l) == 1 {
		return json.Marshal(l[0])
	}
	return json.Marshal([]string(l))
}

// Principal is "*" (Wildcard) or an object of principal types, each a string or a list.
type Principal struct {
	Wildcard      bool
	AWS           StringList
	Service       StringList
	Federated     StringList
	CanonicalUser StringList
}

type principalObject struct {
	AWS           StringList `json:"AWS,omitempty"`
	CanonicalUser StringList `json:"CanonicalUser,omitempty"`
	Federated     StringList `json:"Federated,omitempty"`
	Service       StringList `json:"Service,omitempty"`
}

// UnmarshalJSON accepts "*" or {"AWS": ..., "Service": ..., "Federated": ..., "CanonicalUser": ...}.
func (p *Principal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s != "*" {
			return fmt.Errorf("a principal string must be \"*\", got %q", s)
		}
		*p = Principal{Wildcard: true}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var o principalObject
	if err := dec.Decode(&o); err != nil {
		return fmt.Errorf("principal: %w", err)
	}
	*p = Principal{AWS: o.AWS, Service: o.Service, Federated: o.Federated, CanonicalUser: o.CanonicalUser}
	return nil
}

// MarshalJSON writes "*" or the object with its non-empty keys.
func (p Principal) MarshalJSON() ([]byte, error) {
	if p.Wildcard {
		return []byte(`"*"`), nil
	}
	return json.Marshal(principalObject{AWS: p.AWS, CanonicalUser: p.CanonicalUser, Federated: p.Federated, Service: p.Service})
}

// Condition maps a condition operator to keys and their values.
type Condition map[string]map[string]StringList

// UnmarshalJSON accepts what IAM accepts as a condition value: a string, a number or a
// boolean, or a list of them (AWS's own examples write "s3:TlsVersion": 1.2 and
// "aws:SecureTransport": false unquoted). Numbers and booleans are kept as their JSON text.
func (c *Condition) UnmarshalJSON(b []byte) error {
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Condition, len(raw))
	for op, kv := range raw {
		if kv == nil {
			return fmt.Errorf("condition operator %s: want an object of keys and values", op)
		}
		out[op] = make(map[string]StringList, len(kv))
		for key, v := range kv {
			values, err := conditionValues(v)
			if err != nil {
				return fmt.Errorf("condition %s %s: %w", op, key, err)
			}
			out[op][key] = values
		}
	}
	*c = out
	return nil
}

// conditionValues reads one condition value or a list of them as text.
func conditionValues(raw json.RawMessage) (StringList, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
		out := make(StringList, 0, len(list))
		for _, e := range list {
			s, err := conditionScalar(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := conditionScalar(raw)
	if err != nil {
		return nil, err
	}
	return StringList{s}, nil
}

func conditionScalar(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("want a string, a number or a boolean, got %s", raw)
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid          string     `json:"Sid,omitempty"`
	Effect       string     `json:"Effect"`
	Principal    *Principal `json:"Principal,omitempty"`
	NotPrincipal *Principal `json:"NotPrincipal,omitempty"`
	Action       StringList `json:"Action,omitempty"`
	NotAction    StringList `json:"NotAction,omitempty"`
	Resource     StringList `json:"Resource,omitempty"`
	NotResource  StringList `json:"NotResource,omitempty"`
	Condition    Condition  `json:"Condition,omitempty"`
}

// Statements is the Statement element: one object or a list. It marshals as a list.
type Statements []Statement

// UnmarshalJSON accepts one statement object or a list of them.
func (s *Statements) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one Statement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = Statements{one}
		return nil
	}
	var list []Statement
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*s = list
	return nil
}

// Document is an IAM policy document.
type Document struct {
	Version   string     `json:"Version,omitempty"`
	ID        string     `json:"Id,omitempty"`
	Statement Statements `json:"Statement"`
}

// Parse reads a policy document.
func Parse(text string) (*Document, error) {
	var d Document
	if err := json.Unmarshal([]byte(text), &d); err != nil {
		return nil, &MalformedError{Err: err}
	}
	return &d, nil
}

// String is the compact JSON text of d.
func (d Document) String() string {
	b, err := json.Marshal(d)
	if err != nil {
		// Every field of Document marshals; this cannot happen.
		panic(err)
	}
	return string(b)
}

// Equivalent reports whether d and o grant the same thing: equal after lists are sorted
// and de-duplicated (IAM treats them as sets) and a single statement is seen as a list.
// Use it to compare a policy read back from IAM (which may reorder or reformat) with ours.
func (d Document) Equivalent(o Document) bool {
	a, b := d.canonical(), o.canonical()
	return a.String() == b.String()
}

func (d Document) canonical() Document {
	c := Document{Version: d.Version, ID: d.ID, Statement: make(Statements, len(d.Statement))}
	for i, s := range d.Statement {
		s.Principal = canonicalPrincipal(s.Principal)
		s.NotPrincipal = canonicalPrincipal(s.NotPrincipal)
		s.Action, s.NotAction = set(s.Action), set(s.NotAction)
		s.Resource, s.NotResource = set(s.Resource), set(s.NotResource)
		if s.Condition != nil {
			cond := Condition{}
			for op, kv := range s.Condition {
				cond[op] = map[string]StringList{}
				for k, v := range kv {
					cond[op][k] = set(v)
				}
			}
			s.Condition = cond
		}
		c.Statement[i] = s
	}
	return c
}

func canonicalPrincipal(p *Principal) *Principal {
	if p == nil {
		return nil
	}
	return &Principal{Wildcard: p.Wildcard, AWS: set(p.AWS), Service: set(p.Service), Federated: set(p.Federated), CanonicalUser: set(p.CanonicalUser)}
}

func set(l StringList) StringList {
	if l == nil {
		return nil
	}
	out := slices.Clone(l)
	slices.Sort(out)
	// A two-element list of equal values compacts to one, which marshals as a string:
	// the same set either way.
	return slices.Compact(out)
}

// MalformedError says a policy text is not a policy document.
type MalformedError struct {
	Err error
}

func (e *MalformedError) Error() string {
	return "the bucket policy is not a valid policy document: " + e.Err.Error()
}

func (e *MalformedError) Unwrap() error { return e.Err }

var errNoStatement = errors.New(`no "Statement" element`)
