package iampolicy

import (
	"encoding/json"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// allowedWith evaluates an identity policy of one Allow statement with condition block
// cond (JSON) for userA's s3:ListBucket on bucketArn with request context ctx.
func allowedWith(t *testing.T, cond string, ctx identity.Context) bool {
	t.Helper()
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":`+cond+`}}`)
	req := Request{Principal: userA, Action: "s3:ListBucket", Resource: bucketArn, Context: ctx}
	return Evaluate(Input{Request: req, IdentityPolicies: []*Policy{p}}).Allowed
}

func op(operator, key string, values ...string) string {
	b, _ := json.Marshal(map[string]map[string][]string{operator: {key: values}})
	return string(b)
}

func one(key, value string) identity.Context { return identity.Context{key: {value}} }

// TestConditionOperatorEdges: each comparison operator at, below and above its policy
// value ("IAM JSON policy elements: Condition operators"), so that an operator that is off
// by one at the equal value, or compares the wrong way, fails.
func TestConditionOperatorEdges(t *testing.T) {
	const key = "s3:max-keys"
	const dkey = "aws:TokenIssueTime"
	tests := []struct {
		operator string
		policy   string
		below    bool // the request value just below the policy value
		equal    bool // the request value equal to it
		above    bool // the request value just above it
		values   [3]string
	}{
		{operator: "NumericEquals", policy: "10", below: false, equal: true, above: false, values: [3]string{"9", "10", "11"}},
		{operator: "NumericNotEquals", policy: "10", below: true, equal: false, above: true, values: [3]string{"9", "10", "11"}},
		{operator: "NumericLessThan", policy: "10", below: true, equal: false, above: false, values: [3]string{"9", "10", "11"}},
		{operator: "NumericLessThanEquals", policy: "10", below: true, equal: true, above: false, values: [3]string{"9", "10", "11"}},
		{operator: "NumericGreaterThan", policy: "10", below: false, equal: false, above: true, values: [3]string{"9", "10", "11"}},
		{operator: "NumericGreaterThanEquals", policy: "10", below: false, equal: true, above: true, values: [3]string{"9", "10", "11"}},
		{operator: "NumericLessThan", policy: "0.5", below: true, equal: false, above: false, values: [3]string{"0.25", "0.50", "0.75"}},
		{operator: "DateEquals", policy: "2026-11-01T12:00:00Z", below: false, equal: true, above: false,
			values: [3]string{"2026-11-01T11:59:59Z", "2026-11-01T12:00:00Z", "2026-11-01T12:00:01Z"}},
		{operator: "DateNotEquals", policy: "2026-11-01T12:00:00Z", below: true, equal: false, above: true,
			values: [3]string{"2026-11-01T11:59:59Z", "2026-11-01T12:00:00Z", "2026-11-01T12:00:01Z"}},
		{operator: "DateLessThan", policy: "2026-11-01T12:00:00Z", below: true, equal: false, above: false,
			values: [3]string{"2026-11-01T11:59:59Z", "2026-11-01T12:00:00Z", "2026-11-01T12:00:01Z"}},
		{operator: "DateLessThanEquals", policy: "2026-11-01T12:00:00Z", below: true, equal: true, above: false,
			values: [3]string{"2026-11-01T11:59:59Z", "2026-11-01T12:00:00Z", "2026-11-01T12:00:01Z"}},
		{operator: "DateGreaterThan", policy: "2026-11-01T12:00:00Z", below: false, equal: false, above: true,
			values: [3]string{"2026-11-01T11:59:59Z", "2026-11-01T12:00:00Z", "2026-11-01T12:00:01Z"}},
		{operator: "DateGreaterThanEquals", policy: "2026-11-01T12:00:00Z", below: false, equal: true, above: true,
			values: [3]string{"2026-11-01T11:59:59Z", "2026-11-01T12:00:00Z", "2026-11-01T12:00:01Z"}},
		// The same instant written as epoch seconds, with an offset, and as a date.
		{operator: "DateEquals", policy: "1793534400", below: false, equal: true, above: false,
			values: [3]string{"2026-11-01T11:59:59Z", "2026-11-01T21:00:00+09:00", "1793534401"}},
		{operator: "DateLessThanEquals", policy: "2026-11-01", below: true, equal: true, above: false,
			values: [3]string{"2026-10-31T23:59:59Z", "2026-11-01T00:00Z", "2026-11-01T00:00:00.5Z"}},
	}
	for _, tt := range tests {
		want := [3]bool{tt.below, tt.equal, tt.above}
		for i, v := range tt.values {
			k := key
			if tt.operator[:4] == "Date" {
				k = dkey
			}
			if got := allowedWith(t, op(tt.operator, k, tt.policy), one(k, v)); got != want[i] {
				t.Errorf("%s %s against request %s: got %v, want %v", tt.operator, tt.policy, v, got, want[i])
			}
		}
	}
}

func TestConditionOperators(t *testing.T) {
	const key = "s3:prefix"
	tests := []struct {
		name string
		cond string
		ctx  identity.Context
		want bool
	}{
		{"StringEquals one value, equal", op("StringEquals", key, "photos/"), one(key, "photos/"), true},
		{"StringEquals is case-sensitive", op("StringEquals", key, "photos/"), one(key, "Photos/"), false},
		{"StringNotEquals one value, equal", op("StringNotEquals", key, "photos/"), one(key, "photos/"), false},
		{"StringNotEquals one value, different", op("StringNotEquals", key, "photos/"), one(key, "logs/"), true},
		{"StringNotEquals several values, one equal", op("StringNotEquals", key, "a/", "photos/"), one(key, "photos/"), false},
		{"StringNotEquals several values, none equal", op("StringNotEquals", key, "a/", "photos/"), one(key, "logs/"), true},
		// "If the key that you specify in a policy condition is not present in the request
		// context, the values do not match" — except for the negated operators.
		{"StringEquals, key missing", op("StringEquals", key, "photos/"), nil, false},
		{"StringNotEquals, key missing", op("StringNotEquals", key, "photos/"), nil, true},
		{"StringEqualsIgnoreCase", op("StringEqualsIgnoreCase", key, "PHOTOS/"), one(key, "photos/"), true},
		{"StringNotEqualsIgnoreCase, equal but for case", op("StringNotEqualsIgnoreCase", key, "PHOTOS/"), one(key, "photos/"), false},
		{"StringNotEqualsIgnoreCase, different", op("StringNotEqualsIgnoreCase", key, "PHOTOS/"), one(key, "logs/"), true},
		{"StringLike", op("StringLike", key, "ph?tos/*"), one(key, "photos/2026/"), true},
		{"StringNotLike, matching", op("StringNotLike", key, "ph?tos/*"), one(key, "photos/2026/"), false},
		{"StringNotLike, not matching", op("StringNotLike", key, "ph?tos/*"), one(key, "logs/"), true},
		{"StringEqualsIfExists, key missing", op("StringEqualsIfExists", key, "photos/"), nil, true},
		{"StringEqualsIfExists, key different", op("StringEqualsIfExists", key, "photos/"), one(key, "logs/"), false},
		{"key names are case-insensitive", op("StringEquals", "S3:Prefix", "photos/"), one(key, "photos/"), true},
		{"operator names are case-insensitive", op("stringequals", key, "photos/"), one(key, "photos/"), true},
		{"Bool true", op("Bool", "aws:SecureTransport", "true"), one("aws:SecureTransport", "TRUE"), true},
		{"Bool false against true", op("Bool", "aws:SecureTransport", "false"), one("aws:SecureTransport", "true"), false},
		{"IpAddress in the block", op("IpAddress", "aws:SourceIp", "203.0.113.0/24"), one("aws:SourceIp", "203.0.113.255"), true},
		{"IpAddress outside the block", op("IpAddress", "aws:SourceIp", "203.0.113.0/24"), one("aws:SourceIp", "203.0.114.0"), false},
		{"IpAddress, IPv4-mapped IPv6 request", op("IpAddress", "aws:SourceIp", "203.0.113.0/24"), one("aws:SourceIp", "::ffff:203.0.113.7"), true},
		{"IpAddress, a single address", op("IpAddress", "aws:SourceIp", "203.0.113.7"), one("aws:SourceIp", "203.0.113.7"), true},
		{"IpAddress, a single address against its IPv4-mapped IPv6 form", op("IpAddress", "aws:SourceIp", "203.0.113.7"), one("aws:SourceIp", "::ffff:203.0.113.7"), true},
		{"IpAddress, another single address", op("IpAddress", "aws:SourceIp", "203.0.113.7"), one("aws:SourceIp", "203.0.113.8"), false},
		{"IpAddress, not an address", op("IpAddress", "aws:SourceIp", "203.0.113.0/24"), one("aws:SourceIp", "example.com"), false},
		{"NotIpAddress outside the block", op("NotIpAddress", "aws:SourceIp", "203.0.113.0/24"), one("aws:SourceIp", "198.51.100.1"), true},
		{"NotIpAddress in the block", op("NotIpAddress", "aws:SourceIp", "203.0.113.0/24"), one("aws:SourceIp", "203.0.113.1"), false},
		{"BinaryEquals same bytes", op("BinaryEquals", "s3:x", "QmluYXJ5"), one("s3:x", "QmluYXJ5"), true},
		{"BinaryEquals other bytes", op("BinaryEquals", "s3:x", "QmluYXJ5"), one("s3:x", "QmluYXJ6"), false},
		{"NumericEquals, not a number", op("NumericEquals", "s3:max-keys", "10"), one("s3:max-keys", "ten"), false},
		{"DateEquals, not a date", op("DateEquals", "aws:CurrentTime", "2026-11-01"), one("aws:CurrentTime", "yesterday"), false},
		{"ArnLike", op("ArnLike", "aws:SourceArn", "arn:aws:datasync:*:222222222222:task/*"), one("aws:SourceArn", "arn:aws:datasync:ap-northeast-1:222222222222:task/task-1"), true},
		{"ArnLike, another account", op("ArnLike", "aws:SourceArn", "arn:aws:datasync:*:222222222222:task/*"), one("aws:SourceArn", "arn:aws:datasync:ap-northeast-1:333333333333:task/task-1"), false},
		{"ArnEquals, not an ARN", op("ArnEquals", "aws:SourceArn", "arn:aws:s3:::src"), one("aws:SourceArn", "src"), false},
		{"ArnLike, a pattern of five components matches nothing", op("ArnLike", "aws:SourceArn", "arn:aws:s3::*"), one("aws:SourceArn", "arn:aws:s3:::src"), false},
		{"ArnNotEquals, another ARN", op("ArnNotEquals", "aws:SourceArn", "arn:aws:s3:::src"), one("aws:SourceArn", "arn:aws:s3:::dst"), true},
		{"Null true, key missing", op("Null", "aws:TokenIssueTime", "true"), nil, true},
		{"Null true, key present", op("Null", "aws:TokenIssueTime", "true"), one("aws:TokenIssueTime", "2026-11-01T00:00:00Z"), false},
		{"Null false, key present", op("Null", "aws:TokenIssueTime", "false"), one("aws:TokenIssueTime", "2026-11-01T00:00:00Z"), true},
		{"Null false, key missing", op("Null", "aws:TokenIssueTime", "false"), nil, false},
		{"an unknown operator never matches", op("StringAlmostEquals", key, "photos/"), one(key, "photos/"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := allowedWith(t, tt.cond, tt.ctx); got != tt.want {
				t.Errorf("got allowed %v, want %v", got, tt.want)
			}
		})
	}
}

// TestConditionSetOperators: ForAllValues and ForAnyValue over multivalued keys, and what
// a key with several values does without them ("Multivalued context keys").
func TestConditionSetOperators(t *testing.T) {
	const key = "aws:TagKeys"
	tags := func(v ...string) identity.Context { return identity.Context{key: v} }
	tests := []struct {
		name string
		cond string
		ctx  identity.Context
		want bool
	}{
		{"ForAllValues, every value listed", op("ForAllValues:StringEquals", key, "team", "cost"), tags("team", "cost"), true},
		{"ForAllValues, one value not listed", op("ForAllValues:StringEquals", key, "team", "cost"), tags("team", "owner"), false},
		{"ForAllValues, key missing (vacuously true)", op("ForAllValues:StringEquals", key, "team"), nil, true},
		{"ForAllValues, key empty (vacuously true)", op("ForAllValues:StringEquals", key, "team"), tags(), true},
		{"ForAnyValue, one value listed", op("ForAnyValue:StringEquals", key, "team"), tags("owner", "team"), true},
		{"ForAnyValue, none listed", op("ForAnyValue:StringEquals", key, "team"), tags("owner", "cost"), false},
		{"ForAnyValue, key missing", op("ForAnyValue:StringEquals", key, "team"), nil, false},
		{"ForAnyValue with a negated operator", op("ForAnyValue:StringNotEquals", key, "team"), tags("team", "owner"), true},
		{"ForAllValues with a negated operator", op("ForAllValues:StringNotEquals", key, "team"), tags("team", "owner"), false},
		{"set operator names are case-insensitive", op("forallvalues:stringequals", key, "team"), tags("team"), true},
		{"an unknown set operator never matches", op("ForSomeValues:StringEquals", key, "team"), tags("team"), false},
		{"an unknown set operator never matches, negated", op("ForNoValue:StringNotEquals", key, "team"), tags("owner"), false},
		{"an unknown set operator before Null never matches", op("ForEachValue:Null", key, "true"), nil, false},
		{"a set operator before Null changes nothing", op("ForAnyValue:Null", key, "true"), nil, true},
		{"several values without a set operator do not match", op("StringEquals", key, "team"), tags("team", "team"), false},
		{"several values without a set operator, negated, do not match", op("StringNotEquals", key, "x"), tags("team", "owner"), false},
		{"an empty key without a set operator is a missing key", op("StringEquals", key, "team"), tags(), false},
		{"an empty key without a set operator is a missing key, negated", op("StringNotEquals", key, "team"), tags(), true},
		{"one value without a set operator", op("StringEquals", key, "team"), tags("team"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := allowedWith(t, tt.cond, tt.ctx); got != tt.want {
				t.Errorf("got allowed %v, want %v", got, tt.want)
			}
		})
	}
}

// TestConditionVariablesWithoutValue follows "Policy variables with no value"
// (pageVariables): a variable whose key is missing and that has no default makes
// StringEquals and StringLike fail and the inverted operators match; a default fills in.
func TestConditionVariablesWithoutValue(t *testing.T) {
	const tag = "aws:PrincipalTag/team"
	team := func(v ...string) identity.Context {
		return identity.Context{"s3:prefix": {"media/"}, tag: v}
	}
	prefixOnly := identity.Context{"s3:prefix": {"media/"}}
	tests := []struct {
		name string
		cond string
		ctx  identity.Context
		want bool
	}{
		{"StringEquals resolved", op("StringEquals", "s3:prefix", "${aws:PrincipalTag/team}/"), team("media"), true},
		{"StringEquals without a value", op("StringEquals", "s3:prefix", "${aws:PrincipalTag/team}/"), prefixOnly, false},
		{"StringLike without a value", op("StringLike", "s3:prefix", "${aws:PrincipalTag/team}*"), prefixOnly, false},
		{"StringEqualsIgnoreCase without a value", op("StringEqualsIgnoreCase", "s3:prefix", "${aws:PrincipalTag/team}/"), prefixOnly, false},
		{"StringNotEquals without a value", op("StringNotEquals", "s3:prefix", "${aws:PrincipalTag/team}/"), prefixOnly, true},
		{"StringNotLike without a value", op("StringNotLike", "s3:prefix", "${aws:PrincipalTag/team}*"), prefixOnly, true},
		{"StringNotEquals resolved and equal", op("StringNotEquals", "s3:prefix", "${aws:PrincipalTag/team}/"), team("media"), false},
		// The substituted value is compared as the operator says: StringEquals and StringLike
		// exactly, StringEqualsIgnoreCase without regard to case.
		{"StringEquals resolved to another case", op("StringEquals", "s3:prefix", "${aws:PrincipalTag/team}/"), team("MEDIA"), false},
		{"StringLike resolved to another case", op("StringLike", "s3:prefix", "${aws:PrincipalTag/team}*"), team("MEDIA"), false},
		{"StringEqualsIgnoreCase resolved to another case", op("StringEqualsIgnoreCase", "s3:prefix", "${aws:PrincipalTag/team}/"), team("MEDIA"), true},
		{"StringNotEqualsIgnoreCase resolved to another case", op("StringNotEqualsIgnoreCase", "s3:prefix", "${aws:PrincipalTag/team}/"), team("MEDIA"), false},
		{"a key with two values has no value", op("StringEquals", "s3:prefix", "${aws:PrincipalTag/team}/"), team("media", "media"), false},
		{"the default fills in", op("StringEquals", "s3:prefix", "${aws:PrincipalTag/team, 'media'}/"), prefixOnly, true},
		{"a resolved key wins over the default", op("StringEquals", "s3:prefix", "${aws:PrincipalTag/team, 'media'}/"), team("logs"), false},
		{"a doubled quote in the default is one quote", op("StringEquals", "s3:prefix", "${aws:PrincipalTag/team, 'it''s'}"), identity.Context{"s3:prefix": {"it's"}}, true},
		{"a default without quotes is no default", op("StringEquals", "s3:prefix", "${aws:PrincipalTag/team, media}/"), prefixOnly, false},
		{"a default of one quote is no default", op("StringEquals", "s3:prefix", "${aws:PrincipalTag/team,'}/"), prefixOnly, false},
		{"the empty default", op("StringEquals", "s3:prefix", "${aws:PrincipalTag/team, ''}media/"), prefixOnly, true},
		{"${$} and ${?} are literal", op("StringLike", "s3:prefix", "${$}${?}*"), identity.Context{"s3:prefix": {"$?x"}}, true},
		{"${?} is no wildcard", op("StringLike", "s3:prefix", "${?}"), identity.Context{"s3:prefix": {"a"}}, false},
		{"? in StringLike is one character", op("StringLike", "s3:prefix", "${aws:username}-?"), identity.Context{"s3:prefix": {"alice-7"}}, true},
		{"? in StringEquals is literal", op("StringEquals", "s3:prefix", "${aws:username}-?"), identity.Context{"s3:prefix": {"alice-7"}}, false},
		{"a variable in an operator that takes none is text", op("NumericEquals", "s3:max-keys", "${s3:max-keys}"), identity.Context{"s3:max-keys": {"5"}}, false},
		{"ArnLike with an unresolved variable", op("ArnLike", "aws:SourceArn", "arn:aws:datasync:*:${aws:PrincipalTag/acct}:task/*"), one("aws:SourceArn", "arn:aws:datasync:us-east-1:111111111111:task/t"), false},
		{"ArnNotLike with an unresolved variable", op("ArnNotLike", "aws:SourceArn", "arn:aws:datasync:*:${aws:PrincipalTag/acct}:task/*"), one("aws:SourceArn", "arn:aws:datasync:us-east-1:111111111111:task/t"), true},
		{"ArnLike with a variable, request not an ARN", op("ArnLike", "aws:SourceArn", "arn:aws:datasync:*:${aws:PrincipalAccount}:task/*"), one("aws:SourceArn", "task/t"), false},
		{"ArnLike with a variable, request of too few components", op("ArnLike", "aws:SourceArn", "arn:${aws:username}*"), one("aws:SourceArn", "arn:alice"), false},
		{"ArnLike with a resolved variable", op("ArnLike", "aws:SourceArn", "arn:aws:datasync:*:${aws:PrincipalAccount}:task/*"), one("aws:SourceArn", "arn:aws:datasync:us-east-1:111111111111:task/t"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := allowedWith(t, tt.cond, tt.ctx); got != tt.want {
				t.Errorf("got allowed %v, want %v", got, tt.want)
			}
		})
	}
}

// TestExplicitDenyWhereverListed: an explicit deny wins whether its statement comes
// before or after the Allow, in an identity policy, a boundary or a resource policy.
func TestExplicitDenyWhereverListed(t *testing.T) {
	const allow = `{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`
	const deny = `{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::src/*"}`
	const resAllow = `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::src/*"}`
	const resDeny = `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::src/*"}`
	doc := func(statements ...string) *Policy {
		s := `{"Version":"2012-10-17","Statement":[`
		for i, st := range statements {
			if i > 0 {
				s += ","
			}
			s += st
		}
		return mustParse(t, s+`]}`)
	}
	req := Request{Principal: userA, Action: "s3:GetObject", Resource: objArn, ResourceAccount: acctA}
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{"identity policy, Deny before Allow", Input{Request: req, IdentityPolicies: []*Policy{doc(deny, allow)}}, "with an explicit deny in an identity-based policy"},
		{"identity policy, Allow before Deny", Input{Request: req, IdentityPolicies: []*Policy{doc(allow, deny)}}, "with an explicit deny in an identity-based policy"},
		{"identity policies, the Deny in the first", Input{Request: req, IdentityPolicies: []*Policy{doc(deny), doc(allow)}}, "with an explicit deny in an identity-based policy"},
		{"boundary, Deny before Allow", Input{Request: req, IdentityPolicies: []*Policy{doc(allow)}, PermissionsBoundary: doc(deny, allow)}, "with an explicit deny in a permissions boundary"},
		{"resource policy, Deny before Allow", Input{Request: req, ResourcePolicy: doc(resDeny, resAllow)}, "with an explicit deny in a resource-based policy"},
		{"resource policy, Allow before Deny", Input{Request: req, ResourcePolicy: doc(resAllow, resDeny)}, "with an explicit deny in a resource-based policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.in)
			if got.Allowed || !got.ExplicitDeny || got.Reason != tt.want {
				t.Errorf("got %+v, want an explicit deny %q", got, tt.want)
			}
		})
	}
}

