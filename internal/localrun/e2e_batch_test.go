package localrun

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/batch"
	"github.com/dsmigrate/dsmigrate/internal/naming"
)

// batchInput is a batch of migrations from src to dst: item i copies prefixes[i] to
// "to-"+prefixes[i]; the defaults hold the accounts and regions.
func batchInput(env *Environment, id, src, dst string, prefixes []string, extra map[string]any) map[string]any {
	var items []any
	for _, p := range prefixes {
		items = append(items, map[string]any{
			"migrationId": id + "-" + strings.TrimSuffix(p, "/"),
			"source":      map[string]any{"bucket": src, "prefix": p},
			"destination": map[string]any{"bucket": dst, "prefix": "to-" + p},
		})
	}
	in := map[string]any{
		"batchId": id,
		"defaults": map[string]any{
			"source":      map[string]any{"accountId": env.Source.AccountID, "region": env.Region},
			"destination": map[string]any{"region": env.Region},
		},
		"migrations": items,
	}
	for k, v := range extra {
		in[k] = v
	}
	return in
}

func reportOf(t *testing.T, res *Result) batch.Report {
	t.Helper()
	var rep batch.Report
	if err := json.Unmarshal(res.Output, &rep); err != nil {
		t.Fatalf("batch output %s: %v", res.Output, err)
	}
	return rep
}

// childrenStarted counts the ChildExecutionStarted events of a run.
func childrenStarted(res *Result) []string {
	var names []string
	for _, ev := range res.Events {
		if ev.Event == "ChildExecutionStarted" {
			names = append(names, ev.Name)
		}
	}
	slices.Sort(names)
	return names
}

// maxGrantsAtOnce is the most migrations whose statements one version of the bucket's
// policy held, over every version the simulator stored.
func maxGrantsAtOnce(t *testing.T, env *Environment, bucket string) int {
	t.Helper()
	st, err := env.Sim.State(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	most := 0
	for _, b := range st.Buckets {
		if b.Name != bucket {
			continue
		}
		for _, sids := range b.PolicySids {
			ids := map[string]bool{}
			for _, sid := range sids {
				if id, ok := naming.MigrationIDOfSid(sid); ok {
					ids[id] = true
				}
			}
			most = max(most, len(ids))
		}
	}
	return most
}

// A batch of two migrations from one source bucket with perSourceBucket 1 and
// maxConcurrency 2: every migration copies its prefix byte for byte, the report lists
// each, and the source bucket policy never holds more than one migration's grants
// (observed in every version the simulator stored; with maxConcurrency alone both would
// run at once). The same batch again starts nothing and copies nothing.
func TestE2EBatch(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	prefixes := []string{"a/", "b/"}
	objs := slices.Concat(smallObjects(61, 3, "a/"), smallObjects(62, 2, "b/"))
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, objs)
	in := batchInput(env, "fleet", src, dst, prefixes, map[string]any{"maxConcurrency": 2, "perSourceBucket": 1})

	res := run(t, env, in, "fleet-1")
	mustSucceed(t, res)
	rep := reportOf(t, res)
	if rep.Status != "SUCCEEDED" || rep.Total != 2 || rep.Succeeded != 2 || rep.Failed != 0 {
		t.Fatalf("got report %+v, want 2 of 2 succeeded", rep)
	}
	wantFiles := map[string]int64{"fleet-a": 3, "fleet-b": 2}
	for i, m := range rep.Migrations {
		if m.Index != i || m.Status != "SUCCEEDED" || m.FilesTransferred != wantFiles[m.MigrationID] || m.BytesTransferred <= 0 || m.ExecutionName != m.MigrationID[:5]+"_"+m.MigrationID+"_1" {
			t.Errorf("migration %d: got %+v, want SUCCEEDED with %d files, its bytes and execution name fleet_%s_1", i, m, wantFiles[m.MigrationID], m.MigrationID)
		}
	}
	for _, p := range prefixes {
		v, err := Verify(testCtx(t), env.Source.S3, env.Destination.S3, src, p, dst, "to-"+p)
		if err != nil {
			t.Fatal(err)
		}
		if !v.OK() || v.Objects == 0 {
			t.Errorf("%s: got %+v, want every object identical", p, v)
		}
	}
	if got := maxGrantsAtOnce(t, env, src); got != 1 {
		t.Errorf("got at most %d migrations' grants in one version of the source bucket policy, want 1 (perSourceBucket 1)", got)
	}
	if got := policy(t, env.Source.S3, src); got != "" {
		t.Errorf("got source bucket policy %s after the batch, want every grant revoked", got)
	}

	before := inventory(t, env)
	again := run(t, env, in, "fleet-2")
	mustSucceed(t, again)
	rep2 := reportOf(t, again)
	if started := childrenStarted(again); len(started) != 0 {
		t.Errorf("the re-run started %v, want no child execution", started)
	}
	if rep2.Succeeded != 2 || rep2.FromEarlierRuns != 2 {
		t.Errorf("got re-run report %+v, want the 2 migrations reported from the earlier run", rep2)
	}
	for i, m := range rep2.Migrations {
		if first := rep.Migrations[i]; m.FilesTransferred != first.FilesTransferred || m.ExecutionName != first.ExecutionName {
			t.Errorf("migration %d: got %+v on the re-run, want the first run's %+v", i, m, first)
		}
	}
	if after := inventory(t, env); !sameInventory(before, after) {
		t.Errorf("the re-run changed the accounts: before %+v, after %+v", before, after)
	}
}

