package localrun

// End-to-end runs of sharded migrations (task.shards): one DataSync task per folder, run
// at the same time by the RunShards Map, with one grant revoked once at the end.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// shardedSummary is the execution output of a sharded migration (SummarizeShards).
type shardedSummary struct {
	Status   string                  `json:"status"`
	Shards   []execution.ShardResult `json:"shards"`
	Transfer struct {
		FilesTransferred int64 `json:"filesTransferred"`
	} `json:"transfer"`
}

func shardedSummaryOf(t *testing.T, res *Result) shardedSummary {
	t.Helper()
	var s shardedSummary
	if err := json.Unmarshal(res.Output, &s); err != nil {
		t.Fatalf("decode output %s: %v", res.Output, err)
	}
	return s
}

// shardTasks returns the simulator's tasks of migration id by their shard tag.
func shardTasks(t *testing.T, env *Environment, id string) map[string]string {
	t.Helper()
	st, err := env.Sim.State(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	if st.DataSync != nil {
		for _, task := range st.DataSync.Tasks {
			if task.Tags[naming.TagKey] == id {
				out[task.Tags[naming.ShardTagKey]] = task.Arn
			}
		}
	}
	return out
}

// executionsOf counts the simulator's executions of each task.
func executionsOf(t *testing.T, env *Environment) map[string][]string {
	t.Helper()
	st, err := env.Sim.State(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, e := range executions(st) {
		out[e.TaskArn] = append(out[e.TaskArn], e.Status)
	}
	return out
}

func count(states []string, name string) int {
	n := 0
	for _, s := range states {
		if s == name {
			n++
		}
	}
	return n
}

func TestE2EShardByTopLevelPrefix(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	objs := slices.Concat(smallObjects(41, 4, "data/2024/"), smallObjects(42, 4, "data/2025/"),
		smallObjects(43, 3, "data/2026/x/"), []SampleObject{{Key: "data/readme.txt", Size: 300, Seed: 44}, {Key: "data/index.csv", Size: 5000, Seed: 45}})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, objs)
	original := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"AuditList","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::%s"}]}`, env.Source.AccountID, src)
	putPolicy(t, env.Source.S3, src, original)
	stored := policy(t, env.Source.S3, src)

	req := env.NewRequest("sharded", src, "data/", dst, "copy/")
	req.Task.Shards = &request.Shards{ByTopLevelPrefix: true, MaxParallel: 2}
	res := run(t, env, req, "shard-happy")
	mustSucceed(t, res)

	v, err := Verify(testCtx(t), env.Source.S3, env.Destination.S3, src, "data/", dst, "copy/")
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() || v.Objects != 13 {
		t.Errorf("got %+v, want 13 identical objects", v)
	}
	s := shardedSummaryOf(t, res)
	for _, sh := range s.Shards {
		if sh.Status != "SUCCESS" || sh.FilesTransferred == 0 || sh.StartTime == "" {
			t.Errorf("shard %d: got %+v, want SUCCESS with what it copied", sh.Index, sh)
		}
	}
	if len(s.Shards) != 4 || s.Transfer.FilesTransferred != 13 || s.Status != "SUCCESS" {
		t.Errorf("got %d shards, %d files, status %s; want 4 shards, 13 files, SUCCESS", len(s.Shards), s.Transfer.FilesTransferred, s.Status)
	}
	var planned struct {
		Preflight struct {
			Shards []execution.Shard `json:"shards"`
		} `json:"preflight"`
	}
	if err := json.Unmarshal(res.StateOutput("PlanShards"), &planned); err != nil {
		t.Fatal(err)
	}
	var folders [][]string
	for _, sh := range planned.Preflight.Shards {
		folders = append(folders, sh.Folders)
	}
	want := [][]string{{"2024/"}, {"2025/"}, {"2026/"}, nil}
	if shards := planned.Preflight.Shards; !slices.EqualFunc(folders, want, slices.Equal) || len(shards) != 4 || !shards[3].Rest {
		t.Errorf("got shards %+v, want one per folder and the rest shard last", shards)
	}
	if tasks := shardTasks(t, env, "sharded"); len(tasks) != 4 {
		t.Errorf("got tasks by shard %v, want 4, one per shard", tasks)
	}
	// One grant for all shards, revoked once, after every shard.
	path := res.StatesEntered()
	if count(path, "PutBucketPolicy") != 1 || count(path, "RevokeBucketPolicy") != 1 || count(path, "StartShardTask") != 4 ||
		slices.Index(path, "RevokeBucketPolicy") < slices.Index(path, "TallyShards") {
		t.Errorf("got path %v, want one grant, four shard tasks, and the revoke once after TallyShards", path)
	}
	if after := policy(t, env.Source.S3, src); !sameJSON(after, stored) {
		t.Errorf("got policy %s after the migration, want it restored to %s", after, stored)
	}
}

// One shard fails (another team's Deny on its folder): the other shards finish, the
// grant is revoked once, and the migration fails naming that shard. A re-run with the same
// migration id, once the Deny is gone, runs only the failed shard.
func TestE2EShardFailureAndResume(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	objs := slices.Concat(smallObjects(51, 3, "2024/"), smallObjects(52, 3, "2025/"), smallObjects(53, 3, "2026/"))
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, objs)
	deny := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Keep2025Private","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/2025/*"}]}`, env.Destination.AccountID, src)
	putPolicy(t, env.Source.S3, src, deny)

	req := env.NewRequest("resume", src, "", dst, "")
	req.Task.Shards = &request.Shards{Prefixes: []string{"2024/", "2025/", "2026/"}}
	res := run(t, env, req, "shard-fail")
	if res.Succeeded || res.Error != "ShardsFailedError" {
		t.Fatalf("got %v %s: %s, want ShardsFailedError", res.Succeeded, res.Error, res.Cause)
	}
	if !strings.Contains(res.Cause, "1 of 4 shards failed") || !strings.Contains(res.Cause, "shard 1 (2025/): TransferFailedError") {
		t.Errorf("got cause %q, want shard 1 (2025/) named as the one failed shard of 4", res.Cause)
	}
	path := res.StatesEntered()
	if count(path, "RevokeBucketPolicy") != 1 || count(path, "ShardSucceeded") != 3 || count(path, "ShardFailed") != 1 {
		t.Errorf("got path %v, want three shards succeeding, one failing, and one revoke", path)
	}
	if after := policy(t, env.Source.S3, src); !sameJSON(after, deny) {
		t.Errorf("got policy %s, want it restored to %s", after, deny)
	}
	tasks := shardTasks(t, env, "resume")
	before := executionsOf(t, env)
	for _, shard := range []string{"0", "2", "3"} {
		if got := before[tasks[shard]]; !slices.Equal(got, []string{"SUCCESS"}) {
			t.Errorf("shard %s: got executions %v, want one SUCCESS", shard, got)
		}
	}

	// The other team lifts its Deny; the same migration runs again.
	if _, err := env.Source.S3.DeleteBucketPolicy(testCtx(t), &s3.DeleteBucketPolicyInput{Bucket: aws.String(src)}); err != nil {
		t.Fatal(err)
	}
	again := run(t, env, req, "shard-resume")
	mustSucceed(t, again)
	after := executionsOf(t, env)
	for shard, task := range tasks {
		want := 1
		if shard == "1" {
			want = 2
		}
		if len(after[task]) != want {
			t.Errorf("shard %s: got executions %v after the re-run, want %d", shard, after[task], want)
		}
	}
	if got := count(again.StatesEntered(), "ShardSkipped"); got != 3 {
		t.Errorf("got %d shards skipped on the re-run, want 3 (path %v)", got, again.StatesEntered())
	}
	v, err := Verify(testCtx(t), env.Source.S3, env.Destination.S3, src, "", dst, "")
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() || v.Objects != 9 {
		t.Errorf("got %+v after the re-run, want all 9 objects identical", v)
	}
}

