package datasync_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"

	simds "github.com/dsmigrate/dsmigrate/internal/sim/datasync"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// Measurements through the whole simulator: the source objects are seeded straight into
// the store (streamed), then a DataSync execution started with the SDK copies them
// through the store's authorization and object files. Run with
//
//	go test -run '^$' -bench E2E -benchtime 1x ./internal/sim/datasync/

func benchE2E(b *testing.B, seed func(st *store.Store)) {
	e := startE2E(b)
	seed(e.inst.Store)
	ctx := context.Background()
	e.policy(sourcePolicy(true, ""))
	src, err := e.createLocation("src-a", e.transfer, "/bench")
	if err != nil {
		b.Fatal(err)
	}
	dst, err := e.createLocation("dst-b", e.config, "/")
	if err != nil {
		b.Fatal(err)
	}
	task, err := e.ds.CreateTask(ctx, &datasync.CreateTaskInput{SourceLocationArn: aws.String(src),
		DestinationLocationArn: aws.String(dst), TaskMode: dstypes.TaskModeEnhanced,
		Options: &dstypes.Options{TransferMode: dstypes.TransferModeAll, VerifyMode: dstypes.VerifyModeNone}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		stop := make(chan struct{})
		peak := simds.PeakHeap(stop)
		st, err := e.ds.StartTaskExecution(ctx, &datasync.StartTaskExecutionInput{TaskArn: task.TaskArn})
		if err != nil {
			b.Fatal(err)
		}
		var d *datasync.DescribeTaskExecutionOutput
		for {
			d, err = e.ds.DescribeTaskExecution(ctx, &datasync.DescribeTaskExecutionInput{TaskExecutionArn: st.TaskExecutionArn})
			if err != nil {
				b.Fatal(err)
			}
			if d.Status == dstypes.TaskExecutionStatusSuccess || d.Status == dstypes.TaskExecutionStatusError {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(stop)
		peakBytes := peak()
		if d.Status != dstypes.TaskExecutionStatusSuccess {
			b.Fatalf("got %s %s", aws.ToString(d.Result.ErrorCode), aws.ToString(d.Result.ErrorDetail))
		}
		s, _ := e.inst.DataSync.Stats(*st.TaskExecutionArn)
		b.ReportMetric(s.BytesPerSecond/1e6, "MB/s")
		b.ReportMetric(s.ObjectsPerSecond, "objects/s")
		b.ReportMetric(float64(peakBytes)/(1<<20), "peak-heap-MiB")
		fmt.Printf("through the simulator: %d objects, %d bytes in %.2fs: %.1f MB/s, %.0f objects/s, peak heap %.1f MiB\n",
			s.Objects, s.Bytes, s.TransferSeconds, s.BytesPerSecond/1e6, s.ObjectsPerSecond, float64(peakBytes)/(1<<20))
	}
}

func BenchmarkE2ECopy1GB(b *testing.B) {
	benchE2E(b, func(st *store.Store) {
		if _, err := st.PutObject(store.PutObjectInput{Bucket: "src-a", Key: "bench/big.bin", Body: simds.PatternReader(1 << 30),
			Size: 1 << 30, Writer: acctA}); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkE2ECopy10kSmall(b *testing.B) {
	benchE2E(b, func(st *store.Store) {
		for i := range 10000 {
			if _, err := st.PutObject(store.PutObjectInput{Bucket: "src-a", Key: fmt.Sprintf("bench/%05d.txt", i),
				Body: simds.PatternReader(1024), Size: 1024, Writer: acctA}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
