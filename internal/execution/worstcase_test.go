package execution_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// Step Functions limits (the local driver, statemachine/localrun, enforces the same).
// "Maximum input or output size for a task, state, or execution: 256 KiB of data as a
// UTF-8 encoded string" (Step Functions service quotas); beyond it the state fails with
// States.DataLimitExceeded, which States.ALL does not catch ("Handling errors in Step
// Functions workflows"). An error's cause is at most 32,768 characters
// (TaskFailedEventDetails, AWS Step Functions API Reference).
const (
	maxPayloadBytes = 262144
	maxCauseChars   = 32768
	// maxErrorName bounds the error names the product's states can catch (see "shards").
	maxErrorName = 64
)

// worstCase builds, for every JSON field of execution.Document, the largest value the
// product can put there. A Document field without an entry, or an entry that leaves a
// field of its type empty (a new field of Task, say), fails TestWorstCaseDocumentFits:
// a new field comes with its worst case. Each builder may return several variants (the
// revoke's result or its error); the largest counts.
var worstCase = map[string]func(t *testing.T) []any{
	// $.request is the execution input as given; Decode bounds it as compact JSON.
	"request": func(t *testing.T) []any { return []any{json.RawMessage(largestRequestJSON(t))} },
	"execution": func(*testing.T) []any {
		// An execution name is at most 80 characters (StartExecution "name").
		return []any{execution.Execution{Name: strings.Repeat("n", 80), StartTime: "2026-12-31T23:59:59.999Z"}}
	},
	"preflight": func(t *testing.T) []any {
		r := largestRequest(t)
		return []any{execution.Preflight{Request: &r, SourcePolicyBytes: policy.MaxBucketPolicyBytes, SourcePolicyStatements: 999, Shards: largestShards()}}
	},
	// The RunShards Map's results: one per shard at most, each at its largest. A success
	// carries its counts and times (ShardSucceeded in the definition); a failure its error
	// name and execution. Error names are the product's own: failure.Names, the Lambda
	// service errors, States.* and the Lambda runtime's (Runtime.*, Sandbox.*), the longest
	// "Lambda.ClientExecutionTimeoutException" (38); maxErrorName leaves room above that.
	"shards": func(*testing.T) []any {
		const big = int64(1) << 62
		var ok, failed, filled []execution.ShardResult
		for i := range request.MaxShardTasks {
			ok = append(ok, execution.ShardResult{Index: i, Status: execution.ShardSucceeded,
				FilesTransferred: big, BytesTransferred: big, FilesVerified: big, StartTime: "2026-12-31T23:59:59Z", PolledAt: "2026-12-31T23:59:59Z"})
			failed = append(failed, execution.ShardResult{Index: i, Status: execution.ShardFailed, TaskExecutionArn: taskArn + "/execution/exec-0123456789abcdef0",
				Error: strings.Repeat("E", maxErrorName)})
		}
		// One result with every field, so that a new field needs a worst case here.
		filled = append(filled, ok[0])
		filled[0].TaskExecutionArn, filled[0].Error = failed[0].TaskExecutionArn, failed[0].Error
		return []any{ok, failed, filled}
	},
	"roles": func(*testing.T) []any {
		role := execution.Role{Name: strings.Repeat("r", 64), Arn: "arn:aws-us-gov:iam::222222222222:role/dsmigrate/" + strings.Repeat("p", 32) + "/" + strings.Repeat("r", 64), Created: true}
		return []any{execution.Roles{TransferRole: role, ConfigRole: role}}
	},
	"grant": func(t *testing.T) []any { return []any{bucketPolicyChange(t, "grant")} },
	"locations": func(*testing.T) []any {
		return []any{execution.Locations{SourceLocationArn: locationArn, DestinationLocationArn: locationArn, SourceCreated: true, DestinationCreated: true}}
	},
	"task": func(*testing.T) []any {
		return []any{execution.Task{TaskArn: taskArn, TaskCreated: true, TaskExecutionArn: taskArn + "/execution/exec-0123456789abcdef0", ExecutionStarted: true}}
	},
	"progress": func(*testing.T) []any {
		const big = int64(1) << 62
		return []any{execution.Progress{TaskExecutionArn: taskArn + "/execution/exec-0123456789abcdef0", Status: "TRANSFERRING", Done: true,
			FilesTransferred: big, BytesTransferred: big, EstimatedFilesToTransfer: big, EstimatedBytesToTransfer: big, FilesVerified: big,
			PercentDone: 99.99999999999999, NextWaitSeconds: big, PolledAt: "2026-12-31T23:59:59Z", StartTime: "2026-12-31T23:59:59Z", ElapsedSeconds: big, ReportStatus: "PENDING"}}
	},
	"revoke": func(t *testing.T) []any {
		c := bucketPolicyChange(t, "revoke")
		return []any{execution.RevokeResult{BucketPolicyChange: &c}, execution.RevokeResult{Failure: largestFailure()}}
	},
	// A teardown's result: every task of a sharded migration and its unsharded task,
	// both locations and both roles.
	"teardown": func(t *testing.T) []any {
		var tasks []string
		for range request.MaxShardTasks + 1 {
			tasks = append(tasks, taskArn)
		}
		role := "arn:aws-us-gov:iam::222222222222:role/dsmigrate/" + strings.Repeat("p", 32) + "/" + strings.Repeat("r", 64)
		return []any{execution.Teardown{MigrationID: strings.Repeat("m", 32), Tasks: tasks, Locations: []string{locationArn, locationArn},
			Roles: []string{role, role}, NothingLeft: true, Deleted: true, FinishedAt: "2026-12-31T23:59:59Z", Message: strings.Repeat("m", 400)}}
	},
	// The record's links at their longest (the report prefix at its bound, the longest
	// execution name, a report of every task of the most shards), or the error WriteRecord
	// caught.
	"record": func(*testing.T) []any {
		key := strings.Repeat("p/", request.MaxReportPrefixLength/2) + strings.Repeat("m", 32) + "/dsmigrate-record/" + strings.Repeat("n", 80) + ".json"
		links := &execution.RecordLinks{Bucket: strings.Repeat("r", 63), Key: key, URI: "s3://" + strings.Repeat("r", 63) + "/" + key, WrittenAt: "2026-12-31T23:59:59Z",
			TaskReportsURI: "s3://" + strings.Repeat("r", 63) + "/" + strings.Repeat("p/", request.MaxReportPrefixLength/2) + strings.Repeat("m", 32) + "/Summary-Reports/"}
		return []any{execution.RecordResult{RecordLinks: links}, execution.RecordResult{Failure: largestFailure()}}
	},
	"failure":      func(*testing.T) []any { return []any{largestFailure()} },
	"explainError": func(*testing.T) []any { return []any{largestFailure()} },
}

