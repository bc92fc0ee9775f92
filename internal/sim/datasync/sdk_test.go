package datasync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

const (
	acctA = "111111111111" // source account
	acctB = "222222222222" // destination account, where DataSync resources live
)

// world is the field report's pull layout over the fake backend, reached with the real
// SDK client through an httptest server that identifies callers by access key id.
type world struct {
	t        *testing.T
	fb       *fakeBackend
	svc      *Service
	client   *datasync.Client // as deployer in B
	deployer string
	transfer string // role ARN in B with access to the source bucket
	config   string // role ARN in B with access to the destination bucket
	srcRole  string // role in A (for the cross-account pitfall)
}

func newWorld(t *testing.T, opts Options) *world {
	t.Helper()
	fb := newFake(t)
	fb.grant("seed", "*", "*")
	svc := New(fb, opts)
	t.Cleanup(func() { svc.Close() })
	principals := map[string]identity.Principal{
		"AKIADEPLOYER": identity.UserPrincipal(acctB, "deployer", "AIDADEPLOYER"),
		"AKIASRCADMIN": identity.UserPrincipal(acctA, "admin", "AIDASRCADMIN"),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		i := strings.Index(auth, "Credential=")
		if i < 0 {
			http.Error(w, "unsigned", http.StatusForbidden)
			return
		}
		key := strings.SplitN(auth[i+len("Credential="):], "/", 2)[0]
		p, ok := principals[key]
		if !ok {
			writeJSON(w, http.StatusBadRequest, errBody("UnrecognizedClientException", "The security token included in the request is invalid.", ""))
			return
		}
		svc.ServeHTTP(w, r.WithContext(identity.WithPrincipal(r.Context(), p)))
	}))
	t.Cleanup(srv.Close)
	w := &world{t: t, fb: fb, svc: svc, deployer: "arn:aws:iam::" + acctB + ":user/deployer"}
	w.client = newClient(srv.URL, "AKIADEPLOYER")

	old := time.Now().Add(-time.Hour)
	w.transfer = fb.addRole(acctB, "datasync-transfer-role", old)
	w.config = fb.addRole(acctB, "datasync-config-role", old)
	w.srcRole = fb.addRole(acctA, "datasync-transfer-role", old)
	fb.addBucket("src-bucket", acctA)
	fb.addBucket("dst-bucket", acctB)

	// The deployer may use DataSync, pass roles and list both buckets (the source
	// bucket policy's DataSyncCreateS3Location statement).
	fb.grant(w.deployer, "datasync:*", "*")
	fb.grant(w.deployer, "iam:PassRole", "arn:aws:iam::"+acctB+":role/*")
	fb.grant(w.deployer, "iam:CreateServiceLinkedRole", "*")
	fb.grant(w.deployer, "s3:ListBucket", "arn:aws:s3:::src-bucket")
	fb.grant(w.deployer, "s3:ListBucket", "arn:aws:s3:::dst-bucket")
	for _, g := range []struct{ role, bucket string }{{w.transfer, "src-bucket"}, {w.config, "dst-bucket"}} {
		fb.grant(g.role, "s3:ListBucket", "arn:aws:s3:::"+g.bucket)
		fb.grant(g.role, "s3:GetObject", "arn:aws:s3:::"+g.bucket+"/*")
		fb.grant(g.role, "s3:PutObject", "arn:aws:s3:::"+g.bucket+"/*")
		fb.grant(g.role, "s3:DeleteObject", "arn:aws:s3:::"+g.bucket+"/*")
	}
	return w
}

func newClient(url, key string) *datasync.Client {
	return datasync.New(datasync.Options{
		BaseEndpoint:     aws.String(url),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(key, "secret", ""),
		RetryMaxAttempts: 1,
	})
}

func (w *world) location(bucket, role, sub string) string {
	w.t.Helper()
	out, err := w.client.CreateLocationS3(context.Background(), &datasync.CreateLocationS3Input{
		S3BucketArn:  aws.String("arn:aws:s3:::" + bucket),
		S3Config:     &types.S3Config{BucketAccessRoleArn: aws.String(role)},
		Subdirectory: aws.String(sub),
	})
	if err != nil {
		w.t.Fatalf("CreateLocationS3(%s): %v", bucket, err)
	}
	return *out.LocationArn
}

func (w *world) task(in *datasync.CreateTaskInput) string {
	w.t.Helper()
	if in.SourceLocationArn == nil {
		in.SourceLocationArn = aws.String(w.location("src-bucket", w.transfer, "/"))
	}
	if in.DestinationLocationArn == nil {
		in.DestinationLocationArn = aws.String(w.location("dst-bucket", w.config, "/"))
	}
	out, err := w.client.CreateTask(context.Background(), in)
	if err != nil {
		w.t.Fatalf("CreateTask: %v", err)
	}
	return *out.TaskArn
}

