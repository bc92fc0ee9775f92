package iampolicy

import (
	"regexp"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// Policy variables (IAM User Guide, "IAM policy elements: Variables and tags"): in a
// policy with Version 2012-10-17, ${key} in a Resource/NotResource ARN and in the values
// of the string and ARN condition operators is replaced by the request's value of key;
// ${key, 'default'} falls back to default; ${*}, ${?} and ${$} are the literal
// characters. Substituted text is literal: a * in a user name is not a wildcard. Older
// policy versions treat ${...} as plain text.
//
// A variable whose key is missing (or has several values) and has no default has no
// value, and a policy value holding it matches nothing. The page's section "Policy
// variables with no value"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-no-value)
// spells out what follows: StringEquals or StringLike do not match, so the statement
// does not take effect; inverted operators such as StringNotEquals or StringNotLike do
// match ("the value of the condition key they are testing against is not equal to or
// like the effectively null value"), so its example Deny with StringNotEquals against
// ${aws:PrincipalTag/Team} denies when the tag is not set; and a Resource or
// NotResource entry with a no-value variable matches no resource.

const variablesVersion = "2012-10-17"

// hasVariables reports whether pattern needs expanding under a policy of this version.
func hasVariables(s *Statement, pattern string) bool {
	return s.Variables && strings.Contains(pattern, "${")
}

// variablePattern turns pattern into an anchored regular expression, resolving its
// variables from ctx; * and ? of the policy text are wildcards when wildcards is set.
// ok is false when a variable cannot be resolved.
func variablePattern(pattern string, ctx identity.Context, wildcards, foldCase bool) (re *regexp.Regexp, ok bool) {
	var b strings.Builder
	if foldCase {
		b.WriteString("(?i)")
	}
	b.WriteString(`(?s)\A`)
	for i := 0; i < len(pattern); {
		if strings.HasPrefix(pattern[i:], "${") {
			if end := strings.IndexByte(pattern[i:], '}'); end > 0 {
				val, resolved := resolveVariable(pattern[i+2:i+end], ctx)
				if !resolved {
					return nil, false
				}
				b.WriteString(regexp.QuoteMeta(val))
				i += end + 1
				continue
			}
		}
		c := pattern[i]
		switch {
		case wildcards && c == '*':
			b.WriteString(".*")
		case wildcards && c == '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
		i++
	}
	b.WriteString(`\z`)
	re, err := regexp.Compile(b.String())
	return re, err == nil
}

// resolveVariable resolves the text between ${ and }.
func resolveVariable(inner string, ctx identity.Context) (string, bool) {
	switch inner {
	case "*", "?", "$":
		return inner, true
	}
	name, def, hasDefault := strings.Cut(inner, ",")
	name = strings.TrimSpace(name)
	if hasDefault {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
			return "", false
		}
		def = strings.ReplaceAll(def[1:len(def)-1], "''", "'")
	}
	if vals, ok := ctx.Get(name); ok && len(vals) == 1 {
		return vals[0], true
	}
	return def, hasDefault
}

// splitARN splits an ARN pattern into its six components, not splitting inside ${...}
// (a variable such as ${aws:PrincipalAccount} holds a colon). The last component keeps
// any further colons. It returns nil when there are fewer than six.
func splitARN(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s) && len(parts) < 5; i++ {
		switch {
		case strings.HasPrefix(s[i:], "${"):
			depth++
			i++
		case s[i] == '}' && depth > 0:
			depth--
		case s[i] == ':' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if len(parts) < 5 {
		return nil
	}
	return append(parts, s[start:])
}

// arnVariableMatch is arnLike for a pattern with variables: each component is compared
// separately, with wildcards.
func arnVariableMatch(pattern, value string, ctx identity.Context) bool {
	pp, vp := splitARN(pattern), strings.SplitN(value, ":", 6)
	if pp == nil || len(vp) != 6 {
		re, ok := variablePattern(pattern, ctx, true, false)
		return ok && re.MatchString(value)
	}
	for i := range pp {
		re, ok := variablePattern(pp[i], ctx, true, false)
		if !ok || !re.MatchString(vp[i]) {
			return false
		}
	}
	return true
}
