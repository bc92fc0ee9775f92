package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func validContext() map[string]any {
	return map[string]any{
		ctxDestinationAccount: "222222222222",
		ctxSourceAccount:      "111111111111",
		ctxRegion:             "ap-northeast-1",
		ctxSourceBuckets:      []any{"team-a-media"},
		ctxDestinationBuckets: []any{"team-b-media"},
	}
}

// scheduledRequestJSON is a valid request for validContext.
const scheduledRequestJSON = `{"migrationId":"nightly","source":{"bucket":"team-a-media","accountId":"111111111111","region":"ap-northeast-1"},"destination":{"bucket":"team-b-media","region":"ap-northeast-1"}}`

func TestConfigFromContext(t *testing.T) {
	tests := []struct {
		name    string
		give    map[string]any // changes to validContext; nil value deletes the key
		want    func(Config) bool
		wantErr []string // substrings, each must appear
	}{
		{name: "defaults", want: func(c Config) bool {
			return c.NamePrefix == "dsmigrate" && c.LogRetentionDays == 30 && c.Schedule == "" &&
				c.SourceReadRoleName() == "dsmigrate-source-read" && c.SourcePolicyWriterRoleName() == "dsmigrate-source-policy-writer" &&
				c.ExecutionRoleArn("preflight") == "arn:aws:iam::222222222222:role/dsmigrate-fn-preflight" &&
				c.StateMachineArn() == "arn:aws:states:ap-northeast-1:222222222222:stateMachine:dsmigrate" &&
				c.RequestBusName() == "dsmigrate-requests" &&
				!c.AllowRemove && !c.AllowStandingGrant && c.MaxGrantsPerSourceBucket == 4 && c.MaxLiveMigrations == 20 &&
				len(c.RequestProducers) == 0 && c.StateMachineLogLevel == "ERROR" && !c.LogExecutionData
		}},
		{name: "deployment settings", give: map[string]any{ctxAllowRemove: true, ctxAllowStandingGrant: "true", ctxMaxGrantsPerSourceBucket: 2.0,
			ctxMaxLiveMigrations: "50", ctxRequestProducers: []any{"333333333333", "444444444444"}, ctxStateMachineLogLevel: "ALL", ctxLogExecutionData: true},
			want: func(c Config) bool {
				return c.AllowRemove && c.AllowStandingGrant && c.MaxGrantsPerSourceBucket == 2 && c.MaxLiveMigrations == 50 &&
					reflect.DeepEqual(c.RequestProducers, []string{"333333333333", "444444444444"}) && c.StateMachineLogLevel == "ALL" && c.LogExecutionData
			}},
		{name: "producers as -c text", give: map[string]any{ctxRequestProducers: "333333333333, 444444444444"},
			want: func(c Config) bool {
				return reflect.DeepEqual(c.RequestProducers, []string{"333333333333", "444444444444"})
			}},
		{name: "producers as JSON text", give: map[string]any{ctxRequestProducers: `["333333333333"]`},
			want: func(c Config) bool { return reflect.DeepEqual(c.RequestProducers, []string{"333333333333"}) }},
		{name: "external id no longer used", give: map[string]any{"dsmigrate:externalId": "dsmigrate-7f3c"},
			wantErr: []string{`"dsmigrate:externalId": is no longer used`, "remove the key"}},
		{name: "bad allowRemove", give: map[string]any{ctxAllowRemove: "yes"}, wantErr: []string{`"dsmigrate:allowRemove": want true or false`}},
		{name: "zero cap", give: map[string]any{ctxMaxLiveMigrations: 0.0}, wantErr: []string{`"dsmigrate:maxLiveMigrations": 0: must be at least 1`}},
		{name: "fractional cap", give: map[string]any{ctxMaxGrantsPerSourceBucket: 1.5}, wantErr: []string{`"dsmigrate:maxGrantsPerSourceBucket": 1.5 is not a whole number`}},
		{name: "bad producer", give: map[string]any{ctxRequestProducers: []any{"3333"}}, wantErr: []string{`"dsmigrate:requestProducers": "3333" is not a 12-digit account id`}},
		{name: "producer is B", give: map[string]any{ctxRequestProducers: []any{"222222222222"}}, wantErr: []string{`"dsmigrate:requestProducers"`, "account B itself"}},
		{name: "producer twice", give: map[string]any{ctxRequestProducers: []any{"333333333333", "333333333333"}}, wantErr: []string{"listed twice"}},
		{name: "bad log level", give: map[string]any{ctxStateMachineLogLevel: "DEBUG"}, wantErr: []string{`"dsmigrate:stateMachineLogLevel": "DEBUG"`}},
		{name: "scheduled request with REMOVE not allowed", give: map[string]any{ctxSchedule: "rate(1 day)",
			ctxScheduledRequest: strings.Replace(scheduledRequestJSON, `"destination"`, `"task":{"preserveDeletedFiles":"REMOVE"},"destination"`, 1)},
			wantErr: []string{`"dsmigrate:scheduledRequest"`, "task.preserveDeletedFiles", "dsmigrate:allowRemove"}},
		{name: "scheduled request with REMOVE allowed", give: map[string]any{ctxSchedule: "rate(1 day)", ctxAllowRemove: true,
			ctxScheduledRequest: strings.Replace(scheduledRequestJSON, `"destination"`, `"task":{"preserveDeletedFiles":"REMOVE"},"destination"`, 1)},
			want: func(c Config) bool { return c.AllowRemove }},
		{name: "lists as -c text", give: map[string]any{ctxSourceBuckets: "a-bucket, b-bucket", ctxDestinationBuckets: `["c-bucket"]`},
			want: func(c Config) bool {
				return reflect.DeepEqual(c.SourceBuckets, []string{"a-bucket", "b-bucket"}) && reflect.DeepEqual(c.DestinationBuckets, []string{"c-bucket"})
			}},
		{name: "extra regions as a list", give: map[string]any{ctxExtraRegions: []any{"ap-northeast-9"}},
			want: func(c Config) bool { return reflect.DeepEqual(c.ExtraRegions, []string{"ap-northeast-9"}) }},
		{name: "extra regions as -c text", give: map[string]any{ctxExtraRegions: "ap-northeast-9, eu-south-7"},
			want: func(c Config) bool {
				return reflect.DeepEqual(c.ExtraRegions, []string{"ap-northeast-9", "eu-south-7"})
			}},
		{name: "no extra regions", give: map[string]any{ctxExtraRegions: []any{}}, want: func(c Config) bool { return len(c.ExtraRegions) == 0 }},
		{name: "scheduled request in an extra region", give: map[string]any{ctxExtraRegions: []any{"ap-northeast-9"}, ctxSchedule: "rate(1 day)",
			ctxScheduledRequest: strings.Replace(scheduledRequestJSON, `"region":"ap-northeast-1"},"destination"`, `"region":"ap-northeast-9"},"destination"`, 1)},
			want: func(c Config) bool { return len(c.ScheduledRequest) > 0 }},
		{name: "retention as -c text", give: map[string]any{ctxLogRetentionDays: "90"}, want: func(c Config) bool { return c.LogRetentionDays == 90 }},
		{name: "any source account", give: map[string]any{ctxSourceAccount: "*"}, want: func(c Config) bool { return c.SourceAccount == "*" }},
		{name: "china partition", give: map[string]any{ctxRegion: "cn-north-1"}, want: func(c Config) bool {
			return c.ExecutionRoleArn("preflight") == "arn:aws-cn:iam::222222222222:role/dsmigrate-fn-preflight"
		}},
		{name: "schedule with request as JSON text", give: map[string]any{ctxSchedule: "rate(1 day)", ctxScheduledRequest: scheduledRequestJSON},
			want: func(c Config) bool { return strings.Contains(string(c.ScheduledRequest), `"migrationId":"nightly"`) }},
		{name: "scheduled request without id", give: map[string]any{ctxSchedule: "rate(1 day)", ctxScheduledRequest: strings.Replace(scheduledRequestJSON, `"migrationId":"nightly",`, "", 1)},
			wantErr: []string{`"dsmigrate:scheduledRequest": migrationId is required`}},
		{name: "scheduled request invalid", give: map[string]any{ctxSchedule: "rate(1 day)", ctxScheduledRequest: strings.Replace(scheduledRequestJSON, `"region":"ap-northeast-1"}}`, `"region":"us-east-1"}}`, 1)},
			wantErr: []string{`"dsmigrate:scheduledRequest"`, "destination.region"}},
		{name: "scheduled request unknown field", give: map[string]any{ctxSchedule: "rate(1 day)", ctxScheduledRequest: strings.Replace(scheduledRequestJSON, `"migrationId"`, `"bogus":1,"migrationId"`, 1)},
			wantErr: []string{`"dsmigrate:scheduledRequest"`, "bogus"}},
		{name: "scheduled request bucket not listed", give: map[string]any{ctxSchedule: "rate(1 day)", ctxScheduledRequest: strings.Replace(scheduledRequestJSON, "team-b-media", "other-bucket", 1)},
			wantErr: []string{`destination.bucket "other-bucket" is not in dsmigrate:destinationBuckets`}},
		{
			name: "every missing key is reported",
			give: map[string]any{ctxDestinationAccount: nil, ctxSourceAccount: nil, ctxRegion: nil, ctxSourceBuckets: nil, ctxDestinationBuckets: nil},
			wantErr: []string{
				`"dsmigrate:destinationAccount": missing`, `"dsmigrate:sourceAccount": missing`, `"dsmigrate:region": missing`,
				`"dsmigrate:sourceBuckets": missing`, `"dsmigrate:destinationBuckets": missing`,
			},
		},
		{name: "bad account", give: map[string]any{ctxDestinationAccount: "12345"}, wantErr: []string{`"dsmigrate:destinationAccount": "12345" is not a 12-digit account id`}},
		{name: "same accounts", give: map[string]any{ctxSourceAccount: "222222222222"}, wantErr: []string{`"dsmigrate:sourceAccount"`, "two accounts"}},
		{name: "bad region", give: map[string]any{ctxRegion: "tokyo"}, wantErr: []string{`"dsmigrate:region"`}},
		{name: "bad extra region", give: map[string]any{ctxExtraRegions: []any{"ap-northeast-9", "tokyo"}}, wantErr: []string{`"dsmigrate:extraRegions": "tokyo" is not a region name`}},
		{name: "extra regions not a list", give: map[string]any{ctxExtraRegions: 9.0}, wantErr: []string{`"dsmigrate:extraRegions": want a list`}},
		{name: "scheduled request in a region nobody listed", give: map[string]any{ctxSchedule: "rate(1 day)",
			ctxScheduledRequest: strings.Replace(scheduledRequestJSON, `"region":"ap-northeast-1"},"destination"`, `"region":"ap-northeast-9"},"destination"`, 1)},
			wantErr: []string{`"dsmigrate:scheduledRequest"`, "source.region", "dsmigrate:extraRegions"}},
		{name: "bad prefix", give: map[string]any{ctxNamePrefix: "DsMigrate_"}, wantErr: []string{`"dsmigrate:namePrefix"`}},
		{name: "long prefix", give: map[string]any{ctxNamePrefix: "abcdefghijklmnopqrstu"}, wantErr: []string{`"dsmigrate:namePrefix"`}},
		{name: "bad bucket", give: map[string]any{ctxSourceBuckets: []any{"Team_A"}}, wantErr: []string{`"dsmigrate:sourceBuckets": "Team_A" is not an S3 bucket name`}},
		{name: "duplicate bucket", give: map[string]any{ctxSourceBuckets: []any{"team-a", "team-a"}}, wantErr: []string{"listed twice"}},
		{name: "empty bucket list", give: map[string]any{ctxDestinationBuckets: []any{}}, wantErr: []string{`"dsmigrate:destinationBuckets": must name at least one bucket`}},
		{name: "bucket list of numbers", give: map[string]any{ctxSourceBuckets: []any{1.0}}, wantErr: []string{"element 0"}},
		{name: "bad retention", give: map[string]any{ctxLogRetentionDays: 10.0}, wantErr: []string{`"dsmigrate:logRetentionDays": 10 is not a CloudWatch Logs retention period`}},
		{name: "schedule without request", give: map[string]any{ctxSchedule: "rate(1 day)"}, wantErr: []string{`"dsmigrate:scheduledRequest": missing`}},
		{name: "request without schedule", give: map[string]any{ctxScheduledRequest: map[string]any{"migrationId": "x"}}, wantErr: []string{"set both or neither"}},
		{name: "bad schedule", give: map[string]any{ctxSchedule: "daily", ctxScheduledRequest: map[string]any{}}, wantErr: []string{`"dsmigrate:schedule": "daily"`}},
		{name: "request not an object", give: map[string]any{ctxSchedule: "rate(1 day)", ctxScheduledRequest: "[1]"}, wantErr: []string{"want a JSON object"}},
		{name: "alert email", give: map[string]any{ctxAlertEmail: "ops+dsmigrate@example.co.jp"}, want: func(c Config) bool { return c.AlertEmail == "ops+dsmigrate@example.co.jp" }},
		{name: "alert email empty", give: map[string]any{ctxAlertEmail: ""}, want: func(c Config) bool { return c.AlertEmail == "" }},
		{name: "alert email without @", give: map[string]any{ctxAlertEmail: "ops.example.com"}, wantErr: []string{`"dsmigrate:alertEmail": "ops.example.com" is not an email address`}},
		{name: "alert email without domain", give: map[string]any{ctxAlertEmail: "ops@"}, wantErr: []string{`"dsmigrate:alertEmail"`}},
		{name: "alert email without dot in domain", give: map[string]any{ctxAlertEmail: "ops@localhost"}, wantErr: []string{`"dsmigrate:alertEmail"`}},
		{name: "alert email with display name", give: map[string]any{ctxAlertEmail: "Ops <ops@example.com>"}, wantErr: []string{`"dsmigrate:alertEmail"`}},
		{name: "two alert emails", give: map[string]any{ctxAlertEmail: "a@example.com,b@example.com"}, wantErr: []string{`"dsmigrate:alertEmail"`}},
		{name: "alert email with spaces", give: map[string]any{ctxAlertEmail: " ops@example.com"}, wantErr: []string{`"dsmigrate:alertEmail"`}},
		{name: "alert email not a string", give: map[string]any{ctxAlertEmail: []any{"ops@example.com"}}, wantErr: []string{`"dsmigrate:alertEmail": want a string`}},
		{name: "source kms keys", give: map[string]any{ctxSourceKMSKeys: []any{"arn:aws:kms:ap-northeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"}},
			want: func(c Config) bool {
				return reflect.DeepEqual(c.SourceKMSKeys, []string{"arn:aws:kms:ap-northeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"})
			}},
		{name: "no source kms keys", give: map[string]any{ctxSourceKMSKeys: nil}, want: func(c Config) bool { return len(c.SourceKMSKeys) == 0 }},
		{name: "source kms key alias", give: map[string]any{ctxSourceKMSKeys: []any{"alias/media"}}, wantErr: []string{`"dsmigrate:sourceKmsKeys": "alias/media" is not the full ARN of a KMS key`}},
		{name: "source kms key of account B", give: map[string]any{ctxSourceKMSKeys: []any{"arn:aws:kms:ap-northeast-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"}},
			wantErr: []string{`"dsmigrate:sourceKmsKeys"`, "is a key of account 222222222222, not of dsmigrate:sourceAccount 111111111111"}},
		{name: "wrong type", give: map[string]any{ctxRegion: 5.0}, wantErr: []string{`"dsmigrate:region": want a string, got float64`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := validContext()
			for k, v := range tt.give {
				if v == nil {
					delete(ctx, k)
				} else {
					ctx[k] = v
				}
			}
			got, err := ConfigFromContext(func(k string) any { return ctx[k] })
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				if tt.want != nil && !tt.want(got) {
					t.Fatalf("got %+v, not what the case wants", got)
				}
				return
			}
			if err == nil {
				t.Fatalf("got no error, want %v", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// TestCDKJSONIsValid keeps the committed defaults usable for an offline synth.
func TestCDKJSONIsValid(t *testing.T) {
	_, ctx := loadCDKContext(t)
	if _, err := ConfigFromContext(func(k string) any { return ctx[k] }); err != nil {
		t.Fatalf("cdk.json context: %v", err)
	}
	if ctx["@aws-cdk/core:enablePartitionLiterals"] != true {
		t.Errorf("cdk.json: want @aws-cdk/core:enablePartitionLiterals true (literal ARNs for the local runner)")
	}
}

// loadCDKContext returns the repository root (where cdk.json is) and the "context" object
// of its cdk.json.
func loadCDKContext(t testing.TB) (root string, ctx map[string]any) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	return root, f.Context
}
