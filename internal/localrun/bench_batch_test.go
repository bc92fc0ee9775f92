package localrun

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/batch"
)

const (
	// benchPairs independent bucket pairs (one source bucket each, so perSourceBucket does
	// not bound them), each benchPairObjects objects of benchObjectSize bytes copied at
	// benchBytesPerSecond per DataSync execution: 8 s of transfer per pair.
	benchPairs       = 8
	benchPairObjects = 4
)

// TestBenchScaleBatch times a batch of benchPairs independent pairs with maxConcurrency 1
// and 8 (ratio.batch) and the orchestration each migration adds (batch wall time minus
// the longest transfer, per item). It needs stacks that list benchPairs source buckets
// (make bench-scale synthesizes them into DSMIGRATE_BENCH_BATCH_CDK_OUT).
func TestBenchScaleBatch(t *testing.T) {
	if os.Getenv("DSMIGRATE_BENCH_SCALE") != "1" {
		t.Skip("the scale benchmark runs with DSMIGRATE_BENCH_SCALE=1 (make bench-scale)")
	}
	// Each child calls the functions at once; one RIE per function would queue them.
	env := e2eEnv(t, Options{CloudAssembly: os.Getenv("DSMIGRATE_BENCH_BATCH_CDK_OUT"), Instances: benchPairs})
	srcs, dsts := env.SourceBuckets(), env.DestinationBuckets()
	if len(srcs) < benchPairs || len(dsts) < 1 {
		t.Fatalf("the stacks list source buckets %v: want %d (DSMIGRATE_BENCH_BATCH_CDK_OUT, make bench-scale)", srcs, benchPairs)
	}
	ctx := benchCtx(t)
	if err := CreateBucket(ctx, env.Destination.S3, dsts[0], env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
		t.Fatal(err)
	}
	for i := range benchPairs {
		if err := CreateBucket(ctx, env.Source.S3, srcs[i], env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
			t.Fatal(err)
		}
		var objs []SampleObject
		for j := range benchPairObjects {
			objs = append(objs, SampleObject{Key: fmt.Sprintf("o%d.bin", j), Size: benchObjectSize, Seed: uint64(1000*i + j + 1)})
		}
		if err := Upload(ctx, env.Source.S3, srcs[i], objs); err != nil {
			t.Fatal(err)
		}
	}
	slowTransfer(t, env, benchBytesPerSecond)
	fmt.Printf("batch.pairs=%d\nbatch.bytesPerPair=%d\nbatch.transferBytesPerSecond=%d\n", benchPairs, benchPairObjects*benchObjectSize, benchBytesPerSecond)

	runBatch := func(id string, concurrency int) (*Result, time.Duration) {
		var items []any
		for i := range benchPairs {
			items = append(items, map[string]any{
				"migrationId": fmt.Sprintf("%s-%d", id, i),
				"source":      map[string]any{"bucket": srcs[i]},
				"destination": map[string]any{"bucket": dsts[0], "prefix": fmt.Sprintf("%s/%d/", id, i)},
			})
		}
		in := map[string]any{
			"batchId":        id,
			"defaults":       map[string]any{"source": map[string]any{"accountId": env.Source.AccountID, "region": env.Region}, "destination": map[string]any{"region": env.Region}},
			"migrations":     items,
			"maxConcurrency": concurrency,
		}
		body, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		res, err := env.Run(benchCtx(t), body, id)
		if err != nil {
			t.Fatalf("run %s: %v", id, err)
		}
		t.Logf("%s: succeeded=%v in %s, %d transitions", id, res.Succeeded, res.Duration.Round(time.Millisecond), res.Transitions())
		mustSucceed(t, res)
		if rep := reportOf(t, res); rep.Succeeded != benchPairs {
			t.Fatalf("%s: got %+v, want %d migrations succeeded", id, rep, benchPairs)
		}
		var longest time.Duration
		for i := range benchPairs {
			benchVerify(t, env, srcs[i], "", dsts[0], fmt.Sprintf("%s/%d/", id, i), benchPairObjects)
			_, l, _ := datasyncSpan(t, env, fmt.Sprintf("%s-%d", id, i))
			longest = max(longest, l)
		}
		return res, longest
	}
	serial, serialLongest := runBatch("bench-serial", 1)
	parallel, parallelLongest := runBatch("bench-parallel", benchPairs)
	perItem := func(res *Result, longest time.Duration) float64 {
		return (res.Duration - longest).Seconds() / benchPairs
	}
	fmt.Printf("batch.concurrency1.seconds=%.1f\nbatch.concurrency1.longestTransfer.seconds=%.1f\n", serial.Duration.Seconds(), serialLongest.Seconds())
	fmt.Printf("batch.concurrency%d.seconds=%.1f\nbatch.concurrency%d.longestTransfer.seconds=%.1f\n", benchPairs, parallel.Duration.Seconds(), benchPairs, parallelLongest.Seconds())
	fmt.Printf("batch.overheadPerItem.concurrency1.seconds=%.2f\nbatch.overheadPerItem.concurrency%d.seconds=%.2f\n", perItem(serial, serialLongest), benchPairs, perItem(parallel, parallelLongest))
	fmt.Printf("ratio.batch=%.3f\nratio.batch.ideal=%.3f\n", parallel.Duration.Seconds()/serial.Duration.Seconds(), 1.0/benchPairs)
	fmt.Printf("batch.maxMigrations=%d\n", batch.MaxMigrations)
}
