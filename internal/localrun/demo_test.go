package localrun

import (
	"strings"
	"testing"
)

func TestCompressPath(t *testing.T) {
	got := compressPath([]string{"Start", "Poll", "Check", "Wait", "Poll", "Check", "Done"})
	if want := "Start → Poll×2 → Check×2 → Wait → Done"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestPreferred(t *testing.T) {
	got := preferred([]string{"team-a-docs", "team-a-logs", "other", "team-a-media"}, "media", "logs", "nothing")
	want := []string{"team-a-media", "team-a-logs", "team-a-docs", "other"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, want %v", got, want)
	}
}
