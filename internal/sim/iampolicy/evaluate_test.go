package iampolicy

import (
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

const (
	acctA = "111111111111"
	acctB = "222222222222"
)

var (
	userA     = identity.UserPrincipal(acctA, "alice", "AIDAALICE")
	userB     = identity.UserPrincipal(acctB, "bob", "AIDABOB")
	sessB     = identity.SessionPrincipal(acctB, "xfer", "AROAXFER", "s1")
	sessA     = identity.SessionPrincipal(acctA, "reader", "AROAREADER", "s2")
	rootB     = identity.RootPrincipal(acctB)
	datasync  = identity.ServicePrincipal("datasync.amazonaws.com")
	bucketArn = "arn:aws:s3:::src"
	objArn    = "arn:aws:s3:::src/photos/a.jpg"
)

func allowID(action, resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`
}

func bucketPolicy(effect, principal, action, resource, cond string) string {
	s := `{"Version":"2012-10-17","Statement":[{"Sid":"S1","Effect":"` + effect + `","Principal":` + principal +
		`,"Action":"` + action + `","Resource":"` + resource + `"`
	if cond != "" {
		s += `,"Condition":` + cond
	}
	return s + `}]}`
}

func TestEvaluate(t *testing.T) {
	type give struct {
		p        identity.Principal
		action   string
		resource string
		resAcct  string
		ids      []string
		res      string
		trust    bool
		ctx      identity.Context
	}
	tests := []struct {
		name       string
		give       give
		want       bool
		wantReason string
	}{
		// same account
		{"same account identity allow", give{p: userA, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			ids: []string{allowID("s3:GetObject", "arn:aws:s3:::src/*")}}, true, ""},
		{"same account nothing allows", give{p: userA, action: "s3:GetObject", resource: objArn, resAcct: acctA},
			false, "because no identity-based policy allows the s3:GetObject action"},
		{"same account resource policy alone allows user ARN", give{p: userA, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			res: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::111111111111:user/alice"}`, "s3:GetObject", "arn:aws:s3:::src/*", "")}, true, ""},
		{"same account resource policy naming account needs identity", give{p: userA, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			res: bucketPolicy("Allow", `{"AWS":"111111111111"}`, "s3:GetObject", "arn:aws:s3:::src/*", "")}, false, "no identity-based policy"},
		{"same account resource policy role ARN matches session", give{p: sessA, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			res: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::111111111111:role/reader"}`, "s3:GetObject", "arn:aws:s3:::src/*", "")}, true, ""},
		{"same account session ARN as principal", give{p: sessA, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			res: bucketPolicy("Allow", `{"AWS":"arn:aws:sts::111111111111:assumed-role/reader/s2"}`, "s3:GetObject", "arn:aws:s3:::src/*", "")}, true, ""},
		{"other session name does not match", give{p: sessA, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			res: bucketPolicy("Allow", `{"AWS":"arn:aws:sts::111111111111:assumed-role/reader/other"}`, "s3:GetObject", "arn:aws:s3:::src/*", "")}, false, ""},
		// cross account
		{"cross account both allow", give{p: sessB, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			ids: []string{allowID("s3:GetObject", "arn:aws:s3:::src/*")},
			res: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::222222222222:role/xfer"}`, "s3:GetObject", "arn:aws:s3:::src/*", "")}, true, ""},
		{"cross account only identity allows", give{p: sessB, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			ids: []string{allowID("s3:GetObject", "arn:aws:s3:::src/*")}}, false,
			"because no resource-based policy allows the s3:GetObject action"},
		{"cross account only resource allows", give{p: sessB, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			res: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::222222222222:role/xfer"}`, "s3:GetObject", "arn:aws:s3:::src/*", "")}, false,
			"because no identity-based policy allows the s3:GetObject action"},
		{"cross account account principal plus identity", give{p: sessB, action: "s3:ListBucket", resource: bucketArn, resAcct: acctA,
			ids: []string{allowID("s3:ListBucket", bucketArn)},
			res: bucketPolicy("Allow", `{"AWS":"222222222222"}`, "s3:ListBucket", bucketArn, "")}, true, ""},
		{"cross account root ARN principal plus identity", give{p: userB, action: "s3:ListBucket", resource: bucketArn, resAcct: acctA,
			ids: []string{allowID("s3:ListBucket", bucketArn)},
			res: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::222222222222:root"}`, "s3:ListBucket", bucketArn, "")}, true, ""},
		{"cross account wrong account in policy", give{p: userB, action: "s3:ListBucket", resource: bucketArn, resAcct: acctA,
			ids: []string{allowID("s3:ListBucket", bucketArn)},
			res: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::333333333333:root"}`, "s3:ListBucket", bucketArn, "")}, false, "no resource-based policy"},
		{"cross account root user needs only resource policy", give{p: rootB, action: "s3:ListBucket", resource: bucketArn, resAcct: acctA,
			res: bucketPolicy("Allow", `{"AWS":"222222222222"}`, "s3:ListBucket", bucketArn, "")}, true, ""},
		{"cross account star principal plus identity", give{p: userB, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			ids: []string{allowID("s3:*", "*")}, res: bucketPolicy("Allow", `"*"`, "s3:GetObject", "arn:aws:s3:::src/*", "")}, true, ""},
		{"cross account AWS star principal", give{p: userB, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			ids: []string{allowID("s3:*", "*")}, res: bucketPolicy("Allow", `{"AWS":"*"}`, "s3:GetObject", "arn:aws:s3:::src/*", "")}, true, ""},
		// explicit deny
		{"explicit deny in identity beats allow", give{p: userA, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			ids: []string{allowID("s3:*", "*"), `{"Statement":{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}}`}}, false,
			"with an explicit deny in an identity-based policy"},
		{"explicit deny in resource policy beats identity allow", give{p: userA, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			ids: []string{allowID("s3:*", "*")}, res: bucketPolicy("Deny", `"*"`, "s3:GetObject", "arn:aws:s3:::src/*", "")}, false,
			"with an explicit deny in a resource-based policy"},
		{"deny naming the account applies to its users", give{p: userB, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			ids: []string{allowID("s3:*", "*")}, res: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"},` +
				`{"Effect":"Deny","Principal":{"AWS":"222222222222"},"Action":"s3:GetObject","Resource":"*"}]}`}, false, "explicit deny"},
		{"deny for other action does not apply", give{p: userA, action: "s3:PutObject", resource: objArn, resAcct: acctA,
			ids: []string{allowID("s3:*", "*"), `{"Statement":{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}}`}}, true, ""},
		// wildcards
		{"action wildcard star", give{p: userA, action: "s3:GetObject", resource: objArn, ids: []string{allowID("s3:Get*", "*")}}, true, ""},
		{"action wildcard question mark", give{p: userA, action: "s3:GetObject", resource: objArn, ids: []string{allowID("s3:GetObjec?", "*")}}, true, ""},
		{"action case-insensitive", give{p: userA, action: "s3:GetObject", resource: objArn, ids: []string{allowID("S3:GETOBJECT", "*")}}, true, ""},
		{"action other service no match", give{p: userA, action: "s3:GetObject", resource: objArn, ids: []string{allowID("iam:*", "*")}}, false, ""},
		{"resource wildcard spans slashes", give{p: userA, action: "s3:GetObject", resource: objArn, ids: []string{allowID("s3:GetObject", "arn:aws:s3:::src/*")}}, true, ""},
		{"resource case-sensitive", give{p: userA, action: "s3:GetObject", resource: objArn, ids: []string{allowID("s3:GetObject", "arn:aws:s3:::SRC/*")}}, false, ""},
		{"bucket ARN does not cover objects", give{p: userA, action: "s3:GetObject", resource: objArn, ids: []string{allowID("s3:GetObject", bucketArn)}}, false, ""},
		{"resource question mark", give{p: userA, action: "s3:ListBucket", resource: bucketArn, ids: []string{allowID("s3:ListBucket", "arn:aws:s3:::sr?")}}, true, ""},
		// NotAction / NotResource / NotPrincipal
		{"NotAction allows others", give{p: userA, action: "s3:GetObject", resource: objArn,
			ids: []string{`{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`}}, true, ""},
		{"NotAction excludes listed", give{p: userA, action: "iam:CreateRole", resource: "arn:aws:iam::111111111111:role/x",
			ids: []string{`{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`}}, false, ""},
		{"NotResource allows others", give{p: userA, action: "s3:GetObject", resource: objArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::secret/*"}}`}}, true, ""},
		{"NotResource excludes listed", give{p: userA, action: "s3:GetObject", resource: "arn:aws:s3:::secret/k",
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::secret/*"}}`}}, false, ""},
		{"NotPrincipal deny naming the role and account still denies its sessions", give{p: sessA, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			ids: []string{allowID("s3:*", "*")},
			res: `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111111111111:role/reader","111111111111"]},"Action":"s3:*","Resource":"*"}}`}, false, "explicit deny in a resource-based policy"},
		{"NotPrincipal deny exempts the named role session", give{p: sessA, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			ids: []string{allowID("s3:*", "*")},
			res: `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:sts::111111111111:assumed-role/reader/s2","arn:aws:iam::111111111111:role/reader","111111111111"]},"Action":"s3:*","Resource":"*"}}`}, true, ""},
		{"NotPrincipal deny hits others", give{p: userA, action: "s3:GetObject", resource: objArn, resAcct: acctA,
			ids: []string{allowID("s3:*", "*")},
			res: `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:role/reader"},"Action":"s3:*","Resource":"*"}}`}, false, "explicit deny in a resource-based policy"},
		// conditions
		{"StringEquals s3:prefix match", give{p: userA, action: "s3:ListBucket", resource: bucketArn, ctx: identity.Context{"s3:prefix": {"photos/"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"photos/"}}}}`}}, true, ""},
		{"StringEquals key case-insensitive, value case-sensitive", give{p: userA, action: "s3:ListBucket", resource: bucketArn, ctx: identity.Context{"s3:prefix": {"Photos/"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEquals":{"S3:Prefix":"photos/"}}}}`}}, false, ""},
		{"StringEquals missing key", give{p: userA, action: "s3:ListBucket", resource: bucketArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"photos/"}}}}`}}, false, ""},
		{"StringEqualsIfExists missing key", give{p: userA, action: "s3:ListBucket", resource: bucketArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEqualsIfExists":{"s3:prefix":"photos/"}}}}`}}, true, ""},
		{"StringNotEquals missing key matches", give{p: userA, action: "s3:ListBucket", resource: bucketArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringNotEquals":{"s3:prefix":"secret/"}}}}`}}, true, ""},
		{"StringNotEquals equal value", give{p: userA, action: "s3:ListBucket", resource: bucketArn, ctx: identity.Context{"s3:prefix": {"secret/"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringNotEquals":{"s3:prefix":["a/","secret/"]}}}}`}}, false, ""},
		{"StringLike prefix", give{p: userA, action: "s3:ListBucket", resource: bucketArn, ctx: identity.Context{"s3:prefix": {"photos/2026/"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":["photos/*"]}}}}`}}, true, ""},
		{"StringNotLike excludes", give{p: userA, action: "s3:ListBucket", resource: bucketArn, ctx: identity.Context{"s3:prefix": {"photos/2026/"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringNotLike":{"s3:prefix":["photos/*"]}}}}`}}, false, ""},
		{"StringEqualsIgnoreCase", give{p: userA, action: "s3:ListBucket", resource: bucketArn, ctx: identity.Context{"s3:prefix": {"PHOTOS/"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"s3:prefix":"photos/"}}}}`}}, true, ""},
		{"trust policy service with SourceAccount", give{p: datasync, action: "sts:AssumeRole", resource: "arn:aws:iam::222222222222:role/xfer", resAcct: acctB, trust: true,
			ctx: identity.Context{"aws:SourceAccount": {acctB}},
			res: `{"Statement":{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"222222222222"}}}}`}, true, ""},
		{"trust policy service wrong SourceAccount", give{p: datasync, action: "sts:AssumeRole", resource: "arn:aws:iam::222222222222:role/xfer", resAcct: acctB, trust: true,
			ctx: identity.Context{"aws:SourceAccount": {acctA}},
			res: `{"Statement":{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"222222222222"}}}}`}, false, ""},
		{"trust policy other service", give{p: datasync, action: "sts:AssumeRole", resource: "arn:aws:iam::222222222222:role/xfer", resAcct: acctB, trust: true,
			res: `{"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}`}, false, ""},
		{"ArnLike aws:SourceArn", give{p: datasync, action: "sts:AssumeRole", resource: "arn:aws:iam::222222222222:role/xfer", resAcct: acctB, trust: true,
			ctx: identity.Context{"aws:SourceArn": {"arn:aws:datasync:us-east-1:222222222222:location/loc-1"}},
			res: `{"Statement":{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:datasync:*:222222222222:*"}}}}`}, true, ""},
		{"ArnEquals mismatch", give{p: datasync, action: "sts:AssumeRole", resource: "arn:aws:iam::222222222222:role/xfer", resAcct: acctB, trust: true,
			ctx: identity.Context{"aws:SourceArn": {"arn:aws:datasync:us-east-1:222222222222:task/task-1"}},
			res: `{"Statement":{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:datasync:us-east-1:222222222222:location/loc-1"}}}}`}, false, ""},
		{"ArnNotEquals PrincipalArn", give{p: sessA, action: "s3:GetObject", resource: objArn, resAcct: acctA, ids: []string{allowID("s3:*", "*")},
			res: `{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/reader"}}}}`}, true, ""},
		{"ArnNotLike PrincipalArn denies others", give{p: userA, action: "s3:GetObject", resource: objArn, resAcct: acctA, ids: []string{allowID("s3:*", "*")},
			res: `{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/*"}}}}`}, false, "explicit deny"},
		{"aws:PrincipalAccount condition", give{p: userB, action: "s3:ListBucket", resource: bucketArn, resAcct: acctA, ids: []string{allowID("s3:*", "*")},
			res: bucketPolicy("Allow", `"*"`, "s3:ListBucket", bucketArn, `{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}`)}, true, ""},
		{"iam:PassedToService", give{p: userB, action: "iam:PassRole", resource: "arn:aws:iam::222222222222:role/xfer", ctx: identity.Context{"iam:PassedToService": {"datasync.amazonaws.com"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"datasync.amazonaws.com"}}}}`}}, true, ""},
		{"iam:PassedToService other", give{p: userB, action: "iam:PassRole", resource: "arn:aws:iam::222222222222:role/xfer", ctx: identity.Context{"iam:PassedToService": {"lambda.amazonaws.com"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"datasync.amazonaws.com"}}}}`}}, false, ""},
		{"Bool", give{p: userA, action: "s3:GetObject", resource: objArn, ctx: identity.Context{"aws:SecureTransport": {"true"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true}}}}`}}, true, ""},
		{"Null true on missing key", give{p: userA, action: "s3:GetObject", resource: objArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Null":{"sts:ExternalId":"true"}}}}`}}, true, ""},
		{"Null false on missing key", give{p: userA, action: "s3:GetObject", resource: objArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Null":{"sts:ExternalId":"false"}}}}`}}, false, ""},
		{"ForAnyValue", give{p: userA, action: "s3:GetObject", resource: objArn, ctx: identity.Context{"aws:TagKeys": {"a", "b"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"b"}}}}`}}, true, ""},
		{"ForAllValues rejects extra value", give{p: userA, action: "s3:GetObject", resource: objArn, ctx: identity.Context{"aws:TagKeys": {"a", "c"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}}}`}}, false, ""},
		{"ForAllValues missing key is vacuously true", give{p: userA, action: "s3:GetObject", resource: objArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}}}`}}, true, ""},
		{"NumericLessThanEquals s3:max-keys within limit", give{p: userA, action: "s3:ListBucket", resource: bucketArn, ctx: identity.Context{"s3:max-keys": {"10"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}}`}}, true, ""},
		{"NumericLessThanEquals s3:max-keys over limit", give{p: userA, action: "s3:ListBucket", resource: bucketArn, ctx: identity.Context{"s3:max-keys": {"1000"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}}`}}, false, ""},
		{"NumericGreaterThan decimal", give{p: userA, action: "s3:ListBucket", resource: bucketArn, ctx: identity.Context{"s3:max-keys": {"10.5"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericGreaterThan":{"s3:max-keys":10}}}}`}}, true, ""},
		{"NumericNotEquals missing key matches", give{p: userA, action: "s3:ListBucket", resource: bucketArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericNotEquals":{"s3:max-keys":"10"}}}}`}}, true, ""},
		{"NumericEquals missing key does not match", give{p: userA, action: "s3:ListBucket", resource: bucketArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericEquals":{"s3:max-keys":"10"}}}}`}}, false, ""},
		{"Deny NumericGreaterThan applies", give{p: userA, action: "s3:ListBucket", resource: bucketArn, ctx: identity.Context{"s3:max-keys": {"1000"}},
			ids: []string{allowID("s3:*", "*"), `{"Statement":{"Effect":"Deny","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericGreaterThan":{"s3:max-keys":"100"}}}}`}}, false,
			"with an explicit deny in an identity-based policy"},
		{"DateLessThan aws:CurrentTime in the future allows", give{p: userA, action: "s3:GetObject", resource: objArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2999-01-01T00:00:00Z"}}}}`}}, true, ""},
		{"DateLessThan aws:CurrentTime in the past does not allow", give{p: userA, action: "s3:GetObject", resource: objArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2001-01-01T00:00:00Z"}}}}`}}, false, ""},
		{"DateGreaterThan aws:EpochTime as epoch seconds", give{p: userA, action: "s3:GetObject", resource: objArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:EpochTime":"1000000000"}}}}`}}, true, ""},
		{"IpAddress in CIDR", give{p: userA, action: "s3:GetObject", resource: objArn, ctx: identity.Context{"aws:SourceIp": {"203.0.113.7"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`}}, true, ""},
		{"NotIpAddress outside CIDR", give{p: userA, action: "s3:GetObject", resource: objArn, ctx: identity.Context{"aws:SourceIp": {"198.51.100.1"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`}}, true, ""},
		{"unknown operator never allows", give{p: userA, action: "s3:GetObject", resource: objArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"alice"}}}}`}}, false, ""},
		{"multivalued key without set operator never matches", give{p: userA, action: "s3:GetObject", resource: objArn, ctx: identity.Context{"aws:TagKeys": {"a", "b"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:TagKeys":"a"}}}}`}}, false, ""},
		{"two conditions are ANDed", give{p: userA, action: "s3:ListBucket", resource: bucketArn, ctx: identity.Context{"s3:prefix": {"photos/"}},
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"photos/","aws:username":"bob"}}}}`}}, false, ""},
		// STS trust policies
		{"trust same-account exact ARN without identity", give{p: userA, action: "sts:AssumeRole", resource: "arn:aws:iam::111111111111:role/r", resAcct: acctA, trust: true,
			res: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"sts:AssumeRole"}}`}, true, ""},
		{"trust same-account root needs identity", give{p: userA, action: "sts:AssumeRole", resource: "arn:aws:iam::111111111111:role/r", resAcct: acctA, trust: true,
			res: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}}`}, false, ""},
		{"trust same-account root plus identity", give{p: userA, action: "sts:AssumeRole", resource: "arn:aws:iam::111111111111:role/r", resAcct: acctA, trust: true,
			ids: []string{allowID("sts:AssumeRole", "*")},
			res: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}}`}, true, ""},
		{"trust same-account identity alone is not enough", give{p: userA, action: "sts:AssumeRole", resource: "arn:aws:iam::111111111111:role/r", resAcct: acctA, trust: true,
			ids: []string{allowID("sts:AssumeRole", "*")},
			res: `{"Statement":{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole"}}`}, false, "no resource-based policy"},
		{"trust cross-account exact ARN still needs identity", give{p: userB, action: "sts:AssumeRole", resource: "arn:aws:iam::111111111111:role/r", resAcct: acctA, trust: true,
			res: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/bob"},"Action":"sts:AssumeRole"}}`}, false, "no identity-based policy"},
		{"trust with ExternalId", give{p: userB, action: "sts:AssumeRole", resource: "arn:aws:iam::111111111111:role/r", resAcct: acctA, trust: true,
			ids: []string{allowID("sts:AssumeRole", "arn:aws:iam::111111111111:role/r")}, ctx: identity.Context{"sts:ExternalId": {"x-1"}},
			res: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x-1"}}}}`}, true, ""},
		{"trust with ExternalId missing", give{p: userB, action: "sts:AssumeRole", resource: "arn:aws:iam::111111111111:role/r", resAcct: acctA, trust: true,
			ids: []string{allowID("sts:AssumeRole", "arn:aws:iam::111111111111:role/r")},
			res: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x-1"}}}}`}, false, ""},
		// service principals and statements without principal
		{"service principal needs resource policy", give{p: datasync, action: "s3:GetObject", resource: objArn, resAcct: acctA}, false, "no resource-based policy"},
		{"resource statement without Principal never applies", give{p: userB, action: "s3:GetObject", resource: objArn, resAcct: acctA, ids: []string{allowID("s3:*", "*")},
			res: `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`}, false, "no resource-based policy"},
		{"identity statement without Resource never applies", give{p: userA, action: "s3:GetObject", resource: objArn,
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*"}}`}}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Request: Request{Principal: tt.give.p, Action: tt.give.action, Resource: tt.give.resource,
				ResourceAccount: tt.give.resAcct, Context: tt.give.ctx}, TrustPolicy: tt.give.trust}
			for _, d := range tt.give.ids {
				p, err := Parse(d)
				if err != nil {
					t.Fatalf("identity policy: %v", err)
				}
				in.IdentityPolicies = append(in.IdentityPolicies, p)
			}
			if tt.give.res != "" {
				p, err := Parse(tt.give.res)
				if err != nil {
					t.Fatalf("resource policy: %v", err)
				}
				in.ResourcePolicy = p
			}
			got := Evaluate(in)
			if got.Allowed != tt.want {
				t.Fatalf("allowed: got %v, want %v (reason %q)", got.Allowed, tt.want, got.Reason)
			}
			if tt.wantReason != "" && !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("reason: got %q, want it to contain %q", got.Reason, tt.wantReason)
			}
		})
	}
	if len(tests) < 40 {
		t.Errorf("got %d cases, want at least 40", len(tests))
	}
}

func TestDeniedMessage(t *testing.T) {
	req := Request{Principal: sessB, Action: "s3:GetObject", Resource: objArn, ResourceAccount: acctA}
	p, _ := Parse(allowID("s3:GetObject", "*"))
	got := Evaluate(Input{Request: req, IdentityPolicies: []*Policy{p}}).Denied(req).Error()
	want := "User: arn:aws:sts::222222222222:assumed-role/xfer/s1 is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::src/photos/a.jpg because no resource-based policy allows the s3:GetObject action"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWildcard(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false}, {"a?c", "abc", true},
		{"a?c", "ac", false}, {"*/*", "a/b/c", true}, {"photos/*", "photos/", true}, {"", "", true}, {"", "a", false},
		{"a**b", "ab", true}, {"*a", "bbba", true}, {"*a", "bbab", false},
	}
	for _, tt := range tests {
		if got := wildcard(tt.pattern, tt.s); got != tt.want {
			t.Errorf("wildcard(%q, %q): got %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, give string }{
		{"not json", "nope"},
		{"array", "[]"},
		{"missing statement", `{"Version":"2012-10-17"}`},
		{"bad effect", `{"Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}`},
		{"no action", `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`},
		{"action and notaction", `{"Statement":[{"Effect":"Allow","Action":"a:b","NotAction":"a:c","Resource":"*"}]}`},
		{"bad principal", `{"Statement":[{"Effect":"Allow","Principal":"bob","Action":"s3:*","Resource":"*"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.give); err == nil {
				t.Errorf("got nil error, want one")
			}
		})
	}
}

func TestPolicyVariables(t *testing.T) {
	const v = `"Version":"2012-10-17",`
	wildUser := identity.UserPrincipal(acctA, "al*", "AIDAWILD")
	tests := []struct {
		name     string
		p        identity.Principal
		resource string
		ctx      identity.Context
		policy   string
		want     bool
	}{
		{"resource ${aws:username} resolves", userA, "arn:aws:s3:::src/alice/x", nil,
			`{` + v + `"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::src/${aws:username}/*"}}`, true},
		{"resource ${aws:username} of another user", userA, "arn:aws:s3:::src/bob/x", nil,
			`{` + v + `"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::src/${aws:username}/*"}}`, false},
		{"without Version 2012-10-17 a variable is plain text", userA, "arn:aws:s3:::src/alice/x", nil,
			`{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::src/${aws:username}/*"}}`, false},
		{"missing key matches nothing", sessA, "arn:aws:s3:::src/reader/x", nil,
			`{` + v + `"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::src/${aws:username}/*"}}`, false},
		{"missing key takes the default", sessA, "arn:aws:s3:::src/shared/x", nil,
			`{` + v + `"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::src/${aws:username, 'shared'}/*"}}`, true},
		{"substituted text is literal, not a wildcard", wildUser, "arn:aws:s3:::src/alice/x", nil,
			`{` + v + `"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::src/${aws:username}/*"}}`, false},
		{"StringLike with a variable", userA, bucketArn, identity.Context{"s3:prefix": {"alice/photos/"}},
			`{` + v + `"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":"${aws:username}/*"}}}}`, true},
		{"StringLike with a variable, other prefix", userA, bucketArn, identity.Context{"s3:prefix": {"bob/"}},
			`{` + v + `"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":"${aws:username}/*"}}}}`, false},
		{"ArnEquals with a variable holding a colon", userA, bucketArn, nil,
			`{` + v + `"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:user/alice"}}}}`, true},
		{"${*} is a literal asterisk in StringLike", userA, bucketArn, identity.Context{"s3:prefix": {"*"}},
			`{` + v + `"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":"${*}"}}}}`, true},
		{"${*} in StringLike is no wildcard", userA, bucketArn, identity.Context{"s3:prefix": {"abc"}},
			`{` + v + `"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":"${*}"}}}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			action := "s3:GetObject"
			if tt.resource == bucketArn {
				action = "s3:ListBucket"
			}
			req := Request{Principal: tt.p, Action: action, Resource: tt.resource, Context: tt.ctx}
			if got := Evaluate(Input{Request: req, IdentityPolicies: []*Policy{p}}).Allowed; got != tt.want {
				t.Errorf("got allowed %v, want %v", got, tt.want)
			}
		})
	}
}

// TestNotPrincipal: who a NotPrincipal Deny exempts. Beyond the examples of AWS's
// NotPrincipal page (TestAWSDocumentedExamples), the page says AWS "might" check the
// account, then the role, then the session; the simulator takes the conservative
// reading, so every level must be listed for a principal to be exempt.
func TestNotPrincipal(t *testing.T) {
	const (
		rootA    = "arn:aws:iam::111111111111:root"
		aliceArn = "arn:aws:iam::111111111111:user/alice"
		roleArn  = "arn:aws:iam::111111111111:role/reader"
		sessArn  = "arn:aws:sts::111111111111:assumed-role/reader/s2"
	)
	rootA1 := identity.RootPrincipal(acctA)
	deny := func(principals ...string) string {
		return `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"},` +
			`{"Effect":"Deny","NotPrincipal":{"AWS":["` + strings.Join(principals, `","`) + `"]},"Action":"s3:*","Resource":"*"}]}`
	}
	tests := []struct {
		name string
		p    identity.Principal
		res  string
		want bool // allowed, i.e. exempt from the Deny
	}{
		{"account root exempts the root user", rootA1, deny(rootA), true},
		{"account id exempts the root user", rootA1, deny(acctA), true},
		{"account root does not exempt its users", userA, deny(rootA), false},
		{"account root does not exempt its role sessions", sessA, deny(rootA), false},
		{"user with its account is exempt", userA, deny(aliceArn, rootA), true},
		{"user without its account is denied", userA, deny(aliceArn), false},
		{"role and account do not exempt a session", sessA, deny(roleArn, rootA), false},
		{"session, role and account exempt the session", sessA, deny(sessArn, roleArn, rootA), true},
		{"session without the role is denied", sessA, deny(sessArn, rootA), false},
		{"session alone is denied", sessA, deny(sessArn), false},
		{"other account is denied", userB, deny(aliceArn, rootA), false},
		{"AWS star names everyone", userB, deny("*"), true},
		{"service principal named", datasync, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"},` +
			`{"Effect":"Deny","NotPrincipal":{"Service":"datasync.amazonaws.com"},"Action":"s3:*","Resource":"*"}]}`, true},
		{"service principal not named", datasync, deny(rootA), false},
		{"NotPrincipal with Allow grants nothing", userB, `{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"` + rootA + `"},"Action":"s3:*","Resource":"*"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Principal: tt.p, Action: "s3:GetObject", Resource: objArn, ResourceAccount: acctA}
			got := Evaluate(Input{Request: req, IdentityPolicies: []*Policy{mustParse(t, allowID("s3:*", "*"))}, ResourcePolicy: mustParse(t, tt.res)})
			if got.Allowed != tt.want {
				t.Errorf("got allowed %v (%s), want %v", got.Allowed, got.Reason, tt.want)
			}
		})
	}
}

// TestPermissionsBoundaryReasons: the boundary's place in AWS's enforcement order and
// the wording of its denials ("because no permissions boundary allows the X action",
// "with an explicit deny in a permissions boundary").
func TestPermissionsBoundaryReasons(t *testing.T) {
	onlyList := `{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}}`
	tests := []struct {
		name       string
		p          identity.Principal
		resAcct    string
		ids        []string
		boundary   string
		res        string
		want       bool
		wantReason string
	}{
		{"identity allows, boundary does not", sessA, acctA, []string{allowID("s3:*", "*")}, onlyList, "", false,
			"because no permissions boundary allows the s3:GetObject action"},
		{"boundary allows, identity does not", sessA, acctA, nil, allowID("s3:*", "*"), "", false,
			"because no identity-based policy allows the s3:GetObject action"},
		{"explicit deny in the boundary", sessA, acctA, []string{allowID("s3:*", "*")},
			`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}`, "", false,
			"with an explicit deny in a permissions boundary"},
		{"cross-account: boundary limits the requester's side", sessB, acctA, []string{allowID("s3:*", "*")}, onlyList,
			bucketPolicy("Allow", `{"AWS":"arn:aws:sts::222222222222:assumed-role/xfer/s1"}`, "s3:GetObject", "arn:aws:s3:::src/*", ""), false,
			"because no permissions boundary allows the s3:GetObject action"},
		{"cross-account: within the boundary", sessB, acctA, []string{allowID("s3:*", "*")}, allowID("s3:Get*", "*"),
			bucketPolicy("Allow", `{"AWS":"arn:aws:iam::222222222222:role/xfer"}`, "s3:GetObject", "arn:aws:s3:::src/*", ""), true, ""},
		{"root user has no boundary", rootB, acctB, nil, onlyList, "", true, ""},
		{"same account, resource policy naming the account: identity and boundary", sessA, acctA, []string{allowID("s3:*", "*")}, onlyList,
			bucketPolicy("Allow", `{"AWS":"111111111111"}`, "s3:GetObject", "arn:aws:s3:::src/*", ""), false,
			"because no permissions boundary allows the s3:GetObject action"},
		{"trust policy naming the caller's role is limited by the boundary", sessA, acctA, nil, onlyList,
			`{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/reader"},"Action":"sts:AssumeRole"}}`, false,
			"because no permissions boundary allows the"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			action, resource := "s3:GetObject", objArn
			trust := strings.Contains(tt.res, "sts:AssumeRole")
			if trust {
				action, resource = "sts:AssumeRole", "arn:aws:iam::111111111111:role/next"
			}
			in := Input{Request: Request{Principal: tt.p, Action: action, Resource: resource, ResourceAccount: tt.resAcct},
				PermissionsBoundary: mustParse(t, tt.boundary), TrustPolicy: trust}
			for _, d := range tt.ids {
				in.IdentityPolicies = append(in.IdentityPolicies, mustParse(t, d))
			}
			if tt.res != "" {
				in.ResourcePolicy = mustParse(t, tt.res)
			}
			got := Evaluate(in)
			if got.Allowed != tt.want || !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("got allowed %v with %q, want %v with %q", got.Allowed, got.Reason, tt.want, tt.wantReason)
			}
		})
	}
}

// PrincipalARNs lists the AWS entries of every Principal and NotPrincipal, in statement
// order, and nothing of a statement without either or of another principal type.
func TestPrincipalARNs(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:role/a","222222222222"],"Service":"datasync.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"},
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
		{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:user/u"},"Action":"s3:*","Resource":"*"}]}`)
	want := []string{"arn:aws:iam::111111111111:role/a", "222222222222", "arn:aws:iam::111111111111:user/u"}
	if got := p.PrincipalARNs(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
}
