package naming

import (
	"strings"
	"testing"
)

func TestSourceRoleNames(t *testing.T) {
	if got, want := SourceReadRoleName("dsmigrate"), "dsmigrate-source-read"; got != want {
		t.Errorf("read role: got %q, want %q", got, want)
	}
	if got, want := SourcePolicyWriterRoleName("dsmigrate"), "dsmigrate-source-policy-writer"; got != want {
		t.Errorf("writer role: got %q, want %q", got, want)
	}
	if got, want := DefaultPathRoleArn("aws-cn", "111111111111", "r"), "arn:aws-cn:iam::111111111111:role/r"; got != want {
		t.Errorf("RoleArn: got %q, want %q", got, want)
	}
	prefix := strings.Repeat("p", MaxPrefixLength)
	for _, name := range []string{SourceReadRoleName(prefix), SourcePolicyWriterRoleName(prefix)} {
		if len(name) > 64 {
			t.Errorf("got %q (%d chars), want at most 64", name, len(name))
		}
	}
}

func TestMigrationIDOfSid(t *testing.T) {
	for _, id := range []string{"a", "media-2026-11", "x0-9", strings.Repeat("z", MaxIDLength)} {
		for _, sid := range SidsFor(id).All() {
			got, ok := MigrationIDOfSid(sid)
			if !ok || got != id {
				t.Errorf("MigrationIDOfSid(%q): got %q %v, want %q true", sid, got, ok, id)
			}
		}
	}
	for _, sid := range []string{"", "Dsm", "DsmRolesBucketAccess", "AllowAll", "DsmABCRolesObjectAccess",
		"DsmXaRolesObjectAccess", "DsmaRolesObjectAccessX", "xDsmaRolesObjectAccess"} {
		if got, ok := MigrationIDOfSid(sid); ok {
			t.Errorf("MigrationIDOfSid(%q): got %q true, want false", sid, got)
		}
	}
}
