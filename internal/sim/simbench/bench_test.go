// Package simbench measures the awssim binary as a separate process: start-up time,
// S3 put/get throughput of one large object through the real SDK, and the server's
// peak RSS (VmHWM) during the transfer. Run:
//
//	go test ./internal/sim/simbench -run '^$' -bench . -benchtime 1x [-size 1073741824]
package simbench

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

var size = flag.Int64("size", 1<<30, "object size in bytes for BenchmarkObjectPutGet")

const benchConfig = `{"region":"us-east-1","accounts":[{"id":"111111111111","name":"a","users":[
 {"name":"admin","accessKeyId":"AKIABENCH","secretAccessKey":"s",
  "policies":[{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}]}]}]}`

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the awssim binary the benchmarks built (a temporary directory that
// would otherwise outlive every run).
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func awssimBinary(b *testing.B) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "awssim-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "awssim")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/dsmigrate/dsmigrate/cmd/awssim").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binPath
}

type proc struct {
	cmd   *exec.Cmd
	url   string
	ready time.Duration
}

func startAwssim(b *testing.B) *proc {
	bin := awssimBinary(b)
	dir := b.TempDir()
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(benchConfig), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", cfg, "-data", filepath.Join(dir, "data"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("reading ready line: %v", err)
	}
	p := &proc{cmd: cmd, ready: time.Since(start), url: strings.TrimSpace(strings.TrimPrefix(line, "AWSSIM_ADDR="))}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	return p
}

// vmHWM reads the peak resident set size of a process in bytes.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return -1
}

func BenchmarkStartup(b *testing.B) {
	awssimBinary(b)
	var total time.Duration
	for i := 0; i < b.N; i++ {
		p := startAwssim(b)
		total += p.ready
		_ = p.cmd.Process.Signal(os.Interrupt)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/ready")
}

func BenchmarkObjectPutGet(b *testing.B) {
	p := startAwssim(b)
	ctx := context.Background()
	c := s3.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(p.url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIABENCH", "s", "")})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	body := filepath.Join(b.TempDir(), "body")
	f, err := os.Create(body)
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 8<<20)
	_, _ = rand.Read(chunk)
	for written := int64(0); written < *size; written += int64(len(chunk)) {
		n := min(int64(len(chunk)), *size-written)
		if _, err := f.Write(chunk[:n]); err != nil {
			b.Fatal(err)
		}
	}
	_ = f.Close()
	rssBefore := vmHWM(p.cmd.Process.Pid)
	b.ResetTimer()
	var putDur, getDur time.Duration
	for i := 0; i < b.N; i++ {
		f, _ := os.Open(body)
		t0 := time.Now()
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("big"), Body: f}); err != nil {
			b.Fatal(err)
		}
		putDur += time.Since(t0)
		_ = f.Close()
		t1 := time.Now()
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String("big")})
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, out.Body)
		out.Body.Close()
		if err != nil || n != *size {
			b.Fatalf("GET: %d bytes, %v", n, err)
		}
		getDur += time.Since(t1)
	}
	b.StopTimer()
	mb := float64(*size) / (1 << 20) * float64(b.N)
	b.ReportMetric(mb/putDur.Seconds(), "MiB/s-put")
	b.ReportMetric(mb/getDur.Seconds(), "MiB/s-get")
	b.ReportMetric(float64(rssBefore)/(1<<20), "MiB-rss-idle")
	b.ReportMetric(float64(vmHWM(p.cmd.Process.Pid))/(1<<20), "MiB-rss-peak")
	b.ReportMetric(float64(p.ready.Microseconds())/1000, "ms-ready")
}

func BenchmarkSmallObjects(b *testing.B) {
	p := startAwssim(b)
	ctx := context.Background()
	c := s3.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(p.url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIABENCH", "s", "")})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("small")}); err != nil {
		b.Fatal(err)
	}
	const n = 10000
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		next := make(chan int)
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range next {
					if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("small"),
						Key: aws.String(fmt.Sprintf("d/%06d", k)), Body: strings.NewReader("small object body")}); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for k := 0; k < n; k++ {
			next <- k
		}
		close(next)
		wg.Wait()
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "objects/s-put")
	b.ReportMetric(float64(vmHWM(p.cmd.Process.Pid))/(1<<20), "MiB-rss-peak")
}