func (w *world) start(taskArn string) string {
	w.t.Helper()
	out, err := w.client.StartTaskExecution(context.Background(), &datasync.StartTaskExecutionInput{TaskArn: aws.String(taskArn)})
	if err != nil {
		w.t.Fatalf("StartTaskExecution: %v", err)
	}
	return *out.TaskExecutionArn
}

// wait polls until the execution ends and returns its last description.
func (w *world) wait(execArn string) *datasync.DescribeTaskExecutionOutput {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		out, err := w.client.DescribeTaskExecution(context.Background(), &datasync.DescribeTaskExecutionInput{TaskExecutionArn: aws.String(execArn)})
		if err != nil {
			w.t.Fatalf("DescribeTaskExecution: %v", err)
		}
		if out.Status == types.TaskExecutionStatusSuccess || out.Status == types.TaskExecutionStatusError {
			return out
		}
		time.Sleep(5 * time.Millisecond)
	}
	w.t.Fatalf("execution %s did not finish", execArn)
	return nil
}

func fastPhases() Options {
	return Options{Phases: Phases{Queued: time.Millisecond, Launching: time.Millisecond, Preparing: time.Millisecond, Verifying: time.Millisecond}}
}

func TestCreateLocationS3Errors(t *testing.T) {
	const seedAccessTest = "DataSync location access test failed: could not perform s3:HeadBucket on bucket src-bucket. Access denied. Ensure bucket access role has s3:ListBucket permission."
	const unableToAssume = "Unable to assume role. Reason: Access denied when calling sts:AssumeRole"
	tests := []struct {
		name        string
		setup       func(w *world)
		role        func(w *world) string
		wantInvalid string // InvalidRequestException message, verbatim
		wantCode    string // other API error code
	}{
		{name: "role in the source account", role: func(w *world) string { return w.srcRole },
			wantInvalid: "Cross-account pass role is not allowed"},
		{name: "no iam:PassRole",
			setup: func(w *world) { w.fb.forbid(w.deployer, "iam:PassRole", "*") },
			role:  func(w *world) string { return w.transfer }, wantCode: "AccessDeniedException"},
		{name: "role younger than the propagation delay",
			setup: func(w *world) {
				w.fb.set(func(f *fakeBackend) { f.settings.PropagationDelay = time.Minute })
				w.transfer = w.fb.addRole(acctB, "fresh-role", time.Now().Add(-10*time.Second))
				w.fb.grant(w.transfer, "s3:ListBucket", "*")
			},
			role: func(w *world) string { return w.transfer }, wantInvalid: unableToAssume},
		{name: "old role whose policies changed within the propagation delay",
			setup: func(w *world) {
				w.fb.set(func(f *fakeBackend) { f.settings.PropagationDelay = time.Minute })
				w.transfer = w.fb.addRole(acctB, "edited-role", time.Now().Add(-time.Hour))
				w.fb.grant(w.transfer, "s3:ListBucket", "*")
				w.fb.set(func(f *fakeBackend) {
					r := f.roles[w.transfer]
					r.PoliciesChanged = time.Now().Add(-10 * time.Second)
					f.roles[w.transfer] = r
				})
			},
			role: func(w *world) string { return w.transfer }, wantInvalid: unableToAssume},
		{name: "trust policy does not allow DataSync for this location",
			setup: func(w *world) {
				w.fb.trust[w.transfer] = func(c identity.Context) bool {
					v, _ := c.Get("aws:SourceAccount")
					return len(v) == 1 && v[0] == acctA
				}
			},
			role: func(w *world) string { return w.transfer }, wantInvalid: unableToAssume},
		{name: "role does not exist",
			role:        func(w *world) string { return "arn:aws:iam::" + acctB + ":role/nope" },
			wantInvalid: unableToAssume},
		{name: "caller lacks s3:ListBucket on the source bucket (field-report pitfall)",
			setup: func(w *world) { w.fb.forbid(w.deployer, "s3:ListBucket", "arn:aws:s3:::src-bucket") },
			role:  func(w *world) string { return w.transfer }, wantInvalid: seedAccessTest},
		{name: "role lacks s3:ListBucket",
			setup: func(w *world) { w.fb.forbid(w.transfer, "s3:ListBucket", "*") },
			role:  func(w *world) string { return w.transfer }, wantInvalid: seedAccessTest},
		{name: "no datasync permission",
			setup: func(w *world) { w.fb.forbid(w.deployer, "datasync:CreateLocationS3", "*") },
			role:  func(w *world) string { return w.transfer }, wantCode: "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, fastPhases())
			if tt.setup != nil {
				tt.setup(w)
			}
			_, err := w.client.CreateLocationS3(context.Background(), &datasync.CreateLocationS3Input{
				S3BucketArn: aws.String("arn:aws:s3:::src-bucket"),
				S3Config:    &types.S3Config{BucketAccessRoleArn: aws.String(tt.role(w))},
			})
			if err == nil {
				t.Fatal("got no error")
			}
			if tt.wantInvalid != "" {
				var ire *types.InvalidRequestException
				if !errors.As(err, &ire) {
					t.Fatalf("got %T %v, want *types.InvalidRequestException", err, err)
				}
				if got := aws.ToString(ire.Message); got != tt.wantInvalid {
					t.Errorf("got message %q, want %q", got, tt.wantInvalid)
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode {
				t.Fatalf("got %v, want code %s", err, tt.wantCode)
			}
		})
	}
}

func TestCreateLocationS3PropagationThenSuccess(t *testing.T) {
	w := newWorld(t, fastPhases())
	w.fb.set(func(f *fakeBackend) { f.settings.PropagationDelay = time.Minute })
	created := time.Now()
	w.fb.set(func(f *fakeBackend) { f.clock = created })
	role := w.fb.addRole(acctB, "new-role", created)
	w.fb.grant(role, "s3:ListBucket", "*")
	in := &datasync.CreateLocationS3Input{S3BucketArn: aws.String("arn:aws:s3:::src-bucket"),
		S3Config: &types.S3Config{BucketAccessRoleArn: aws.String(role)}, Subdirectory: aws.String("photos/2026"),
		Tags: []types.TagListEntry{{Key: aws.String("dsmigrate:role"), Value: aws.String("source")}}}
	if _, err := w.client.CreateLocationS3(context.Background(), in); err == nil {
		t.Fatal("got success for a role younger than the propagation delay")
	}
	w.fb.set(func(f *fakeBackend) { f.clock = created.Add(61 * time.Second) })
	out, err := w.client.CreateLocationS3(context.Background(), in)
	if err != nil {
		t.Fatalf("after the delay: %v", err)
	}
	if !regexp.MustCompile(`^arn:aws:datasync:us-east-1:222222222222:location/loc-[0-9a-f]{17}$`).MatchString(*out.LocationArn) {
		t.Errorf("got ARN %s", *out.LocationArn)
	}
	d, err := w.client.DescribeLocationS3(context.Background(), &datasync.DescribeLocationS3Input{LocationArn: out.LocationArn})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(d.LocationUri), "s3://src-bucket/photos/2026/"; got != want {
		t.Errorf("got LocationUri %s, want %s", got, want)
	}
	if d.S3StorageClass != types.S3StorageClassStandard || aws.ToString(d.S3Config.BucketAccessRoleArn) != role {
		t.Errorf("got %v %v", d.S3StorageClass, aws.ToString(d.S3Config.BucketAccessRoleArn))
	}
	tags, err := w.client.ListTagsForResource(context.Background(), &datasync.ListTagsForResourceInput{ResourceArn: out.LocationArn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "source" {
		t.Errorf("got tags %+v, %v", tags, err)
	}
	list, err := w.client.ListLocations(context.Background(), &datasync.ListLocationsInput{Filters: []types.LocationFilter{
		{Name: types.LocationFilterNameLocationUri, Operator: types.OperatorBeginsWith, Values: []string{"s3://src-bucket/"}}}})
	if err != nil || len(list.Locations) != 1 {
		t.Errorf("got %+v, %v; want one location", list, err)
	}
}

func TestCreateTaskValidation(t *testing.T) {
	tests := []struct {
		name    string
		give    *datasync.CreateTaskInput
		wantErr string // substring of the InvalidRequestException message; "" = success
	}{
		{name: "enhanced with point in time consistent", give: &datasync.CreateTaskInput{TaskMode: types.TaskModeEnhanced,
			Options: &types.Options{VerifyMode: types.VerifyModePointInTimeConsistent}}, wantErr: "POINT_IN_TIME_CONSISTENT is not supported for Enhanced"},
		{name: "enhanced defaults", give: &datasync.CreateTaskInput{TaskMode: types.TaskModeEnhanced}},
		{name: "basic with point in time consistent", give: &datasync.CreateTaskInput{TaskMode: types.TaskModeBasic,
			Options: &types.Options{VerifyMode: types.VerifyModePointInTimeConsistent}}},
		{name: "remove with transfer all", give: &datasync.CreateTaskInput{
			Options: &types.Options{PreserveDeletedFiles: types.PreserveDeletedFilesRemove, TransferMode: types.TransferModeAll}}, wantErr: "TransferMode: ALL"},
		{name: "posix permissions on S3", give: &datasync.CreateTaskInput{
			Options: &types.Options{PosixPermissions: types.PosixPermissionsPreserve}}, wantErr: "Option: PosixPermissions, Value: PRESERVE invalid for non-POSIX transfer. please use NONE."},
		{name: "uid on S3", give: &datasync.CreateTaskInput{
			Options: &types.Options{Uid: types.UidIntValue}}, wantErr: "Option: Uid, Value: INT_VALUE invalid for non-POSIX transfer"},
		{name: "atime without mtime", give: &datasync.CreateTaskInput{
			Options: &types.Options{Atime: types.AtimeNone}}, wantErr: "Atime"},
		{name: "include wildcard not rightmost", give: &datasync.CreateTaskInput{
			Includes: []types.FilterRule{{FilterType: types.FilterTypeSimplePattern, Value: aws.String("*.txt")}}}, wantErr: "rightmost"},
		{name: "include wildcard rightmost", give: &datasync.CreateTaskInput{
			Includes: []types.FilterRule{{FilterType: types.FilterTypeSimplePattern, Value: aws.String("/photos/2026*|/docs")}}}},
		{name: "two exclude rules", give: &datasync.CreateTaskInput{
			Excludes: []types.FilterRule{{FilterType: types.FilterTypeSimplePattern, Value: aws.String("*.tmp")}, {FilterType: types.FilterTypeSimplePattern, Value: aws.String("*.bak")}}}, wantErr: "length less than or equal to 1"},
		{name: "bad task name", give: &datasync.CreateTaskInput{Name: aws.String("bad|name")}, wantErr: "failed to satisfy constraint"},
		{name: "bytes per second below -1", give: &datasync.CreateTaskInput{Options: &types.Options{BytesPerSecond: aws.Int64(-5)}}, wantErr: "greater than or equal to -1"},
	}
	w := newWorld(t, fastPhases())
	src := w.location("src-bucket", w.transfer, "/")
	dst := w.location("dst-bucket", w.config, "/")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.give.SourceLocationArn, tt.give.DestinationLocationArn = aws.String(src), aws.String(dst)
			out, err := w.client.CreateTask(context.Background(), tt.give)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				d, err := w.client.DescribeTask(context.Background(), &datasync.DescribeTaskInput{TaskArn: out.TaskArn})
				if err != nil {
					t.Fatal(err)
				}
				if d.Status != types.TaskStatusAvailable || d.Options == nil || d.Options.VerifyMode == "" {
					t.Errorf("got status %s options %+v", d.Status, d.Options)
				}
				if tt.give.TaskMode == types.TaskModeEnhanced && d.Options.VerifyMode != types.VerifyModeOnlyFilesTransferred {
					t.Errorf("got default VerifyMode %s for Enhanced, want ONLY_FILES_TRANSFERRED", d.Options.VerifyMode)
				}
				return
			}
			var ire *types.InvalidRequestException
			if !errors.As(err, &ire) {
				t.Fatalf("got %v, want InvalidRequestException", err)
			}
			if !strings.Contains(aws.ToString(ire.Message), tt.wantErr) {
				t.Errorf("got message %q, want it to contain %q", aws.ToString(ire.Message), tt.wantErr)
			}
		})
	}
}

