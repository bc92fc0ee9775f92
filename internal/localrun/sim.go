package localrun

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/server"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// Account ids and identities of the two simulated accounts.
const (
	DefaultSourceAccount      = "111111111111"
	DefaultDestinationAccount = "222222222222"
	DefaultRegion             = "us-east-1"
)

// SimUser is a user in the simulator config.
type SimUser struct {
	Name            string            `json:"name"`
	AccessKeyID     string            `json:"accessKeyId"`
	SecretAccessKey string            `json:"secretAccessKey"`
	Policies        []json.RawMessage `json:"policies"`
}

// SimAccount is an account in the simulator config.
type SimAccount struct {
	ID    string    `json:"id"`
	Name  string    `json:"name"`
	Users []SimUser `json:"users"`
}

// SimConfig is the simulator's config file (docs/develop.md).
type SimConfig struct {
	Region                  string       `json:"region"`
	PropagationDelaySeconds float64      `json:"propagationDelaySeconds"`
	TimeScale               float64      `json:"timeScale"`
	Accounts                []SimAccount `json:"accounts"`
}

var adminPolicy = json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)

// newSimConfig makes a config with an admin user in each account.
func newSimConfig(region, sourceAccount, destAccount string, timeScale float64) SimConfig {
	user := func(acct string) SimUser {
		return SimUser{Name: "admin", AccessKeyID: "AKIA" + acct + "ADMN", SecretAccessKey: "local-secret-" + acct, Policies: []json.RawMessage{adminPolicy}}
	}
	return SimConfig{
		Region:    region,
		TimeScale: timeScale,
		Accounts: []SimAccount{
			{ID: sourceAccount, Name: "source", Users: []SimUser{user(sourceAccount)}},
			{ID: destAccount, Name: "destination", Users: []SimUser{user(destAccount)}},
		},
	}
}

// Sim is a running simulator and its admin API.
type Sim struct {
	Addr   string // http://127.0.0.1:PORT
	Config SimConfig
	proc   *process
	http   *http.Client
}

// startSim writes the config, starts the awssim binary and waits for its ready line.
func startSim(ctx context.Context, bin, dir string, cfg SimConfig, log io.Writer, g *group) (*Sim, error) {
	cfgPath := filepath.Join(dir, "awssim.json")
	b, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "awssim-data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-config", cfgPath, "-addr", "127.0.0.1:0", "-data", dataDir)
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p, err := startProcess("awssim", cmd)
	if err != nil {
		return nil, err
	}
	g.add(p)
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if addr, ok := strings.CutPrefix(line, "AWSSIM_ADDR="); ok && !sent {
				ready <- strings.TrimSpace(addr)
				sent = true
				continue
			}
			fmt.Fprintln(log, line)
		}
		if !sent {
			close(ready)
		}
	}()
	select {
	case addr, ok := <-ready:
		if !ok {
			<-p.done
			return nil, fmt.Errorf("awssim exited before printing AWSSIM_ADDR: %v (see its log)", p.err)
		}
		return &Sim{Addr: addr, Config: cfg, proc: p, http: &http.Client{Timeout: 30 * time.Second}}, nil
	case <-time.After(15 * time.Second):
		return nil, fmt.Errorf("awssim printed no AWSSIM_ADDR line within 15s")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// admin calls the simulator's admin API; out may be nil.
func (s *Sim) admin(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.Addr+"/_sim/"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("simulator %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("simulator %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(rb)))
	}
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			return fmt.Errorf("simulator %s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// Credentials are temporary credentials of a role, as Lambda hands them to a function.
type Credentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
}

// RoleCredentials returns credentials for roleArn (POST /_sim/credentials).
func (s *Sim) RoleCredentials(ctx context.Context, roleArn, session string) (Credentials, error) {
	var c Credentials
	err := s.admin(ctx, http.MethodPost, "credentials", map[string]string{"roleArn": roleArn, "sessionName": session}, &c)
	if err == nil && c.AccessKeyID == "" {
		err = fmt.Errorf("simulator returned no credentials for %s", roleArn)
	}
	return c, err
}

// RegisterStateMachine makes the simulator's ListExecutions know the state machine
// (POST /_sim/states/state-machines).
func (s *Sim) RegisterStateMachine(ctx context.Context, arn string) error {
	return s.admin(ctx, "POST", "states/state-machines", map[string]string{"arn": arn}, nil)
}

// PutExecution records an execution of a state machine with its status, or updates the
// status (POST /_sim/states/executions).
func (s *Sim) PutExecution(ctx context.Context, stateMachineArn, name, status string) error {
	return s.admin(ctx, "POST", "states/executions", map[string]string{"stateMachineArn": stateMachineArn, "name": name, "status": status}, nil)
}

// Fault makes the next Count calls of Service/Operation fail (POST /_sim/faults).
type Fault struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Count     int    `json:"count"`
	Kind      string `json:"kind"` // throttle | 500
}

// InjectFault registers a fault.
func (s *Sim) InjectFault(ctx context.Context, f Fault) error {
	return s.admin(ctx, http.MethodPost, "faults", f, nil)
}

// State returns the simulator's state dump (GET /_sim/state).
func (s *Sim) State(ctx context.Context) (*server.State, error) {
	var st server.State
	if err := s.admin(ctx, http.MethodGet, "state", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// BuildSim builds the simulator into Root/bin/awssim (a no-op when it is up to date).
func BuildSim(ctx context.Context, root string) (string, error) {
	out := filepath.Join(root, "bin", "awssim")
	return out, buildSimTo(root, out)
}

// buildSimTo builds the simulator to out.
func buildSimTo(root, out string) error {
	cmd := exec.Command("go", "build", "-o", out, "./cmd/awssim")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/awssim: %v\n%s", err, b)
	}
	return nil
}

// Calls returns the AWS API calls the simulator received from the since-th on
// (GET /_sim/calls).
func (s *Sim) Calls(ctx context.Context, since int) ([]server.Call, error) {
	var out struct {
		Calls []server.Call `json:"calls"`
	}
	if err := s.admin(ctx, http.MethodGet, fmt.Sprintf("calls?since=%d", since), nil, &out); err != nil {
		return nil, err
	}
	return out.Calls, nil
}

// SetBucketSettings sets a bucket's versioning, Requester Pays and Object Lock settings
// (POST /_sim/buckets/settings).
func (s *Sim) SetBucketSettings(ctx context.Context, bucket string, set store.BucketSettings) error {
	return s.admin(ctx, http.MethodPost, "buckets/settings", struct {
		Bucket string `json:"bucket"`
		store.BucketSettings
	}{bucket, set}, nil)
}

// Mutating returns the calls that may change something: every operation but the reads
// (Get*, List*, Describe*, Head*) and STS's AssumeRole and GetCallerIdentity, which
// change no resource.
func Mutating(calls []server.Call) []server.Call {
	var out []server.Call
	for _, c := range calls {
		read := c.Operation == "AssumeRole" || c.Operation == "GetCallerIdentity"
		for _, p := range []string{"Get", "List", "Describe", "Head"} {
			read = read || strings.HasPrefix(c.Operation, p)
		}
		if !read {
			out = append(out, c)
		}
	}
	return out
}

// Events lists the events the simulator's EventBridge accepted, oldest first
// (GET /_sim/events): the Migration Succeeded / Migration Failed events of the runs.
func (s *Sim) Events(ctx context.Context) ([]server.PutEvent, error) {
	var out struct {
		Events []server.PutEvent `json:"events"`
	}
	err := s.admin(ctx, http.MethodGet, "events", nil, &out)
	return out.Events, err
}
