package datasync

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
)

func TestFilterMatches(t *testing.T) {
	tests := []struct {
		name     string
		includes string
		excludes string
		give     string
		want     bool
	}{
		{name: "no filters", give: "/a/b.txt", want: true},
		{name: "exclude suffix anywhere", excludes: "*.tmp", give: "/a/b/c.tmp", want: false},
		{name: "exclude suffix other file", excludes: "*.tmp", give: "/a/b/c.txt", want: true},
		{name: "exclude top folder", excludes: "/top", give: "/top/x/y", want: false},
		{name: "exclude top folder trailing slash", excludes: "/top/", give: "/top/x", want: false},
		{name: "exclude top folder not prefix of name", excludes: "/top", give: "/topper/x", want: true},
		{name: "exclude folder at any depth", excludes: "*/.snapshot", give: "/a/.snapshot/f", want: false},
		{name: "second of two patterns", excludes: "*.tmp|*.bak", give: "/x.bak", want: false},
		{name: "include folder", includes: "/photos", give: "/photos/2026/a.jpg", want: true},
		{name: "include folder excludes others", includes: "/photos", give: "/docs/a.txt", want: false},
		{name: "include rightmost wildcard", includes: "/photos/2026*", give: "/photos/2026-01/a.jpg", want: true},
		{name: "include rightmost wildcard miss", includes: "/photos/2026*", give: "/photos/2025/a.jpg", want: false},
		{name: "exclude wins over include", includes: "/photos", excludes: "*.tmp", give: "/photos/a.tmp", want: false},
		{name: "include single file", includes: "/folder/sub/file1.txt", give: "/folder/sub/file1.txt", want: true},
		{name: "include single file sibling", includes: "/folder/sub/file1.txt", give: "/folder/sub/file2.txt", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inRules, exRules []filterRule
			if tt.includes != "" {
				inRules = []filterRule{{FilterType: "SIMPLE_PATTERN", Value: tt.includes}}
			}
			if tt.excludes != "" {
				exRules = []filterRule{{FilterType: "SIMPLE_PATTERN", Value: tt.excludes}}
			}
			inc, err := parseFilter(inRules, true)
			if err != nil {
				t.Fatal(err)
			}
			exc, err := parseFilter(exRules, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := selected(inc, exc, tt.give); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNormalizePrefix(t *testing.T) {
	for give, want := range map[string]string{"": "", "/": "", "photos": "photos/", "/photos/2026/": "photos/2026/", "//a//b": "a/b/"} {
		if got := normalizePrefix(give); got != want {
			t.Errorf("normalizePrefix(%q): got %q, want %q", give, got, want)
		}
	}
}

// TestStatusProgression watches one execution move through every status, with the
// estimates filled when PREPARING ends and the counters growing while TRANSFERRING.
func TestStatusProgression(t *testing.T) {
	w := newWorld(t, Options{Phases: Phases{Queued: 150 * time.Millisecond, Launching: 150 * time.Millisecond,
		Preparing: 150 * time.Millisecond, Verifying: 150 * time.Millisecond}, Workers: 1})
	w.fb.set(func(f *fakeBackend) { f.settings.TimeScale = 1 })
	for _, k := range []string{"a", "b", "c", "d"} {
		w.fb.seed(t, "src-bucket", k, strings.Repeat("x", 64<<10))
	}
	// Basic: its phases follow each other and report their durations (an Enhanced
	// execution's are 0, TestEnhancedEstimatesGrowWhileTransferring).
	taskArn := w.task(&datasync.CreateTaskInput{TaskMode: types.TaskModeBasic,
		Options: &types.Options{BytesPerSecond: aws.Int64(1 << 20)}}) // 256 KiB at 1 MiB/s: ~250 ms
	execArn := w.start(taskArn)

	var seen []types.TaskExecutionStatus
	var sawPartial, sawEstimateEarly bool
	var last *datasync.DescribeTaskExecutionOutput
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		d, err := w.client.DescribeTaskExecution(context.Background(), &datasync.DescribeTaskExecutionInput{TaskExecutionArn: aws.String(execArn)})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) == 0 || seen[len(seen)-1] != d.Status {
			seen = append(seen, d.Status)
		}
		switch d.Status {
		case types.TaskExecutionStatusQueued, types.TaskExecutionStatusLaunching:
			sawEstimateEarly = sawEstimateEarly || d.EstimatedFilesToTransfer != 0
		case types.TaskExecutionStatusTransferring:
			if d.EstimatedFilesToTransfer != 4 || d.EstimatedBytesToTransfer != 4*64<<10 {
				t.Errorf("TRANSFERRING: got estimates %d files %d bytes, want 4 and %d", d.EstimatedFilesToTransfer, d.EstimatedBytesToTransfer, 4*64<<10)
			}
			sawPartial = sawPartial || (d.BytesTransferred > 0 && d.BytesTransferred < 4*64<<10)
		}
		last = d
		if d.Status == types.TaskExecutionStatusSuccess || d.Status == types.TaskExecutionStatusError {
			break
		}
		time.Sleep(3 * time.Millisecond)
	}
	want := []types.TaskExecutionStatus{"QUEUED", "LAUNCHING", "PREPARING", "TRANSFERRING", "VERIFYING", "SUCCESS"}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("got statuses %v, want %v", seen, want)
	}
	if sawEstimateEarly {
		t.Error("estimates were set before PREPARING ended")
	}
	if !sawPartial {
		t.Error("never saw BytesTransferred between 0 and the total while TRANSFERRING")
	}
	r := last.Result
	if last.FilesTransferred != 4 || last.BytesWritten != 4*64<<10 || last.FilesVerified != 4 {
		t.Errorf("got transferred %d written %d verified %d", last.FilesTransferred, last.BytesWritten, last.FilesVerified)
	}
	if r.PrepareStatus != types.PhaseStatusSuccess || r.TransferStatus != types.PhaseStatusSuccess || r.VerifyStatus != types.PhaseStatusSuccess {
		t.Errorf("got phase statuses %s %s %s", r.PrepareStatus, r.TransferStatus, r.VerifyStatus)
	}
	if aws.ToInt64(r.TransferDuration) < 150 || aws.ToInt64(r.TotalDuration) < aws.ToInt64(r.TransferDuration) || aws.ToInt64(r.PrepareDuration) < 50 {
		t.Errorf("got durations prepare %d transfer %d total %d", aws.ToInt64(r.PrepareDuration), aws.ToInt64(r.TransferDuration), aws.ToInt64(r.TotalDuration))
	}
	if last.StartTime == nil || last.StartTime.IsZero() || r.ErrorCode != nil {
		t.Errorf("got start %v error code %v", last.StartTime, r.ErrorCode)
	}
}

func TestCopySemantics(t *testing.T) {
	type step struct {
		wantDst   map[string]string // destination key → body after the run
		wantFiles int64             // FilesTransferred
		wantSkip  int64
		wantDel   int64
	}
	tests := []struct {
		name     string
		srcSub   string
		dstSub   string
		includes string
		excludes string
		opts     *types.Options
		before   map[string]string // destination content before the first run
		steps    []step
	}{
		{
			name:   "subdirectories and filters",
			srcSub: "/photos", dstSub: "from-a/",
			includes: "/2026*|/docs", excludes: "*.tmp",
			steps: []step{{wantFiles: 3, wantDst: map[string]string{
				"from-a/2026-01/a.jpg": "A", "from-a/2026-02/b.jpg": "B", "from-a/docs/readme": "R",
			}}},
		},
		{
			name:   "changed skips identical objects on the second run",
			before: map[string]string{"photos/2026-01/a.jpg": "A"},
			steps: []step{
				{wantFiles: 6},
				{wantFiles: 0},
			},
		},
		{
			name:   "overwrite never keeps existing objects",
			opts:   &types.Options{OverwriteMode: types.OverwriteModeNever},
			before: map[string]string{"photos/2026-01/a.jpg": "OLD"},
			steps: []step{{wantFiles: 5, wantSkip: 1, wantDst: map[string]string{
				"photos/2026-01/a.jpg": "OLD", "photos/2026-02/b.jpg": "B", "photos/2025/c.jpg": "C",
				"photos/2026-01/x.tmp": "T", "photos/docs/readme": "R", "other/z": "Z",
			}}},
		},
		{
			name:   "transfer all overwrites identical objects",
			opts:   &types.Options{TransferMode: types.TransferModeAll},
			before: map[string]string{"photos/2026-01/a.jpg": "A"},
			steps:  []step{{wantFiles: 6}, {wantFiles: 6}},
		},
		{
			name:   "remove deletes objects absent from the source",
			opts:   &types.Options{PreserveDeletedFiles: types.PreserveDeletedFilesRemove},
			before: map[string]string{"stale/old": "S"},
			steps: []step{{wantFiles: 6, wantDel: 1, wantDst: map[string]string{
				"photos/2026-01/a.jpg": "A", "photos/2026-02/b.jpg": "B", "photos/2025/c.jpg": "C",
				"photos/2026-01/x.tmp": "T", "photos/docs/readme": "R", "other/z": "Z",
			}}},
		},
		{
			name:   "preserve keeps objects absent from the source",
			before: map[string]string{"stale/old": "S"},
			steps:  []step{{wantFiles: 6, wantDst: map[string]string{"stale/old": "S", "photos/2026-01/a.jpg": "A", "photos/2026-02/b.jpg": "B", "photos/2025/c.jpg": "C", "photos/2026-01/x.tmp": "T", "photos/docs/readme": "R", "other/z": "Z"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, fastPhases())
			for k, v := range map[string]string{"photos/2026-01/a.jpg": "A", "photos/2026-02/b.jpg": "B",
				"photos/2025/c.jpg": "C", "photos/2026-01/x.tmp": "T", "photos/docs/readme": "R", "other/z": "Z"} {
				w.fb.seed(t, "src-bucket", k, v)
			}
			for k, v := range tt.before {
				w.fb.seed(t, "dst-bucket", k, v)
			}
			if tt.name == "changed skips identical objects on the second run" {
				// An identical object already at the destination is not copied again.
				tt.steps[0].wantFiles = 5
			}
			in := &datasync.CreateTaskInput{TaskMode: types.TaskModeEnhanced, Options: tt.opts,
				SourceLocationArn:      aws.String(w.location("src-bucket", w.transfer, tt.srcSub)),
				DestinationLocationArn: aws.String(w.location("dst-bucket", w.config, tt.dstSub))}
			if tt.includes != "" {
				in.Includes = []types.FilterRule{{FilterType: types.FilterTypeSimplePattern, Value: aws.String(tt.includes)}}
			}
			if tt.excludes != "" {
				in.Excludes = []types.FilterRule{{FilterType: types.FilterTypeSimplePattern, Value: aws.String(tt.excludes)}}
			}
			taskArn := w.task(in)
			for i, st := range tt.steps {
				d := w.wait(w.start(taskArn))
				if d.Status != types.TaskExecutionStatusSuccess {
					t.Fatalf("run %d: got %s %s %s", i, d.Status, aws.ToString(d.Result.ErrorCode), aws.ToString(d.Result.ErrorDetail))
				}
				if d.FilesTransferred != st.wantFiles || d.FilesSkipped != st.wantSkip || d.FilesDeleted != st.wantDel {
					t.Errorf("run %d: got transferred %d skipped %d deleted %d, want %d %d %d", i,
						d.FilesTransferred, d.FilesSkipped, d.FilesDeleted, st.wantFiles, st.wantSkip, st.wantDel)
				}
				if st.wantDst != nil {
					got := map[string]string{}
					for _, k := range w.fb.keys("dst-bucket") {
						got[k], _ = w.fb.body(t, "dst-bucket", k)
					}
					if !reflect.DeepEqual(got, st.wantDst) {
						t.Errorf("run %d: got destination %v, want %v", i, got, st.wantDst)
					}
				}
			}
		})
	}
}

func TestReadDeniedEndsInError(t *testing.T) {
	w := newWorld(t, fastPhases())
	for _, k := range []string{"a", "b", "secret", "c"} {
		w.fb.seed(t, "src-bucket", k, "body-"+k)
	}
	w.fb.forbid(w.transfer, "s3:GetObject", "arn:aws:s3:::src-bucket/secret")
	d := w.wait(w.start(w.task(&datasync.CreateTaskInput{TaskMode: types.TaskModeEnhanced})))
	if d.Status != types.TaskExecutionStatusError {
		t.Fatalf("got %s, want ERROR", d.Status)
	}
	if got := aws.ToString(d.Result.ErrorCode); got != "PermissionDenied" {
		t.Errorf("got ErrorCode %q, want PermissionDenied", got)
	}
	detail := aws.ToString(d.Result.ErrorDetail)
	for _, want := range []string{"s3:GetObject", "arn:aws:s3:::src-bucket/secret", "assumed-role/datasync-transfer-role/"} {
		if !strings.Contains(detail, want) {
			t.Errorf("ErrorDetail %q does not name %q", detail, want)
		}
	}
	if d.FilesTransferred != 3 || d.FilesFailed == nil || d.FilesFailed.Transfer != 1 {
		t.Errorf("got transferred %d failed %+v, want 3 and 1", d.FilesTransferred, d.FilesFailed)
	}
	if d.Result.TransferStatus != types.PhaseStatusError {
		t.Errorf("got TransferStatus %s, want ERROR", d.Result.TransferStatus)
	}
}

func TestWriteDeniedAndListDenied(t *testing.T) {
	t.Run("write denied", func(t *testing.T) {
		w := newWorld(t, fastPhases())
		w.fb.seed(t, "src-bucket", "a", "A")
		w.fb.forbid(w.config, "s3:PutObject", "*")
		d := w.wait(w.start(w.task(&datasync.CreateTaskInput{TaskMode: types.TaskModeEnhanced})))
		if d.Status != types.TaskExecutionStatusError || aws.ToString(d.Result.ErrorCode) != "PermissionDenied" ||
			!strings.Contains(aws.ToString(d.Result.ErrorDetail), "s3:PutObject") {
			t.Errorf("got %s %s %s", d.Status, aws.ToString(d.Result.ErrorCode), aws.ToString(d.Result.ErrorDetail))
		}
	})
	t.Run("list denied after the location was created", func(t *testing.T) {
		w := newWorld(t, fastPhases())
		taskArn := w.task(&datasync.CreateTaskInput{TaskMode: types.TaskModeEnhanced})
		w.fb.forbid(w.transfer, "s3:ListBucket", "*")
		d := w.wait(w.start(taskArn))
		if d.Status != types.TaskExecutionStatusError || d.Result.PrepareStatus != types.PhaseStatusError ||
			aws.ToString(d.Result.ErrorCode) != "PermissionDenied" {
			t.Errorf("got %s prepare %s code %s", d.Status, d.Result.PrepareStatus, aws.ToString(d.Result.ErrorCode))
		}
	})
}

func TestVerifyModeNoneAndOverrides(t *testing.T) {
	w := newWorld(t, fastPhases())
	w.fb.seed(t, "src-bucket", "keep/a", "A")
	w.fb.seed(t, "src-bucket", "skip/b", "B")
	taskArn := w.task(&datasync.CreateTaskInput{TaskMode: types.TaskModeEnhanced})
	out, err := w.client.StartTaskExecution(context.Background(), &datasync.StartTaskExecutionInput{
		TaskArn:         aws.String(taskArn),
		OverrideOptions: &types.Options{VerifyMode: types.VerifyModeNone},
		Excludes:        []types.FilterRule{{FilterType: types.FilterTypeSimplePattern, Value: aws.String("/skip")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := w.wait(*out.TaskExecutionArn)
	if d.Status != types.TaskExecutionStatusSuccess || d.FilesTransferred != 1 || d.FilesVerified != 0 || d.Options.VerifyMode != types.VerifyModeNone {
		t.Errorf("got %s transferred %d verified %d verify mode %s", d.Status, d.FilesTransferred, d.FilesVerified, d.Options.VerifyMode)
	}
	_, err = w.client.StartTaskExecution(context.Background(), &datasync.StartTaskExecutionInput{
		TaskArn: aws.String(taskArn), OverrideOptions: &types.Options{VerifyMode: types.VerifyModePointInTimeConsistent}})
	var ire *types.InvalidRequestException
	if !asInvalid(err, &ire) {
		t.Errorf("override POINT_IN_TIME_CONSISTENT on Enhanced: got %v, want InvalidRequestException", err)
	}
}

func asInvalid(err error, target **types.InvalidRequestException) bool {
	return err != nil && errors.As(err, target)
}

func TestTaskTagsAndList(t *testing.T) {
	w := newWorld(t, fastPhases())
	taskArn := w.task(&datasync.CreateTaskInput{Name: aws.String("media copy"),
		Tags: []types.TagListEntry{{Key: aws.String("team"), Value: aws.String("b")}, {Key: aws.String("dsmigrate:role"), Value: aws.String("task")}}})
	tags, err := w.client.ListTagsForResource(context.Background(), &datasync.ListTagsForResourceInput{ResourceArn: aws.String(taskArn)})
	if err != nil || len(tags.Tags) != 2 || aws.ToString(tags.Tags[0].Key) != "dsmigrate:role" || aws.ToString(tags.Tags[1].Value) != "b" {
		t.Errorf("got %+v %v, want the two tags sorted by key", tags, err)
	}
	list, err := w.client.ListTasks(context.Background(), &datasync.ListTasksInput{})
	if err != nil || len(list.Tasks) != 1 || aws.ToString(list.Tasks[0].Name) != "media copy" {
		t.Errorf("got %+v %v", list, err)
	}
}

func TestOtherAccountSeesNothing(t *testing.T) {
	w := newWorld(t, fastPhases())
	taskArn := w.task(&datasync.CreateTaskInput{})
	other := newClient(aws.ToString(w.client.Options().BaseEndpoint), "AKIASRCADMIN")
	w.fb.grant("arn:aws:iam::"+acctA+":user/admin", "datasync:*", "*")
	var ire *types.InvalidRequestException
	if _, err := other.DescribeTask(context.Background(), &datasync.DescribeTaskInput{TaskArn: aws.String(taskArn)}); !asInvalid(err, &ire) {
		t.Errorf("other account DescribeTask: got %v, want InvalidRequestException", err)
	}
	list, err := other.ListTasks(context.Background(), &datasync.ListTasksInput{})
	if err != nil || len(list.Tasks) != 0 {
		t.Errorf("other account ListTasks: got %+v %v, want none", list, err)
	}
}

func TestSimulatorBandwidthLimitSlowsTransfer(t *testing.T) {
	w := newWorld(t, fastPhases())
	w.fb.set(func(f *fakeBackend) { f.settings.TransferBytesPerSecond = 1 << 20 })
	w.fb.seed(t, "src-bucket", "big", strings.Repeat("x", 256<<10))
	start := time.Now()
	d := w.wait(w.start(w.task(&datasync.CreateTaskInput{TaskMode: types.TaskModeEnhanced})))
	if d.Status != types.TaskExecutionStatusSuccess {
		t.Fatalf("got %s", d.Status)
	}
	// 256 KiB at 1 MiB/s takes about 250 ms.
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("got %v, want at least 200ms at 1 MiB/s", took)
	}
}

// TestCloseStopsTransfer: closing the service (the simulator shutting down) stops a
// running copy in the middle of an object and ends the execution in ERROR.
func TestCloseStopsTransfer(t *testing.T) {
	w := newWorld(t, fastPhases())
	w.fb.set(func(f *fakeBackend) { f.settings.TransferBytesPerSecond = 64 << 10 })
	w.fb.seed(t, "src-bucket", "big", strings.Repeat("x", 1<<20)) // 16 s at 64 KiB/s
	execArn := w.start(w.task(&datasync.CreateTaskInput{TaskMode: types.TaskModeEnhanced}))
	for {
		d, err := w.client.DescribeTaskExecution(context.Background(), &datasync.DescribeTaskExecutionInput{TaskExecutionArn: aws.String(execArn)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == types.TaskExecutionStatusTransferring && d.BytesTransferred > 0 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	w.svc.Close()
	d := w.wait(execArn)
	if d.Status != types.TaskExecutionStatusError || aws.ToString(d.Result.ErrorCode) != "InternalError" || d.Result.TransferStatus != types.PhaseStatusError {
		t.Errorf("got %s %s transfer %s, want ERROR InternalError transfer ERROR", d.Status, aws.ToString(d.Result.ErrorCode), d.Result.TransferStatus)
	}
	// The upload was stopped in the middle of the object, not finished first.
	if d.BytesTransferred >= 1<<20 {
		t.Errorf("got %d bytes transferred, want fewer than the object's %d: shutdown should stop the upload", d.BytesTransferred, 1<<20)
	}
	if _, ok := w.fb.body(t, "dst-bucket", "big"); ok {
		t.Error("a stopped upload left an object at the destination")
	}
}

func TestVerificationMismatch(t *testing.T) {
	w := newWorld(t, fastPhases())
	w.fb.seed(t, "src-bucket", "a", "A")
	w.fb.seed(t, "src-bucket", "b", "B")
	w.fb.set(func(f *fakeBackend) { f.headLies = map[string]bool{"dst-bucket/b": true} })
	d := w.wait(w.start(w.task(&datasync.CreateTaskInput{TaskMode: types.TaskModeEnhanced})))
	if d.Status != types.TaskExecutionStatusError || d.Result.VerifyStatus != types.PhaseStatusError || d.Result.TransferStatus != types.PhaseStatusSuccess {
		t.Fatalf("got %s verify %s transfer %s", d.Status, d.Result.VerifyStatus, d.Result.TransferStatus)
	}
	want := "Transfer and verification completed. Verification detected mismatches. Files with mismatches are listed in Cloud Watch Logs"
	if got := aws.ToString(d.Result.ErrorDetail); got != want {
		t.Errorf("got ErrorDetail %q, want %q", got, want)
	}
	if d.FilesVerified != 1 || d.FilesFailed.Verify != 1 {
		t.Errorf("got verified %d failed %d, want 1 and 1", d.FilesVerified, d.FilesFailed.Verify)
	}
}
