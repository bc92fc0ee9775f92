package localrun

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// SampleObject is one generated object: its key, size and the seed of its content.
type SampleObject struct {
	Key  string
	Size int64
	Seed uint64
}

// Body returns the object's deterministic content.
func (o SampleObject) Body() []byte {
	var seed [32]byte
	for i := range 4 {
		v := o.Seed + uint64(i)*0x9E3779B97F4A7C15
		for j := range 8 {
			seed[i*8+j] = byte(v >> (8 * j))
		}
	}
	b := make([]byte, o.Size)
	rand.NewChaCha8(seed).Read(b)
	return b
}

// SampleSet describes a generated data set.
type SampleSet struct {
	Seed   uint64
	Small  int     // objects of 2 KiB–512 KiB
	Medium int     // objects of 1–6 MiB
	Large  []int64 // sizes of the large objects
}

// DemoSamples is the demo's data set: a few hundred objects in nested prefixes, a few KB
// to several MB, and two large ones.
var DemoSamples = SampleSet{Seed: 20261127, Small: 280, Medium: 14, Large: []int64{22 << 20, 48 << 20}}

var samplePrefixes = []string{
	"photos/2026/01/", "photos/2026/02/", "photos/2026/02/raw/", "photos/2025/12/edited/",
	"docs/reports/q3/", "docs/reports/q4/", "docs/contracts/", "logs/app/2026-11-24/",
	"logs/app/2026-11-25/", "logs/web/eu/", "exports/db/", "",
}

var sampleExt = []string{".jpg", ".json", ".csv", ".log", ".pdf", ".bin", ".txt"}

// Objects lists the set's objects, sorted by key.
func (s SampleSet) Objects() []SampleObject {
	r := rand.New(rand.NewPCG(s.Seed, s.Seed^0x5DEECE66D))
	logUniform := func(lo, hi float64) int64 {
		return int64(math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo))))
	}
	var out []SampleObject
	add := func(size int64, kind string) {
		i := len(out)
		prefix := samplePrefixes[r.IntN(len(samplePrefixes))]
		key := fmt.Sprintf("%s%s-%04d%s", prefix, kind, i, sampleExt[r.IntN(len(sampleExt))])
		out = append(out, SampleObject{Key: key, Size: size, Seed: s.Seed*1000003 + uint64(i)})
	}
	for range s.Small {
		add(logUniform(2<<10, 512<<10), "item")
	}
	for range s.Medium {
		add(logUniform(1<<20, 6<<20), "media")
	}
	for _, n := range s.Large {
		add(n, "archive")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// TotalBytes sums the sizes.
func TotalBytes(objs []SampleObject) int64 {
	var n int64
	for _, o := range objs {
		n += o.Size
	}
	return n
}

// CreateBucket creates a bucket with ACLs disabled (BucketOwnerEnforced), as the seed
// requires; ownership "" leaves the simulator's default.
func CreateBucket(ctx context.Context, c *s3.Client, bucket, region string, ownership s3types.ObjectOwnership) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if region != "" && region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	if _, err := c.CreateBucket(ctx, in); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			return fmt.Errorf("create bucket %s: %w", bucket, err)
		}
	}
	if ownership == "" {
		return nil
	}
	if _, err := c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
		Bucket:            aws.String(bucket),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: ownership}}},
	}); err != nil {
		return fmt.Errorf("set object ownership %s on %s: %w", ownership, bucket, err)
	}
	return nil
}

// Upload puts the objects into bucket with a few workers.
func Upload(ctx context.Context, c *s3.Client, bucket string, objs []SampleObject) error {
	return forEach(ctx, len(objs), 6, func(i int) error {
		o := objs[i]
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(o.Key),
			Body: bytes.NewReader(o.Body()), ContentLength: aws.Int64(o.Size),
		}); err != nil {
			return fmt.Errorf("put s3://%s/%s: %w", bucket, o.Key, err)
		}
		return nil
	})
}

// ListKeys lists every key (and size) under prefix.
func ListKeys(ctx context.Context, c *s3.Client, bucket, prefix string) (map[string]int64, error) {
	out := map[string]int64{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
		}
	}
	return out, nil
}

// objectSHA256 streams an object through SHA-256.
func objectSHA256(ctx context.Context, c *s3.Client, bucket, key string) (string, int64, error) {
	resp, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", 0, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return "", 0, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Verification is the result of comparing a source and a destination byte for byte.
type Verification struct {
	Objects    int
	Bytes      int64
	Mismatched []string // keys whose SHA-256 differs
	Missing    []string // source keys absent from the destination
}

// OK reports whether every object arrived intact.
func (v Verification) OK() bool { return len(v.Mismatched) == 0 && len(v.Missing) == 0 }

// Verify GETs every object under srcPrefix from the source (as A's admin) and its copy
// under dstPrefix from the destination (as B's admin) and compares their SHA-256.
func Verify(ctx context.Context, src, dst *s3.Client, srcBucket, srcPrefix, dstBucket, dstPrefix string) (Verification, error) {
	var v Verification
	keys, err := ListKeys(ctx, src, srcBucket, srcPrefix)
	if err != nil {
		return v, err
	}
	list := make([]string, 0, len(keys))
	for k := range keys {
		list = append(list, k)
	}
	sort.Strings(list)
	var mu sync.Mutex
	err = forEach(ctx, len(list), 6, func(i int) error {
		k := list[i]
		dk := dstPrefix + strings.TrimPrefix(k, srcPrefix)
		sh, n, err := objectSHA256(ctx, src, srcBucket, k)
		if err != nil {
			return err
		}
		dh, _, err := objectSHA256(ctx, dst, dstBucket, dk)
		var nsk *s3types.NoSuchKey
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.As(err, &nsk):
			v.Missing = append(v.Missing, k)
		case err != nil:
			return err
		case sh != dh:
			v.Mismatched = append(v.Mismatched, k)
		}
		v.Objects++
		v.Bytes += n
		return nil
	})
	sort.Strings(v.Missing)
	sort.Strings(v.Mismatched)
	return v, err
}

// forEach runs f(0..n-1) on workers goroutines and returns the first error.
func forEach(ctx context.Context, n, workers int, f func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					errc <- err
					cancel()
					return
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return ctx.Err()
	}
}
