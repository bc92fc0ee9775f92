package localrun

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestMainUsage(t *testing.T) {
	tests := []struct {
		name       string
		give       []string
		want       int
		wantStderr string
	}{
		{name: "no command", give: nil, want: ExitUsage, wantStderr: "usage:"},
		{name: "unknown command", give: []string{"deploy"}, want: ExitUsage, wantStderr: `unknown command "deploy"`},
		{name: "run without input", give: []string{"run"}, want: ExitUsage, wantStderr: "--input is required"},
		{name: "run with a missing file", give: []string{"run", "--input", "/nonexistent/request.json"}, want: ExitUsage, wantStderr: "read request"},
		{name: "run with a bad flag", give: []string{"run", "--nope"}, want: ExitUsage, wantStderr: "flag provided but not defined"},
		{name: "help", give: []string{"help"}, want: ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := Main(context.Background(), tt.give, &stdout, &stderr)
			if got != tt.want {
				t.Errorf("got exit %d, want %d (stderr %q)", got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("got stderr %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