// largestPlanned is a planned resource at its largest: its reason at
// execution.MaxPlanTextBytes, a quote every 64 bytes (escaped in the document). A task's
// name is at most naming.TaskName's (prefix, id and shard index: under 80 characters).
func largestPlanned(arn string) execution.PlannedResource {
	return execution.PlannedResource{Kind: "taskExecution", Name: strings.Repeat("n", 80), Arn: arn, Action: execution.PlanConflict,
		Reason: strings.Repeat(strings.Repeat("m", 62)+`""`, execution.MaxPlanTextBytes/64)}
}

// planWorstCase is the document of a plan execution at its largest, by field: the plan
// branch (PlanPreflight, PlanRoles, PlanLocations, PlanTask) writes these, and a Catch
// $.failure; nothing else.
func planWorstCase(t *testing.T) map[string]any {
	r := largestRequest(t)
	var tasks []execution.PlannedResource
	for range request.MaxShardTasks {
		tasks = append(tasks, largestPlanned(taskArn), largestPlanned(taskArn+"/execution/exec-0123456789abcdef0"))
	}
	role := largestPlanned("arn:aws-us-gov:iam::222222222222:role/dsmigrate/" + strings.Repeat("p", 32) + "/" + strings.Repeat("r", 64))
	return map[string]any{
		"request":   json.RawMessage(largestRequestJSON(t)),
		"execution": worstCase["execution"](t)[0],
		"preflight": execution.Preflight{Request: &r, SourcePolicyBytes: policy.MaxBucketPolicyBytes, SourcePolicyStatements: 999, Plan: largestSourcePlan(t)},
		"roles":     execution.Roles{TransferRole: execution.Role{Name: role.Name, Arn: role.Arn}, ConfigRole: execution.Role{Name: role.Name, Arn: role.Arn}, Plan: []execution.PlannedResource{role, role}},
		"locations": execution.Locations{Plan: []execution.PlannedResource{largestPlanned(locationArn), largestPlanned(locationArn)}},
		"task":      execution.Task{Plan: tasks},
		"failure":   largestFailure(),
	}
}

