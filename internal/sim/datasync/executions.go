package datasync

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// execution is one run of a task. Fields below the line are guarded by Service.mu;
// counters are atomics the copy workers update.
type execution struct {
	arn      string
	task     *task
	opts     options
	includes []filterRule
	excludes []filterRule
	inc, exc filter
	tags     map[string]string
	// report is the effective TaskReportConfig (the task's, or StartTaskExecution's for
	// this execution); ledger records object outcomes when it asks for detailed reports.
	report *taskReportConfig
	ledger *ledger

	ctx    context.Context
	cancel context.CancelFunc

	// guarded by Service.mu
	status                 string
	start, launch, end     time.Time
	prepStatus, xferStatus string
	verStatus              string
	prepDur, xferDur       *int64
	verDur                 *int64
	errCode, errDetail     string
	stats                  ExecutionStats
	reportRes              *reportResult // PENDING until the report is uploaded

	estFiles, estBytes, estDelete         atomic.Int64
	filesTransferred, bytesTransferred    atomic.Int64
	bytesWritten, filesVerified           atomic.Int64
	filesSkipped, filesDeleted            atomic.Int64
	filesPrepared, listedSrc, listedDst   atomic.Int64
	failPrepare, failTransfer, failVerify atomic.Int64
	failDelete                            atomic.Int64
}

func (e *execution) done() bool { return e.status == "SUCCESS" || e.status == "ERROR" }

// finishLocked ends the execution (s.mu held).
func (e *execution) finishLocked(now time.Time, status, code, detail string) {
	if e.done() {
		return
	}
	e.status = status
	e.end = now
	if status == "ERROR" {
		e.errCode, e.errDetail = code, detail
		if e.prepStatus == "ERROR" || e.xferStatus == "ERROR" || e.verStatus == "ERROR" {
			e.cancel()
			return
		}
		for _, p := range []*string{&e.prepStatus, &e.xferStatus, &e.verStatus} {
			if *p == "PENDING" {
				*p = "ERROR"
				break
			}
		}
	}
	e.cancel()
}

// maxQueued is how many executions can wait behind the running one of a task.
func (s *Service) maxQueued() int { return s.opts.MaxQueued }

func (s *Service) startTaskExecution(ctx context.Context, caller identity.Principal, body []byte) (any, error) {
	var in taskIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := s.authorizeWith(ctx, caller, "StartTaskExecution", str(in.TaskArn), tagContext(in.Tags)); err != nil {
		return nil, err
	}
	if err := checkEnums(in.OverrideOptions, "overrideOptions"); err != nil {
		return nil, err
	}
	if in.ManifestConfig != nil {
		return nil, invalid("ManifestConfig is not modelled by this simulator.")
	}
	// A TaskReportConfig given here replaces the task's for this execution only.
	if err := s.acceptReportConfig(ctx, caller, in.TaskReportConfig); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	// Tags given at start also need datasync:TagResource on the new execution
	// (Service Authorization Reference: TagResource is a dependent action of
	// StartTaskExecution).
	execArn := str(in.TaskArn) + "/execution/exec-" + hex17()
	if err := s.authorizeTagOnCreate(ctx, caller, execArn, in.Tags); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.ownTask(caller, str(in.TaskArn))
	if err != nil {
		return nil, err
	}
	opts := overlay(t.opts, in.OverrideOptions)
	if err := checkOptions(opts, t.mode); err != nil {
		return nil, err
	}
	includes, excludes := t.includes, t.excludes
	if in.Includes != nil {
		includes = in.Includes
	}
	if in.Excludes != nil {
		excludes = in.Excludes
	}
	inc, err := parseFilter(includes, true)
	if err != nil {
		return nil, err
	}
	exc, err := parseFilter(excludes, false)
	if err != nil {
		return nil, err
	}
	if len(t.queue) >= s.maxQueued() {
		return nil, invalid("Task %s already has %d queued executions, the maximum. Wait for an execution to finish before starting another.", t.arn, s.maxQueued())
	}
	ectx, cancel := context.WithCancel(s.ctx)
	e := &execution{
		arn:  execArn,
		task: t, opts: opts, includes: includes, excludes: excludes, inc: inc, exc: exc,
		tags: map[string]string{}, ctx: ectx, cancel: cancel,
		status: "QUEUED", start: s.now(),
		prepStatus: "PENDING", xferStatus: "PENDING", verStatus: "PENDING",
	}
	mergeTags(e.tags, in.Tags)
	e.report = t.report
	if in.TaskReportConfig != nil {
		e.report = in.TaskReportConfig
	}
	if e.report != nil {
		e.reportRes = &reportResult{Status: "PENDING"}
		if e.report.standard() {
			e.ledger = newLedger()
		}
	}
	s.st.execs[e.arn] = e
	t.queue = append(t.queue, e)
	t.execOrder = append(t.execOrder, e)
	if !t.runnerActive {
		t.runnerActive = true
		s.wg.Add(1)
		go s.runTask(t)
	}
	return struct {
		TaskExecutionArn string `json:"TaskExecutionArn"`
	}{e.arn}, nil
}

