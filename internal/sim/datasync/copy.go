package datasync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// jobErr is how an execution fails: Result.ErrorCode and Result.ErrorDetail.
type jobErr struct{ code, detail string }

// job is the data movement of one execution.
type job struct {
	s                *Service
	e                *execution
	src, dst         *location
	srcSess, dstSess identity.Principal

	lim limiter

	firstMu  sync.Mutex
	firstErr string // first object failure, for ErrorDetail
	denied   bool   // first failure was an AccessDenied

	// The part of the plan an Enhanced execution has revealed (reveal).
	revealMu sync.Mutex
	revealed int
	copied   atomic.Int64
}

// reveal makes the first n objects of the plan count in the estimates (and, for Enhanced
// mode, in FilesPrepared). Basic mode prepares everything before it transfers, so its
// estimates are final when PREPARING ends; in Enhanced mode "DataSync lists, prepares,
// transfers, and verifies data in parallel" (DataSync User Guide, "Choosing a task mode
// for your data transfer"; CreateTask TaskMode), so its estimates grow while it
// transfers: the simulator keeps the listing ListAhead objects ahead of the copies.
func (j *job) reveal(pl *plan, n int) {
	j.revealMu.Lock()
	defer j.revealMu.Unlock()
	n = min(n, len(pl.copy))
	if n <= j.revealed {
		return
	}
	var bytes int64
	for _, it := range pl.copy[j.revealed:n] {
		bytes += it.obj.Size
	}
	j.revealed = n
	j.e.estFiles.Store(int64(n))
	j.e.estBytes.Add(bytes)
	j.e.filesPrepared.Store(int64(n))
}

func (j *job) enhanced() bool { return j.e.task.mode == "ENHANCED" }

type item struct {
	rel string // "/a/b.txt", relative to the location root
	obj ObjectInfo
	ok  bool // copied (set by the worker that copied it)
}

type plan struct {
	copy   []item
	skip   int64  // existing destination objects kept by OverwriteMode NEVER
	skips  []item // those objects, for the skipped detailed report
	bytes  int64
	delete []string // destination keys to delete
	scope  []item   // every selected source object (POINT_IN_TIME_CONSISTENT verifies them)
}

// mtimeKey is the user-metadata key DataSync uses to keep a file's mtime on S3.
const mtimeKey = "file-mtime"

func mtimeValue(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) + "ns" }

// unchanged reports whether dst already holds src (TransferMode CHANGED).
func unchanged(src, dst ObjectInfo) bool {
	if src.Size != dst.Size {
		return false
	}
	if src.ETag != "" && src.ETag == dst.ETag {
		return true
	}
	return dst.Metadata[mtimeKey] == mtimeValue(src.LastModified)
}

func (j *job) list(ctx context.Context, p identity.Principal, bucket, prefix string, fn func(ObjectInfo)) error {
	after := ""
	for {
		objs, truncated, err := j.s.b.ListObjects(ctx, p, bucket, prefix, after, 1000)
		if err != nil {
			return err
		}
		for _, o := range objs {
			fn(o)
		}
		if !truncated || len(objs) == 0 {
			return nil
		}
		after = objs[len(objs)-1].Key
	}
}