// Shards with the request's includes and excludes: each include goes to the shard it lies
// in, the excludes apply to every shard, and nothing outside the includes is copied.
func TestE2EShardWithFilters(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	objs := []SampleObject{
		{Key: "2024/a/1.bin", Size: 2048, Seed: 1}, {Key: "2024/a/2.tmp", Size: 2048, Seed: 2}, {Key: "2024/b/3.bin", Size: 2048, Seed: 3},
		{Key: "2025/x.bin", Size: 2048, Seed: 4}, {Key: "2025/y.tmp", Size: 2048, Seed: 5},
		{Key: "top.txt", Size: 100, Seed: 6}, {Key: "other.txt", Size: 100, Seed: 7},
	}
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, objs)
	req := env.NewRequest("filtered", src, "", dst, "f/")
	req.Task.Shards = &request.Shards{Prefixes: []string{"2024/", "2025/"}}
	req.Task.Includes = []string{"/2024/a/", "/2025/", "/top.txt"}
	req.Task.Excludes = []string{"*.tmp"}
	res := run(t, env, req, "shard-filters")
	mustSucceed(t, res)
	keys, err := ListKeys(testCtx(t), env.Destination.S3, dst, "f/")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range keys {
		got = append(got, k)
	}
	slices.Sort(got)
	if want := []string{"f/2024/a/1.bin", "f/2025/x.bin", "f/top.txt"}; !slices.Equal(got, want) {
		t.Errorf("got destination keys %v, want %v", got, want)
	}
	if tasks := shardTasks(t, env, "filtered"); len(tasks) != 3 {
		t.Errorf("got tasks %v, want three: two folders and the rest shard (for /top.txt)", tasks)
	}
}

