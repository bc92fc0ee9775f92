package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

var home = request.Home{AccountID: "222222222222", Region: "ap-northeast-1"}

const defaults = `{"source":{"accountId":"111111111111","region":"ap-northeast-1"},"destination":{"region":"ap-northeast-1"}}`

func item(id, src, srcPrefix, dst, dstPrefix string) string {
	return fmt.Sprintf(`{"migrationId":%q,"source":{"bucket":%q,"prefix":%q},"destination":{"bucket":%q,"prefix":%q}}`, id, src, srcPrefix, dst, dstPrefix)
}

func batchOf(extra string, items ...string) string {
	return `{"batchId":"b1","defaults":` + defaults + `,"migrations":[` + strings.Join(items, ",") + `]` + extra + `}`
}

func TestCheckProblems(t *testing.T) {
	limits := Limits{MaxLiveMigrations: 20, MaxGrantsPerSourceBucket: 4}
	many := make([]string, MaxMigrations+1)
	for i := range many {
		many[i] = item(fmt.Sprintf("m%d", i), "src-a", "", "dst-b", fmt.Sprintf("p%d/", i))
	}
	tests := []struct {
		name  string
		give  string
		wants []string
	}{
		{"not a batch", `{"batchId":"b1","migration":[]}`, []string{`(batch): is not a batch`}},
		{"bad batch id", `{"batchId":"B_1","migrations":[` + item("a", "src-a", "", "dst-b", "") + `]}`, []string{"batchId: must be 1-32 characters"}},
		{"empty", `{"batchId":"b1","migrations":[]}`, []string{"migrations: is empty"}},
		{"too many", batchOf("", many...), []string{fmt.Sprintf("migrations: has %d items, more than the %d", MaxMigrations+1, MaxMigrations)}},
		{"duplicate ids", batchOf("", item("a", "src-a", "x/", "dst-b", "x/"), item("a", "src-a", "y/", "dst-b", "y/")), []string{`migrations[1].migrationId: "a" is also the migrationId of migrations[0]`}},
		{"same destination", batchOf("", item("a", "src-a", "x/", "dst-b", "out/"), item("b", "src-c", "y/", "dst-b", "out/")), []string{`migrations[1].destination.prefix: "out/" in bucket "dst-b" overlaps migrations[0]'s`}},
		{"overlapping destination", batchOf("", item("a", "src-a", "x/", "dst-b", "out/"), item("b", "src-c", "y/", "dst-b", "out/deeper/")), []string{"migrations[1].destination.prefix:", "overlaps"}},
		{"whole bucket overlaps any prefix", batchOf("", item("a", "src-a", "x/", "dst-b", ""), item("b", "src-c", "y/", "dst-b", "out/")), []string{"migrations[1].destination.prefix:"}},
		{"invalid items named with their index", batchOf("", item("a", "src-a", "", "dst-b", "a/"), item("b", "Bad_Bucket", "", "dst-b", "b/"), `{"source":{"bucket":"src-a"},"destination":{"bucket":"dst-b","prefix":"c/"}}`),
			[]string{"migrations[1].source.bucket:", "migrations[2].migrationId: is required in a batch"}},
		{"unknown field in an item", batchOf("", `{"migrationId":"a","source":{"bucket":"src-a","prefx":"x/"},"destination":{"bucket":"dst-b"}}`), []string{"migrations[0].source.prefx"}},
		{"item not an object", batchOf("", `[1]`), []string{"migrations[0]: must be a JSON object"}},
		{"migrationId default", `{"batchId":"b1","defaults":{"migrationId":"x"},"migrations":[` + item("a", "src-a", "", "dst-b", "") + `]}`, []string{"defaults.migrationId: cannot be a default"}},
		{"caps", batchOf(`,"maxConcurrency":21,"perSourceBucket":5,"toleratedFailurePercentage":101`, item("a", "src-a", "", "dst-b", "")),
			[]string{"maxConcurrency: is 21, more than the 20", "perSourceBucket: is 5, more than the 4", "toleratedFailurePercentage: must be between 0 and 100"}},
		{"zero caps", batchOf(`,"maxConcurrency":0,"perSourceBucket":0`, item("a", "src-a", "", "dst-b", "")), []string{"maxConcurrency: must be at least 1", "perSourceBucket: must be at least 1"}},
		{"report location", batchOf(`,"report":{"bucket":"Reports_B","prefix":"/out//"}`, item("a", "src-a", "", "dst-b", "")),
			[]string{"report.bucket: may hold only lowercase letters", "report.prefix: must not begin with '/'", "report.prefix: must not contain '//'"}},
		{"report without bucket", batchOf(`,"report":{"prefix":"r/"}`, item("a", "src-a", "", "dst-b", "")), []string{"report.bucket: is required"}},
		{"deployment settings per item", batchOf("", `{"migrationId":"a","source":{"bucket":"src-a"},"destination":{"bucket":"dst-b"},"cleanup":{"revokeBucketPolicy":false}}`), []string{"migrations[0].cleanup.revokeBucketPolicy:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Check([]byte(tt.give), home, request.Deployment{}, limits)
			var v *failure.ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("got plan %+v, error %v, want a ValidationError", p, err)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err.Error(), w)
				}
			}
		})
	}
}

