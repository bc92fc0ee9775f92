package main

import (
	"strings"
	"testing"
)

// TestUsageListsEveryCommand: the usage names each command the CLI routes.
func TestUsageListsEveryCommand(t *testing.T) {
	for _, cmd := range []string{"dsmigrate start", "dsmigrate plan", "dsmigrate watch", "dsmigrate list", "dsmigrate status", "dsmigrate local (run|plan|demo|example)"} {
		if !strings.Contains(usage, "\n  "+cmd+" ") {
			t.Errorf("usage has no line for %q:\n%s", cmd, usage)
		}
	}
}