// ownExec returns the caller's execution (s.mu held).
func (s *Service) ownExec(caller identity.Principal, arn string) (*execution, error) {
	e, ok := s.st.execs[arn]
	if !ok || e.task.account != caller.AccountID {
		return nil, notFound()
	}
	return e, nil
}

func (s *Service) listTaskExecutions(ctx context.Context, caller identity.Principal, body []byte) (any, error) {
	var in listIn
	if err := s.decodeAuthorized(ctx, caller, body, &in, "ListTaskExecutions", func() string { return "*" }); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var all []execEntry
	if in.TaskArn != nil {
		t, err := s.ownTask(caller, *in.TaskArn)
		if err != nil {
			s.mu.Unlock()
			return nil, err
		}
		for _, e := range t.execOrder {
			all = append(all, execEntry{TaskExecutionArn: e.arn, Status: e.status, TaskMode: t.mode})
		}
	} else {
		var execs []*execution
		for _, t := range s.st.tasks {
			if t.account == caller.AccountID {
				execs = append(execs, t.execOrder...)
			}
		}
		sort.SliceStable(execs, func(i, j int) bool { return execs[i].start.Before(execs[j].start) })
		for _, e := range execs {
			all = append(all, execEntry{TaskExecutionArn: e.arn, Status: e.status, TaskMode: e.task.mode})
		}
	}
	s.mu.Unlock()
	from, to, next, err := page(len(all), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return struct {
		TaskExecutions []execEntry `json:"TaskExecutions"`
		NextToken      *string     `json:"NextToken,omitempty"`
	}{all[from:to], next}, nil
}

func (s *Service) describeTaskExecution(ctx context.Context, caller identity.Principal, body []byte) (any, error) {
	var in arnIn
	if err := s.decodeAuthorized(ctx, caller, body, &in, "DescribeTaskExecution", func() string { return str(in.TaskExecutionArn) }); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.ownExec(caller, str(in.TaskExecutionArn))
	if err != nil {
		return nil, err
	}
	return s.describeLocked(e), nil
}

func (s *Service) describeLocked(e *execution) DescribeTaskExecutionOutput {
	o := e.opts
	out := DescribeTaskExecutionOutput{
		TaskExecutionArn: e.arn, Status: e.status, TaskMode: e.task.mode, Options: &o,
		Excludes: e.excludes, Includes: e.includes, StartTime: ep(e.start), LaunchTime: ep(e.launch),
		EndTime:                  ep(e.end),
		EstimatedFilesToTransfer: e.estFiles.Load(), EstimatedBytesToTransfer: e.estBytes.Load(),
		EstimatedFilesToDelete: e.estDelete.Load(),
		FilesTransferred:       e.filesTransferred.Load(), BytesTransferred: e.bytesTransferred.Load(),
		BytesWritten: e.bytesWritten.Load(), BytesCompressed: e.bytesTransferred.Load(),
		FilesVerified: e.filesVerified.Load(), FilesSkipped: e.filesSkipped.Load(),
		FilesDeleted: e.filesDeleted.Load(),
		Result: &resultDetail{PrepareDuration: e.prepDur, PrepareStatus: e.prepStatus,
			TransferDuration: e.xferDur, TransferStatus: e.xferStatus,
			VerifyDuration: e.verDur, VerifyStatus: e.verStatus},
		TaskReportConfig: e.report,
	}
	if e.reportRes != nil {
		r := *e.reportRes
		out.ReportResult = &r
	}
	if e.task.mode == "ENHANCED" {
		// The phases overlap in Enhanced mode: "For Enhanced mode tasks, the value is
		// always 0" (TaskExecutionResultDetail, PrepareDuration, TransferDuration and
		// VerifyDuration, DataSync API reference).
		var none int64
		out.Result.PrepareDuration, out.Result.TransferDuration, out.Result.VerifyDuration = &none, &none, &none
		out.FilesPrepared = e.filesPrepared.Load()
		out.FilesListed = &filesListed{AtSource: e.listedSrc.Load(), AtDestinationForDelete: e.listedDst.Load()}
		out.FilesFailed = &filesFailed{Prepare: e.failPrepare.Load(), Transfer: e.failTransfer.Load(),
			Verify: e.failVerify.Load(), Delete: e.failDelete.Load()}
		// S3 has no directories the copy creates or lists apart from objects, so every
		// folder counter is zero (API reference, DescribeTaskExecution: Enhanced mode
		// counts directories in the Folders* fields).
		zero := func() *int64 { var n int64; return &n }
		out.EstimatedFoldersToTransfer, out.EstimatedFoldersToDelete = zero(), zero()
		out.FoldersTransferred, out.FoldersVerified, out.FoldersSkipped = zero(), zero(), zero()
		out.FoldersDeleted, out.FoldersPrepared = zero(), zero()
		out.FoldersListed, out.FoldersFailed = &filesListed{}, &foldersFailed{}
	}
	if !e.end.IsZero() {
		total := e.end.Sub(e.start).Milliseconds()
		out.Result.TotalDuration = &total
	}
	if e.errCode != "" {
		out.Result.ErrorCode = sp(e.errCode)
		out.Result.ErrorDetail = sp(e.errDetail)
	}
	return out
}

// runTask runs the task's executions one after the other until its queue is empty.
func (s *Service) runTask(t *task) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if len(t.queue) == 0 || s.ctx.Err() != nil {
			for _, e := range t.queue {
				e.finishLocked(s.now(), "ERROR", "InternalError", "The simulator shut down.")
			}
			t.queue = nil
			t.runnerActive = false
			s.mu.Unlock()
			return
		}
		e := t.queue[0]
		t.queue = t.queue[1:]
		t.running = e
		s.mu.Unlock()

		s.runExecution(e)
		s.logEnd(e)
		s.startTaskReport(e)

		s.mu.Lock()
		t.running = nil
		s.mu.Unlock()
	}
}

