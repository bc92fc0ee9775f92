package preflight

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

const (
	srcKey = "arn:aws:kms:ap-northeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	dstKey = "arn:aws:kms:ap-northeast-1:222222222222:key/2234abcd-12ab-34cd-56ef-1234567890ab"
)

// fakeKMS describes keys from a table (by id or ARN) and returns their policies.
type fakeKMS struct {
	keys     map[string]kmstypes.KeyMetadata
	policies map[string]string
}

func (f *fakeKMS) DescribeKey(_ context.Context, in *kms.DescribeKeyInput, _ ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	md, ok := f.keys[aws.ToString(in.KeyId)]
	if !ok {
		return nil, apiError(400, "NotFoundException", "Key '"+aws.ToString(in.KeyId)+"' does not exist")
	}
	return &kms.DescribeKeyOutput{KeyMetadata: &md}, nil
}

func (f *fakeKMS) GetKeyPolicy(_ context.Context, in *kms.GetKeyPolicyInput, _ ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error) {
	return &kms.GetKeyPolicyOutput{Policy: aws.String(f.policies[aws.ToString(in.KeyId)])}, nil
}

type fakeKMSAssumer struct{ c KMSAPI }

func (f fakeKMSAssumer) AssumeKMS(context.Context, sourceaccess.Params) (KMSAPI, error) {
	return f.c, nil
}

func kmsDefault(keyID string) func(string) (*s3.GetBucketEncryptionOutput, error) {
	return func(string) (*s3.GetBucketEncryptionOutput, error) {
		d := &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms}
		if keyID != "" {
			d.KMSMasterKeyID = aws.String(keyID)
		}
		return &s3.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: d}}}}, nil
	}
}

func meta(arn, account string, manager kmstypes.KeyManagerType) kmstypes.KeyMetadata {
	return kmstypes.KeyMetadata{Arn: aws.String(arn), AWSAccountId: aws.String(account), KeyManager: manager}
}

const delegating = `{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"}]}`

// TestEncryption: the source's default key is added to source.kmsKeyArns when it is a
// customer managed key of A, and refused when it is aws/s3 or another account's; the
// destination's key is recorded when its policy delegates to IAM, and refused with the
// statement to add when it does not.
func TestEncryption(t *testing.T) {
	keys := map[string]kmstypes.KeyMetadata{
		"alias/media": meta(srcKey, "111111111111", kmstypes.KeyManagerTypeCustomer),
		srcKey:        meta(srcKey, "111111111111", kmstypes.KeyManagerTypeCustomer),
		"arn:aws:kms:ap-northeast-1:111111111111:key/3234abcd-12ab-34cd-56ef-1234567890ab": meta("arn:aws:kms:ap-northeast-1:111111111111:key/3234abcd-12ab-34cd-56ef-1234567890ab", "111111111111", kmstypes.KeyManagerTypeAws),
		dstKey: meta(dstKey, "222222222222", kmstypes.KeyManagerTypeCustomer),
	}
	tests := []struct {
		name        string
		src, dst    string // default keys; "-" = SSE-S3
		dstPolicy   string
		wantSrcKeys []string
		wantDstKey  string
		wantErr     string // substring of a PreconditionError
	}{
		{name: "sse-s3 both", src: "-", dst: "-"},
		{name: "source key by alias", src: "alias/media", dst: "-", wantSrcKeys: []string{srcKey}},
		{name: "source aws/s3 implied", src: "", dst: "-", wantErr: "AWS managed key aws/s3"},
		{name: "source aws/s3 by alias", src: "alias/aws/s3", dst: "-", wantErr: "AWS managed key aws/s3"},
		{name: "source aws managed by arn", src: "arn:aws:kms:ap-northeast-1:111111111111:key/3234abcd-12ab-34cd-56ef-1234567890ab", dst: "-", wantErr: "aws/s3"},
		{name: "source key of another account", src: "arn:aws:kms:ap-northeast-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab", dst: "-", wantErr: "belongs to another account"},
		{name: "destination key delegating", src: "-", dst: dstKey, dstPolicy: delegating, wantDstKey: dstKey},
		{name: "destination key not delegating", src: "-", dst: dstKey, dstPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/admin"},"Action":"kms:*","Resource":"*"}]}`,
			wantErr: `"Principal":{"AWS":"arn:aws:iam::222222222222:root"}`},
		{name: "destination aws/s3", src: "-", dst: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			fk := &fakeKMS{keys: keys, policies: map[string]string{dstKey: tt.dstPolicy}}
			w.h.KMS, w.h.SourceKMS = fk, fakeKMSAssumer{fk}
			if tt.src != "-" {
				w.source.encryption = kmsDefault(tt.src)
			}
			if tt.dst != "-" {
				w.dest.encryption = kmsDefault(tt.dst)
			}
			got, err := w.h.Handle(context.Background(), validInput())
			if tt.wantErr != "" {
				var pe *failure.PreconditionError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want a PreconditionError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if strings.Join(got.Request.Source.KMSKeyArns, ",") != strings.Join(tt.wantSrcKeys, ",") || got.Request.Destination.KMSKeyArn != tt.wantDstKey {
				t.Errorf("got source keys %v, destination key %q; want %v, %q", got.Request.Source.KMSKeyArns, got.Request.Destination.KMSKeyArn, tt.wantSrcKeys, tt.wantDstKey)
			}
		})
	}
}