func TestEnhancedTaskNeedsServiceLinkedRolePermission(t *testing.T) {
	w := newWorld(t, fastPhases())
	w.fb.forbid(w.deployer, "iam:CreateServiceLinkedRole", "*")
	src := w.location("src-bucket", w.transfer, "/")
	dst := w.location("dst-bucket", w.config, "/")
	_, err := w.client.CreateTask(context.Background(), &datasync.CreateTaskInput{TaskMode: types.TaskModeEnhanced,
		SourceLocationArn: aws.String(src), DestinationLocationArn: aws.String(dst)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "iam:CreateServiceLinkedRole") {
		t.Fatalf("got %v, want AccessDeniedException naming iam:CreateServiceLinkedRole", err)
	}
}

func TestQueuedExecutions(t *testing.T) {
	w := newWorld(t, Options{Phases: Phases{Queued: time.Millisecond, Launching: time.Hour}})
	w.fb.set(func(f *fakeBackend) { f.settings.TimeScale = 1 })
	taskArn := w.task(&datasync.CreateTaskInput{TaskMode: types.TaskModeEnhanced})
	first := w.start(taskArn)
	for range 50 {
		w.start(taskArn)
	}
	_, err := w.client.StartTaskExecution(context.Background(), &datasync.StartTaskExecutionInput{TaskArn: aws.String(taskArn)})
	var ire *types.InvalidRequestException
	if !errors.As(err, &ire) {
		t.Fatalf("52nd start: got %v, want InvalidRequestException (50 queued at most)", err)
	}
	// The first leaves QUEUED; the others stay QUEUED behind it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := w.client.DescribeTaskExecution(context.Background(), &datasync.DescribeTaskExecutionInput{TaskExecutionArn: aws.String(first)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == types.TaskExecutionStatusLaunching {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first execution: got %s, want LAUNCHING", d.Status)
		}
		time.Sleep(2 * time.Millisecond)
	}
	list, err := w.client.ListTaskExecutions(context.Background(), &datasync.ListTaskExecutionsInput{TaskArn: aws.String(taskArn)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.TaskExecutions) != 51 {
		t.Fatalf("got %d executions, want 51", len(list.TaskExecutions))
	}
	for i, e := range list.TaskExecutions[1:] {
		if e.Status != types.TaskExecutionStatusQueued {
			t.Errorf("execution %d: got %s, want QUEUED", i+1, e.Status)
		}
	}
	dt, _ := w.client.DescribeTask(context.Background(), &datasync.DescribeTaskInput{TaskArn: aws.String(taskArn)})
	if dt.Status != types.TaskStatusRunning || aws.ToString(dt.CurrentTaskExecutionArn) != first {
		t.Errorf("got task status %s current %s", dt.Status, aws.ToString(dt.CurrentTaskExecutionArn))
	}
}

