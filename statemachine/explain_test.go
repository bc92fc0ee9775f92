package statemachine

// ExplainFailure: every failure that passed RevokeBucketPolicy is reported with the cause
// ExplainFailure gives it (what became of the data and of the grant), under the failure's
// own error name; when ExplainFailure itself fails, the failure is reported as it was.

import (
	"strings"
	"testing"
)

func TestScenarioExplainedFailure(t *testing.T) {
	t.Parallel()
	explained := "Data: copied. Grant left behind: dsmigrate's statements DsmmediaX2026X11RolesBucketAccess are still in the bucket policy of source bucket team-a-media in account 111111111111. The revoke failed with PermissionError: denied."
	mocks := happyMocks(t)
	mocks["RevokeBucketPolicy"] = []mock{fails("PermissionError", "not allowed to call s3:PutBucketPolicy")}
	mocks["ExplainFailure"] = []mock{ok(t, map[string]string{"Error": "PermissionError", "Cause": explained})}
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, concat(setupPath, threePolls, []string{"CheckCleanup", "RevokeBucketPolicy", "AfterCleanup", "RevokeFailed", "ExplainFailure", "ReportFailure", "CheckFailureRecord", "PublishFailed", "ChooseFailState", "Failed"}))
	checkFailed(t, r, "PermissionError", explained)
	in := r.stateInput(t, "ExplainFailure")
	for path, want := range map[string]any{
		"revoke.Error":                  "PermissionError",
		"failure.Error":                 "PermissionError",
		"progress.status":               "SUCCESS",
		"grant.mode":                    "grant",
		"preflight.request.migrationId": "media-2026-11",
	} {
		if got := lookup(in, path); got != want {
			t.Errorf("ExplainFailure input %s = %v, want %v", path, got, want)
		}
	}
}

func TestScenarioExplainFailureFails(t *testing.T) {
	t.Parallel()
	mocks := happyMocks(t)
	cause := "DataSync task execution exec-1 ended in ERROR: S3ObjectAccessDenied: Access denied"
	mocks["PollExecution"] = []mock{fails("TransferFailedError", cause)}
	m := load(t)
	var attempts int
	for _, rt := range m.States["ExplainFailure"].Retry {
		for _, e := range rt.ErrorEquals {
			if e == "Lambda.ServiceException" {
				attempts = 1 + *rt.MaxAttempts
			}
		}
	}
	mocks["ExplainFailure"] = repeat(fails("Lambda.ServiceException", "Lambda is unavailable"), attempts)
	r := runDriver(t, fixture(t, "request.json"), mocks, nil)
	checkPath(t, r, concat(setupPath, []string{"PollExecution", "RevokeBucketPolicy", "AfterCleanup", "ExplainFailure", "ReportFailure", "CheckFailureRecord", "PublishFailed", "ChooseFailState", "Failed"}))
	checkFailed(t, r, "TransferFailedError", cause)
	if got := r.count("TaskRetried", "ExplainFailure"); got != attempts-1 {
		t.Errorf("ExplainFailure retried %d times, want %d", got, attempts-1)
	}
	if in := r.stateInput(t, "Failed"); !strings.Contains(lookup(in, "explainError.Cause").(string), "unavailable") {
		t.Errorf("Failed input explainError = %v, want ExplainFailure's own error kept beside the failure", lookup(in, "explainError"))
	}
}