// TestWorstCasePlanDocumentFits: the largest plan execution's document (PlanReady's
// input) and the plan it ends with (PlanReady's output) stay within Step Functions' 256 KiB.
func TestWorstCasePlanDocumentFits(t *testing.T) {
	doc := planWorstCase(t)
	for _, name := range []string{"preflight", "roles", "locations", "task"} {
		plan := reflect.ValueOf(doc[name]).FieldByName("Plan")
		checkFilled(t, "$."+name+".plan", plan)
	}
	pre := doc["preflight"].(execution.Preflight)
	// The document as PlanReady gets it (no failure), or as ReportFailure gets it when
	// PlanTask fails (no task plan).
	withoutFailure, withFailure := map[string]any{}, map[string]any{}
	for k, v := range doc {
		if k != "failure" {
			withoutFailure[k] = v
		}
		if k != "task" {
			withFailure[k] = v
		}
	}
	output := execution.Plan{Mode: "plan", MigrationID: pre.Request.MigrationID, Request: *pre.Request, Roles: doc["roles"].(execution.Roles).Plan,
		SourceBucketPolicy: pre.Plan.SourceBucketPolicy, Locations: doc["locations"].(execution.Locations).Plan, Tasks: doc["task"].(execution.Task).Plan,
		Source: pre.Plan.Source, Destination: pre.Plan.Destination, Warnings: pre.Plan.Warnings, Blockers: pre.Plan.Blockers, KMSGrants: pre.Plan.KMSGrants}
	checkFilled(t, "plan output", reflect.ValueOf(output))
	for what, v := range map[string]any{"the plan document": withoutFailure, "the plan document with a failure": withFailure, "the plan (PlanReady's output)": output} {
		n := size(t, v)
		t.Logf("%s: %d of %d bytes", what, n, maxPayloadBytes)
		if n > maxPayloadBytes {
			t.Errorf("%s at its worst is %d bytes; Step Functions allows %d", what, n, maxPayloadBytes)
		}
	}
}

// largestSourcePlan is Preflight's plan at its largest: both policy texts at S3's limit,
// every warning with the longest prefix, every blocker at its bound, both samples with
// every storage class, the most shards.
func largestSourcePlan(t *testing.T) *execution.SourcePlan {
	p := largestPolicy(t)
	sample := &execution.ObjectSample{Bucket: strings.Repeat("s", 63), Prefix: strings.Repeat("p/", request.MaxPrefixLength/2), Bound: 5000, Complete: true,
		Objects: 1 << 62, Bytes: 1 << 62, StorageClasses: map[string]int64{}}
	for _, c := range append(slices.Clone(request.StorageClasses), "REDUCED_REDUNDANCY", "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE", "FSX_OPENZFS") {
		sample.StorageClasses[c] = 1 << 62
	}
	plan := &execution.SourcePlan{
		SourceBucketPolicy: execution.PolicyPlan{Bucket: strings.Repeat("s", 63), Action: "conflict", StatementsAdded: []string{strings.Repeat("S", 128), strings.Repeat("S", 128), strings.Repeat("S", 128)},
			StatementsBefore: 999, StatementsAfter: 999, BytesBefore: policy.MaxBucketPolicyBytes, BytesAfter: policy.MaxBucketPolicyBytes, LimitBytes: policy.MaxBucketPolicyBytes, Before: p, After: p},
		Source: sample, Destination: sample, Shards: largestShards(),
	}
	for range request.MaxKMSKeyArns {
		plan.KMSGrants = append(plan.KMSGrants, execution.KMSGrant{KeyArn: "arn:aws-us-gov:kms:us-gov-west-1:111111111111:key/" + strings.Repeat("k", 36),
			GrantID: strings.Repeat("g", 64), Name: "dsmigrate-" + strings.Repeat("m", 32), GranteePrincipal: "arn:aws-us-gov:iam::222222222222:role/dsmigrate/" + strings.Repeat("p", 32) + "/" + strings.Repeat("r", 64),
			Operations: []string{"Decrypt"}, Created: true, CreatedAt: "2026-12-31T23:59:59Z"})
	}
	// Seven warnings (each names a bucket and the prefix at most once) and the eight
	// checks that can block, each at its bound.
	for range 7 {
		plan.Warnings = append(plan.Warnings, execution.Warning{Code: "BASIC_OBJECT_LIMIT", Message: strings.Repeat("w", 600) + sample.Prefix})
	}
	for range 8 {
		plan.Blockers = append(plan.Blockers, largestPlanned("").Reason)
	}
	return plan
}