// TestTagOnCreateNeedsTagResource: CreateLocationS3 and CreateTask with tags also need
// datasync:TagResource on the new resource; without tags they do not.
func TestTagOnCreateNeedsTagResource(t *testing.T) {
	w := newWorld(t, fastPhases())
	w.fb.forbid(w.deployer, "datasync:TagResource", "*")
	tags := []types.TagListEntry{{Key: aws.String("dsmigrate:migration-id"), Value: aws.String("m1")}}
	loc := func(tags []types.TagListEntry) error {
		_, err := w.client.CreateLocationS3(context.Background(), &datasync.CreateLocationS3Input{
			S3BucketArn: aws.String("arn:aws:s3:::src-bucket"),
			S3Config:    &types.S3Config{BucketAccessRoleArn: aws.String(w.transfer)}, Tags: tags})
		return err
	}
	wantDenied := func(what string, err error) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "datasync:TagResource") {
			t.Errorf("%s with tags: got %v, want AccessDeniedException for datasync:TagResource", what, err)
		}
	}
	wantDenied("CreateLocationS3", loc(tags))
	if err := loc(nil); err != nil {
		t.Errorf("CreateLocationS3 without tags: %v", err)
	}
	src, dst := w.location("src-bucket", w.transfer, "/"), w.location("dst-bucket", w.config, "/")
	_, err := w.client.CreateTask(context.Background(), &datasync.CreateTaskInput{
		SourceLocationArn: aws.String(src), DestinationLocationArn: aws.String(dst), Tags: tags})
	wantDenied("CreateTask", err)
	if _, err := w.client.CreateTask(context.Background(), &datasync.CreateTaskInput{
		SourceLocationArn: aws.String(src), DestinationLocationArn: aws.String(dst)}); err != nil {
		t.Errorf("CreateTask without tags: %v", err)
	}
}

