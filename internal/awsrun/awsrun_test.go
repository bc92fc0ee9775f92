package awsrun

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

const (
	testStateMachine = "arn:aws:states:ap-northeast-1:222222222222:stateMachine:dsmigrate"
	testExecution    = "arn:aws:states:ap-northeast-1:222222222222:execution:dsmigrate:media-2026-11-20261127T032306Z"
)

var testNow = time.Date(2026, 11, 27, 3, 23, 6, 0, time.UTC)

// fakeSFN is a Step Functions client whose methods are the func fields; a nil field
// fails the call. calls counts every call.
type fakeSFN struct {
	start    func(*sfn.StartExecutionInput) (*sfn.StartExecutionOutput, error)
	describe func(*sfn.DescribeExecutionInput) (*sfn.DescribeExecutionOutput, error)
	history  func(*sfn.GetExecutionHistoryInput) (*sfn.GetExecutionHistoryOutput, error)
	list     func(*sfn.ListExecutionsInput) (*sfn.ListExecutionsOutput, error)
	calls    int
}

func (f *fakeSFN) ListExecutions(_ context.Context, in *sfn.ListExecutionsInput, _ ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error) {
	f.calls++
	if f.list == nil {
		return nil, errUnexpected
	}
	return f.list(in)
}

var errUnexpected = errors.New("unexpected call")

func (f *fakeSFN) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	f.calls++
	if f.start == nil {
		return nil, errUnexpected
	}
	return f.start(in)
}

func (f *fakeSFN) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	f.calls++
	if f.describe == nil {
		return nil, errUnexpected
	}
	return f.describe(in)
}

func (f *fakeSFN) GetExecutionHistory(_ context.Context, in *sfn.GetExecutionHistoryInput, _ ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error) {
	f.calls++
	if f.history == nil {
		return &sfn.GetExecutionHistoryOutput{}, nil
	}
	return f.history(in)
}

// harness runs the commands against fake with a fixed clock and recorded sleeps.
type harness struct {
	fake *fakeSFN
	// stacks answers DescribeStacks (nil: no stack); stackCalls counts the calls.
	stacks         func(*cloudformation.DescribeStacksInput) (*cloudformation.DescribeStacksOutput, error)
	stackCalls     int
	stackRegions   []string // "profile|region" per NewStacks call
	stdout, stderr bytes.Buffer
	clients        []string // "profile|region" per NewClient call
	sleeps         []time.Duration
}

func (h *harness) run(t *testing.T, stdin string, args ...string) int {
	t.Helper()
	r := &Runner{
		Stdin:  strings.NewReader(stdin),
		Stdout: &h.stdout,
		Stderr: &h.stderr,
		NewClient: func(_ context.Context, profile, region string) (SFNAPI, error) {
			h.clients = append(h.clients, profile+"|"+region)
			return h.fake, nil
		},
		NewStacks: func(_ context.Context, profile, region string) (StacksAPI, string, error) {
			h.stackRegions = append(h.stackRegions, profile+"|"+region)
			if region == "" {
				region = "ap-northeast-1"
			}
			return fakeStacks{h}, region, nil
		},
		Now: func() time.Time { return testNow },
		Sleep: func(_ context.Context, d time.Duration) error {
			h.sleeps = append(h.sleeps, d)
			return nil
		},
	}
	return r.Main(context.Background(), args)
}

// fakeStacks is CloudFormation as the harness's stacks field answers it.
type fakeStacks struct{ h *harness }