// One of two migrations fails (a statement of another team uses its Sid, which Preflight
// refuses before anything changes). Within
// toleratedFailurePercentage the batch succeeds and reports the failure with the child's
// own error, and writes report.json and report.csv to the report location; beyond it the re-run fails naming the failed child, without copying the
// succeeded migration again; once the statement is gone, the next re-run finishes it.
func TestE2EBatchFailureAndRerun(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	objs := slices.Concat(smallObjects(71, 2, "ok/"), smallObjects(72, 2, "bad/"))
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, objs)
	foreign := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":%q,"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::%s/elsewhere/*"}]}`,
		naming.SidsFor("tol-bad").BucketAccess, env.Destination.AccountID, src)
	putPolicy(t, env.Source.S3, src, foreign)
	prefixes := []string{"ok/", "bad/"}

	within := run(t, env, batchInput(env, "tol", src, dst, prefixes, map[string]any{"toleratedFailurePercentage": 50,
		"report": map[string]any{"bucket": dst, "prefix": "reports/"}}), "tol-1")
	mustSucceed(t, within)
	rep := reportOf(t, within)
	if rep.Succeeded != 1 || rep.Failed != 1 || rep.FailedPercentage != 50 {
		t.Fatalf("got report %+v, want 1 succeeded and 1 failed (50 %%)", rep)
	}
	bad := rep.Migrations[1]
	if bad.Status != "FAILED" || bad.Error != "PreconditionError" || !strings.Contains(bad.Cause, naming.SidsFor("tol-bad").BucketAccess) || bad.ExecutionName != "tol_tol-bad_1" {
		t.Errorf("got %+v, want tol-bad FAILED with the child's PreconditionError naming the Sid", bad)
	}
	checkReportObjects(t, env, dst, rep)

	beyond := run(t, env, batchInput(env, "tol", src, dst, prefixes, nil), "tol-2")
	if beyond.Succeeded || beyond.Error != "MigrationsFailedError" {
		t.Fatalf("got %v %s: %s, want MigrationsFailedError", beyond.Succeeded, beyond.Error, beyond.Cause)
	}
	if !strings.Contains(beyond.Cause, "1 of 2 migrations failed") || !strings.Contains(beyond.Cause, "tol-bad (tol_tol-bad_2): PreconditionError") {
		t.Errorf("got cause %q, want tol-bad's second attempt named with its error", beyond.Cause)
	}
	if got, want := childrenStarted(beyond), []string{"tol_tol-bad_2"}; !slices.Equal(got, want) {
		t.Errorf("the re-run started %v, want only %v (tol-ok succeeded before)", got, want)
	}

	if _, err := env.Source.S3.DeleteBucketPolicy(testCtx(t), &s3.DeleteBucketPolicyInput{Bucket: aws.String(src)}); err != nil {
		t.Fatal(err)
	}
	done := run(t, env, batchInput(env, "tol", src, dst, prefixes, nil), "tol-3")
	mustSucceed(t, done)
	if rep := reportOf(t, done); rep.Succeeded != 2 || rep.FromEarlierRuns != 1 || rep.Migrations[1].ExecutionName != "tol_tol-bad_3" {
		t.Errorf("got report %+v, want both succeeded, tol-ok from the earlier run and tol-bad at attempt 3", rep)
	}
	for _, p := range prefixes {
		if v, err := Verify(testCtx(t), env.Source.S3, env.Destination.S3, src, p, dst, "to-"+p); err != nil || !v.OK() || v.Objects != 2 {
			t.Errorf("%s: got %+v (%v), want 2 identical objects", p, v, err)
		}
	}
}

// checkReportObjects reads reports/<batchId>/report.json and report.csv from the
// destination bucket: the JSON is the batch output, the CSV one row per migration.
func checkReportObjects(t *testing.T, env *Environment, bucket string, rep batch.Report) {
	t.Helper()
	want := batch.ReportObjects{Bucket: bucket, JSONKey: "reports/" + rep.BatchID + "/report.json", CSVKey: "reports/" + rep.BatchID + "/report.csv"}
	if rep.ReportObjects == nil || *rep.ReportObjects != want {
		t.Fatalf("got reportObjects %+v, want %+v", rep.ReportObjects, want)
	}
	get := func(key string) []byte {
		out, err := env.Destination.S3.GetObject(testCtx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var stored batch.Report
	if err := json.Unmarshal(get(want.JSONKey), &stored); err != nil || stored.BatchID != rep.BatchID || len(stored.Migrations) != len(rep.Migrations) || stored.Failed != rep.Failed {
		t.Errorf("report.json: got %+v (%v), want the batch output %+v", stored, err, rep)
	}
	rows, err := csv.NewReader(bytes.NewReader(get(want.CSVKey))).ReadAll()
	if err != nil || len(rows) != len(rep.Migrations)+1 || !slices.Equal(rows[0], batch.CSVHeader) {
		t.Fatalf("report.csv: got %q (%v), want the header and %d rows", rows, err, len(rep.Migrations))
	}
	for i, m := range rep.Migrations {
		wantRow := []string{m.MigrationID, m.Status, strconv.FormatInt(m.FilesTransferred, 10), strconv.FormatInt(m.BytesTransferred, 10),
			strconv.FormatFloat(m.DurationSeconds, 'f', -1, 64), m.Error, m.Cause}
		if !slices.Equal(rows[i+1], wantRow) {
			t.Errorf("report.csv row %d: got %q, want %q", i+1, rows[i+1], wantRow)
		}
	}
}

// A batch with problems fails with one ValidationError naming every problem by item and
// field, and starts nothing.
func TestE2EBatchBadInput(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(81, 1, "x/"))
	good := batchInput(env, "bad", src, dst, []string{"x/", "y/"}, nil)
	items := good["migrations"].([]any)
	dup := map[string]any{"migrationId": "bad-x", "source": map[string]any{"bucket": src, "prefix": "z/"}, "destination": map[string]any{"bucket": dst, "prefix": "to-z/"}}
	overlapping := map[string]any{"migrationId": "bad-w", "source": map[string]any{"bucket": src, "prefix": "w/"}, "destination": map[string]any{"bucket": dst, "prefix": "to-x/deeper/"}}
	invalid := map[string]any{"migrationId": "bad-v", "source": map[string]any{"bucket": "Not_A_Bucket", "prefix": "v/"}, "destination": map[string]any{"bucket": dst, "prefix": "to-v/"}}
	tests := []struct {
		name  string
		give  map[string]any
		wants []string
	}{
		{"every item problem at once", map[string]any{"batchId": "bad", "defaults": good["defaults"], "migrations": append(slices.Clone(items), dup, overlapping, invalid)},
			[]string{`migrations[2].migrationId: "bad-x" is also the migrationId of migrations[0]`, "migrations[3].destination.prefix:", "overlaps migrations[0]", "migrations[4].source.bucket:"}},
		{"empty list", map[string]any{"batchId": "bad", "migrations": []any{}}, []string{"migrations: is empty"}},
		{"caps", map[string]any{"batchId": "bad", "defaults": good["defaults"], "migrations": items, "maxConcurrency": 500, "perSourceBucket": 0},
			[]string{"maxConcurrency: is 500, more than the 20 live migrations", "perSourceBucket: must be at least 1"}},
	}
	before := inventory(t, env)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, env, tt.give, fmt.Sprintf("bad-%d", i))
			if res.Succeeded || res.Error != "ValidationError" {
				t.Fatalf("got %v %s: %s, want ValidationError", res.Succeeded, res.Error, res.Cause)
			}
			for _, w := range tt.wants {
				if !strings.Contains(res.Cause, w) {
					t.Errorf("got cause %q, want it to contain %q", res.Cause, w)
				}
			}
			if started := childrenStarted(res); len(started) != 0 {
				t.Errorf("started %v, want nothing", started)
			}
		})
	}
	if after := inventory(t, env); !sameInventory(before, after) {
		t.Errorf("a refused batch changed the accounts: before %+v, after %+v", before, after)
	}
}

// `dsmigrate local run` takes a batch: it creates the buckets each item names, runs the
// batch state machine and, for a refused batch, prints the ValidationError naming the item.
func TestE2ELocalRunBatchCommand(t *testing.T) {
	t.Parallel()
	if err := (&Options{}).CheckPrerequisites(); err != nil {
		t.Fatalf("end-to-end prerequisites missing; run `make test` (or `make test-localrun`):\n%v", err)
	}
	ctx := testCtx(t)
	var example, stderr bytes.Buffer
	if code := Main(ctx, []string{"example"}, &example, &stderr); code != ExitOK {
		t.Fatalf("example: got exit %d, want 0: %s", code, stderr.String())
	}
	var req map[string]any
	if err := json.Unmarshal(example.Bytes(), &req); err != nil {
		t.Fatal(err)
	}
	item := func(id, prefix string) map[string]any {
		r := clone(req)
		r["migrationId"] = id
		r["destination"].(map[string]any)["prefix"] = prefix
		return r
	}
	in, _ := json.Marshal(map[string]any{"batchId": "cli", "migrations": []any{item("cli-a", "a/"), item("cli-a", "b/")}})
	file := filepath.Join(t.TempDir(), "batch.json")
	if err := os.WriteFile(file, in, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	stderr.Reset()
	got := Main(ctx, []string{"run", "--input", file, "--objects", "2", "--execution-name", "cli-batch"}, &stdout, &stderr)
	if m := keptLog.FindStringSubmatch(stderr.String()); m != nil {
		if dir := filepath.Dir(m[1]); strings.HasPrefix(filepath.Base(dir), workDirPrefix) {
			os.RemoveAll(dir)
		}
	}
	if got != ExitFailed || !strings.Contains(stderr.String(), "Error: ValidationError") || !strings.Contains(stderr.String(), `migrations[1].migrationId: "cli-a" is also the migrationId of migrations[0]`) {
		t.Errorf("got exit %d, stderr %s; want exit %d with the ValidationError naming migrations[1]", got, stderr.String(), ExitFailed)
	}
}
