package localrun

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is a child started in its own process group, so that stopping it also stops
// whatever it started (the RIE starts the bootstrap; Node may start helpers).
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed
}

// startProcess starts cmd in a new process group. The child is also sent SIGKILL by the
// kernel when the runner dies without cleaning up (Pdeathsig).
func startProcess(name string, cmd *exec.Cmd) (*process, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	if p == nil || p.cmd.Process == nil {
		return
	}
	if p.exited() {
		// Once the leader has been reaped its id may be reused: never signal the group
		// of a process that ended by itself.
		return
	}
	pgid := p.cmd.Process.Pid
	// The RIE starts the bootstrap in a process group of its own: remember every
	// descendant now, while the tree is intact, and kill what is left of it at the end.
	desc := descendants(pgid)
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
	}
	// The group may hold children that outlived the leader (the RIE's bootstrap); the
	// leader is reaped only after this, so the group id is still ours.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	for _, pid := range desc {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	<-p.done
}

// descendants lists the pids below pid in the process tree (Linux /proc).
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], child)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// group stops processes in reverse start order, each once.
type group struct {
	mu    sync.Mutex
	procs []*process
}

func (g *group) add(p *process) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.procs = append(g.procs, p)
}

// pids returns the process ids of the group's processes and of everything below them.
func (g *group) pids() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []int
	for _, p := range g.procs {
		if p.exited() {
			continue
		}
		out = append(out, p.cmd.Process.Pid)
		out = append(out, descendants(p.cmd.Process.Pid)...)
	}
	return out
}

// remove forgets a process that has ended.
func (g *group) remove(p *process) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, q := range g.procs {
		if q == p {
			g.procs = append(g.procs[:i], g.procs[i+1:]...)
			return
		}
	}
}

func (g *group) stopAll(grace time.Duration) {
	g.mu.Lock()
	procs := g.procs
	g.procs = nil
	g.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop(grace)
		}()
	}
	wg.Wait()
}

var (
	portsMu sync.Mutex
	ports   = map[int]bool{} // handed out by freePort in this process
)

// freePort asks the kernel for a free loopback TCP port that this process has not handed
// out before (parallel environments in one test binary must not get the same port
// between its release here and the child's bind).
func freePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !ports[port] {
			ports[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("find a free port: no unused port in 100 tries")
}

// waitForListener waits until p (or a process below it) listens on each loopback port.
// A port that something else holds is an error: the child could not bind it.
func waitForListener(ctx context.Context, p *process, timeout time.Duration, ports ...int) error {
	for _, port := range ports {
		if err := waitForPort(ctx, p, port, timeout); err != nil {
			return err
		}
	}
	return nil
}

func waitForPort(ctx context.Context, p *process, port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var foreignSince time.Time
	for {
		owned, busy := listening(p.cmd.Process.Pid, port)
		switch {
		case owned:
			return nil
		case !busy:
			foreignSince = time.Time{}
		case foreignSince.IsZero():
			foreignSince = time.Now()
		case time.Since(foreignSince) > 300*time.Millisecond:
			return fmt.Errorf("%s: port %d is held by another process", p.name, port)
		}
		if p.exited() {
			return fmt.Errorf("%s exited before listening on port %d: %v", p.name, port, p.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not listen on port %d within %s", p.name, port, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// listening reports whether a TCP socket listens on port (busy) and whether it belongs to
// pid or a process below it (owned), from /proc/net/tcp and the processes' fds.
func listening(pid, port int) (owned, busy bool) {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || fs[3] != "0A" { // 0A = LISTEN
				continue
			}
			_, hexPort, ok := strings.Cut(fs[1], ":")
			if n, err := strconv.ParseInt(hexPort, 16, 32); ok && err == nil && int(n) == port {
				inodes["socket:["+fs[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return false, false
	}
	for _, q := range append([]int{pid}, descendants(pid)...) {
		dir := fmt.Sprintf("/proc/%d/fd", q)
		fds, _ := os.ReadDir(dir)
		for _, fd := range fds {
			if link, err := os.Readlink(dir + "/" + fd.Name()); err == nil && inodes[link] {
				return true, true
			}
		}
	}
	return false, true
}

// lockedWriter serializes writes from several goroutines to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func prefixed(w io.Writer, prefix string) io.Writer {
	return &prefixWriter{w: w, prefix: prefix}
}

type prefixWriter struct {
	w      io.Writer
	prefix string
	mu     sync.Mutex
	buf    bytes.Buffer
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		line, err := p.buf.ReadBytes('\n')
		if err != nil {
			p.buf.Write(line)
			break
		}
		if !bytes.HasPrefix(line, []byte(p.prefix)) {
			line = append([]byte(p.prefix), line...)
		}
		p.w.Write(line)
	}
	return len(b), nil
}
