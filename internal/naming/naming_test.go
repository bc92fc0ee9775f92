package naming

import (
	"strings"
	"testing"
)

func TestIDFromExecutionName(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{name: "already an id", give: "media-2026-11", want: "media-2026-11"},
		{name: "upper case and underscores", give: "Media_Move_01", want: "media-move-01"},
		{name: "runs of separators collapse", give: "a__--__b", want: "a-b"},
		{name: "leading and trailing separators trimmed", give: "--x--", want: "x"},
		{name: "nothing usable", give: "___", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := IDFromExecutionName(tt.give)
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if got != "" && !ValidID(got) {
				t.Fatalf("got %q, which ValidID rejects", got)
			}
		})
	}
}

func TestLongNameIsCutAndHashed(t *testing.T) {
	give := "0f5b9c1e-7c6d-4d38-a1a3-1f1a2b3c4d5e" // a console-generated execution name
	got := IDFromExecutionName(give)
	if len(got) > MaxIDLength || !ValidID(got) || !strings.HasPrefix(got, "0f5b9c1e-7c6d-4d38-a1a3-") {
		t.Fatalf("got %q, want a valid id of at most %d chars: the name cut to 23 chars, '-', 8 hex", got, MaxIDLength)
	}
	if again := IDFromExecutionName(give); again != got {
		t.Fatalf("got %q then %q, want the same id for the same name", got, again)
	}
}

func TestLongNamesStayDistinct(t *testing.T) {
	a := IDFromExecutionName(strings.Repeat("x", 40) + "-one")
	b := IDFromExecutionName(strings.Repeat("x", 40) + "-two")
	if a == b {
		t.Fatalf("got the same id %q for two different long names, want different ids", a)
	}
	for _, id := range []string{a, b} {
		if !ValidID(id) {
			t.Fatalf("got %q, which ValidID rejects", id)
		}
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		give string
		want bool
	}{
		{"a", true},
		{"media-2026-11", true},
		{strings.Repeat("a", MaxIDLength), true},
		{strings.Repeat("a", MaxIDLength+1), false},
		{"", false},
		{"-a", false},
		{"a-", false},
		{"A", false},
		{"a_b", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.give); got != tt.want {
			t.Errorf("ValidID(%q): got %v, want %v", tt.give, got, tt.want)
		}
	}
}

func TestRoleNamesFitIAM(t *testing.T) {
	prefix := strings.Repeat("p", MaxPrefixLength)
	id := strings.Repeat("i", MaxIDLength)
	for _, name := range []string{TransferRoleName(prefix, id), ConfigRoleName(prefix, id)} {
		if len(name) > 64 {
			t.Errorf("got %q (%d chars), want at most 64", name, len(name))
		}
	}
}

func TestSidsAreAlphanumericAndOneToOne(t *testing.T) {
	ids := []string{"ab", "a-b", "a-b-c", "ab-c", "a-bc", "abc"}
	seen := map[string]string{}
	for _, id := range ids {
		for _, sid := range SidsFor(id).All() {
			for _, r := range sid {
				if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
					t.Fatalf("Sid %q of id %q has %q, want only letters and digits", sid, id, r)
				}
			}
			if other, ok := seen[sid]; ok {
				t.Fatalf("Sid %q is shared by ids %q and %q, want one owner", sid, other, id)
			}
			seen[sid] = id
		}
	}
}

func TestRoleArnsOfADeploymentDoNotMatchAnotherDeployment(t *testing.T) {
	got := RoleArn("aws", "222222222222", "dsmigrate", TransferRoleName("dsmigrate", "media"))
	if want := "arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-transfer"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	// The pattern the functions' policies use for the prefix "dsmigrate" must not match a
	// role of the deployment "dsmigrate-x".
	pattern := "arn:aws:iam::222222222222:role" + RolePath("dsmigrate")
	other := RoleArn("aws", "222222222222", "dsmigrate-x", TransferRoleName("dsmigrate-x", "media"))
	if strings.HasPrefix(other, pattern) {
		t.Fatalf("got %s under %s*, want the other deployment's role outside the pattern", other, pattern)
	}
}

func TestEarlierRoleArnsAreTheDefaultPath(t *testing.T) {
	got := EarlierRoleArns("aws", "222222222222", "dsm", "m1")
	want := []string{"arn:aws:iam::222222222222:role/dsm-m1-transfer", "arn:aws:iam::222222222222:role/dsm-m1-config"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestBoundaryArn(t *testing.T) {
	if got, want := BoundaryArn("aws-cn", "222222222222", "dsm"), "arn:aws-cn:iam::222222222222:policy/dsm-datasync-boundary"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