// scaledSleep waits d scaled by the current TimeScale; false if ctx ended.
func (s *Service) scaledSleep(ctx context.Context, d time.Duration) bool {
	scale := s.b.Settings().TimeScale
	if scale < 0 {
		scale = 0
	}
	w := time.Duration(float64(d) * scale)
	if w <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(w)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// setStatus moves e to status unless it is done.
func (s *Service) setStatus(e *execution, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.done() {
		return false
	}
	e.status = status
	if status == "LAUNCHING" {
		e.launch = s.now()
	}
	return true
}

// stop ends e after ctx ended: the simulator shut down.
func (s *Service) stop(e *execution) {
	s.fail(e, "InternalError", "The simulator shut down.")
}

func (s *Service) fail(e *execution, code, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.finishLocked(s.now(), "ERROR", code, detail)
}

func ms(d time.Duration) *int64 {
	v := d.Milliseconds()
	return &v
}

func (s *Service) runExecution(e *execution) {
	ctx := e.ctx
	ph := s.opts.Phases
	if !s.scaledSleep(ctx, ph.Queued) || !s.setStatus(e, "LAUNCHING") {
		s.stop(e)
		return
	}
	// LAUNCHING: DataSync assumes both bucket access roles.
	s.mu.Lock()
	src, dst := s.st.locations[e.task.src], s.st.locations[e.task.dst]
	s.mu.Unlock()
	srcSess, err := s.assumeAsDataSync(ctx, src.roleArn, src.account, src.arn)
	if err != nil {
		s.fail(e, "PermissionDenied", fmt.Sprintf("Unable to assume role %s for location %s. Reason: Access denied when calling sts:AssumeRole", src.roleArn, src.arn))
		return
	}
	dstSess, err := s.assumeAsDataSync(ctx, dst.roleArn, dst.account, dst.arn)
	if err != nil {
		s.fail(e, "PermissionDenied", fmt.Sprintf("Unable to assume role %s for location %s. Reason: Access denied when calling sts:AssumeRole", dst.roleArn, dst.arn))
		return
	}
	if !s.scaledSleep(ctx, ph.Launching) || !s.setStatus(e, "PREPARING") {
		s.stop(e)
		return
	}

	// PREPARING: list source (and destination), decide what to copy and delete.
	t0 := time.Now()
	j := &job{s: s, e: e, src: src, dst: dst, srcSess: srcSess, dstSess: dstSess}
	plan, perr := j.prepare(ctx)
	if ctx.Err() == nil && perr == nil {
		s.scaledSleep(ctx, ph.Preparing-time.Since(t0))
	}
	if ctx.Err() != nil {
		s.stop(e)
		return
	}
	s.mu.Lock()
	e.prepDur = ms(time.Since(t0))
	if perr != nil {
		e.prepStatus = "ERROR"
	} else {
		e.prepStatus = "SUCCESS"
		e.estDelete.Store(int64(len(plan.delete)))
		if e.task.mode == "ENHANCED" {
			j.reveal(plan, s.opts.ListAhead)
		} else {
			j.reveal(plan, len(plan.copy))
		}
	}
	s.mu.Unlock()
	if perr != nil {
		s.fail(e, perr.code, perr.detail)
		return
	}
	if !s.setStatus(e, "TRANSFERRING") {
		s.stop(e)
		return
	}

	// TRANSFERRING: copy with bounded concurrency, then delete.
	t1 := time.Now()
	terr := j.transfer(ctx, plan)
	j.reveal(plan, len(plan.copy))
	s.mu.Lock()
	e.xferDur = ms(time.Since(t1))
	if terr != nil || ctx.Err() != nil {
		e.xferStatus = "ERROR"
	} else {
		e.xferStatus = "SUCCESS"
	}
	j.report(time.Since(t1))
	s.mu.Unlock()
	if ctx.Err() != nil {
		s.stop(e)
		return
	}

	// VERIFYING.
	if !s.setStatus(e, "VERIFYING") {
		s.stop(e)
		return
	}
	t2 := time.Now()
	var verr *jobErr
	if *e.opts.VerifyMode != "NONE" {
		verr = j.verify(ctx, plan)
	}
	if ctx.Err() == nil {
		s.scaledSleep(ctx, ph.Verifying-time.Since(t2))
	}
	if ctx.Err() != nil {
		s.stop(e)
		return
	}
	s.mu.Lock()
	e.verDur = ms(time.Since(t2))
	switch {
	case *e.opts.VerifyMode == "NONE":
		e.verStatus = "SUCCESS"
	case verr != nil:
		e.verStatus = "ERROR"
	default:
		e.verStatus = "SUCCESS"
	}
	s.mu.Unlock()
	switch {
	case terr != nil:
		s.fail(e, terr.code, terr.detail)
	case verr != nil:
		s.fail(e, verr.code, verr.detail)
	default:
		s.mu.Lock()
		e.finishLocked(s.now(), "SUCCESS", "", "")
		s.mu.Unlock()
	}
}

// logEnd reports how an execution ended and its measured throughput.
func (s *Service) logEnd(e *execution) {
	s.mu.Lock()
	st, status, code := e.stats, e.status, e.errCode
	s.mu.Unlock()
	s.log.Info("datasync execution finished", "taskExecutionArn", e.arn, "status", status,
		"errorCode", code, "files", st.Objects, "bytes", st.Bytes, "transferSeconds", st.TransferSeconds,
		"megabytesPerSecond", st.BytesPerSecond/1e6, "objectsPerSecond", st.ObjectsPerSecond)
}
