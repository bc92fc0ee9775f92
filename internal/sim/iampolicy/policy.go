// Package iampolicy parses IAM policy documents and evaluates requests against them with
// AWS's policy evaluation logic (identity-based policies, permissions boundaries,
// resource-based policies, same-account and cross-account rules, explicit deny).
//
// Sources: IAM User Guide "Policy evaluation logic", "Cross-account policy evaluation
// logic", "Permissions boundaries for IAM entities", "IAM JSON policy elements"
// (Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition
// operators, Variables). awsdocs_test.go runs the worked examples of those pages.
package iampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Policy is a parsed policy document.
type Policy struct {
	Version    string
	Statements []Statement
}

// Statement is one statement. Absent elements are nil slices with the Has flags false.
type Statement struct {
	Sid    string
	Effect string // "Allow" | "Deny"

	Principal    *Principals
	NotPrincipal *Principals

	Action, NotAction       []string
	HasAction, HasNotAction bool

	Resource, NotResource       []string
	HasResource, HasNotResource bool

	Conditions []Condition

	// Variables is set when the policy's Version (2012-10-17) enables policy variables.
	Variables bool
}

// Principals is a Principal or NotPrincipal element. Any is true for "*" given as the
// whole element. Values maps the type ("AWS", "Service", "Federated", "CanonicalUser")
// to its entries.
type Principals struct {
	Any    bool
	Values map[string][]string
}

// Condition is one (operator, key, values) triple of a Condition block.
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Key      string
	Values   []string
}

// SyntaxError is a document that cannot be parsed as a policy.
type SyntaxError struct{ Msg string }

func (e *SyntaxError) Error() string { return e.Msg }

// ErrNotJSON is returned when the document is not a JSON object.
var ErrNotJSON = errors.New("policy is not a JSON object")

// Parse parses a policy document. It is strict about the shapes AWS rejects
// (Statement missing, Effect not Allow/Deny, both Action and NotAction ...).
func Parse(doc string) (*Policy, error) {
	trimmed := bytes.TrimSpace([]byte(doc))
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, ErrNotJSON
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, ErrNotJSON
	}
	p := &Policy{}
	for k, v := range raw {
		switch k {
		case "Version":
			if err := json.Unmarshal(v, &p.Version); err != nil {
				return nil, &SyntaxError{"Version must be a string"}
			}
		case "Id":
		case "Statement":
		default:
			return nil, &SyntaxError{"Unknown field " + k}
		}
	}
	st, ok := raw["Statement"]
	if !ok {
		return nil, &SyntaxError{"Missing required field Statement"}
	}
	var list []json.RawMessage
	if t := bytes.TrimSpace(st); len(t) > 0 && t[0] == '{' {
		list = []json.RawMessage{st}
	} else if err := json.Unmarshal(st, &list); err != nil {
		return nil, &SyntaxError{"Statement must be an object or an array"}
	}
	for _, s := range list {
		stmt, err := parseStatement(s)
		if err != nil {
			return nil, err
		}
		stmt.Variables = p.Version == variablesVersion
		p.Statements = append(p.Statements, stmt)
	}
	return p, nil
}