// TestCreateCallsCarryRequestTags: a creating call's own authorization sees its tags as
// aws:RequestTag/KEY and aws:TagKeys (the condition keys DataSync lists for it).
func TestCreateCallsCarryRequestTags(t *testing.T) {
	w := newWorld(t, fastPhases())
	tags := []types.TagListEntry{{Key: aws.String("team"), Value: aws.String("a")}, {Key: aws.String("env"), Value: aws.String("prod")}}
	ctx := context.Background()
	check := func(action string) {
		t.Helper()
		var got identity.Context
		w.fb.set(func(f *fakeBackend) { got = f.conds[action] })
		team, _ := got.Get("aws:RequestTag/team")
		keys, _ := got.Get("aws:TagKeys")
		if !slices.Equal(team, []string{"a"}) || !slices.Equal(keys, []string{"team", "env"}) {
			t.Errorf("%s: got condition keys %v, want aws:RequestTag/team=a and aws:TagKeys [team env]", action, got)
		}
	}
	dst := w.location("dst-bucket", w.config, "/")
	src, err := w.client.CreateLocationS3(ctx, &datasync.CreateLocationS3Input{S3BucketArn: aws.String("arn:aws:s3:::src-bucket"),
		S3Config: &types.S3Config{BucketAccessRoleArn: aws.String(w.transfer)}, Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	check("datasync:CreateLocationS3")
	task, err := w.client.CreateTask(ctx, &datasync.CreateTaskInput{SourceLocationArn: src.LocationArn,
		DestinationLocationArn: aws.String(dst), Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	check("datasync:CreateTask")
	if _, err := w.client.StartTaskExecution(ctx, &datasync.StartTaskExecutionInput{TaskArn: task.TaskArn, Tags: tags}); err != nil {
		t.Fatal(err)
	}
	check("datasync:StartTaskExecution")
}

// TestCallsOnTaggedResourcesCarryResourceTags: an operation on a tagged task is
// authorized with the task's tags as aws:ResourceTag/KEY.
func TestCallsOnTaggedResourcesCarryResourceTags(t *testing.T) {
	w := newWorld(t, fastPhases())
	ctx := context.Background()
	task, err := w.client.CreateTask(ctx, &datasync.CreateTaskInput{
		SourceLocationArn: aws.String(w.location("src-bucket", w.transfer, "/")), DestinationLocationArn: aws.String(w.location("dst-bucket", w.config, "/")),
		Tags: []types.TagListEntry{{Key: aws.String("dsmigrate:migration-id"), Value: aws.String("m1")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.client.DescribeTask(ctx, &datasync.DescribeTaskInput{TaskArn: task.TaskArn}); err != nil {
		t.Fatal(err)
	}
	var got identity.Context
	w.fb.set(func(f *fakeBackend) { got = f.conds["datasync:DescribeTask"] })
	if v, _ := got.Get("aws:ResourceTag/dsmigrate:migration-id"); !slices.Equal(v, []string{"m1"}) {
		t.Errorf("got condition keys %v, want aws:ResourceTag/dsmigrate:migration-id=m1", got)
	}
}

// TestEnhancedTaskChecksServiceLinkedRoleEveryTime: the permission is checked on every
// Enhanced CreateTask, not only the one that creates the role in the account.
func TestEnhancedTaskChecksServiceLinkedRoleEveryTime(t *testing.T) {
	w := newWorld(t, fastPhases())
	src := w.location("src-bucket", w.transfer, "/")
	dst := w.location("dst-bucket", w.config, "/")
	in := func() *datasync.CreateTaskInput {
		return &datasync.CreateTaskInput{TaskMode: types.TaskModeEnhanced, SourceLocationArn: aws.String(src), DestinationLocationArn: aws.String(dst)}
	}
	if _, err := w.client.CreateTask(context.Background(), in()); err != nil {
		t.Fatalf("first Enhanced task: %v", err)
	}
	w.fb.forbid(w.deployer, "iam:CreateServiceLinkedRole", "*")
	_, err := w.client.CreateTask(context.Background(), in())
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "iam:CreateServiceLinkedRole") {
		t.Fatalf("second Enhanced task without the permission: got %v, want AccessDeniedException naming iam:CreateServiceLinkedRole", err)
	}
	if _, err := w.client.CreateTask(context.Background(), &datasync.CreateTaskInput{TaskMode: types.TaskModeBasic,
		SourceLocationArn: aws.String(src), DestinationLocationArn: aws.String(dst)}); err != nil {
		t.Errorf("Basic task without the permission: %v", err)
	}
}

// TestDescribeTaskExecutionFolderCounters: an Enhanced execution answers the Folders*
// counters of the API reference (zero: S3 has no directories to copy) and a Basic one
// leaves them out; ReportResult is absent without a task report.
func TestDescribeTaskExecutionFolderCounters(t *testing.T) {
	w := newWorld(t, fastPhases())
	for _, mode := range []types.TaskMode{types.TaskModeEnhanced, types.TaskModeBasic} {
		d := w.wait(w.start(w.task(&datasync.CreateTaskInput{TaskMode: mode})))
		if d.ReportResult != nil {
			t.Errorf("%s: got ReportResult %+v, want none without a task report", mode, d.ReportResult)
		}
		counters := map[string]*int64{"EstimatedFoldersToTransfer": d.EstimatedFoldersToTransfer,
			"EstimatedFoldersToDelete": d.EstimatedFoldersToDelete, "FoldersTransferred": d.FoldersTransferred,
			"FoldersVerified": d.FoldersVerified, "FoldersSkipped": d.FoldersSkipped,
			"FoldersDeleted": d.FoldersDeleted, "FoldersPrepared": d.FoldersPrepared}
		for name, v := range counters {
			if enhanced := mode == types.TaskModeEnhanced; (v != nil) != enhanced || (v != nil && *v != 0) {
				t.Errorf("%s: %s = %v, want present and zero only for Enhanced", mode, name, v)
			}
		}
		if enhanced := mode == types.TaskModeEnhanced; (d.FoldersListed != nil) != enhanced || (d.FoldersFailed != nil) != enhanced {
			t.Errorf("%s: FoldersListed %+v FoldersFailed %+v, want both only for Enhanced", mode, d.FoldersListed, d.FoldersFailed)
		}
	}
}

// TestCreateTaskIsAuthorizedOnItsLocations: CreateTask's resources are the two locations
// (Service Authorization Reference: location*), each with its own tags as aws:ResourceTag.
func TestCreateTaskIsAuthorizedOnItsLocations(t *testing.T) {
	w := newWorld(t, fastPhases())
	ctx := context.Background()
	src := w.location("src-bucket", w.transfer, "/")
	dst, err := w.client.CreateLocationS3(ctx, &datasync.CreateLocationS3Input{S3BucketArn: aws.String("arn:aws:s3:::dst-bucket"),
		S3Config: &types.S3Config{BucketAccessRoleArn: aws.String(w.config)},
		Tags:     []types.TagListEntry{{Key: aws.String("dsmigrate:deployment"), Value: aws.String("team-b")}}})
	if err != nil {
		t.Fatal(err)
	}
	create := func() error {
		_, err := w.client.CreateTask(ctx, &datasync.CreateTaskInput{SourceLocationArn: aws.String(src), DestinationLocationArn: dst.LocationArn})
		return err
	}
	if err := create(); err != nil {
		t.Fatalf("CreateTask allowed on both locations: %v", err)
	}
	var got identity.Context
	w.fb.set(func(f *fakeBackend) { got = f.conds["datasync:CreateTask"] })
	if v, _ := got.Get("aws:ResourceTag/dsmigrate:deployment"); !slices.Equal(v, []string{"team-b"}) {
		t.Errorf("got condition keys %v, want the destination location's tag as aws:ResourceTag", got)
	}
	w.fb.forbid(w.deployer, "datasync:CreateTask", aws.ToString(dst.LocationArn))
	var ae smithy.APIError
	if err := create(); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), aws.ToString(dst.LocationArn)) {
		t.Errorf("CreateTask denied on the destination location: got %v, want AccessDeniedException naming it", err)
	}
}

// TestStartWithTagsNeedsTagResource: tags given to StartTaskExecution need
// datasync:TagResource on the new execution.
func TestStartWithTagsNeedsTagResource(t *testing.T) {
	w := newWorld(t, fastPhases())
	ctx := context.Background()
	task := w.task(&datasync.CreateTaskInput{SourceLocationArn: aws.String(w.location("src-bucket", w.transfer, "/")),
		DestinationLocationArn: aws.String(w.location("dst-bucket", w.config, "/"))})
	w.fb.forbid(w.deployer, "datasync:TagResource", task+"/execution/*")
	tags := []types.TagListEntry{{Key: aws.String("dsmigrate:deployment"), Value: aws.String("team-b")}}
	var ae smithy.APIError
	_, err := w.client.StartTaskExecution(ctx, &datasync.StartTaskExecutionInput{TaskArn: aws.String(task), Tags: tags})
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "datasync:TagResource") {
		t.Errorf("start with tags: got %v, want AccessDeniedException for datasync:TagResource", err)
	}
	if _, err := w.client.StartTaskExecution(ctx, &datasync.StartTaskExecutionInput{TaskArn: aws.String(task)}); err != nil {
		t.Errorf("start without tags: %v", err)
	}
}

// TestTagResourceCarriesItsKeys: TagResource is authorized with its tags as
// aws:RequestTag/KEY and aws:TagKeys, and the resource's tags as aws:ResourceTag/KEY.
func TestTagResourceCarriesItsKeys(t *testing.T) {
	w := newWorld(t, fastPhases())
	ctx := context.Background()
	task := w.task(&datasync.CreateTaskInput{SourceLocationArn: aws.String(w.location("src-bucket", w.transfer, "/")),
		DestinationLocationArn: aws.String(w.location("dst-bucket", w.config, "/")),
		Tags:                   []types.TagListEntry{{Key: aws.String("owner"), Value: aws.String("team-b")}}})
	if _, err := w.client.TagResource(ctx, &datasync.TagResourceInput{ResourceArn: aws.String(task),
		Tags: []types.TagListEntry{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	var got identity.Context
	w.fb.set(func(f *fakeBackend) { got = f.conds["datasync:TagResource"] })
	env, _ := got.Get("aws:RequestTag/env")
	keys, _ := got.Get("aws:TagKeys")
	owner, _ := got.Get("aws:ResourceTag/owner")
	if !slices.Equal(env, []string{"prod"}) || !slices.Equal(keys, []string{"env"}) || !slices.Equal(owner, []string{"team-b"}) {
		t.Errorf("TagResource: got condition keys %v, want aws:RequestTag/env=prod, aws:TagKeys [env], aws:ResourceTag/owner=team-b", got)
	}
}

// TestEnhancedEstimatesGrowWhileTransferring: Enhanced mode lists, prepares and
// transfers in parallel (CreateTask TaskMode), so EstimatedFilesToTransfer and
// EstimatedBytesToTransfer grow while the execution is TRANSFERRING and the phase
// durations are 0 (TaskExecutionResultDetail); a Basic execution knows its estimates
// when PREPARING ends.
func TestEnhancedEstimatesGrowWhileTransferring(t *testing.T) {
	const objects, ahead = 40, 5
	opts := fastPhases()
	opts.Workers, opts.ListAhead = 1, ahead
	w := newWorld(t, opts)
	for i := range objects {
		w.fb.seed(t, "src-bucket", fmt.Sprintf("k%03d", i), strings.Repeat("x", 100+i))
	}
	// One object every 10 ms: slow enough to watch the counters move.
	w.fb.set(func(f *fakeBackend) { f.settings.TransferBytesPerSecond = 10_000 })
	src := w.location("src-bucket", w.transfer, "/")
	dst := w.location("dst-bucket", w.config, "/")
	for _, mode := range []types.TaskMode{types.TaskModeEnhanced, types.TaskModeBasic} {
		arn := w.start(w.task(&datasync.CreateTaskInput{TaskMode: mode, SourceLocationArn: aws.String(src), DestinationLocationArn: aws.String(dst),
			Options: &types.Options{TransferMode: types.TransferModeAll}}))
		seen := map[int64]bool{}
		var final *datasync.DescribeTaskExecutionOutput
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			d, err := w.client.DescribeTaskExecution(context.Background(), &datasync.DescribeTaskExecutionInput{TaskExecutionArn: aws.String(arn)})
			if err != nil {
				t.Fatal(err)
			}
			if d.Status == types.TaskExecutionStatusTransferring {
				seen[d.EstimatedFilesToTransfer] = true
				if d.EstimatedFilesToTransfer < d.FilesTransferred {
					t.Errorf("%s: estimate %d below the %d files transferred", mode, d.EstimatedFilesToTransfer, d.FilesTransferred)
				}
			}
			if d.Status == types.TaskExecutionStatusSuccess || d.Status == types.TaskExecutionStatusError {
				final = d
				break
			}
		}
		if final == nil || final.Status != types.TaskExecutionStatusSuccess {
			t.Fatalf("%s: execution did not succeed: %+v", mode, final)
		}
		var wantBytes int64
		for i := range objects {
			wantBytes += int64(100 + i)
		}
		if final.EstimatedFilesToTransfer != objects || final.EstimatedBytesToTransfer != wantBytes {
			t.Errorf("%s: final estimates %d files %d bytes, want %d and %d", mode, final.EstimatedFilesToTransfer, final.EstimatedBytesToTransfer, objects, wantBytes)
		}
		switch mode {
		case types.TaskModeEnhanced:
			grew := false
			for n := range seen {
				grew = grew || n < objects
			}
			if len(seen) < 2 || !grew {
				t.Errorf("Enhanced: estimates seen while transferring %v, want them to grow from about %d to %d", seen, ahead, objects)
			}
			if r := final.Result; *r.PrepareDuration != 0 || *r.TransferDuration != 0 || *r.VerifyDuration != 0 {
				t.Errorf("Enhanced: phase durations %d %d %d ms, want 0", *r.PrepareDuration, *r.TransferDuration, *r.VerifyDuration)
			}
		case types.TaskModeBasic:
			if len(seen) != 1 || !seen[objects] {
				t.Errorf("Basic: estimates seen while transferring %v, want %d only", seen, objects)
			}
		}
	}
}