// largestFolders are shard folders at their bound: request.MaxShardFolders of them, their
// names filling request.MaxShardFolderBytes (names hold no character JSON escapes: the
// subdirectory rules of request.CheckDiscoveredFolder keep them out).
func largestFolders() []string {
	var folders []string
	per := request.MaxShardFolderBytes / request.MaxShardFolders
	for i := range request.MaxShardFolders {
		folders = append(folders, fmt.Sprintf("%0*d/", per-1, i))
	}
	return folders
}

// largestShards are the most shards a migration has, every one marked skip (PlanShards'
// output, the larger).
func largestShards() []execution.Shard {
	var shards []execution.Shard
	for i, f := range largestFolders() {
		shards = append(shards, execution.Shard{Index: i, Folders: []string{f}, Rest: true, Skip: true})
	}
	return append(shards, execution.Shard{Index: request.MaxShardFolders, Rest: true, Skip: true, Folders: []string{"/"}})
}

const (
	locationArn = "arn:aws-us-gov:datasync:us-gov-west-1:222222222222:location/loc-0123456789abcdef0"
	taskArn     = "arn:aws-us-gov:datasync:us-gov-west-1:222222222222:task/task-0123456789abcdef0"
)

// largestRequest is a valid request at its largest: every field at its longest, the
// filters filling what request.MaxDocumentBytes leaves.
func largestRequest(t *testing.T) request.Request {
	t.Helper()
	prefix := strings.Repeat("p/", request.MaxPrefixLength/2-1) // ends with "/"
	r := request.Request{
		MigrationID: strings.Repeat("m", 32),
		Mode:        request.ModeTeardown,
		Source:      request.Source{Bucket: strings.Repeat("s", 63), AccountID: "111111111111", Region: "us-gov-west-1", Prefix: prefix},
		Destination: request.Destination{Bucket: strings.Repeat("d", 63), AccountID: "222222222222", Region: "us-gov-west-1", Prefix: prefix, StorageClass: "GLACIER_INSTANT_RETRIEVAL"},
		Task: request.TaskOptions{TaskMode: "ENHANCED", VerifyMode: "ONLY_FILES_TRANSFERRED", OverwriteMode: "ALWAYS", TransferMode: "CHANGED",
			PreserveDeletedFiles: "PRESERVE", LogLevel: "TRANSFER", Excludes: []string{"x"},
			Shards: &request.Shards{Prefixes: largestFolders(), ByTopLevelPrefix: true, MaxParallel: request.MaxShardTasks}},
	}
	for _, f := range r.Task.Shards.Prefixes {
		r.Task.Includes = append(r.Task.Includes, "/"+f) // a valid include inside each shard
	}
	for i := range request.MaxKMSKeyArns {
		r.Source.KMSKeyArns = append(r.Source.KMSKeyArns, fmt.Sprintf("arn:aws-us-gov:kms:us-gov-west-1:111111111111:key/mrk-%032d", i))
	}
	r.Destination.KMSKeyArn = "arn:aws-us-gov:kms:us-gov-west-1:222222222222:key/mrk-" + strings.Repeat("0", 32)
	r.Task.Report = &request.Report{Bucket: strings.Repeat("r", 63), Prefix: strings.Repeat("p/", request.MaxReportPrefixLength/2), Level: request.ReportSuccessesAndErrors}
	yes := true
	r.Cleanup.RevokeBucketPolicy = &yes
	r.Cleanup.DeleteResources = true
	// Fill the filters up to the request's bound, with characters JSON escapes (a quote
	// takes two bytes), the way the bound is measured.
	for {
		b, _ := json.Marshal(r)
		room := request.MaxDocumentBytes - len(b)
		if room < 2 {
			break
		}
		r.Task.Excludes[0] += strings.Repeat(`"`, room/2)
	}
	// Both shard forms are set to fill every field; a valid request has one of them.
	valid := r
	valid.Task.Shards = &request.Shards{Prefixes: r.Task.Shards.Prefixes, MaxParallel: r.Task.Shards.MaxParallel}
	if err := valid.Validate(request.Home{AccountID: "222222222222", Region: "us-gov-west-1"}); err != nil {
		t.Fatalf("the largest request is not valid: %v", err)
	}
	return r
}