// Bad shard specifications are refused with the field named, before anything changes.
func TestE2EShardBadSpecifications(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(61, 2, "2024/"))
	original := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"AuditList","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::%s"}]}`, env.Source.AccountID, src)
	putPolicy(t, env.Source.S3, src, original)
	stored := policy(t, env.Source.S3, src)
	tests := []struct {
		name   string
		edit   func(*request.Request)
		error  string
		naming string
	}{
		{"a prefix that is not a folder", func(r *request.Request) { r.Task.Shards = &request.Shards{Prefixes: []string{"2024"}} },
			"ValidationError", "task.shards.prefixes[0]"},
		{"overlapping prefixes", func(r *request.Request) { r.Task.Shards = &request.Shards{Prefixes: []string{"2024/", "2024/01/"}} },
			"ValidationError", "task.shards.prefixes[1]"},
		{"an include across a shard", func(r *request.Request) {
			r.Task.Shards = &request.Shards{Prefixes: []string{"2024/"}}
			r.Task.Includes = []string{"/20*"}
		}, "ValidationError", "task.includes[0]"},
		{"too many parallel tasks", func(r *request.Request) { r.Task.Shards = &request.Shards{ByTopLevelPrefix: true, MaxParallel: 100} },
			"ValidationError", "task.shards.maxParallel"},
		{"a discovered include problem", func(r *request.Request) {
			r.Task.Shards = &request.Shards{ByTopLevelPrefix: true}
			r.Task.Includes = []string{"/202*"}
		}, "PreconditionError", "selects objects both inside the shard folder"},
	}
	for i, tt := range tests {
		req := env.NewRequest(fmt.Sprintf("bad-shards-%d", i), src, "", dst, "")
		tt.edit(&req)
		res := run(t, env, req, fmt.Sprintf("bad-shards-%d", i))
		if res.Succeeded || res.Error != tt.error || !strings.Contains(res.Cause, tt.naming) {
			t.Errorf("%s: got %v %s: %s, want %s naming %s", tt.name, res.Succeeded, res.Error, res.Cause, tt.error, tt.naming)
		}
		if path := res.StatesEntered(); slices.Contains(path, "CreateRoles") {
			t.Errorf("%s: got path %v, want it to end at Preflight", tt.name, path)
		}
	}
	st, err := env.Sim.State(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.DataSync != nil && (len(st.DataSync.Tasks) > 0 || len(st.DataSync.Locations) > 0) {
		t.Errorf("got DataSync resources %+v, want none", st.DataSync)
	}
	if after := policy(t, env.Source.S3, src); !sameJSON(after, stored) {
		t.Errorf("got policy %s, want it unchanged", after)
	}
}