func TestCheckMergesAndPlans(t *testing.T) {
	give := `{"batchId":"b1","defaults":{"source":{"accountId":"111111111111","region":"ap-northeast-1","bucket":"src-a"},"destination":{"region":"ap-northeast-1","bucket":"dst-b"},"task":{"excludes":["*.tmp"]}},
	  "migrations":[{"migrationId":"a","source":{"prefix":"a/"},"destination":{"prefix":"a/"}},
	                {"migrationId":"b","source":{"prefix":"b/"},"destination":{"prefix":"b/"},"task":{"excludes":["*.log"]}},
	                {"migrationId":"c","source":{"bucket":"src-c"},"destination":{"prefix":"c/"}}],
	  "perSourceBucket":1,"maxConcurrency":3,"toleratedFailurePercentage":10}`
	p, err := Check([]byte(give), home, request.Deployment{}, Limits{MaxLiveMigrations: 20, MaxGrantsPerSourceBucket: 4})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 3 || p.MaxConcurrency != 3 || p.PerSourceBucket != 1 || p.ToleratedFailurePercentage != 10 {
		t.Errorf("got %+v, want 3 items, maxConcurrency 3, perSourceBucket 1, tolerated 10", p)
	}
	if len(p.Lanes) != 2 || len(p.Lanes[0].Items) != 2 || p.Lanes[0].Items[0].MigrationID != "a" || p.Lanes[0].Items[1].MigrationID != "b" || p.Lanes[1].Items[0].MigrationID != "c" {
		t.Fatalf("got lanes %+v, want [a b] on src-a and [c] on src-c", p.Lanes)
	}
	var b request.Request
	if err := json.Unmarshal(p.Lanes[0].Items[1].Input, &b); err != nil {
		t.Fatal(err)
	}
	if b.Source.Bucket != "src-a" || b.Source.Prefix != "b/" || b.Source.AccountID != "111111111111" || len(b.Task.Excludes) != 1 || b.Task.Excludes[0] != "*.log" {
		t.Errorf("got item b %+v, want the defaults deep-merged and its own excludes replacing the default list", b)
	}
	if got := p.Lanes[1].Items[0].ExecutionName; got != "b1_c_1" {
		t.Errorf("got execution name %q, want b1_c_1", got)
	}
	def, err := Check([]byte(batchOf("", item("a", "src-a", "", "dst-b", ""))), home, request.Deployment{}, Limits{MaxLiveMigrations: 3, MaxGrantsPerSourceBucket: 1})
	if err != nil {
		t.Fatal(err)
	}
	if def.MaxConcurrency != 3 || def.PerSourceBucket != 1 {
		t.Errorf("got defaults %d/%d, want them lowered to the deployment's caps 3/1", def.MaxConcurrency, def.PerSourceBucket)
	}
}