func largestRequestJSON(t *testing.T) []byte {
	b, err := json.Marshal(largestRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// largestPolicy is a bucket policy of policy.MaxBucketPolicyBytes (as policy.Size
// measures it) made of statements like those found in source buckets: the text a
// grant or revoke reads back or writes.
func largestPolicy(t *testing.T) string {
	t.Helper()
	var stmts []string
	for i := 0; ; i++ {
		s := fmt.Sprintf(`{"Sid":"Team%04dRead","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::333333333333:role/team-%04d-reader"]},"Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::team-a-media/shared/%04d/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abcdefghij"},"Bool":{"aws:SecureTransport":"true"}}}`, i, i, i)
		next := `{"Version":"2012-10-17","Statement":[` + strings.Join(append(stmts, s), ",") + `]}`
		if policy.Size(next) > policy.MaxBucketPolicyBytes {
			break
		}
		stmts = append(stmts, s)
	}
	text := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
	// Pad the last Sid-free room with a longer Id so the text is exactly at the limit.
	if room := policy.MaxBucketPolicyBytes - policy.Size(text); room > len(`"Id":"",`) {
		text = `{"Id":"` + strings.Repeat("i", room-len(`"Id":"",`)) + `",` + text[1:]
	}
	if n := policy.Size(text); n != policy.MaxBucketPolicyBytes {
		t.Fatalf("largest policy is %d bytes, want %d", n, policy.MaxBucketPolicyBytes)
	}
	return text
}

func bucketPolicyChange(t *testing.T, mode string) execution.BucketPolicyChange {
	p := largestPolicy(t)
	sids := []string{strings.Repeat("S", 128), strings.Repeat("S", 128), strings.Repeat("S", 128)}
	// One grant per key the request may name, each at its longest: a key ARN of the
	// longest partition and region, a 64-character grant id, the longest transfer role.
	var grants []execution.KMSGrant
	for range request.MaxKMSKeyArns {
		grants = append(grants, execution.KMSGrant{KeyArn: "arn:aws-us-gov:kms:us-gov-west-1:111111111111:key/mrk-" + strings.Repeat("0", 32),
			GrantID: strings.Repeat("g", 64), Name: "dsmigrate-" + strings.Repeat("m", 32),
			GranteePrincipal: "arn:aws-us-gov:iam::222222222222:role/" + strings.Repeat("r", 64), Operations: []string{"Decrypt"},
			Created: true, CreatedAt: "2026-12-31T23:59:59Z"})
	}
	return execution.BucketPolicyChange{Mode: mode, Bucket: strings.Repeat("s", 63), Changed: true, Deleted: true, StatementIDs: sids, PolicyBefore: p, PolicyAfter: p, KMSGrants: grants,
		At: "2026-12-31T23:59:59Z"}
}

// largestFailure is a Catch's error output at Step Functions' bounds: a 256-character
// name and a cause of 32,768 characters. A Lambda task's cause is the function's error
// document, JSON whose quotes the state document escapes again; the message is taken
// as plain text with a quoted value every 64 characters, as dsmigrate's messages quote
// names and AWS messages.
func largestFailure() *execution.Failure {
	msg := strings.Repeat(strings.Repeat("m", 60)+` "q"`, maxCauseChars/64)
	doc, _ := json.Marshal(map[string]string{"errorType": "PreconditionError", "errorMessage": msg})
	cause := string(doc)
	if len(cause) > maxCauseChars {
		cause = cause[:maxCauseChars]
	}
	return &execution.Failure{Error: strings.Repeat("E", 256), Cause: cause}
}

// checkFilled fails for a field of v (at path) left at its zero value: a builder must
// fill every field of its type. A bool may stay false; of a struct's embedded pointers
// (RevokeResult's variants) one is enough.
func checkFilled(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			t.Errorf("%s: no worst case (nil)", path)
			return
		}
		checkFilled(t, path, v.Elem())
	case reflect.Struct:
		embedded, embeddedSet := 0, 0
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && f.Type.Kind() == reflect.Pointer {
				embedded++
				if !v.Field(i).IsNil() {
					embeddedSet++
					checkFilled(t, path, v.Field(i))
				}
				continue
			}
			if name == "plan" {
				continue // a plan request's part: TestWorstCasePlanDocumentFits
			}
			checkFilled(t, path+"."+name, v.Field(i))
		}
		if embedded > 0 && embeddedSet == 0 {
			t.Errorf("%s: no variant set", path)
		}
	case reflect.Bool:
	default:
		if v.IsZero() || (v.Kind() == reflect.Slice && v.Len() == 0) {
			t.Errorf("%s: no worst case (empty)", path)
		}
	}
}

// size is the bytes of v as JSON, the way the functions (aws-lambda-go, without HTML
// escaping) and Step Functions write it.
func size(t *testing.T, v any) int {
	t.Helper()
	var b strings.Builder
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Len() - 1
}

