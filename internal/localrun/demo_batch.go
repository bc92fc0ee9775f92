package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/batch"
	"github.com/dsmigrate/dsmigrate/internal/execution"
)

// batchPair is one migration of the batch demo.
type batchPair struct {
	id             string
	src, srcPrefix string
	dst, dstPrefix string
	objects        int
}

// DemoBatch seeds three source buckets in A (one with two prefixes that go to two
// destinations), runs them as one batch of five migrations, verifies every pair byte for
// byte, runs the same batch again and checks that nothing was copied or created. The
// synthesized stacks must list at least three source and two destination buckets
// (`make demo-batch` synthesizes them so).
func DemoBatch(ctx context.Context, opts Options, out io.Writer) (err error) {
	t0 := time.Now()
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	say("dsmigrate local demo-batch: five migrations from three buckets in account A, as one batch")
	if opts.Instances == 0 {
		// Lambda runs concurrent invokes in separate execution environments; with one RIE
		// per function the children would queue for it.
		opts.Instances = 4
	}
	env, err := Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			env.KeepLog()
			err = fmt.Errorf("%w (log: %s)", err, env.LogPath)
		}
		env.Close()
	}()
	srcs, dsts := preferred(env.SourceBuckets(), "media", "logs", "docs"), preferred(env.DestinationBuckets(), "media", "archive")
	if len(srcs) < 3 || len(dsts) < 2 {
		return fmt.Errorf("the synthesized stacks allow source buckets %v and destination buckets %v; the batch demo needs 3 and 2 (make demo-batch synthesizes them)", srcs, dsts)
	}
	pairs := []batchPair{
		{"photos", srcs[0], "photos/", dsts[0], "photos/", 12},
		{"videos", srcs[0], "videos/", dsts[1], "videos/", 4},
		{"app-logs", srcs[1], "app/", dsts[1], "logs/app/", 20},
		{"audit-logs", srcs[1], "audit/", dsts[1], "logs/audit/", 8},
		{"docs", srcs[2], "", dsts[0], "docs/", 10},
	}
	created := map[string]bool{}
	var items []any
	for i, p := range pairs {
		for _, b := range []struct {
			c    *AccountClients
			name string
		}{{env.Source, p.src}, {env.Destination, p.dst}} {
			if !created[b.name] {
				if err := CreateBucket(ctx, b.c.S3, b.name, env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
					return err
				}
				created[b.name] = true
			}
		}
		objs := SampleSet{Seed: uint64(100 + i), Small: p.objects}.Objects()
		for j := range objs {
			objs[j].Key = p.srcPrefix + objs[j].Key
		}
		if err := Upload(ctx, env.Source.S3, p.src, objs); err != nil {
			return err
		}
		say("  %-10s s3://%s/%s → s3://%s/%s (%d objects, %s)", p.id, p.src, p.srcPrefix, p.dst, p.dstPrefix, len(objs), execution.FormatBytes(TotalBytes(objs)))
		items = append(items, map[string]any{
			"migrationId": p.id,
			"source":      map[string]any{"bucket": p.src, "prefix": p.srcPrefix},
			"destination": map[string]any{"bucket": p.dst, "prefix": p.dstPrefix},
		})
	}
	in := map[string]any{
		"batchId": "demo-batch",
		"defaults": map[string]any{
			"source":      map[string]any{"accountId": env.Source.AccountID, "region": env.Region},
			"destination": map[string]any{"region": env.Region},
		},
		"migrations":      items,
		"maxConcurrency":  4,
		"perSourceBucket": 2,
	}
	body, _ := json.Marshal(in)

	say("\n1st execution of the batch (maxConcurrency 4, perSourceBucket 2)")
	first, err := env.Run(ctx, body, "demo-batch-first")
	if err != nil {
		return err
	}
	if !first.Succeeded {
		return fmt.Errorf("the batch failed: %s: %s", first.Error, first.Cause)
	}
	var rep batch.Report
	if err := json.Unmarshal(first.Output, &rep); err != nil {
		return err
	}
	say("  succeeded in %s: %d migrations, %d files, %s", round(first.Duration), rep.Total, rep.FilesTransferred, execution.FormatBytes(rep.BytesTransferred))
	writeReportTable(out, rep)
	for _, p := range pairs {
		v, err := Verify(ctx, env.Source.S3, env.Destination.S3, p.src, p.srcPrefix, p.dst, p.dstPrefix)
		if err != nil {
			return err
		}
		if !v.OK() || v.Objects != p.objects {
			return fmt.Errorf("%s: verification failed: %d of %d objects, missing %v, different %v", p.id, v.Objects, p.objects, head(v.Missing), head(v.Mismatched))
		}
	}
	say("  verified all 5 pairs byte for byte (SHA-256 of GET source as A = GET destination as B)")
	afterFirst, err := env.Sim.State(ctx)
	if err != nil {
		return err
	}

	say("\n2nd execution, same batch")
	second, err := env.Run(ctx, body, "demo-batch-second")
	if err != nil {
		return err
	}
	if !second.Succeeded {
		return fmt.Errorf("the second batch failed: %s: %s", second.Error, second.Cause)
	}
	var rep2 batch.Report
	if err := json.Unmarshal(second.Output, &rep2); err != nil {
		return err
	}
	afterSecond, err := env.Sim.State(ctx)
	if err != nil {
		return err
	}
	changed := InventoryOf(afterFirst).Diff(InventoryOf(afterSecond))
	say("  succeeded in %s: %d of %d migrations reported from the 1st run, none started; changes: %v", round(second.Duration), rep2.FromEarlierRuns, rep2.Total, changed)
	say("\ntotal %s", round(time.Since(t0)))
	if rep2.FromEarlierRuns != len(pairs) || len(changed) != 0 {
		return fmt.Errorf("the second batch was not a no-op: %d from the earlier run, changes %v", rep2.FromEarlierRuns, changed)
	}
	return nil
}

// writeReportTable prints a batch report as a table.
func writeReportTable(w io.Writer, rep batch.Report) {
	fmt.Fprintf(w, "  %-12s %-9s %6s %10s %9s  %s\n", "MIGRATION", "STATUS", "FILES", "BYTES", "SECONDS", "ERROR")
	for _, m := range rep.Migrations {
		status := m.Status
		if m.EarlierRun {
			status += "*"
		}
		errText := m.Error
		if m.Cause != "" {
			errText += ": " + strings.SplitN(m.Cause, "\n", 2)[0]
		}
		fmt.Fprintf(w, "  %-12s %-9s %6d %10s %9.1f  %s\n", m.MigrationID, status, m.FilesTransferred, execution.FormatBytes(m.BytesTransferred), m.DurationSeconds, errText)
	}
	if rep.FromEarlierRuns > 0 {
		fmt.Fprintln(w, "  * succeeded in an earlier run of the batch; not copied again")
	}
}

// preferred orders names so that the first one containing each word comes first, in the
// words' order; the rest keep their order.
func preferred(names []string, words ...string) []string {
	var out, rest []string
	used := map[string]bool{}
	for _, w := range words {
		for _, n := range names {
			if !used[n] && strings.Contains(n, w) {
				out = append(out, n)
				used[n] = true
				break
			}
		}
	}
	for _, n := range names {
		if !used[n] {
			rest = append(rest, n)
		}
	}
	return append(out, rest...)
}
