package iampolicy

import (
	"bytes"
	"encoding/base64"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// conditionsMatch: every (operator, key) pair must hold. Keys are case-insensitive,
// values case-sensitive unless the operator says otherwise.
func conditionsMatch(s *Statement, ctx identity.Context) bool {
	for _, c := range s.Conditions {
		if !conditionMatches(s, c, ctx) {
			return false
		}
	}
	return true
}

type valueOp struct {
	negated bool
	// test reports whether the request value matches one policy value (before negation).
	test func(policy, request string) bool
	// vars says how a policy value with policy variables is matched (varsNone: the
	// operator takes no variables).
	vars varsKind
}

type varsKind int

const (
	varsNone varsKind = iota
	varsEquals
	varsEqualsFold
	varsLike
	varsArn
)

var valueOps = map[string]valueOp{
	"stringequals":              {false, func(p, r string) bool { return p == r }, varsEquals},
	"stringnotequals":           {true, func(p, r string) bool { return p == r }, varsEquals},
	"stringequalsignorecase":    {false, strings.EqualFold, varsEqualsFold},
	"stringnotequalsignorecase": {true, strings.EqualFold, varsEqualsFold},
	"stringlike":                {false, wildcard, varsLike},
	"stringnotlike":             {true, wildcard, varsLike},
	"arnequals":                 {false, arnCondition, varsArn},
	"arnlike":                   {false, arnCondition, varsArn},
	"arnnotequals":              {true, arnCondition, varsArn},
	"arnnotlike":                {true, arnCondition, varsArn},
	"bool":                      {false, strings.EqualFold, varsNone},
	"numericequals":             {false, numeric(func(c int) bool { return c == 0 }), varsNone},
	"numericnotequals":          {true, numeric(func(c int) bool { return c == 0 }), varsNone},
	"numericlessthan":           {false, numeric(func(c int) bool { return c < 0 }), varsNone},
	"numericlessthanequals":     {false, numeric(func(c int) bool { return c <= 0 }), varsNone},
	"numericgreaterthan":        {false, numeric(func(c int) bool { return c > 0 }), varsNone},
	"numericgreaterthanequals":  {false, numeric(func(c int) bool { return c >= 0 }), varsNone},
	"dateequals":                {false, date(func(c int) bool { return c == 0 }), varsNone},
	"datenotequals":             {true, date(func(c int) bool { return c == 0 }), varsNone},
	"datelessthan":              {false, date(func(c int) bool { return c < 0 }), varsNone},
	"datelessthanequals":        {false, date(func(c int) bool { return c <= 0 }), varsNone},
	"dategreaterthan":           {false, date(func(c int) bool { return c > 0 }), varsNone},
	"dategreaterthanequals":     {false, date(func(c int) bool { return c >= 0 }), varsNone},
	"ipaddress":                 {false, ipInRange, varsNone},
	"notipaddress":              {true, ipInRange, varsNone},
	"binaryequals":              {false, binaryEquals, varsNone},
}

// numeric compares the request value with the policy value as numbers (integers or
// decimals); cmp gets the sign of request - policy. A value that is not a number
// matches nothing.
func numeric(cmp func(int) bool) func(policy, request string) bool {
	return func(policy, request string) bool {
		p, ok1 := new(big.Rat).SetString(strings.TrimSpace(policy))
		r, ok2 := new(big.Rat).SetString(strings.TrimSpace(request))
		if !ok1 || !ok2 {
			return false
		}
		return cmp(r.Cmp(p))
	}
}

// date compares the request time with the policy time: ISO 8601 (W3C profile: a date,
// or a date and time with an offset or Z) or epoch seconds; cmp gets the sign of
// request - policy. A value that is not a time matches nothing.
func date(cmp func(int) bool) func(policy, request string) bool {
	return func(policy, request string) bool {
		p, ok1 := parseDate(policy)
		r, ok2 := parseDate(request)
		if !ok1 || !ok2 {
			return false
		}
		return cmp(r.Compare(p))
	}
}

func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ipInRange: the request address lies in the policy's CIDR block (or equals its single
// address).
func ipInRange(policy, request string) bool {
	addr, err := netip.ParseAddr(strings.TrimSpace(request))
	if err != nil {
		return false
	}
	policy = strings.TrimSpace(policy)
	if pfx, err := netip.ParsePrefix(policy); err == nil {
		return pfx.Contains(addr.Unmap())
	}
	if a, err := netip.ParseAddr(policy); err == nil {
		return a.Unmap() == addr.Unmap()
	}
	return false
}

// binaryEquals compares base64-encoded values byte for byte.
func binaryEquals(policy, request string) bool {
	p, err1 := base64.StdEncoding.DecodeString(policy)
	r, err2 := base64.StdEncoding.DecodeString(request)
	return err1 == nil && err2 == nil && bytes.Equal(p, r)
}

// conditionMatches evaluates one condition. An unknown operator never matches, so a
// statement using one never applies (an Allow with it allows nothing).
func conditionMatches(s *Statement, c Condition, ctx identity.Context) bool {
	op := strings.ToLower(c.Operator)
	set := ""
	if before, after, ok := strings.Cut(op, ":"); ok {
		set, op = before, after
		if set != "foranyvalue" && set != "forallvalues" {
			return false
		}
	}
	values, present := ctx.Get(c.Key)
	if op == "null" {
		// Null tests presence only; a set operator in front of it changes nothing.
		want := "true"
		if present {
			want = "false"
		}
		for _, v := range c.Values {
			if strings.EqualFold(v, want) {
				return true
			}
		}
		return false
	}
	ifExists := false
	if base, ok := strings.CutSuffix(op, "ifexists"); ok {
		op, ifExists = base, true
	}
	vo, known := valueOps[op]
	if !known {
		return false
	}
	// one request value against the policy values: positive operators need any policy
	// value to match; negated ones need none to match.
	matchers := make([]func(string) bool, 0, len(c.Values))
	for _, p := range c.Values {
		if vo.vars != varsNone && hasVariables(s, p) {
			matchers = append(matchers, variableMatcher(vo.vars, p, ctx))
			continue
		}
		matchers = append(matchers, func(r string) bool { return vo.test(p, r) })
	}
	single := func(r string) bool {
		hit := false
		for _, m := range matchers {
			if m(r) {
				hit = true
				break
			}
		}
		return hit != vo.negated
	}
	switch set {
	case "forallvalues":
		// Vacuously true for a missing or empty key, as AWS documents.
		for _, r := range values {
			if !single(r) {
				return false
			}
		}
		return true
	case "foranyvalue":
		for _, r := range values {
			if single(r) {
				return true
			}
		}
		return false
	}
	if !present || len(values) == 0 {
		// A missing key: ...IfExists and negated operators match, others do not.
		return ifExists || vo.negated
	}
	if len(values) > 1 {
		// "Multivalued context keys require a condition set operator": without one the
		// condition does not match (as the independent iam-simulate engine decides).
		return false
	}
	return single(values[0])
}

// arnCondition is ArnLike/ArnEquals for one value: both sides must be ARNs (six
// components); each component is compared with wildcards.
func arnCondition(policy, request string) bool {
	if strings.Count(policy, ":") < 5 || strings.Count(request, ":") < 5 {
		return false
	}
	return arnLike(policy, request)
}

// variableMatcher matches a request value against a policy value holding policy
// variables; a value whose variables cannot be resolved matches nothing.
func variableMatcher(kind varsKind, policy string, ctx identity.Context) func(string) bool {
	never := func(string) bool { return false }
	if kind == varsArn {
		return func(r string) bool {
			return strings.Count(r, ":") >= 5 && arnVariableMatch(policy, r, ctx)
		}
	}
	re, ok := variablePattern(policy, ctx, kind == varsLike, kind == varsEqualsFold)
	if !ok {
		return never
	}
	return re.MatchString
}