func parseStatement(b json.RawMessage) (Statement, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Statement{}, &SyntaxError{"Statement must be an object"}
	}
	var s Statement
	var err error
	for k, v := range raw {
		switch k {
		case "Sid":
			if e := json.Unmarshal(v, &s.Sid); e != nil {
				return s, &SyntaxError{"Sid must be a string"}
			}
		case "Effect":
			if e := json.Unmarshal(v, &s.Effect); e != nil {
				return s, &SyntaxError{"Effect must be a string"}
			}
		case "Principal":
			s.Principal, err = parsePrincipals(v)
		case "NotPrincipal":
			s.NotPrincipal, err = parsePrincipals(v)
		case "Action":
			s.Action, err = stringOrList(v, k)
			s.HasAction = true
		case "NotAction":
			s.NotAction, err = stringOrList(v, k)
			s.HasNotAction = true
		case "Resource":
			s.Resource, err = stringOrList(v, k)
			s.HasResource = true
		case "NotResource":
			s.NotResource, err = stringOrList(v, k)
			s.HasNotResource = true
		case "Condition":
			s.Conditions, err = parseConditions(v)
		default:
			return s, &SyntaxError{"Unknown field " + k}
		}
		if err != nil {
			return s, err
		}
	}
	switch {
	case s.Effect != "Allow" && s.Effect != "Deny":
		if s.Effect == "" {
			return s, &SyntaxError{"Missing required field Effect"}
		}
		return s, &SyntaxError{"Invalid effect: " + s.Effect}
	case !s.HasAction && !s.HasNotAction:
		return s, &SyntaxError{"Missing required field Action"}
	case s.HasAction && s.HasNotAction:
		return s, &SyntaxError{"Statement cannot have both Action and NotAction"}
	case s.HasResource && s.HasNotResource:
		return s, &SyntaxError{"Statement cannot have both Resource and NotResource"}
	case s.Principal != nil && s.NotPrincipal != nil:
		return s, &SyntaxError{"Statement cannot have both Principal and NotPrincipal"}
	}
	return s, nil
}

func stringOrList(v json.RawMessage, field string) ([]string, error) {
	var one string
	if err := json.Unmarshal(v, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(v, &many); err != nil {
		return nil, &SyntaxError{field + " must be a string or an array of strings"}
	}
	return many, nil
}

func parsePrincipals(v json.RawMessage) (*Principals, error) {
	var star string
	if err := json.Unmarshal(v, &star); err == nil {
		if star != "*" {
			return nil, &SyntaxError{"Invalid principal in policy"}
		}
		return &Principals{Any: true}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, &SyntaxError{"Invalid principal in policy"}
	}
	p := &Principals{Values: map[string][]string{}}
	for k, raw := range m {
		vals, err := stringOrList(raw, "Principal")
		if err != nil {
			return nil, &SyntaxError{"Invalid principal in policy"}
		}
		p.Values[k] = vals
	}
	return p, nil
}

func parseConditions(v json.RawMessage) ([]Condition, error) {
	var block map[string]map[string]json.RawMessage
	if err := json.Unmarshal(v, &block); err != nil {
		return nil, &SyntaxError{"Condition must be an object of objects"}
	}
	var out []Condition
	for op, keys := range block {
		for key, raw := range keys {
			vals, err := conditionValues(raw)
			if err != nil {
				return nil, err
			}
			out = append(out, Condition{Operator: op, Key: key, Values: vals})
		}
	}
	return out, nil
}

// conditionValues accepts a string, number or boolean, or an array of them.
func conditionValues(raw json.RawMessage) ([]string, error) {
	var anyv any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&anyv); err != nil {
		return nil, &SyntaxError{"invalid condition value"}
	}
	scalar := func(x any) (string, error) {
		switch t := x.(type) {
		case string:
			return t, nil
		case json.Number:
			return t.String(), nil
		case bool:
			return strconv.FormatBool(t), nil
		}
		return "", &SyntaxError{fmt.Sprintf("invalid condition value %v", x)}
	}
	if arr, ok := anyv.([]any); ok {
		out := make([]string, 0, len(arr))
		for _, x := range arr {
			s, err := scalar(x)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := scalar(anyv)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

// PrincipalARNs returns every "AWS" entry of the Principal and NotPrincipal elements of
// all statements (for existence checks at PutBucketPolicy time).
func (p *Policy) PrincipalARNs() []string {
	var out []string
	for _, s := range p.Statements {
		for _, ps := range []*Principals{s.Principal, s.NotPrincipal} {
			if ps != nil {
				out = append(out, ps.Values["AWS"]...)
			}
		}
	}
	return out
}
