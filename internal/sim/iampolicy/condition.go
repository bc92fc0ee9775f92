package iampolicy

import (
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// conditionsMatch: every (operator, key) pair must hold. Keys are case-insensitive,
// values case-sensitive unless the operator says otherwise.
func conditionsMatch(conds []Condition, ctx identity.Context) bool {
	for _, c := range conds {
		if !conditionMatches(c, ctx) {
			return false
		}
	}
	return true
}

type valueOp struct {
	negated bool
	// test reports whether the request value matches one policy value (before negation).
	test func(policy, request string) bool
}

var valueOps = map[string]valueOp{
	"stringequals":              {false, func(p, r string) bool { return p == r }},
	"stringnotequals":           {true, func(p, r string) bool { return p == r }},
	"stringequalsignorecase":    {false, strings.EqualFold},
	"stringnotequalsignorecase": {true, strings.EqualFold},
	"stringlike":                {false, wildcard},
	"stringnotlike":             {true, wildcard},
	"arnequals":                 {false, arnCondition},
	"arnlike":                   {false, arnCondition},
	"arnnotequals":              {true, arnCondition},
	"arnnotlike":                {true, arnCondition},
	"bool":                      {false, strings.EqualFold},
}

// conditionMatches evaluates one condition. An unknown operator never matches, so a
// statement using one never applies (an Allow with it allows nothing).
func conditionMatches(c Condition, ctx identity.Context) bool {
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
	single := func(r string) bool {
		hit := false
		for _, p := range c.Values {
			if vo.test(p, r) {
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