// TestReportBucket: task.report's bucket must be a listed destination bucket, in account B
// and encrypted so that the config role can write the task reports: SSE-S3, aws/s3 or
// the destination's own key; another customer managed key is refused before any change.
func TestReportBucket(t *testing.T) {
	otherKey := "arn:aws:kms:ap-northeast-1:222222222222:key/4234abcd-12ab-34cd-56ef-1234567890ab"
	keys := map[string]kmstypes.KeyMetadata{
		dstKey:   meta(dstKey, "222222222222", kmstypes.KeyManagerTypeCustomer),
		otherKey: meta(otherKey, "222222222222", kmstypes.KeyManagerTypeCustomer),
	}
	tests := []struct {
		name      string
		bucket    string
		dst       string // the destination's default key; "-" = SSE-S3
		report    string // the report bucket's; "-" = SSE-S3, "missing" = no such bucket
		wantField string // a ValidationError on this field
		wantErr   string // else a PreconditionError containing this
	}{
		{name: "sse-s3", bucket: "team-b-reports", dst: "-", report: "-"},
		{name: "aws/s3", bucket: "team-b-reports", dst: "-", report: ""},
		{name: "the destination's key", bucket: "team-b-reports", dst: dstKey, report: dstKey},
		{name: "another customer key", bucket: "team-b-reports", dst: dstKey, report: otherKey, wantErr: "could not use to upload the task reports"},
		{name: "a customer key, destination SSE-S3", bucket: "team-b-reports", dst: "-", report: otherKey, wantErr: "none: the destination uses SSE-S3"},
		{name: "missing", bucket: "team-b-reports", dst: "-", report: "missing", wantErr: "task.report bucket team-b-reports does not exist"},
		{name: "unlisted", bucket: "team-c-reports", dst: "-", report: "-", wantField: "task.report.bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.h.Config.DestinationBuckets = []string{"team-b-media", "team-b-reports"}
			fk := &fakeKMS{keys: keys, policies: map[string]string{dstKey: delegating}}
			w.h.KMS, w.h.SourceKMS = fk, fakeKMSAssumer{fk}
			w.dest.encryption = func(bucket string) (*s3.GetBucketEncryptionOutput, error) {
				key := tt.dst
				if bucket != "team-b-media" {
					key = tt.report
				}
				switch key {
				case "-":
					return &s3.GetBucketEncryptionOutput{}, nil
				case "missing":
					return nil, apiError(404, "NoSuchBucket", "The specified bucket does not exist")
				}
				return kmsDefault(key)(bucket)
			}
			in := validInput()
			var raw map[string]any
			if err := json.Unmarshal(in.Request, &raw); err != nil {
				t.Fatal(err)
			}
			raw["task"].(map[string]any)["report"] = map[string]any{"bucket": tt.bucket, "prefix": "audit/"}
			in.Request, _ = json.Marshal(raw)
			got, err := w.h.Handle(context.Background(), in)
			switch {
			case tt.wantField != "":
				var v *failure.ValidationError
				if !errors.As(err, &v) || !strings.Contains(err.Error(), tt.wantField) {
					t.Fatalf("got %v, want a ValidationError on %s", err, tt.wantField)
				}
				if strings.Contains(strings.Join(w.log, " "), "GetBucketEncryption") {
					t.Errorf("got calls %v, want none before the refusal", w.log)
				}
			case tt.wantErr != "":
				var pe *failure.PreconditionError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want a PreconditionError containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("got %v, want nil", err)
			case got.Request.Task.Report == nil || got.Request.Task.Report.Level != "ERRORS_ONLY":
				t.Errorf("got report %+v, want it normalized with level ERRORS_ONLY", got.Request.Task.Report)
			}
		})
	}
}