func describeErr(op, resource string, p identity.Principal, err error) string {
	msg := err.Error()
	var ae APIError
	if errors.As(err, &ae) {
		msg = ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return fmt.Sprintf("%s on %s as %s failed: %s", op, resource, p.Arn, msg)
}

func (j *job) prepare(ctx context.Context) (*plan, *jobErr) {
	e := j.e
	pl := &plan{}
	srcKeys := map[string]bool{}
	err := j.list(ctx, j.srcSess, j.src.bucket, j.src.prefix, func(o ObjectInfo) {
		e.listedSrc.Add(1)
		rel := "/" + strings.TrimPrefix(o.Key, j.src.prefix)
		if rel == "/" {
			return // the subdirectory's own folder marker
		}
		srcKeys[rel] = true
		if selected(e.inc, e.exc, rel) {
			pl.scope = append(pl.scope, item{rel: rel, obj: o})
		}
	})
	if err != nil {
		e.failPrepare.Add(1)
		return nil, listErr(j.src, j.srcSess, err)
	}
	o := e.opts
	needDst := *o.TransferMode == "CHANGED" || *o.OverwriteMode == "NEVER" || *o.PreserveDeletedFiles == "REMOVE"
	dstObjs := map[string]ObjectInfo{}
	if needDst {
		err = j.list(ctx, j.dstSess, j.dst.bucket, j.dst.prefix, func(d ObjectInfo) {
			rel := "/" + strings.TrimPrefix(d.Key, j.dst.prefix)
			if rel == "/" {
				return
			}
			dstObjs[rel] = d
			if *o.PreserveDeletedFiles == "REMOVE" {
				e.listedDst.Add(1)
				if !srcKeys[rel] && selected(e.inc, e.exc, rel) {
					pl.delete = append(pl.delete, d.Key)
				}
			}
		})
		if err != nil {
			e.failPrepare.Add(1)
			return nil, listErr(j.dst, j.dstSess, err)
		}
	}
	for _, it := range pl.scope {
		d, exists := dstObjs[it.rel]
		switch {
		case exists && *o.OverwriteMode == "NEVER":
			pl.skip++
			pl.skips = append(pl.skips, it)
		case exists && *o.TransferMode == "CHANGED" && unchanged(it.obj, d):
			// identical at the destination: nothing to do
		default:
			pl.copy = append(pl.copy, it)
			pl.bytes += it.obj.Size
		}
	}
	return pl, nil
}

func listErr(l *location, p identity.Principal, err error) *jobErr {
	code := "InternalError"
	if isCode(err, "AccessDenied") {
		code = "PermissionDenied"
	} else if isCode(err, "NoSuchBucket") {
		code = "LocationNotFound"
	}
	return &jobErr{code, fmt.Sprintf("DataSync could not list the objects of location %s (%s). %s",
		l.arn, l.uri(), describeErr("s3:ListBucket", "arn:aws:s3:::"+l.bucket, p, err))}
}

// parallel runs fn(i) for i in [0,n) on the service's worker count.
func (j *job) parallel(ctx context.Context, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := min(j.s.opts.Workers, n)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

func (j *job) fail(counter *atomic.Int64, op, resource string, p identity.Principal, err error) {
	counter.Add(1)
	j.firstMu.Lock()
	defer j.firstMu.Unlock()
	if j.firstErr == "" {
		j.firstErr = describeErr(op, resource, p, err)
		j.denied = isCode(err, "AccessDenied")
	}
}

func (j *job) transfer(ctx context.Context, pl *plan) *jobErr {
	e := j.e
	j.lim.rate = func() int64 {
		r := int64(0)
		if bps := e.opts.BytesPerSecond; bps != nil && *bps > 0 {
			r = *bps
		}
		if g := j.s.b.Settings().TransferBytesPerSecond; g > 0 && (r == 0 || g < r) {
			r = g
		}
		return r
	}
	e.filesSkipped.Add(pl.skip) // DataSync reports skipped files while transferring
	for _, it := range pl.skips {
		e.ledger.add("skipped", j.entry(it), nil)
	}
	j.parallel(ctx, len(pl.copy), func(i int) {
		pl.copy[i].ok = j.copyOne(ctx, pl.copy[i])
		if j.enhanced() {
			j.reveal(pl, int(j.copied.Add(1))+j.s.opts.ListAhead)
		}
	})
	j.parallel(ctx, len(pl.delete), func(i int) {
		key := pl.delete[i]
		en := reportEntry{RelativePath: "/" + strings.TrimPrefix(key, j.dst.prefix), DestinationKey: key}
		if err := j.s.b.DeleteObject(ctx, j.dstSess, j.dst.bucket, key); err != nil {
			j.fail(&e.failDelete, "s3:DeleteObject", "arn:aws:s3:::"+j.dst.bucket+"/"+key, j.dstSess, err)
			e.ledger.add("deleted", en, err)
			return
		}
		e.filesDeleted.Add(1)
		e.ledger.add("deleted", en, nil)
	})
	failed := e.failTransfer.Load() + e.failDelete.Load()
	if failed == 0 || ctx.Err() != nil {
		return nil
	}
	code := "TransferFailed"
	if j.denied {
		code = "PermissionDenied"
	}
	return &jobErr{code, fmt.Sprintf("Transfer completed with errors: %d of %d objects could not be transferred or deleted. First failure: %s. Check the bucket access roles of %s and %s.",
		failed, int64(len(pl.copy)+len(pl.delete)), j.firstErr, j.src.arn, j.dst.arn)}
}

func (j *job) copyOne(ctx context.Context, it item) bool {
	e := j.e
	srcKey := j.src.prefix + it.rel[1:]
	dstKey := j.dst.prefix + it.rel[1:]
	rc, info, err := j.s.b.GetObject(ctx, j.srcSess, j.src.bucket, srcKey)
	if err != nil {
		j.fail(&e.failTransfer, "s3:GetObject", "arn:aws:s3:::"+j.src.bucket+"/"+srcKey, j.srcSess, err)
		e.ledger.add("transferred", j.entry(it), err)
		return false
	}
	defer rc.Close()
	meta := ObjectMeta{ContentType: info.ContentType, StorageClass: j.dst.storageClass,
		Metadata: make(map[string]string, len(info.Metadata)+1)}
	for k, v := range info.Metadata {
		meta.Metadata[k] = v
	}
	if *e.opts.Mtime == "PRESERVE" {
		meta.Metadata[mtimeKey] = mtimeValue(info.LastModified)
	}
	r := &meter{ctx: ctx, r: rc, e: e, lim: &j.lim}
	if _, err := j.s.b.PutObject(ctx, j.dstSess, j.dst.bucket, dstKey, r, info.Size, meta); err != nil {
		j.fail(&e.failTransfer, "s3:PutObject", "arn:aws:s3:::"+j.dst.bucket+"/"+dstKey, j.dstSess, err)
		e.ledger.add("transferred", j.entry(it), err)
		return false
	}
	e.filesTransferred.Add(1)
	e.bytesWritten.Add(info.Size)
	e.ledger.add("transferred", j.entry(it), nil)
	return true
}

func (j *job) verify(ctx context.Context, pl *plan) *jobErr {
	e := j.e
	items := pl.copy
	if *e.opts.VerifyMode == "POINT_IN_TIME_CONSISTENT" {
		items = pl.scope
	}
	j.parallel(ctx, len(items), func(i int) {
		it := items[i]
		if *e.opts.VerifyMode == "ONLY_FILES_TRANSFERRED" && !it.ok {
			return
		}
		d, err := j.s.b.HeadObject(ctx, j.dstSess, j.dst.bucket, j.dst.prefix+it.rel[1:])
		if err != nil {
			e.failVerify.Add(1)
			e.ledger.add("verified", j.entry(it), err)
			return
		}
		if d.Size != it.obj.Size || (plainETag(it.obj.ETag) && plainETag(d.ETag) && d.ETag != it.obj.ETag) {
			e.failVerify.Add(1)
			e.ledger.failed("verified", j.entry(it), "VerificationFailed",
				fmt.Sprintf("destination size %d ETag %s, source size %d ETag %s", d.Size, d.ETag, it.obj.Size, it.obj.ETag))
			return
		}
		e.filesVerified.Add(1)
		e.ledger.add("verified", j.entry(it), nil)
	})
	if e.failVerify.Load() > 0 && ctx.Err() == nil {
		return &jobErr{"VerificationFailed", "Transfer and verification completed. Verification detected mismatches. Files with mismatches are listed in Cloud Watch Logs"}
	}
	return nil
}

// entry describes an object of the plan for a detailed task report.
func (j *job) entry(it item) reportEntry {
	return reportEntry{RelativePath: it.rel, SourceKey: j.src.prefix + it.rel[1:],
		DestinationKey: j.dst.prefix + it.rel[1:], SizeBytes: it.obj.Size}
}

// plainETag is an MD5 ETag (not a multipart one, which contains "-").
func plainETag(etag string) bool { return etag != "" && !strings.Contains(etag, "-") }

// meter counts bytes as they stream through and applies the bandwidth limit.
type meter struct {
	ctx context.Context
	r   io.Reader
	e   *execution
	lim *limiter
}

func (m *meter) Read(p []byte) (int, error) {
	if err := m.ctx.Err(); err != nil {
		return 0, err // shut down: abort the object's upload
	}
	if m.lim.rate != nil && m.lim.rate() > 0 && len(p) > 64<<10 {
		p = p[:64<<10] // small chunks keep a throttled transfer smooth
	}
	n, err := m.r.Read(p)
	if n > 0 {
		m.e.bytesTransferred.Add(int64(n))
		if werr := m.lim.wait(m.ctx, n); werr != nil && err == nil {
			err = werr
		}
	}
	return n, err
}

// limiter paces bytes to rate() bytes per second (0 = unlimited) across all workers.
type limiter struct {
	rate func() int64
	mu   sync.Mutex
	next time.Time
}

func (l *limiter) wait(ctx context.Context, n int) error {
	if l.rate == nil {
		return nil
	}
	r := l.rate()
	if r <= 0 {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	l.next = l.next.Add(time.Duration(float64(n) / float64(r) * float64(time.Second)))
	until := l.next
	l.mu.Unlock()
	d := time.Until(until)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ExecutionStats are the measured numbers of an execution's TRANSFERRING phase.
type ExecutionStats struct {
	TransferSeconds  float64 `json:"transferSeconds"`
	Objects          int64   `json:"objects"`
	Bytes            int64   `json:"bytes"`
	BytesPerSecond   float64 `json:"bytesPerSecond"`
	ObjectsPerSecond float64 `json:"objectsPerSecond"`
}

// report stores the throughput of the transfer phase (s.mu held).
func (j *job) report(d time.Duration) {
	st := ExecutionStats{TransferSeconds: d.Seconds(), Objects: j.e.filesTransferred.Load(), Bytes: j.e.bytesWritten.Load()}
	if d > 0 {
		st.BytesPerSecond = float64(st.Bytes) / d.Seconds()
		st.ObjectsPerSecond = float64(st.Objects) / d.Seconds()
	}
	j.e.stats = st
}