// TestWorstCaseDocumentFits: the largest execution document the product can produce,
// and the largest payload built from it (ExplainFailure's input: the whole document and
// the execution ARN; Summarize's output), stay within Step Functions' 256 KiB.
func TestWorstCaseDocumentFits(t *testing.T) {
	// Every field of Document has a worst case, and each fills its whole type.
	doc := map[string]json.RawMessage{}
	sizes := map[string]int{}
	for i := range reflect.TypeFor[execution.Document]().NumField() {
		f := reflect.TypeFor[execution.Document]().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		build, ok := worstCase[name]
		if !ok {
			t.Errorf("Document.%s ($.%s) has no worst case: add one to worstCase", f.Name, name)
			continue
		}
		for _, v := range build(t) {
			checkFilled(t, "$."+name, reflect.ValueOf(v))
			if n := size(t, v); n > sizes[name] {
				b, _ := json.Marshal(v)
				doc[name], sizes[name] = b, n
			}
		}
	}
	for name := range worstCase {
		if _, ok := doc[name]; !ok && !t.Failed() {
			t.Errorf("worstCase has %q, which is no field of Document", name)
		}
	}
	if t.Failed() {
		return
	}
	// $.teardown is written only in the teardown branch (after TeardownCheck: with
	// $.request, $.execution, $.preflight, $.revoke, or $.failure) and on top of
	// Summarize's output (DeleteMigrationResources); never beside the migration's grant,
	// roles, locations, task, shards or progress.
	// $.record is written on the way to success only (WriteRecord); WriteFailureRecord's
	// result is dropped. So the failed migration's document has neither $.teardown nor
	// $.record, and the succeeding one has no $.failure or $.explainError.
	migration := maps.Clone(doc)
	delete(migration, "teardown")
	delete(migration, "record")
	succeeding := maps.Clone(doc)
	delete(succeeding, "failure")
	delete(succeeding, "explainError")
	teardownBranch := map[string]json.RawMessage{}
	for _, name := range []string{"request", "execution", "preflight", "revoke", "teardown", "failure"} {
		teardownBranch[name] = doc[name]
	}
	// The migration's document holds every other field at once at the end of a failed
	// execution whose explanation failed too ($.failure and $.explainError both set).
	whole := size(t, migration)
	explainInput := size(t, map[string]any{"mode": "explain", "document": migration, "executionArn": "arn:aws-us-gov:states:us-gov-west-1:222222222222:execution:" + strings.Repeat("s", 80) + ":" + strings.Repeat("n", 80)})
	// Summarize's output (statemachine/dsmigrate.asl.json) repeats the request and the
	// bucket policy fields of the grant and the revoke; DeleteMigrationResources adds
	// $.teardown, and its failure $.failure.
	// WriteRecord and WriteFailureRecord take the whole document, as ExplainFailure does.
	beforeRecord := maps.Clone(succeeding)
	delete(beforeRecord, "record")
	recordInput := size(t, map[string]any{"mode": "succeeded", "document": beforeRecord, "executionArn": "arn:aws-us-gov:states:us-gov-west-1:222222222222:execution:" + strings.Repeat("s", 80) + ":" + strings.Repeat("n", 80)})
	summary := size(t, map[string]any{"request": doc["preflight"], "bucketPolicy": map[string]any{"policyBefore": json.RawMessage(doc["grant"]), "revoke": doc["revoke"]},
		"teardown": doc["teardown"], "record": doc["record"], "shards": doc["shards"], "rest": strings.Repeat("x", 2048)})
	teardown := size(t, teardownBranch)
	for name, n := range sizes {
		t.Logf("%-12s %7d bytes", "$."+name, n)
	}
	afterRecord := size(t, succeeding)
	t.Logf("document %d, ExplainFailure (and WriteFailureRecord) input %d, WriteRecord input %d, its output document %d, Summarize output %d, teardown document %d of %d bytes",
		whole, explainInput, recordInput, afterRecord, summary, teardown, maxPayloadBytes)
	for what, n := range map[string]int{"the document": whole, "ExplainFailure's input": explainInput, "WriteRecord's input": recordInput,
		"the document after WriteRecord": afterRecord, "Summarize's output": summary, "the teardown's document": teardown} {
		if n > maxPayloadBytes {
			t.Errorf("%s at its worst is %d bytes; Step Functions allows %d (States.DataLimitExceeded, not caught by States.ALL)", what, n, maxPayloadBytes)
		}
	}
}
