package plantext

import (
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

const (
	foreign = `{"Sid":"TeamRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::src/*"}`
	ours    = `{"Sid":"DsmXBucketAccess","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/t"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::src"}`
	oursOld = `{"Sid":"DsmXBucketAccess","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/old"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::src"}`
)

func doc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

func TestWrite(t *testing.T) {
	base := func() *execution.Plan {
		return &execution.Plan{Mode: "plan", MigrationID: "x",
			Request:            request.Request{Source: request.Source{Bucket: "src", AccountID: "111111111111", Region: "ap-northeast-1"}, Destination: request.Destination{Bucket: "dst", Region: "ap-northeast-1"}},
			Roles:              []execution.PlannedResource{{Kind: "role", Name: "r-transfer", Arn: "arn:aws:iam::222222222222:role/r", Action: "reuse", Reason: "found"}},
			SourceBucketPolicy: execution.PolicyPlan{Bucket: "src", Action: "update", Before: doc(foreign), After: doc(foreign, ours), StatementsBefore: 1, StatementsAfter: 2, LimitBytes: 20480},
			Source:             &execution.ObjectSample{Bucket: "src", Objects: 3, Bytes: 2048, Complete: true, Bound: 5000, StorageClasses: map[string]int64{"STANDARD": 2, "GLACIER": 1}},
		}
	}
	tests := []struct {
		name      string
		give      func(p *execution.Plan)
		wantReady bool
		want      []string
		wantNot   []string
	}{
		{name: "ready", wantReady: true, want: []string{
			"= role r-transfer (arn:aws:iam::222222222222:role/r)", "+ " + ours, "(1 statement(s) unchanged)",
			"source s3://src/: 3 objects, 2.0 KiB (GLACIER 1, STANDARD 2)", "Nothing would stop this migration",
		}, wantNot: []string{"Blockers", "+ " + foreign, "KMS grants"}},
		{name: "KMS grants", give: func(p *execution.Plan) {
			p.KMSGrants = []execution.KMSGrant{{KeyArn: "arn:aws:kms:ap-northeast-1:111111111111:key/k", Name: "dsmigrate-x", GranteePrincipal: "arn:aws:iam::222222222222:role/t", Operations: []string{"Decrypt"}}}
		}, wantReady: true, want: []string{"+ grant dsmigrate-x on arn:aws:kms:ap-northeast-1:111111111111:key/k to arn:aws:iam::222222222222:role/t: Decrypt"}},
		{name: "replaced statement", give: func(p *execution.Plan) { p.SourceBucketPolicy.Before = doc(foreign, oursOld) },
			wantReady: true, want: []string{"~ " + ours, "(was " + oursOld + ")"}},
		{name: "blocked", give: func(p *execution.Plan) {
			p.Blockers = []string{"ACLs are enabled"}
			p.Tasks = []execution.PlannedResource{{Kind: "task", Name: "t", Action: "conflict", Reason: "other locations"}}
			p.Source.Complete = false
		}, want: []string{"! ACLs are enabled", "! task t", "conflict: other locations", "the first 3 objects (the listing stops at 5000)", "would stop: 1 blocker(s), 1 conflicting"}},
		{name: "policy conflict", give: func(p *execution.Plan) {
			p.SourceBucketPolicy.Action, p.SourceBucketPolicy.After = "conflict", ""
		}, want: []string{"Source bucket policy of src: conflict"}, wantNot: []string{"+ " + ours}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			if tt.give != nil {
				tt.give(p)
			}
			var b strings.Builder
			if err := Write(&b, p); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("got\n%s\nwant it to contain %q", out, w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("got\n%s\nwant no %q", out, w)
				}
			}
			if got := Ready(p); got != tt.wantReady {
				t.Errorf("Ready: got %v, want %v", got, tt.wantReady)
			}
		})
	}
}