func TestLanes(t *testing.T) {
	var items []Item
	for i, b := range []string{"x", "x", "x", "x", "x", "y", "z", "z"} {
		items = append(items, Item{MigrationID: fmt.Sprint(i), SourceBucket: b})
	}
	tests := []struct {
		per  int
		want string
	}{
		{1, "[0 1 2 3 4] [6 7] [5]"},
		{2, "[0 2 4] [1 3] [5] [6] [7]"},
		{3, "[0 3] [1 4] [2] [5] [6] [7]"},
		{9, "[0] [1] [2] [3] [4] [5] [6] [7]"},
	}
	for _, tt := range tests {
		var got []string
		for i, l := range Lanes(items, tt.per) {
			if l.Lane != i {
				t.Errorf("lane %d numbered %d", i, l.Lane)
			}
			var ids []string
			perBucket := map[string]bool{}
			for _, it := range l.Items {
				ids = append(ids, it.MigrationID)
				perBucket[it.SourceBucket] = true
			}
			if len(perBucket) != 1 {
				t.Errorf("lane %v mixes buckets", ids)
			}
			got = append(got, "["+strings.Join(ids, " ")+"]")
		}
		if s := strings.Join(got, " "); s != tt.want {
			t.Errorf("perSourceBucket %d: got %s, want %s", tt.per, s, tt.want)
		}
	}
}

type fakeSFN struct {
	executions map[string]*sfn.DescribeExecutionOutput
	err        error
	calls      []string
}

func (f *fakeSFN) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	f.calls = append(f.calls, aws.ToString(in.ExecutionArn))
	if f.err != nil {
		return nil, f.err
	}
	if out, ok := f.executions[aws.ToString(in.ExecutionArn)]; ok {
		return out, nil
	}
	return nil, &sfntypes.ExecutionDoesNotExist{Message: aws.String("Execution Does Not Exist")}
}

