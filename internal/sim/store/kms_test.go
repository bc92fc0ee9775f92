package store

import (
	"errors"
	"testing"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// TestKMSGrantLifecycle: a grant to a role of another account counts only once the
// propagation delay has passed, only with an identity policy of the grantee's account
// (the conservative cross-account rule), and no longer after RetireGrant by its retiring
// principal; an SSE-C object cannot be read at all.
func TestKMSGrantLifecycle(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"region":"us-east-1","accounts":[
		{"id":"111111111111","name":"a","users":[{"name":"admin","accessKeyId":"AKA","secretAccessKey":"s","policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}]}]},
		{"id":"222222222222","name":"b","users":[
			{"name":"reader","accessKeyId":"AKB","secretAccessKey":"s","policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}]},
			{"name":"nobody","accessKeyId":"AKN","secretAccessKey":"s","policies":[]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	delay := 5 * time.Second
	s.UpdateSettings(&delay, nil, nil)

	admin := identity.UserPrincipal("111111111111", "admin", "AIDAA")
	reader := identity.UserPrincipal("222222222222", "reader", "AIDAB")
	nobody := identity.UserPrincipal("222222222222", "nobody", "AIDAN")
	k, err := s.CreateKey("111111111111", "k", "")
	if err != nil {
		t.Fatal(err)
	}
	decrypt := func(p identity.Principal) error { return s.AuthorizeKMS(p, "kms:Decrypt", k.Arn, nil) }
	var denied *identity.AccessDeniedError
	if err := decrypt(reader); !errors.As(err, &denied) {
		t.Fatalf("got %v before any grant, want access denied", err)
	}
	for _, grantee := range []string{reader.Arn, nobody.Arn} {
		if _, err := s.CreateGrant(admin, CreateGrantInput{KeyID: k.Arn, GranteePrincipal: grantee, RetiringPrincipal: admin.Arn,
			Name: "m1", Operations: []string{"Decrypt"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := decrypt(reader); err == nil {
		t.Error("got allowed within the propagation delay, want denied")
	}
	now = now.Add(delay)
	if err := decrypt(reader); err != nil {
		t.Errorf("got %v after the delay, want allowed", err)
	}
	if err := decrypt(nobody); err == nil {
		t.Error("got allowed for a grantee of another account without an identity policy, want denied")
	}
	grants, err := s.ListGrants(admin, k.Arn, "", reader.Arn)
	if err != nil || len(grants) != 1 {
		t.Fatalf("got %d grants (%v), want 1", len(grants), err)
	}
	if err := s.RetireGrant(nobody, k.Arn, grants[0].GrantID, ""); err == nil {
		t.Error("got a grant retired by a principal that is neither its retiring principal nor allowed, want denied")
	}
	if err := s.RetireGrant(admin, k.Arn, grants[0].GrantID, ""); err != nil {
		t.Fatal(err)
	}
	if err := decrypt(reader); err == nil {
		t.Error("got allowed after RetireGrant, want denied")
	}
	if err := s.AuthorizeObjectRead(admin, "us-east-1", Object{SSE: SSEC}); err == nil {
		t.Error("got an SSE-C object readable without its key, want InvalidRequest")
	}
}
