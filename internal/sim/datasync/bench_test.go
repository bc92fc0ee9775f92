package datasync

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// Measurements, not pass/fail tests. Run with
//
//	go test -run '^$' -bench Copy -benchtime 1x ./internal/sim/datasync/
//
// They copy through the in-package fake Backend, whose object bodies are temp files and
// whose PutObject computes an MD5 ETag, like a real store.

// patternReader yields n bytes of a non-constant pattern without holding them.
type patternReader struct{ left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(b)), p.left)
	for i := range b[:n] {
		b[i] = byte(p.left - int64(i))
	}
	p.left -= n
	return int(n), nil
}

// peakHeap samples HeapInuse until stop is closed.
func peakHeap(stop <-chan struct{}) func() uint64 {
	var peak atomic.Uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { wg.Wait(); return peak.Load() }
}

func runCopyBench(b *testing.B, seed func(fb *fakeBackend)) {
	fb := newFake(b)
	fb.grant("seed", "*", "*")
	seed(fb)
	svc := New(fb, fastPhases())
	defer svc.Close()
	caller := identity.UserPrincipal(acctB, "deployer", "AIDA")
	fb.grant(caller.Arn, "*", "*")
	old := time.Now().Add(-time.Hour)
	tr := fb.addRole(acctB, "transfer", old)
	cf := fb.addRole(acctB, "config", old)
	fb.addBucket("dst-bucket", acctB)
	fb.grant(tr, "*", "*")
	fb.grant(cf, "*", "*")
	ctx := context.Background()
	call := func(op string, in, out any) {
		b.Helper()
		body := mustJSON(in)
		status, resp := svc.Handle(ctx, caller, op, body)
		if status != 200 {
			b.Fatalf("%s: %d %s", op, status, resp)
		}
		if out != nil {
			mustUnJSON(resp, out)
		}
	}
	var src, dst, task struct{ LocationArn, TaskArn string }
	call("CreateLocationS3", map[string]any{"S3BucketArn": "arn:aws:s3:::src-bucket", "S3Config": map[string]string{"BucketAccessRoleArn": tr}}, &src)
	call("CreateLocationS3", map[string]any{"S3BucketArn": "arn:aws:s3:::dst-bucket", "S3Config": map[string]string{"BucketAccessRoleArn": cf}}, &dst)
	call("CreateTask", map[string]any{"SourceLocationArn": src.LocationArn, "DestinationLocationArn": dst.LocationArn,
		"TaskMode": "ENHANCED", "Options": map[string]string{"TransferMode": "ALL", "VerifyMode": "NONE"}}, &task)
	b.ResetTimer()
	for range b.N {
		var ex struct{ TaskExecutionArn string }
		stop := make(chan struct{})
		peak := peakHeap(stop)
		call("StartTaskExecution", map[string]any{"TaskArn": task.TaskArn}, &ex)
		var d struct{ Status string }
		for d.Status != "SUCCESS" && d.Status != "ERROR" {
			time.Sleep(5 * time.Millisecond)
			call("DescribeTaskExecution", map[string]any{"TaskExecutionArn": ex.TaskExecutionArn}, &d)
		}
		close(stop)
		if d.Status != "SUCCESS" {
			b.Fatalf("execution ended in %s", d.Status)
		}
		st, _ := svc.Stats(ex.TaskExecutionArn)
		b.ReportMetric(st.BytesPerSecond/1e6, "MB/s")
		b.ReportMetric(st.ObjectsPerSecond, "objects/s")
		b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
		fmt.Printf("copied %d objects, %d bytes in %.2fs: %.1f MB/s, %.0f objects/s, peak heap %.1f MiB\n",
			st.Objects, st.Bytes, st.TransferSeconds, st.BytesPerSecond/1e6, st.ObjectsPerSecond, float64(peak())/(1<<20))
	}
}

func BenchmarkCopy1GB(b *testing.B) {
	runCopyBench(b, func(fb *fakeBackend) {
		fb.addBucket("src-bucket", acctA)
		if _, err := fb.PutObject(context.Background(), identity.Principal{Arn: "seed"}, "src-bucket", "big.bin",
			&patternReader{left: 1 << 30}, 1<<30, ObjectMeta{}); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkCopy10kSmall(b *testing.B) {
	runCopyBench(b, func(fb *fakeBackend) {
		fb.addBucket("src-bucket", acctA)
		for i := range 10000 {
			key := fmt.Sprintf("small/%05d.txt", i)
			if _, err := fb.PutObject(context.Background(), identity.Principal{Arn: "seed"}, "src-bucket", key,
				&patternReader{left: 1024}, 1024, ObjectMeta{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func mustUnJSON(b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		panic(err)
	}
}
