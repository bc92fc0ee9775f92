package iampolicy

import (
	"slices"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

func TestSplitARN(t *testing.T) {
	tests := []struct {
		give string
		want []string // nil: fewer than six components
	}{
		{give: "arn:aws:s3:::src/${aws:username}/*", want: []string{"arn", "aws", "s3", "", "", "src/${aws:username}/*"}},
		{give: "arn:aws:iam::${aws:PrincipalAccount}:role/x", want: []string{"arn", "aws", "iam", "", "${aws:PrincipalAccount}", "role/x"}},
		{give: "arn:aws:logs:us-east-1:${aws:PrincipalAccount}:log-group:a:*", want: []string{"arn", "aws", "logs", "us-east-1", "${aws:PrincipalAccount}", "log-group:a:*"}},
		{give: "${a:b}:${c:d}:x:y:z:w", want: []string{"${a:b}", "${c:d}", "x", "y", "z", "w"}},
		{give: "arn:aws:s3:}:${aws:username}:b:c", want: []string{"arn", "aws", "s3", "}", "${aws:username}", "b:c"}},
		{give: "arn:aws:s3:::", want: []string{"arn", "aws", "s3", "", "", ""}},
		{give: "arn:aws:s3::src"},
		{give: "arn:aws:iam::${aws:PrincipalAccount:role/x"},
		{give: "${aws:PrincipalArn}"},
	}
	for _, tt := range tests {
		if got := splitARN(tt.give); !slices.Equal(got, tt.want) {
			t.Errorf("splitARN(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

// TestArnConditionWithVariablesComparesComponents: an ARN pattern with variables is compared
// component by component like any ARN pattern, so a wildcard does not reach into the next
// component; a pattern that is one variable holding a whole ARN is compared whole.
func TestArnConditionWithVariablesComparesComponents(t *testing.T) {
	const key = "aws:SourceArn"
	tests := []struct {
		name string
		cond string
		give string
		want bool
	}{
		{"the account component", op("ArnLike", key, "arn:aws:datasync:*:${aws:PrincipalAccount}:task/*"), "arn:aws:datasync:us-east-1:111111111111:task/t", true},
		{"a wildcard region does not swallow the account", op("ArnLike", key, "arn:aws:datasync:*:${aws:PrincipalAccount}:task/*"), "arn:aws:datasync:us-east-1:999:111111111111:task/t", false},
		{"another account", op("ArnLike", key, "arn:aws:datasync:*:${aws:PrincipalAccount}:task/*"), "arn:aws:datasync:us-east-1:999999999999:task/t", false},
		{"one variable holding the whole ARN", op("ArnEquals", key, "${aws:PrincipalArn}"), "arn:aws:iam::111111111111:user/alice", true},
		{"one variable holding another ARN", op("ArnEquals", key, "${aws:PrincipalArn}"), "arn:aws:iam::111111111111:user/bob", false},
		{"a request of five components", op("ArnLike", key, "arn:aws:datasync:*:${aws:PrincipalAccount}:*"), "arn:aws:datasync:us-east-1:111111111111", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := allowedWith(t, tt.cond, identity.Context{key: {tt.give}}); got != tt.want {
				t.Errorf("got allowed %v, want %v", got, tt.want)
			}
		})
	}
}
