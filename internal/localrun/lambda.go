package localrun

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Invocation is one REPORT line of the RIE: how long the init and the invoke took.
type Invocation struct {
	Init     time.Duration // 0 except for the first invoke of a process
	Duration time.Duration
}

// FunctionProcess is one function's bootstrap running under the RIE.
type FunctionProcess struct {
	Spec      *FunctionSpec
	InvokeURL string
	proc      *process

	mu      sync.Mutex
	reports []Invocation
	walls   []time.Duration // each invoke as the caller saw it (the first includes the cold start)
}

func (f *FunctionProcess) recordWall(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.walls = append(f.walls, d)
}

// Walls returns each invoke's duration as the caller saw it.
func (f *FunctionProcess) Walls() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.walls...)
}

// Reports returns the invocations seen so far.
func (f *FunctionProcess) Reports() []Invocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Invocation(nil), f.reports...)
}

var reportLine = regexp.MustCompile(`^REPORT RequestId: \S+\s+(?:Init Duration: ([0-9.]+) ms\s+)?Duration: ([0-9.]+) ms`)

func ms(s string) time.Duration {
	f, _ := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Millisecond))
}

// startFunction starts the RIE with the function's bootstrap on free loopback ports.
// env is the complete environment: nothing of the caller's environment leaks in (no
// AWS profile, no real credentials).
func startFunction(ctx context.Context, rie, bootstrap string, spec *FunctionSpec, env map[string]string, log io.Writer, g *group) (*FunctionProcess, error) {
	var err error
	for range 3 { // another program may take a port between its choice and the RIE's bind
		var fp *FunctionProcess
		if fp, err = startFunctionOnce(ctx, rie, bootstrap, spec, env, log, g); err == nil {
			return fp, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

func startFunctionOnce(ctx context.Context, rie, bootstrap string, spec *FunctionSpec, env map[string]string, log io.Writer, g *group) (*FunctionProcess, error) {
	emuPort, err := freePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	emuAddr := fmt.Sprintf("127.0.0.1:%d", emuPort)
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", emuAddr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort),
		"--log-level", "error",
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	p, err := startProcess("aws-lambda-rie "+spec.Dir, cmd)
	if err != nil {
		return nil, err
	}
	g.add(p)
	fp := &FunctionProcess{Spec: spec, InvokeURL: "http://" + emuAddr + "/2015-03-31/functions/function/invocations", proc: p}
	go func() {
		<-p.done
		pw.Close()
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			if m := reportLine.FindStringSubmatch(line); m != nil {
				fp.mu.Lock()
				fp.reports = append(fp.reports, Invocation{Init: ms(m[1]), Duration: ms(m[2])})
				fp.mu.Unlock()
			}
			fmt.Fprintf(log, "[%s] %s\n", spec.Dir, line)
		}
		io.Copy(io.Discard, pr)
	}()
	if err := waitForListener(ctx, p, 10*time.Second, emuPort, apiPort); err != nil {
		p.stop(time.Second)
		g.remove(p)
		return nil, err
	}
	return fp, nil
}

// functionEnv is the environment Lambda gives a function: its configuration from the
// template, its role's credentials, and the simulator as endpoint.
func functionEnv(spec *FunctionSpec, creds Credentials, region, endpoint string) map[string]string {
	env := map[string]string{
		"PATH":                        "/usr/local/bin:/usr/bin:/bin",
		"HOME":                        os.TempDir(),
		"TZ":                          ":UTC",
		"AWS_REGION":                  region,
		"AWS_DEFAULT_REGION":          region,
		"AWS_ACCESS_KEY_ID":           creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       creds.SecretAccessKey,
		"AWS_SESSION_TOKEN":           creds.SessionToken,
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_CONFIG_FILE":             "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_LAMBDA_FUNCTION_NAME":    spec.Name,
		"AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":   "/aws/lambda/" + spec.Name,
	}
	if spec.Timeout > 0 {
		env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = strconv.Itoa(spec.Timeout)
	}
	if spec.MemoryMB > 0 {
		env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(spec.MemoryMB)
	}
	for k, v := range spec.Env {
		if strings.HasPrefix(k, "AWS_") && env[k] != "" {
			continue // reserved by Lambda
		}
		env[k] = v
	}
	return env
}