// TestWildcardMismatchAtTheStart: without a '*' there is nothing to backtrack to, so a
// first character that differs, or a '?' past the end, fails the match.
func TestWildcardMismatchAtTheStart(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"ab", "xb", false},
		{"abc", "xbc", false},
		{"a?", "a", false},
		{"?", "", false},
		{"??", "ab", true},
		{"**", "a", true},
		{"a*", "ab", true},
	}
	for _, tt := range tests {
		if got := WildcardMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("WildcardMatch(%q, %q): got %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// TestResourcePolicyNamesAnAccountOfAnyDigits: a 12-digit account id as the principal
// delegates to that account whatever its digits.
func TestResourcePolicyNamesAnAccountOfAnyDigits(t *testing.T) {
	for _, acct := range []string{"901234567890", "000000000009"} {
		p := identity.UserPrincipal(acct, "carol", "AIDACAROL")
		req := Request{Principal: p, Action: "s3:GetObject", Resource: objArn, ResourceAccount: acctA}
		in := Input{Request: req, IdentityPolicies: []*Policy{mustParse(t, allowID("s3:GetObject", "*"))},
			ResourcePolicy: mustParse(t, bucketPolicy("Allow", `{"AWS":"`+acct+`"}`, "s3:GetObject", "arn:aws:s3:::src/*", ""))}
		if got := Evaluate(in); !got.Allowed {
			t.Errorf("account %s named in the bucket policy: got %+v, want allowed", acct, got)
		}
	}
	for _, notAcct := range []string{"90123456789", "9012345678901", "90123456789a", "90123456789/"} {
		p := identity.UserPrincipal("901234567890", "carol", "AIDACAROL")
		req := Request{Principal: p, Action: "s3:GetObject", Resource: objArn, ResourceAccount: acctA}
		in := Input{Request: req, IdentityPolicies: []*Policy{mustParse(t, allowID("s3:GetObject", "*"))},
			ResourcePolicy: mustParse(t, bucketPolicy("Allow", `{"AWS":"`+notAcct+`"}`, "s3:GetObject", "arn:aws:s3:::src/*", ""))}
		if got := Evaluate(in); got.Allowed {
			t.Errorf("principal %q is no account id: got allowed, want denied", notAcct)
		}
	}
}

func TestParseEffectMessages(t *testing.T) {
	tests := []struct{ give, want string }{
		{`{"Statement":[{"Action":"s3:*","Resource":"*"}]}`, "Missing required field Effect"},
		{`{"Statement":[{"Effect":"allow","Action":"s3:*","Resource":"*"}]}`, "Invalid effect: allow"},
	}
	for _, tt := range tests {
		if _, err := Parse(tt.give); err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%s): got %v, want %q", tt.give, err, tt.want)
		}
	}
}
