package preflight

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

// planInput is the valid request with mode plan and the changes given.
func planInput(t *testing.T, change func(doc map[string]any)) Input {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(requesttest.ValidJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	doc["mode"] = "plan"
	if change != nil {
		change(doc)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return Input{Request: raw, ExecutionName: requesttest.ExecutionName}
}

func codes(ws []execution.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Code)
	}
	return out
}

func TestPlan(t *testing.T) {
	prefix := "photos/"
	tests := []struct {
		name         string
		give         func(w *world)
		change       func(doc map[string]any)
		wantWarnings []string
		wantBlockers int
		wantAction   string
		wantComplete bool
	}{
		{name: "nothing to warn about", wantAction: "update", wantComplete: true},
		{name: "archived, versioned, requester pays, object lock", give: func(w *world) {
			w.source.classes = map[string]s3types.ObjectStorageClass{prefix + "a/1": s3types.ObjectStorageClassGlacier, prefix + "2": s3types.ObjectStorageClassDeepArchive}
			w.source.versioning, w.source.payer, w.dest.objectLock = s3types.BucketVersioningStatusEnabled, s3types.PayerRequester, true
		}, wantWarnings: []string{"ARCHIVED_OBJECTS", "VERSIONED_SOURCE", "REQUESTER_PAYS", "OBJECT_LOCK"}, wantAction: "update", wantComplete: true},
		{name: "cross region", change: func(doc map[string]any) {
			doc["source"].(map[string]any)["region"] = "us-east-1"
		}, wantWarnings: []string{"CROSS_REGION"}, wantAction: "update", wantComplete: true},
		{name: "basic mode over the sample", give: func(w *world) {
			for i := range SampleObjects + 1 {
				w.source.keys = append(w.source.keys, prefix+"big/"+strings.Repeat("k", 1+i%7)+string(rune('a'+i%26))+"-"+strconv.Itoa(i))
			}
		}, change: func(doc map[string]any) {
			doc["task"].(map[string]any)["taskMode"] = "BASIC"
			doc["task"].(map[string]any)["verifyMode"] = "ONLY_FILES_TRANSFERRED"
		}, wantWarnings: []string{"BASIC_OBJECT_LIMIT"}, wantAction: "update"},
		{name: "ACLs enabled is a blocker, not an error", give: func(w *world) {
			w.source.getOwnership = func(string) (*s3.GetBucketOwnershipControlsOutput, error) {
				return &s3.GetBucketOwnershipControlsOutput{OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}}}, nil
			}
		}, wantBlockers: 1, wantAction: "update", wantComplete: true},
		{name: "a foreign statement with our Sid", give: func(w *world) {
			w.source.getPolicy = policyText(`{"Version":"2012-10-17","Statement":[{"Sid":"DsmmediaX2026X11DataSyncCreateS3Location","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-a-media"}]}`)
		}, wantBlockers: 1, wantAction: "conflict", wantComplete: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.source.keys = []string{prefix + "1", prefix + "2", prefix + "a/1", prefix + "a/b/2"}
			if tt.give != nil {
				tt.give(w)
			}
			got, err := w.h.Handle(context.Background(), planInput(t, tt.change))
			if err != nil {
				t.Fatalf("got %v, want a plan", err)
			}
			p := got.Plan
			if p == nil {
				t.Fatal("got no plan")
			}
			if c := codes(p.Warnings); !slices.Equal(c, tt.wantWarnings) {
				t.Errorf("got warnings %v, want %v (%+v)", c, tt.wantWarnings, p.Warnings)
			}
			if len(p.Blockers) != tt.wantBlockers {
				t.Errorf("got blockers %q, want %d", p.Blockers, tt.wantBlockers)
			}
			if p.SourceBucketPolicy.Action != tt.wantAction {
				t.Errorf("got policy action %q, want %q", p.SourceBucketPolicy.Action, tt.wantAction)
			}
			if p.Source.Complete != tt.wantComplete {
				t.Errorf("got sample complete %v, want %v (%d objects)", p.Source.Complete, tt.wantComplete, p.Source.Objects)
			}
			for _, l := range w.log {
				if op := strings.Split(l, ":")[1]; !strings.HasPrefix(op, "Get") && !strings.HasPrefix(op, "List") && op != "AssumeRole" {
					t.Errorf("got call %s, want reads only", l)
				}
			}
		})
	}
}

