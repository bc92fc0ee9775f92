package policy

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/naming"
)

// FuzzMergeRevoke checks, for any existing policy text: Merge and RevokeOurs never panic;
// merging twice equals merging once; the foreign statements of the merge are those of the
// existing policy, byte-identical (compacted) and in order; revoking our Sids from the merge
// gives back exactly the foreign statements (or deletion when there are none).
// The seed corpus is testdata/fuzz/FuzzMergeRevoke.
func FuzzMergeRevoke(f *testing.F) {
	f.Add(foreignList)
	f.Add(foreignSingle)
	f.Add(foreignPretty)
	f.Add("")
	ours := SourceBucketStatements("aws", naming.SidsFor("media"), "team-a-media", "photos/", transferArn, callerArn)
	sids := naming.SidsFor("media").All()
	if m, err := Merge(foreignList, ours); err == nil {
		f.Add(m) // a policy that already holds our statements
	}
	f.Add(earlierGrant) // an earlier version's grant of the same migration
	f.Fuzz(func(t *testing.T, existing string) {
		_, _, _ = RevokeOurs(existing, ours, earlier...)
		merged, err := Merge(existing, ours, earlier...)
		if err != nil {
			return
		}
		if !json.Valid([]byte(merged)) {
			t.Fatalf("merge gave invalid JSON %q", merged)
		}
		again, err := Merge(merged, ours, earlier...)
		if err != nil || again != merged {
			t.Fatalf("merge twice: got %q (%v), want %q", again, err, merged)
		}
		var foreign []string
		if strings.TrimSpace(existing) != "" {
			p, err := parseRaw(existing)
			if err != nil {
				t.Fatalf("Merge accepted %q but parseRaw fails: %v", existing, err)
			}
			for _, s := range p.statements {
				if !slices.Contains(sids, sidOf(s)) {
					foreign = append(foreign, string(s))
				}
			}
		}
		var gotForeign []string
		for _, s := range statementsOfText(t, merged) {
			if !slices.Contains(sids, sidOf(json.RawMessage(s))) {
				gotForeign = append(gotForeign, s)
			}
		}
		if !reflect.DeepEqual(gotForeign, foreign) {
			t.Fatalf("foreign statements: got %q, want %q", gotForeign, foreign)
		}
		revoked, deleted, err := RevokeOurs(merged, ours, earlier...)
		if err != nil {
			t.Fatalf("revoke of a merge: %v", err)
		}
		if deleted != (len(foreign) == 0) {
			t.Fatalf("deleted: got %v, want %v", deleted, len(foreign) == 0)
		}
		if deleted {
			return
		}
		if got := statementsOfText(t, revoked); !reflect.DeepEqual(got, foreign) {
			t.Fatalf("revoke of merge: got %q, want %q", got, foreign)
		}
	})
}

func statementsOfText(t *testing.T, text string) []string {
	t.Helper()
	p, err := parseRaw(text)
	if err != nil {
		t.Fatalf("parseRaw(%q): %v", text, err)
	}
	out := make([]string, len(p.statements))
	for i, s := range p.statements {
		out[i] = string(s)
	}
	return out
}
