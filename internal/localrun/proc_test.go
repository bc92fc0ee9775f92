package localrun

import (
	"os/exec"
	"testing"
	"time"
)

func TestStopKillsTheWholeTree(t *testing.T) {
	// A child that starts a grandchild in a process group of its own, as the RIE does
	// with the bootstrap: stop must end both.
	cmd := exec.Command("sh", "-c", "setsid sleep 30 & sleep 30")
	p, err := startProcess("tree", cmd)
	if err != nil {
		t.Fatal(err)
	}
	var all []int
	deadline := time.Now().Add(5 * time.Second)
	for len(all) < 3 && time.Now().Before(deadline) {
		all = append([]int{cmd.Process.Pid}, descendants(cmd.Process.Pid)...)
		time.Sleep(10 * time.Millisecond)
	}
	if len(all) < 3 {
		t.Fatalf("got processes %v, want the shell and its two sleeps", all)
	}
	p.stop(200 * time.Millisecond)
	for _, pid := range all {
		for i := 0; i < 100 && alive(pid); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("got process %d alive after stop, want it ended", pid)
		}
	}
}