func TestPlanSampleCountsEveryLevel(t *testing.T) {
	w := newWorld()
	w.source.keys = []string{"photos/1", "photos/2", "photos/a/1", "photos/a/b/2", "photos/c/3", "other/9"}
	got, err := w.h.Handle(context.Background(), planInput(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	s := got.Plan.Source
	if !s.Complete || s.Objects != 5 || s.StorageClasses["STANDARD"] != 5 {
		t.Errorf("got %+v, want 5 STANDARD objects, complete", s)
	}
	for _, l := range w.log {
		if strings.Contains(l, "ListObjectsV2") && !strings.HasSuffix(l, "delimiter=/") {
			t.Errorf("got %s, want every listing with delimiter /, as the read role allows", l)
		}
	}
}

func TestPlanPolicyBeforeAndAfter(t *testing.T) {
	w := newWorld()
	foreign := `{"Version":"2012-10-17","Statement":[{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-media/*"}]}`
	w.source.getPolicy = policyText(foreign)
	got, err := w.h.Handle(context.Background(), planInput(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	pp := got.Plan.SourceBucketPolicy
	if pp.StatementsBefore != 1 || pp.StatementsAfter != 4 || len(pp.StatementsAdded) != 3 || pp.BytesBefore != len(foreign) || pp.BytesAfter <= pp.BytesBefore || pp.LimitBytes != 20480 {
		t.Errorf("got %+v, want 1 statement before, 4 after, 3 added, more bytes after, limit 20480", pp)
	}
	if !strings.HasPrefix(pp.After, `{"Version":"2012-10-17","Statement":[{"Sid":"TeamRead"`) {
		t.Errorf("got after %s, want the foreign statement first", pp.After)
	}
	// The same plan once the grant is in place: nothing to add.
	w.source.getPolicy = policyText(pp.After)
	again, err := w.h.Handle(context.Background(), planInput(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if a := again.Plan.SourceBucketPolicy; a.Action != "unchanged" || len(a.StatementsAdded) != 0 || a.BytesAfter != a.BytesBefore {
		t.Errorf("got %+v, want unchanged", a)
	}
}

func TestPlanRemoveCountsDeletions(t *testing.T) {
	w := newWorld()
	w.h.Config.Deployment.AllowRemove = true
	w.source.keys = []string{"photos/1", "photos/2"}
	w.dest.keys = []string{"from-a/1", "from-a/old", "from-a/x/older", "elsewhere/3"}
	got, err := w.h.Handle(context.Background(), planInput(t, func(doc map[string]any) {
		doc["task"].(map[string]any)["preserveDeletedFiles"] = "REMOVE"
	}))
	if err != nil {
		t.Fatal(err)
	}
	var msg string
	for _, w := range got.Plan.Warnings {
		if w.Code == "REMOVE_DELETES" {
			msg = w.Message
		}
	}
	if !strings.Contains(msg, ": 2 of the 3 objects there") {
		t.Errorf("got %q, want 2 of the 3 destination objects deleted", msg)
	}
	if d := got.Plan.Destination; d == nil || d.Objects != 3 || !d.Complete {
		t.Errorf("got destination sample %+v, want 3 objects, complete", d)
	}
}

// TestOtherModesRefused: a request of a mode Preflight does not run (teardown) is
// refused before any call, rather than run as a migration.
func TestOtherModesRefused(t *testing.T) {
	w := newWorld()
	_, err := w.h.Handle(context.Background(), planInput(t, func(doc map[string]any) { doc["mode"] = "teardown" }))
	if got := failure.Name(err); got != "ValidationError" || !strings.Contains(err.Error(), "mode") {
		t.Errorf("got %v, want a ValidationError naming mode", err)
	}
	if len(w.log) != 0 {
		t.Errorf("got calls %v, want none", w.log)
	}
}

// TestPlanKMSGrants: the plan lists one KMS grant per source key, for the transfer role,
// as the grant step would hold them; none without keys.
func TestPlanKMSGrants(t *testing.T) {
	const key = "arn:aws:kms:ap-northeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	w := newWorld()
	got, err := w.h.Handle(context.Background(), planInput(t, func(doc map[string]any) {
		doc["source"].(map[string]any)["kmsKeyArns"] = []string{key}
	}))
	if err != nil {
		t.Fatal(err)
	}
	g := got.Plan.KMSGrants
	if len(g) != 1 || g[0].KeyArn != key || g[0].GranteePrincipal != w.h.transferRoleArn("media-2026-11") || g[0].Name != "dsmigrate-media-2026-11" || len(g[0].Operations) == 0 {
		t.Errorf("got %+v, want one Decrypt grant of %s for the transfer role", g, key)
	}
	none, err := newWorld().h.Handle(context.Background(), planInput(t, nil))
	if err != nil || none.Plan.KMSGrants == nil || len(none.Plan.KMSGrants) != 0 {
		t.Errorf("without keys: got %+v, %v, want an empty list", none.Plan.KMSGrants, err)
	}
}
