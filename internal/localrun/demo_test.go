package localrun

import "testing"

func TestCompressPath(t *testing.T) {
	got := compressPath([]string{"Start", "Poll", "Check", "Wait", "Poll", "Check", "Done"})
	if want := "Start → Poll×2 → Check×2 → Wait → Done"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