func (f fakeStacks) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	f.h.stackCalls++
	if f.h.stacks == nil {
		return nil, errors.New("Stack with id " + aws.ToString(in.StackName) + " does not exist")
	}
	return f.h.stacks(in)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStartRefusesWithoutCallingAWS(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantFields []string // each must appear at the start of a "  field: rule" line
		wantText   string
	}{
		{
			name: "invalid rules",
			args: []string{"--input", "testdata/request-invalid.json"},
			wantFields: []string{"migrationId", "source.bucket", "source.accountId",
				"destination.bucket", "destination.accountId", "destination.region", "destination.storageClass", "task.includes[0]"},
		},
		{
			name:       "fields of an earlier version",
			args:       []string{"--input", "testdata/request-retired-fields.json"},
			wantFields: []string{"source.policyRoleArn", "source.externalId"},
			wantText:   "derived from source.accountId",
		},
		{
			name:       "unknown field and wrong type",
			args:       []string{"--input", "testdata/request-unknown-field.json"},
			wantFields: []string{"migrationID", "destination.storageClass"},
		},
		{
			name:       "not JSON on stdin",
			args:       []string{"--input", "-"},
			stdin:      `{"source": `,
			wantFields: []string{"(request)"},
		},
		{
			name:       "empty stdin",
			args:       []string{"--input", "-"},
			wantFields: []string{"(request)"},
		},
		{
			name: "valid elsewhere, wrong partition, region and account for this state machine",
			args: []string{"--input", "testdata/request-valid.json",
				"--state-machine-arn", "arn:aws-cn:states:cn-north-1:333333333333:stateMachine:dsmigrate"},
			wantFields: []string{"destination.accountId", "destination.region", "source.region"},
		},
		{
			name:       "name that derives an invalid migration id",
			args:       []string{"--input", "testdata/request-no-id.json", "--name", "___"},
			wantFields: []string{"migrationId"},
		},
		{
			name:       "name with characters Step Functions logging refuses",
			args:       []string{"--input", "testdata/request-valid.json", "--name", "media 2026/11"},
			wantFields: []string{"--name"},
		},
		{
			name:       "bad name and bad request: all problems at once",
			args:       []string{"--input", "testdata/request-invalid.json", "--name", strings.Repeat("n", 81)},
			wantFields: []string{"--name", "source.bucket", "destination.region"},
		},
		{
			name:     "missing flags",
			args:     []string{},
			wantText: "missing --input",
		},
		{
			name:     "not a state machine ARN",
			args:     []string{"--input", "testdata/request-valid.json", "--state-machine-arn", testExecution},
			wantText: "is not a state machine ARN",
		},
		{
			name:     "region other than the ARN's",
			args:     []string{"--input", "testdata/request-valid.json", "--region", "us-east-1"},
			wantText: "differs from the ARN's region",
		},
		{
			name:     "missing file",
			args:     []string{"--input", "testdata/no-such-file.json"},
			wantText: "no-such-file.json",
		},
		{
			name:     "positional argument",
			args:     []string{"--input", "testdata/request-valid.json", "request.json"},
			wantText: `unexpected argument "request.json"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &harness{fake: &fakeSFN{}}
			args := append([]string{"start"}, tt.args...)
			if !strings.Contains(strings.Join(tt.args, " "), "--state-machine-arn") && tt.name != "missing flags" {
				args = append(args, "--state-machine-arn", testStateMachine)
			}
			if got := h.run(t, tt.stdin, args...); got != ExitUsage {
				t.Errorf("exit code: got %d, want %d (stderr %q)", got, ExitUsage, h.stderr.String())
			}
			if h.fake.calls != 0 || len(h.clients) != 0 || h.stackCalls != 0 {
				t.Errorf("AWS: got %d SFN calls and %d clients, want none", h.fake.calls, len(h.clients))
			}
			stderr := h.stderr.String()
			for _, f := range tt.wantFields {
				if !strings.Contains(stderr, "\n  "+f+": ") {
					t.Errorf("stderr names no problem of %s; got:\n%s", f, stderr)
				}
			}
			if tt.wantText != "" && !strings.Contains(stderr, tt.wantText) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr, tt.wantText)
			}
			if h.stdout.Len() != 0 {
				t.Errorf("stdout: got %q, want nothing", h.stdout.String())
			}
		})
	}
}

func TestStartCallsStartExecution(t *testing.T) {
	valid := readFile(t, "testdata/request-valid.json")
	noID := readFile(t, "testdata/request-no-id.json")
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantInput  string
		wantName   string
		wantClient string
		wantNote   bool
	}{
		{
			name:       "file, default name from the migration id",
			args:       []string{"--input", "testdata/request-valid.json"},
			wantInput:  valid,
			wantName:   "media-2026-11-20261127T032306Z",
			wantClient: "|ap-northeast-1",
		},
		{
			name:       "stdin, given name and profile",
			args:       []string{"--input", "-", "--name", "Media_Run-2", "--profile", "dst", "--region", "ap-northeast-1"},
			stdin:      valid,
			wantInput:  valid,
			wantName:   "Media_Run-2",
			wantClient: "dst|ap-northeast-1",
		},
		{
			name:       "no migrationId: a timestamped name, and a note",
			args:       []string{"--input", "testdata/request-no-id.json"},
			wantInput:  noID,
			wantName:   "dsmigrate-20261127T032306Z",
			wantClient: "|ap-northeast-1",
			wantNote:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*sfn.StartExecutionInput
			h := &harness{fake: &fakeSFN{start: func(in *sfn.StartExecutionInput) (*sfn.StartExecutionOutput, error) {
				got = append(got, in)
				return &sfn.StartExecutionOutput{ExecutionArn: aws.String(testExecution), StartDate: aws.Time(testNow)}, nil
			}}}
			args := append([]string{"start", "--state-machine-arn", testStateMachine}, tt.args...)
			if code := h.run(t, tt.stdin, args...); code != ExitOK {
				t.Fatalf("exit code: got %d, want %d (stderr %q)", code, ExitOK, h.stderr.String())
			}
			if len(got) != 1 || h.fake.calls != 1 {
				t.Fatalf("StartExecution calls: got %d (all calls %d), want 1", len(got), h.fake.calls)
			}
			in := got[0]
			if g := aws.ToString(in.Input); g != tt.wantInput {
				t.Errorf("Input: got %q, want the request as given %q", g, tt.wantInput)
			}
			if g := aws.ToString(in.Name); g != tt.wantName {
				t.Errorf("Name: got %q, want %q", g, tt.wantName)
			}
			if g := aws.ToString(in.StateMachineArn); g != testStateMachine {
				t.Errorf("StateMachineArn: got %q, want %q", g, testStateMachine)
			}
			if len(h.clients) != 1 || h.clients[0] != tt.wantClient {
				t.Errorf("NewClient(profile|region): got %q, want [%q]", h.clients, tt.wantClient)
			}
			if g := h.stdout.String(); g != testExecution+"\n" {
				t.Errorf("stdout: got %q, want the execution ARN", g)
			}
			if g := strings.Contains(h.stderr.String(), "no migrationId"); g != tt.wantNote {
				t.Errorf("note about the missing migrationId: got %v, want %v (stderr %q)", g, tt.wantNote, h.stderr.String())
			}
		})
	}
}

func TestStartExecutionError(t *testing.T) {
	h := &harness{fake: &fakeSFN{start: func(*sfn.StartExecutionInput) (*sfn.StartExecutionOutput, error) {
		return nil, &types.ExecutionAlreadyExists{Message: aws.String("Execution Already Exists")}
	}}}
	code := h.run(t, "", "start", "--state-machine-arn", testStateMachine, "--input", "testdata/request-valid.json")
	if code != ExitAWS {
		t.Errorf("exit code: got %d, want %d", code, ExitAWS)
	}
	if want := "give another --name"; !strings.Contains(h.stderr.String(), want) {
		t.Errorf("stderr: got %q, want it to contain %q", h.stderr.String(), want)
	}
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

func TestExecutionName(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{name: "migration id", give: "media-2026-11", want: "media-2026-11-20261127T032306Z"},
		{name: "longest valid id", give: strings.Repeat("a", 32), want: strings.Repeat("a", 32) + "-20261127T032306Z"},
		{name: "empty", give: "", want: "dsmigrate-20261127T032306Z"},
		{name: "characters outside the set", give: "Media 2026/11.ü", want: "Media-2026-11---20261127T032306Z"},
		{name: "too long is cut to 80", give: strings.Repeat("x", 100), want: strings.Repeat("x", 63) + "-20261127T032306Z"},
		{name: "long non-ASCII is cut to 80", give: strings.Repeat("é", 70), want: strings.Repeat("-", 63) + "-20261127T032306Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ExecutionName(tt.give, testNow.In(time.FixedZone("JST", 9*3600)))
			if got != tt.want {
				t.Errorf("ExecutionName(%q): got %q, want %q", tt.give, got, tt.want)
			}
			if !validName.MatchString(got) {
				t.Errorf("ExecutionName(%q) = %q: not a valid execution name (≤ 80 of [A-Za-z0-9_-])", tt.give, got)
			}
		})
	}
}

func TestUnwrapCause(t *testing.T) {
	tests := []struct {
		name     string
		give     string
		wantType string
		wantMsg  string
	}{
		{
			name:     "Lambda error document",
			give:     `{"errorType":"TransferFailedError","errorMessage":"DataSync task execution x ended in ERROR: S3ObjectAccessDenied: denied"}`,
			wantType: "TransferFailedError",
			wantMsg:  "DataSync task execution x ended in ERROR: S3ObjectAccessDenied: denied",
		},
		{
			name:    "plain text",
			give:    "An error occurred while executing the state 'Preflight'",
			wantMsg: "An error occurred while executing the state 'Preflight'",
		},
		{
			name:    "JSON without errorMessage",
			give:    `{"Error":"x"}`,
			wantMsg: `{"Error":"x"}`,
		},
		{name: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotType, gotMsg := UnwrapCause(tt.give)
			if gotType != tt.wantType || gotMsg != tt.wantMsg {
				t.Errorf("UnwrapCause: got (%q, %q), want (%q, %q)", gotType, gotMsg, tt.wantType, tt.wantMsg)
			}
		})
	}
}

// TestStartHostileRequests gives dsmigrate start every hostile request on standard input
// and classifies the answer (clear, vague, wrongly accepted, crash); all must be clear:
// exit code 2, a "  field: rule" line naming the field, no AWS call, and stderr within
// the 32 KiB a Step Functions cause may hold. The tally is logged.
func TestStartHostileRequests(t *testing.T) {
	cases := requesttest.HostileRequests()
	tally := requesttest.Tally{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			h := &harness{fake: &fakeSFN{start: func(*sfn.StartExecutionInput) (*sfn.StartExecutionOutput, error) {
				return &sfn.StartExecutionOutput{ExecutionArn: aws.String(testExecution)}, nil
			}}}
			verdict := func() (v string) {
				defer func() {
					if recover() != nil {
						v = requesttest.Crash
					}
				}()
				code := h.run(t, string(c.Raw), "start", "--state-machine-arn", testStateMachine, "--input", "-")
				stderr := h.stderr.String()
				switch {
				case code == ExitOK || h.fake.calls > 0:
					return requesttest.Accepted
				case code != ExitUsage || !strings.Contains(stderr, "\n  "+c.WantField+": ") || !strings.Contains(stderr, c.WantIn) || len(stderr) > requesttest.MaxCause:
					return requesttest.Vague
				}
				return requesttest.Clear
			}()
			if verdict != requesttest.Clear {
				t.Errorf("got %s (%d bytes of stderr: %.300q); want a problem line for %s saying %q", verdict, h.stderr.Len(), h.stderr.String(), c.WantField, c.WantIn)
			}
			tally.Add(verdict, c.Name)
		})
	}
	t.Logf("dsmigrate start on %d hostile requests:\n%s", len(cases), tally)
}

// TestStartSaysTheSize: a file far over the limit is reported with its real size, a
// stream as "more than 256 KiB".
func TestStartSaysTheSize(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), 10<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{name: "10 MiB file", args: []string{"--input", big}, want: "(request): is 10485760 bytes (10.0 MiB); a Step Functions execution input is at most 262144 bytes (256 KiB)"},
		{name: "10 MiB on stdin", args: []string{"--input", "-"}, stdin: strings.Repeat(" ", 10<<20), want: "(request): is more than 256 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &harness{fake: &fakeSFN{}}
			code := h.run(t, tt.stdin, append([]string{"start", "--state-machine-arn", testStateMachine}, tt.args...)...)
			if code != ExitUsage || !strings.Contains(h.stderr.String(), tt.want) {
				t.Errorf("got exit %d, stderr %q; want %d and %q", code, h.stderr.String(), ExitUsage, tt.want)
			}
		})
	}
}

// TestStartExtraRegions: a region newer than the SDK is refused unless --extra-regions
// lists it, as the deployment's dsmigrate:extraRegions makes the functions accept it.
func TestStartExtraRegions(t *testing.T) {
	req := strings.Replace(readFile(t, "testdata/request-valid.json"), `"region": "ap-northeast-1",
    "prefix": "photos/"`, `"region": "ap-northeast-9",
    "prefix": "photos/"`, 1)
	tests := []struct {
		name     string
		extra    []string
		wantCode int
	}{
		{name: "not listed", wantCode: ExitUsage},
		{name: "listed", extra: []string{"--extra-regions", "eu-south-7, ap-northeast-9"}, wantCode: ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &harness{fake: &fakeSFN{start: func(*sfn.StartExecutionInput) (*sfn.StartExecutionOutput, error) {
				return &sfn.StartExecutionOutput{ExecutionArn: aws.String(testExecution)}, nil
			}}}
			args := append([]string{"start", "--state-machine-arn", testStateMachine, "--input", "-"}, tt.extra...)
			if code := h.run(t, req, args...); code != tt.wantCode {
				t.Errorf("got exit %d (stderr %q), want %d", code, h.stderr.String(), tt.wantCode)
			}
		})
	}
}