func TestResume(t *testing.T) {
	const sm = "arn:aws:states:ap-northeast-1:222222222222:stateMachine:dsmigrate"
	arn := func(name string) string {
		return "arn:aws:states:ap-northeast-1:222222222222:execution:dsmigrate:" + name
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	stop := start.Add(90 * time.Second)
	exec := func(status sfntypes.ExecutionStatus, output string) *sfn.DescribeExecutionOutput {
		return &sfn.DescribeExecutionOutput{Status: status, StartDate: &start, StopDate: &stop, Output: aws.String(output)}
	}
	f := &fakeSFN{executions: map[string]*sfn.DescribeExecutionOutput{
		arn("b1_done_1"):    exec(sfntypes.ExecutionStatusFailed, ""),
		arn("b1_done_2"):    exec(sfntypes.ExecutionStatusSucceeded, `{"transfer":{"filesTransferred":7,"bytesTransferred":700}}`),
		arn("b1_failed_1"):  exec(sfntypes.ExecutionStatusFailed, ""),
		arn("b1_failed_2"):  exec(sfntypes.ExecutionStatusAborted, ""),
		arn("b1_running_1"): exec(sfntypes.ExecutionStatusRunning, ""),
	}}
	p := &Plan{BatchID: "b1", Lanes: []Lane{{Items: []Item{{MigrationID: "done", Index: 0}, {MigrationID: "failed", Index: 1}}}, {Items: []Item{{MigrationID: "running", Index: 2}, {MigrationID: "new", Index: 3}}}}}
	if err := Resume(context.Background(), f, sm, p); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		it       Item
		wantName string
		wantSkip bool
	}{
		{p.Lanes[0].Items[0], "b1_done_2", true},
		{p.Lanes[0].Items[1], "b1_failed_3", false},
		{p.Lanes[1].Items[0], "b1_running_1", false},
		{p.Lanes[1].Items[1], "b1_new_1", false},
	}
	for _, tt := range tests {
		if tt.it.ExecutionName != tt.wantName || tt.it.Skip != tt.wantSkip {
			t.Errorf("%s: got %s skip %v, want %s skip %v", tt.it.MigrationID, tt.it.ExecutionName, tt.it.Skip, tt.wantName, tt.wantSkip)
		}
	}
	prev := p.Lanes[0].Items[0].Previous
	if prev == nil || prev.FilesTransferred != 7 || prev.BytesTransferred != 700 || prev.DurationSeconds != 90 || !prev.EarlierRun || prev.ExecutionArn != arn("b1_done_2") {
		t.Errorf("got previous %+v, want the earlier run's 7 files, 700 bytes, 90 s", prev)
	}

	denied := &fakeSFN{err: errors.New("AccessDeniedException: not authorized to perform states:DescribeExecution")}
	if err := Resume(context.Background(), denied, sm, &Plan{BatchID: "b1", Lanes: []Lane{{Items: []Item{{MigrationID: "a"}}}}}); err == nil {
		t.Error("got nil, want the DescribeExecution error")
	}
	many := &fakeSFN{executions: map[string]*sfn.DescribeExecutionOutput{}}
	for i := 1; i <= MaxAttempts; i++ {
		many.executions[arn(ExecutionName("b1", "a", i))] = exec(sfntypes.ExecutionStatusFailed, "")
	}
	err := Resume(context.Background(), many, sm, &Plan{BatchID: "b1", Lanes: []Lane{{Items: []Item{{MigrationID: "a"}}}}})
	if err == nil || !strings.Contains(err.Error(), "start the batch with a new batchId") {
		t.Errorf("got %v, want a ValidationError asking for a new batchId after %d attempts", err, MaxAttempts)
	}
}

