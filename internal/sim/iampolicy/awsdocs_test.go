package iampolicy

import (
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// AWS's own worked examples: each case is a request against the policies of an example
// (or the smallest policies a stated rule needs) on an IAM User Guide page, with the
// verdict that page states. A change to the evaluator that departs from what AWS
// documents fails here. Policies are written as the pages give them; where a page uses
// placeholders (account ids, bucket names) the case picks concrete ones.
const (
	pageEvalBasics   = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html"
	pageCrossAccount = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html"
	pageDenyAllow    = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html"
	pageInterplay    = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html"
	pageBoundaries   = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html"
	pageNotPrincipal = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html"
	pageConditionOps = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"
	pageVariables    = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html"
)

type verdict int

const (
	verdictAllow verdict = iota
	verdictImplicitDeny
	verdictExplicitDeny
)

func (v verdict) String() string {
	return [...]string{"allow", "implicit deny", "explicit deny"}[v]
}

func verdictOf(r Result) verdict {
	switch {
	case r.Allowed:
		return verdictAllow
	case r.ExplicitDeny:
		return verdictExplicitDeny
	}
	return verdictImplicitDeny
}

// The single-account example of "Policy evaluation for requests within a single
// account": Carlos's identity policy and the bucket policy of his own bucket.
const (
	carlosIdentity = `{"Version":"2012-10-17","Statement":[
	 {"Sid":"AllowS3ListRead","Effect":"Allow","Action":["s3:GetBucketLocation","s3:GetAccountPublicAccessBlock","s3:ListAccessPoints","s3:ListAllMyBuckets"],"Resource":"arn:aws:s3:::*"},
	 {"Sid":"AllowS3Self","Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*","arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar"]},
	 {"Sid":"DenyS3Logs","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::*log*"}]}`
	carlosBucket = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/carlossalazar"},"Action":"s3:*",
	 "Resource":["arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*","arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar"]}]}`

	// The cross-account example: Carlos in 111111111111, the Production bucket in
	// 222222222222.
	carlosCrossIdentity = `{"Version":"2012-10-17","Statement":[
	 {"Sid":"AllowS3ListRead","Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"},
	 {"Sid":"AllowS3ProductionObjectActions","Effect":"Allow","Action":"s3:*Object*","Resource":"arn:aws:s3:::Production/*"},
	 {"Sid":"DenyS3Logs","Effect":"Deny","Action":"s3:*","Resource":["arn:aws:s3:::*log*","arn:aws:s3:::*log*/*"]}]}`
	carlosProductionBucket = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
	 "Action":["s3:GetObject*","s3:PutObject*","s3:ReplicateObject","s3:RestoreObject"],
	 "Principal":{"AWS":"arn:aws:iam::111111111111:user/carlossalazar"},"Resource":"arn:aws:s3:::Production/*"}]}`

	// "The difference between explicit and implicit denies".
	getListDenyReports = `{"Version":"2012-10-17","Statement":[
	 {"Sid":"AllowGetList","Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"},
	 {"Sid":"DenyReports","Effect":"Deny","Action":"iam:*Report","Resource":"*"}]}`

	// "Permissions boundaries for IAM entities": ShirleyRodriguez's boundary, and the
	// delegation example (Zhang's DelegatedUserBoundary, with the statements the cases use).
	shirleyBoundary = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","cloudwatch:*","ec2:*"],"Resource":"*"}]}`
	zhangBoundary   = `{"Version":"2012-10-17","Statement":[
	 {"Sid":"CreateOrChangeOnlyWithBoundary","Effect":"Allow","Action":["iam:CreateUser","iam:DeleteUserPolicy","iam:AttachUserPolicy","iam:DetachUserPolicy","iam:PutUserPermissionsBoundary"],
	  "Resource":"*","Condition":{"StringEquals":{"iam:PermissionsBoundary":"arn:aws:iam::123456789012:policy/XCompanyBoundaries"}}},
	 {"Sid":"NoBoundaryPolicyEdit","Effect":"Deny","Action":["iam:CreatePolicyVersion","iam:DeletePolicy","iam:DeletePolicyVersion","iam:SetDefaultPolicyVersion"],
	  "Resource":["arn:aws:iam::123456789012:policy/XCompanyBoundaries","arn:aws:iam::123456789012:policy/DelegatedUserBoundary"]},
	 {"Sid":"NoBoundaryUserDelete","Effect":"Deny","Action":"iam:DeleteUserPermissionsBoundary","Resource":"*"}]}`
	zhangPermissions = `{"Version":"2012-10-17","Statement":[{"Sid":"IAM","Effect":"Allow","Action":"iam:*","Resource":"*"}]}`

	// "AWS JSON policy elements: NotPrincipal": the two examples, each attached to a
	// bucket in account 999999999999 together with a statement that allows the
	// account 444455556666 (the page: the NotPrincipal statement "by itself does not
	// grant access ... another policy statement must explicitly allow").
	notPrincipalBob = `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/Bob","arn:aws:iam::444455556666:root"]},"Action":"s3:*","Resource":["arn:aws:s3:::BUCKETNAME","arn:aws:s3:::BUCKETNAME/*"]},
	 {"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"s3:*","Resource":["arn:aws:s3:::BUCKETNAME","arn:aws:s3:::BUCKETNAME/*"]}]}`
	notPrincipalAudit = `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app","arn:aws:iam::444455556666:role/cross-account-read-only-role","arn:aws:iam::444455556666:root"]},
	  "Action":"s3:*","Resource":["arn:aws:s3:::Bucket_AccountAudit","arn:aws:s3:::Bucket_AccountAudit/*"]},
	 {"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"s3:*","Resource":["arn:aws:s3:::Bucket_AccountAudit","arn:aws:s3:::Bucket_AccountAudit/*"]}]}`

	// "IAM policy elements: Variables and tags", "Policy variables with no value".
	teamTagDeny = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
	 "Condition":{"StringNotEquals":{"s3:ExistingObjectTag/Team":"${aws:PrincipalTag/Team}"}}}]}`
	deptPrefix    = `{"Version":"2012-10-17","Statement":[{"Sid":"AllowOnlyDeptS3Prefix","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::amzn-s3-demo-bucket/${aws:PrincipalTag/dept}/*"]}]}`
	homeDirectory = `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":["s3:ListAllMyBuckets","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::*"},
	 {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::BUCKET-NAME","Condition":{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/"]}}},
	 {"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::BUCKET-NAME/home/${aws:username}","arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*"]}]}`

	// "IAM JSON policy elements: Condition operators".
	instanceTypeLike = `{"Version":"2012-10-17","Statement":{"Sid":"THISPOLICYDOESNOTWORK","Effect":"Allow","Action":"ec2:RunInstances","Resource":"*",
	 "Condition":{"StringLike":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}}}`
	instanceTypeLikeIfExists = `{"Version":"2012-10-17","Statement":[{"Sid":"RunInstance","Effect":"Allow","Action":"ec2:RunInstances","Resource":"*",
	 "Condition":{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}}]}`
	noTemporaryCredentials = `{"Version":"2012-10-17","Statement":{"Action":"ec2:*","Effect":"Allow","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}}`
	jobCategory            = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::123456789012:user/*",
	 "Condition":{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}}}`
)

func TestAWSDocumentedExamples(t *testing.T) {
	carlos := identity.UserPrincipal("123456789012", "carlossalazar", "AIDACARLOS")
	carlosA := identity.UserPrincipal("111111111111", "carlossalazar", "AIDACARLOSA")
	shirley := identity.UserPrincipal("111122223333", "ShirleyRodriguez", "AIDASHIRLEY")
	zhang := identity.UserPrincipal("123456789012", "Zhang", "AIDAZHANG")
	bob := identity.UserPrincipal("444455556666", "Bob", "AIDABOB")
	alice := identity.UserPrincipal("444455556666", "Alice", "AIDAALICE")
	auditApp := identity.SessionPrincipal("444455556666", "cross-account-read-only-role", "AROAAUDIT", "cross-account-audit-app")
	otherApp := identity.SessionPrincipal("444455556666", "cross-account-read-only-role", "AROAAUDIT", "other-app")
	david := identity.UserPrincipal("123456789012", "David", "AIDADAVID")
	worker := identity.SessionPrincipal("123456789012", "worker", "AROAWORKER", "job-7")
	root := identity.RootPrincipal("123456789012")
	const onlyCloudWatch = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudwatch:*","Resource":"*"}]}`
	allowS3 := allowID("s3:*", "*")

	tests := []struct {
		page, name string
		says       string // what the page states, in brief
		p          identity.Principal
		action     string
		resource   string
		resAcct    string
		ctx        identity.Context
		ids        []string
		boundary   string
		res        string
		want       verdict
	}{
		// Policy evaluation for requests within a single account.
		{page: pageEvalBasics, name: "Carlos saves a file to the logs bucket",
			says: "the identity-based policy explicitly denies Carlos access to any S3 bucket used for logging",
			p:    carlos, action: "s3:PutObject", resource: "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/file.txt", resAcct: "123456789012",
			ids: []string{carlosIdentity}, want: verdictExplicitDeny},
		{page: pageEvalBasics, name: "Carlos saves the file to his own bucket",
			says: "both the identity-based policy and the resource-based policy allow the request",
			p:    carlos, action: "s3:PutObject", resource: "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/file.txt", resAcct: "123456789012",
			ids: []string{carlosIdentity}, res: carlosBucket, want: verdictAllow},
		{page: pageEvalBasics, name: "only the identity-based policy allows",
			says: "if either the identity-based or the resource-based policy in the same account allows and the other doesn't, the request is allowed",
			p:    carlos, action: "s3:PutObject", resource: "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/file.txt", resAcct: "123456789012",
			ids: []string{carlosIdentity}, want: verdictAllow},
		{page: pageEvalBasics, name: "only the resource-based policy allows",
			says: "if either the identity-based or the resource-based policy in the same account allows and the other doesn't, the request is allowed",
			p:    carlos, action: "s3:PutObject", resource: "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/file.txt", resAcct: "123456789012",
			res: carlosBucket, want: verdictAllow},

		// Cross-account policy evaluation logic.
		{page: pageCrossAccount, name: "Carlos saves a file to Production-logs in another account",
			says: "the request is explicitly denied within one of the accounts, so the final decision is deny",
			p:    carlosA, action: "s3:PutObject", resource: "arn:aws:s3:::Production-logs/file.txt", resAcct: "222222222222",
			ids: []string{carlosCrossIdentity}, want: verdictExplicitDeny},
		{page: pageCrossAccount, name: "Carlos saves the file to Production in another account",
			says: "both accounts allow the request, so the final decision is allow",
			p:    carlosA, action: "s3:PutObject", resource: "arn:aws:s3:::Production/file.txt", resAcct: "222222222222",
			ids: []string{carlosCrossIdentity}, res: carlosProductionBucket, want: verdictAllow},
		{page: pageCrossAccount, name: "cross-account with the identity-based policy alone",
			says: "the request is allowed only if both account evaluations allow it",
			p:    carlosA, action: "s3:PutObject", resource: "arn:aws:s3:::Production/file.txt", resAcct: "222222222222",
			ids: []string{carlosCrossIdentity}, want: verdictImplicitDeny},
		{page: pageCrossAccount, name: "cross-account with the resource-based policy alone",
			says: "the requester's identity-based policy must allow the request to the resource in the trusting account",
			p:    carlosA, action: "s3:PutObject", resource: "arn:aws:s3:::Production/file.txt", resAcct: "222222222222",
			res: carlosProductionBucket, want: verdictImplicitDeny},

		// The difference between explicit and implicit denies.
		{page: pageInterplay, name: "a Report action is explicitly denied",
			says: "DenyReports explicitly denies actions with the Report suffix", p: carlos, action: "iam:GetOrganizationsAccessReport", resource: "*",
			ids: []string{getListDenyReports}, want: verdictExplicitDeny},
		{page: pageInterplay, name: "another IAM action is implicitly denied",
			says: "all other actions in IAM, such as iam:CreatePolicy, are implicitly denied", p: carlos, action: "iam:CreatePolicy",
			resource: "arn:aws:iam::123456789012:policy/p", ids: []string{getListDenyReports}, want: verdictImplicitDeny},
		{page: pageInterplay, name: "a report allowed by another policy is still denied",
			says: "adding a policy that allows iam:GenerateCredentialReport does not help: the explicit deny still applies", p: carlos,
			action: "iam:GenerateCredentialReport", resource: "*", ids: []string{getListDenyReports, allowID("iam:GenerateCredentialReport", "*")}, want: verdictExplicitDeny},
		{page: pageInterplay, name: "a Get action is allowed",
			says: "AllowGetList allows read-only access to IAM actions beginning with Get and List", p: carlos, action: "iam:GetRole",
			resource: "arn:aws:iam::123456789012:role/r", ids: []string{getListDenyReports}, want: verdictAllow},

		// How AWS enforcement code logic evaluates requests (resource-based policies).
		{page: pageDenyAllow, name: "root user needs no policy",
			says: "all requests are implicitly denied with the exception of the AWS account root user, which has full access",
			p:    root, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", resAcct: "123456789012", want: verdictAllow},
		{page: pageDenyAllow, name: "resource policy naming the role session is not limited by the boundary",
			says: "permissions granted directly to a session are not limited by an implicit deny in an identity-based policy or a permissions boundary",
			p:    worker, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", resAcct: "123456789012", boundary: onlyCloudWatch,
			res: bucketPolicy("Allow", `{"AWS":"arn:aws:sts::123456789012:assumed-role/worker/job-7"}`, "s3:GetObject", "arn:aws:s3:::b/*", ""), want: verdictAllow},
		{page: pageDenyAllow, name: "resource policy naming the role is limited by the boundary",
			says: "resource-based policies that grant permissions to an IAM role ARN are limited by an implicit deny in a permissions boundary",
			p:    worker, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", resAcct: "123456789012", boundary: onlyCloudWatch, ids: []string{allowS3},
			res: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::123456789012:role/worker"}`, "s3:GetObject", "arn:aws:s3:::b/*", ""), want: verdictImplicitDeny},
		{page: pageDenyAllow, name: "resource policy naming the role within the boundary",
			says: "for most resources an explicit Allow in either an identity-based or a resource-based policy grants access; the role ARN grant is limited only by the boundary",
			p:    worker, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", resAcct: "123456789012", boundary: allowS3,
			res: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::123456789012:role/worker"}`, "s3:GetObject", "arn:aws:s3:::b/*", ""), want: verdictAllow},
		{page: pageDenyAllow, name: "resource policy naming the role with aws:PrincipalArn limited by the boundary",
			says: "you can specify the role ARN in the Principal element or the aws:PrincipalArn condition key; in both cases the grant is limited by the boundary",
			p:    worker, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", resAcct: "123456789012", boundary: onlyCloudWatch,
			ids: []string{allowS3}, res: bucketPolicy("Allow", `{"AWS":"123456789012"}`, "s3:GetObject", "arn:aws:s3:::b/*",
				`{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/worker"}}`), want: verdictImplicitDeny},
		{page: pageDenyAllow, name: "wildcard principal with aws:PrincipalArn is not limited by the boundary",
			says: "permissions boundaries do not limit permissions granted using aws:PrincipalArn with a wildcard (*) in the Principal element",
			p:    worker, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", resAcct: "123456789012", boundary: onlyCloudWatch,
			res: bucketPolicy("Allow", `"*"`, "s3:GetObject", "arn:aws:s3:::b/*", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/worker"}}`), want: verdictAllow},
		{page: pageDenyAllow, name: "resource policy naming the IAM user is not limited by the boundary",
			says: "resource-based policies that grant permissions to an IAM user ARN are not limited by an implicit deny in an identity-based policy or permissions boundary",
			p:    david, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", resAcct: "123456789012", boundary: onlyCloudWatch,
			res: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::123456789012:user/David"}`, "s3:GetObject", "arn:aws:s3:::b/*", ""), want: verdictAllow},
		{page: pageDenyAllow, name: "an explicit deny in the boundary wins over a direct grant",
			says: "if the enforcement code finds even one explicit deny that applies, it returns a final decision of Deny",
			p:    david, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", resAcct: "123456789012",
			boundary: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}`,
			res:      bucketPolicy("Allow", `{"AWS":"arn:aws:iam::123456789012:user/David"}`, "s3:GetObject", "arn:aws:s3:::b/*", ""), want: verdictExplicitDeny},

		// Permissions boundaries for IAM entities.
		{page: pageBoundaries, name: "Shirley creates a user",
			says: "the operation fails because the permissions boundary does not allow iam:CreateUser", p: shirley, action: "iam:CreateUser",
			resource: "arn:aws:iam::111122223333:user/new", boundary: shirleyBoundary, ids: []string{allowID("iam:CreateUser", "*")}, want: verdictImplicitDeny},
		{page: pageBoundaries, name: "Shirley uses S3 with a permissions policy for it",
			says: "to allow Shirley to perform operations, add a permissions policy with actions in S3, CloudWatch or EC2", p: shirley,
			action: "s3:GetObject", resource: "arn:aws:s3:::b/k", boundary: shirleyBoundary, ids: []string{allowS3}, want: verdictAllow},
		{page: pageBoundaries, name: "a boundary grants nothing on its own",
			says: "a boundary limits the user's permissions but does not provide permissions on its own", p: shirley,
			action: "s3:GetObject", resource: "arn:aws:s3:::b/k", boundary: shirleyBoundary, want: verdictImplicitDeny},
		{page: pageBoundaries, name: "Zhang creates a user with the XCompanyBoundaries boundary",
			says: "CreateOrChangeOnlyWithBoundary allows Zhang to create IAM users only with the XCompanyBoundaries boundary", p: zhang,
			action: "iam:CreateUser", resource: "arn:aws:iam::123456789012:user/new", boundary: zhangBoundary, ids: []string{zhangPermissions},
			ctx: identity.Context{"iam:PermissionsBoundary": {"arn:aws:iam::123456789012:policy/XCompanyBoundaries"}}, want: verdictAllow},
		{page: pageBoundaries, name: "Zhang creates a user without a boundary",
			says: "Zhang may create users only if he uses the XCompanyBoundaries policy to set the permissions boundary", p: zhang,
			action: "iam:CreateUser", resource: "arn:aws:iam::123456789012:user/new", boundary: zhangBoundary, ids: []string{zhangPermissions}, want: verdictImplicitDeny},
		{page: pageBoundaries, name: "Zhang deletes a user's boundary",
			says: "NoBoundaryUserDelete denies Zhang deleting the permissions boundary of himself or other users", p: zhang,
			action: "iam:DeleteUserPermissionsBoundary", resource: "arn:aws:iam::123456789012:user/new", boundary: zhangBoundary, ids: []string{zhangPermissions}, want: verdictExplicitDeny},
		{page: pageBoundaries, name: "Zhang edits the boundary policy",
			says: "NoBoundaryPolicyEdit denies Zhang updating the XCompanyBoundaries policy", p: zhang,
			action: "iam:CreatePolicyVersion", resource: "arn:aws:iam::123456789012:policy/XCompanyBoundaries", boundary: zhangBoundary, ids: []string{zhangPermissions}, want: verdictExplicitDeny},
		{page: pageBoundaries, name: "NotPrincipal deny always denies a principal with a boundary",
			says: "a NotPrincipal Deny always denies an IAM principal with a permissions boundary, regardless of the values in NotPrincipal", p: bob,
			action: "s3:GetObject", resource: "arn:aws:s3:::BUCKETNAME/k", resAcct: "999999999999", ids: []string{allowS3}, boundary: allowS3,
			res: notPrincipalBob, want: verdictExplicitDeny},

		// AWS JSON policy elements: NotPrincipal.
		{page: pageNotPrincipal, name: "Bob is not denied",
			says: "all principals except the user Bob in 444455556666 are explicitly denied; another statement must allow Bob", p: bob,
			action: "s3:GetObject", resource: "arn:aws:s3:::BUCKETNAME/k", resAcct: "999999999999", ids: []string{allowS3}, res: notPrincipalBob, want: verdictAllow},
		{page: pageNotPrincipal, name: "another user of Bob's account is denied",
			says: "all principals except the user Bob are explicitly denied", p: alice,
			action: "s3:GetObject", resource: "arn:aws:s3:::BUCKETNAME/k", resAcct: "999999999999", ids: []string{allowS3}, res: notPrincipalBob, want: verdictExplicitDeny},
		{page: pageNotPrincipal, name: "the audit session is not denied",
			says: "all principals except the assumed-role user cross-account-audit-app are explicitly denied", p: auditApp,
			action: "s3:GetObject", resource: "arn:aws:s3:::Bucket_AccountAudit/k", resAcct: "999999999999", ids: []string{allowS3}, res: notPrincipalAudit, want: verdictAllow},
		{page: pageNotPrincipal, name: "another session of the same role is denied",
			says: "the assumed-role user is identified by its role session name; only cross-account-audit-app is exempt", p: otherApp,
			action: "s3:GetObject", resource: "arn:aws:s3:::Bucket_AccountAudit/k", resAcct: "999999999999", ids: []string{allowS3}, res: notPrincipalAudit, want: verdictExplicitDeny},

		// IAM JSON policy elements: Condition operators.
		{page: pageConditionOps, name: "StringEquals on an absent principal tag",
			says: "if a user without the tag attempts it, the condition returns false and the request is implicitly denied by this statement", p: carlos,
			action: "iam:CreateAccessKey", resource: "arn:aws:iam::123456789012:user/carlossalazar", ids: []string{jobCategory}, want: verdictImplicitDeny},
		{page: pageConditionOps, name: "StringEquals on the principal tag",
			says: "the principal making the request must be tagged with the iamuser-admin job category", p: carlos,
			action: "iam:CreateAccessKey", resource: "arn:aws:iam::123456789012:user/carlossalazar", ctx: identity.Context{"aws:PrincipalTag/job-category": {"iamuser-admin"}},
			ids: []string{jobCategory}, want: verdictAllow},
		{page: pageConditionOps, name: "StringLike on a key the resource does not have",
			says: "THISPOLICYDOESNOTWORK: resources without ec2:InstanceType fail the StringLike check", p: carlos,
			action: "ec2:RunInstances", resource: "arn:aws:ec2:us-east-1:123456789012:key-pair/k", ids: []string{instanceTypeLike}, want: verdictImplicitDeny},
		{page: pageConditionOps, name: "StringLikeIfExists on a key the resource does not have",
			says: "if the key is not present, ...IfExists evaluates the condition element as true", p: carlos,
			action: "ec2:RunInstances", resource: "arn:aws:ec2:us-east-1:123456789012:key-pair/k", ids: []string{instanceTypeLikeIfExists}, want: verdictAllow},
		{page: pageConditionOps, name: "StringLikeIfExists on an allowed instance type",
			says: "if the resource has ec2:InstanceType, allow only when the value begins with t1., t2. or m3.", p: carlos,
			action: "ec2:RunInstances", resource: "arn:aws:ec2:us-east-1:123456789012:instance/*", ctx: identity.Context{"ec2:InstanceType": {"t2.micro"}},
			ids: []string{instanceTypeLikeIfExists}, want: verdictAllow},
		{page: pageConditionOps, name: "StringLikeIfExists on another instance type",
			says: "if the resource has ec2:InstanceType, allow only when the value begins with t1., t2. or m3.", p: carlos,
			action: "ec2:RunInstances", resource: "arn:aws:ec2:us-east-1:123456789012:instance/*", ctx: identity.Context{"ec2:InstanceType": {"c5.large"}},
			ids: []string{instanceTypeLikeIfExists}, want: verdictImplicitDeny},
		{page: pageConditionOps, name: "Deny with StringNotEqualsIfExists on a missing tag",
			says: "with Deny and a negated operator like StringNotEqualsIfExists, the request is still denied even if the tag is missing", p: carlos,
			action: "s3:GetObject", resource: "arn:aws:s3:::b/k", ids: []string{allowS3,
				`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalTag/team":"data"}}}}`},
			want: verdictExplicitDeny},
		{page: pageConditionOps, name: "Null true with long-term credentials",
			says: "the user must not be using temporary credentials (aws:TokenIssueTime must not exist) to use the EC2 API", p: carlos,
			action: "ec2:DescribeInstances", resource: "*", ids: []string{noTemporaryCredentials}, want: verdictAllow},
		{page: pageConditionOps, name: "Null true with temporary credentials",
			says: "with temporary credentials aws:TokenIssueTime exists, so the statement does not allow", p: worker,
			action: "ec2:DescribeInstances", resource: "*", ctx: identity.Context{"aws:TokenIssueTime": {"2026-01-01T00:00:00Z"}},
			ids: []string{noTemporaryCredentials}, want: verdictImplicitDeny},
		{page: pageConditionOps, name: "ArnLike compares the six components separately",
			says: "StringLike matches arn:aws:someservice:*:111122223333:finance/* against the value, ArnLike does not", p: carlos,
			action: "s3:GetObject", resource: "arn:aws:s3:::b/k", ctx: identity.Context{"aws:SourceArn": {"arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"}},
			ids:  []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}}}`},
			want: verdictImplicitDeny},
		{page: pageConditionOps, name: "StringLike matches across the colons",
			says: "with a StringLike condition the match succeeds: the first asterisk matches us-east-2:999999999999:store/abc:", p: carlos,
			action: "s3:GetObject", resource: "arn:aws:s3:::b/k", ctx: identity.Context{"aws:SourceArn": {"arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"}},
			ids:  []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}}}`},
			want: verdictAllow},

		// IAM policy elements: Variables and tags.
		{page: pageVariables, name: "home directory of the requesting user",
			says: "${aws:username} is replaced by the requester's user name: David may use BUCKET-NAME/home/David/*", p: david,
			action: "s3:GetObject", resource: "arn:aws:s3:::BUCKET-NAME/home/David/notes.txt", ids: []string{homeDirectory}, want: verdictAllow},
		{page: pageVariables, name: "home directory of another user",
			says: "${aws:username} is replaced by the requester's user name, so another user's directory is not covered", p: david,
			action: "s3:GetObject", resource: "arn:aws:s3:::BUCKET-NAME/home/Maria/notes.txt", ids: []string{homeDirectory}, want: verdictImplicitDeny},
		{page: pageVariables, name: "listing the own home prefix",
			says: "s3:ListBucket is allowed when s3:prefix matches home/${aws:username}/", p: david,
			action: "s3:ListBucket", resource: "arn:aws:s3:::BUCKET-NAME", ctx: identity.Context{"s3:prefix": {"home/David/"}}, ids: []string{homeDirectory}, want: verdictAllow},
		{page: pageVariables, name: "a Deny with a no-value variable under StringNotEquals",
			says: "inverted operators like StringNotEquals match against a null value: access is explicitly denied when aws:PrincipalTag/Team is not set", p: worker,
			action: "s3:GetObject", resource: "arn:aws:s3:::amzn-s3-demo-bucket/k", ctx: identity.Context{"s3:ExistingObjectTag/Team": {"blue"}},
			ids: []string{allowS3, teamTagDeny}, want: verdictExplicitDeny},
		{page: pageVariables, name: "the Team tags match",
			says: "aws:PrincipalTag/Team must be equal to s3:ExistingObjectTag/Team to allow access", p: worker,
			action: "s3:GetObject", resource: "arn:aws:s3:::amzn-s3-demo-bucket/k", ctx: identity.Context{"s3:ExistingObjectTag/Team": {"blue"}, "aws:PrincipalTag/Team": {"blue"}},
			ids: []string{allowS3, teamTagDeny}, want: verdictAllow},
		{page: pageVariables, name: "a Resource with a no-value variable",
			says: "a resource that includes a policy variable with no value will not match any resource", p: worker,
			action: "s3:GetObject", resource: "arn:aws:s3:::amzn-s3-demo-bucket//k", ids: []string{deptPrefix}, want: verdictImplicitDeny},
		{page: pageVariables, name: "a Resource with the dept tag",
			says: "IAM substitutes the dept tag value from the request for ${aws:PrincipalTag/dept}", p: worker,
			action: "s3:GetObject", resource: "arn:aws:s3:::amzn-s3-demo-bucket/finance/k", ctx: identity.Context{"aws:PrincipalTag/dept": {"finance"}},
			ids: []string{deptPrefix}, want: verdictAllow},
		{page: pageVariables, name: "without Version 2012-10-17 a variable is literal text",
			says: "without the Version element, variables like ${aws:username} are treated as literal strings", p: david,
			action: "s3:GetObject", resource: "arn:aws:s3:::BUCKET-NAME/home/David/notes.txt",
			ids: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*"}}`}, want: verdictImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Request: Request{Principal: tt.p, Action: tt.action, Resource: tt.resource, ResourceAccount: tt.resAcct, Context: tt.ctx}}
			for _, d := range tt.ids {
				in.IdentityPolicies = append(in.IdentityPolicies, mustParse(t, d))
			}
			if tt.boundary != "" {
				in.PermissionsBoundary = mustParse(t, tt.boundary)
			}
			if tt.res != "" {
				in.ResourcePolicy = mustParse(t, tt.res)
			}
			got := Evaluate(in)
			if v := verdictOf(got); v != tt.want {
				t.Errorf("got %s (%s), want %s: %s says %q", v, got.Reason, tt.want, tt.page, tt.says)
			}
		})
	}
}

func mustParse(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := Parse(doc)
	if err != nil {
		t.Fatalf("parse %s: %v", doc, err)
	}
	return p
}