func TestFailed(t *testing.T) {
	it := Item{MigrationID: "m", Index: 2, ExecutionName: "b_m_1"}
	child := `{"ExecutionArn":"arn:x","Status":"FAILED","Error":"TransferFailedError","Cause":"` + strings.Repeat("x", 3000) + `","StartDate":1000,"StopDate":61000}`
	tests := []struct {
		name      string
		give      CaughtError
		wantError string
		wantDur   float64
	}{
		{"child failed", CaughtError{Error: "States.TaskFailed", Cause: child}, "TransferFailedError", 60},
		{"child timed out", CaughtError{Error: "States.TaskFailed", Cause: `{"Status":"TIMED_OUT","StartDate":"2026-01-01T00:00:00Z","StopDate":"2026-01-01T00:00:30Z"}`}, "TIMED_OUT", 30},
		{"not started", CaughtError{Error: "StepFunctions.ExecutionAlreadyExistsException", Cause: "Execution Already Exists"}, "StepFunctions.ExecutionAlreadyExistsException", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Failed(it, tt.give)
			if r.Status != StatusFailed || r.Error != tt.wantError || r.DurationSeconds != tt.wantDur || len(r.Cause) > MaxCauseBytes || r.Index != 2 {
				t.Errorf("got %+v, want FAILED with %s, %v s and a cause of at most %d bytes", r, tt.wantError, tt.wantDur, MaxCauseBytes)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	ok := func(i int) Entry {
		return Entry{Result: Result{MigrationID: fmt.Sprint("m", i), Index: i, ExecutionName: fmt.Sprint("b_m", i, "_1"), Status: StatusSucceeded},
			Child: &ChildResult{ExecutionArn: "arn", StartDate: json.RawMessage("1000"), StopDate: json.RawMessage("3500"), Transfer: &Transfer{FilesTransferred: 2, BytesTransferred: 20}}}
	}
	bad := Entry{Result: Result{MigrationID: "m3", Index: 3, ExecutionName: "b_m3_1", Status: StatusFailed, Error: "PreconditionError"}}
	earlier := Entry{Result: Result{MigrationID: "m0", Index: 0, Status: StatusSucceeded, EarlierRun: true, FilesTransferred: 5}}
	lanes := [][]Entry{{ok(2), bad}, {earlier, ok(1)}}
	tests := []struct {
		tolerated  float64
		wantStatus string
	}{{0, StatusFailed}, {24.99, StatusFailed}, {25, StatusSucceeded}, {100, StatusSucceeded}}
	for _, tt := range tests {
		rep := Summarize("b", tt.tolerated, lanes)
		if rep.Status != tt.wantStatus {
			t.Errorf("tolerated %v: got %s, want %s", tt.tolerated, rep.Status, tt.wantStatus)
		}
		if rep.Total != 4 || rep.Succeeded != 3 || rep.Failed != 1 || rep.FromEarlierRuns != 1 || rep.FailedPercentage != 25 || rep.FilesTransferred != 9 {
			t.Errorf("got %+v, want 4 migrations, 3 succeeded (1 earlier), 1 failed (25 %%), 9 files", rep)
		}
		for i, m := range rep.Migrations {
			if m.Index != i {
				t.Errorf("migration %d has index %d: want the input's order", i, m.Index)
			}
		}
		if rep.Migrations[1].DurationSeconds != 2.5 || rep.Migrations[1].BytesTransferred != 20 {
			t.Errorf("got %+v, want 2.5 s and 20 bytes from the child", rep.Migrations[1])
		}
		if tt.wantStatus == StatusFailed && !strings.Contains(rep.Cause, "m3 (b_m3_1): PreconditionError") {
			t.Errorf("got cause %q, want the failed child named", rep.Cause)
		}
	}
}

func TestHandleModes(t *testing.T) {
	h := &Handler{Config: Config{Home: home, Limits: Limits{MaxLiveMigrations: 5, MaxGrantsPerSourceBucket: 2},
		StateMachineArn: "arn:aws:states:ap-northeast-1:222222222222:stateMachine:dsmigrate"}, SFN: &fakeSFN{}}
	out, err := h.Handle(context.Background(), StepInput{Mode: "prepare", Batch: json.RawMessage(batchOf("", item("a", "src-a", "", "dst-b", "")))})
	if p, ok := out.(*Plan); err != nil || !ok || p.Total != 1 {
		t.Errorf("prepare: got %v, %v, want a plan of 1", out, err)
	}
	if _, err := h.Handle(context.Background(), StepInput{Mode: "prepare", Batch: json.RawMessage(`{"batchId":"b"}`)}); failure.Name(err) != "ValidationError" {
		t.Errorf("prepare of an empty batch: got %v, want ValidationError", err)
	}
	out, err = h.Handle(context.Background(), StepInput{Mode: "failure", Item: &Item{MigrationID: "a"}, Failure: &CaughtError{Error: "X", Cause: "y"}})
	if r, ok := out.(Result); err != nil || !ok || r.Error != "X" {
		t.Errorf("failure: got %v, %v", out, err)
	}
	out, err = h.Handle(context.Background(), StepInput{Mode: "report", BatchID: "b", Lanes: [][]Entry{{{Result: Result{Status: StatusSucceeded}}}}})
	if r, ok := out.(Report); err != nil || !ok || r.Status != StatusSucceeded {
		t.Errorf("report: got %v, %v", out, err)
	}
	for _, in := range []StepInput{{Mode: "failure"}, {Mode: "other"}} {
		if _, err := h.Handle(context.Background(), in); failure.Name(err) != "ValidationError" || !strings.Contains(err.Error(), "mode") {
			t.Errorf("mode %q: got %v, want a ValidationError about the mode", in.Mode, err)
		}
	}
}
