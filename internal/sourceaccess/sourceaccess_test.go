package sourceaccess

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/failure"
)

type fakeSTS struct {
	calls []*sts.AssumeRoleInput
	err   error
}

func (f *fakeSTS) AssumeRole(_ context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{
		AccessKeyId: aws.String("ASIA1"), SecretAccessKey: aws.String("s"), SessionToken: aws.String("t"),
		Expiration: aws.Time(time.Now().Add(time.Hour)),
	}}, nil
}

func TestS3AssumesWithSessionNameAndNoExternalID(t *testing.T) {
	f := &fakeSTS{}
	a := &Assumer{Config: aws.Config{Region: "ap-northeast-1"}, STS: f}
	c, err := a.S3(context.Background(), Params{RoleArn: "arn:aws:iam::111111111111:role/dsmigrate-source-read", MigrationID: "m1", Region: "eu-west-1"})
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if len(f.calls) != 1 {
		t.Fatalf("got %d AssumeRole calls, want 1", len(f.calls))
	}
	in := f.calls[0]
	if in.ExternalId != nil || aws.ToString(in.RoleSessionName) != "dsmigrate-m1" || aws.ToString(in.RoleArn) != "arn:aws:iam::111111111111:role/dsmigrate-source-read" {
		t.Errorf("got input %+v, want no external id, session dsmigrate-m1 and the role", in)
	}
	if got := c.Options().Region; got != "eu-west-1" {
		t.Errorf("got region %q, want eu-west-1", got)
	}
	creds, err := c.Options().Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "ASIA1" {
		t.Errorf("got %v %v, want the assumed credentials", creds.AccessKeyID, err)
	}
	if len(f.calls) != 1 {
		t.Errorf("got %d AssumeRole calls, want the cached credentials reused", len(f.calls))
	}
}

func TestS3ReportsRefusedAssumeRole(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "User: x is not authorized to perform: sts:AssumeRole on resource: r"}
	a := &Assumer{STS: &fakeSTS{err: denied}}
	_, err := a.S3(context.Background(), Params{RoleArn: "r", MigrationID: "m"})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" {
		t.Errorf("got %v, want the AccessDenied API error", err)
	}
}

// TestBucketErrorThroughTheSDK: S3's answers as the SDK's S3 client turns them into
// errors (modeled types for HeadBucket and ListObjectsV2, a generic API error for
// GetBucketPolicy), each recognized as a missing bucket or a bucket in another region.
func TestBucketErrorThroughTheSDK(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/moved"):
			w.Header().Set("X-Amz-Bucket-Region", "eu-west-1")
			w.WriteHeader(http.StatusMovedPermanently)
			if r.Method != http.MethodHead {
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>`)
			}
		default:
			w.WriteHeader(http.StatusNotFound)
			if r.Method != http.MethodHead {
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>gone</BucketName></Error>`)
			}
		}
	}))
	defer srv.Close()
	c := s3.New(s3.Options{
		Region: "ap-northeast-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		RetryMaxAttempts: 1,
	})
	ctx := context.Background()
	tests := []struct {
		name     string
		call     func(bucket string) error
		bucket   string
		wantType any // the error type the SDK gives
		wantIn   string
	}{
		{name: "GetBucketPolicy, bucket missing", bucket: "gone", wantType: &smithy.GenericAPIError{}, wantIn: "does not exist",
			call: func(b string) error {
				_, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
				return err
			}},
		{name: "ListObjectsV2, bucket missing", bucket: "gone", wantType: &s3types.NoSuchBucket{}, wantIn: "does not exist",
			call: func(b string) error {
				_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
				return err
			}},
		{name: "HeadBucket, bucket missing", bucket: "gone", wantType: &s3types.NotFound{}, wantIn: "does not exist",
			call: func(b string) error {
				_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)})
				return err
			}},
		{name: "GetBucketPolicy, bucket elsewhere", bucket: "moved", wantType: &smithy.GenericAPIError{}, wantIn: "but in region eu-west-1",
			call: func(b string) error {
				_, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(tt.bucket)
			if target := reflect.New(reflect.TypeOf(tt.wantType)); !errors.As(err, target.Interface()) {
				t.Fatalf("the SDK gave %T (%v), want %T", errors.Unwrap(err), err, tt.wantType)
			}
			got := BucketError(err, "source", tt.bucket, "ap-northeast-1", "111111111111")
			var p *failure.PreconditionError
			if !errors.As(got, &p) || !strings.Contains(p.Message, tt.wantIn) {
				t.Errorf("got %v, want a PreconditionError saying %q", got, tt.wantIn)
			}
		})
	}
	if got := BucketError(&smithy.GenericAPIError{Code: "AccessDenied"}, "source", "b", "r", "o"); got != nil {
		t.Errorf("AccessDenied: got %v, want nil (not a bucket problem)", got)
	}
}

// bucketPolicyReader is a step's interface of S3 methods, as preflight.S3API is.
type bucketPolicyReader interface {
	GetBucketPolicy(ctx context.Context, params *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
}

// notS3 is an interface *s3.Client does not implement.
type notS3 interface{ NotAnS3Method() }

func TestS3AssumerGivesTheStepsInterface(t *testing.T) {
	a := S3Assumer[bucketPolicyReader]{&Assumer{Config: aws.Config{Region: "ap-northeast-1"}, STS: &fakeSTS{}}}
	c, err := a.AssumeS3(context.Background(), Params{RoleArn: "arn:aws:iam::111111111111:role/r", MigrationID: "m", Region: "eu-west-1"})
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if s3c, ok := c.(*s3.Client); !ok || s3c.Options().Region != "eu-west-1" {
		t.Errorf("got %T, want the *s3.Client of Assumer.S3 in eu-west-1", c)
	}

	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "denied"}
	failing := S3Assumer[bucketPolicyReader]{&Assumer{STS: &fakeSTS{err: denied}}}
	if c, err := failing.AssumeS3(context.Background(), Params{RoleArn: "r", MigrationID: "m"}); c != nil || !errors.As(err, new(smithy.APIError)) {
		t.Errorf("got (%v, %v), want no client and the AccessDenied error", c, err)
	}

	wrong := S3Assumer[notS3]{&Assumer{STS: &fakeSTS{}}}
	if _, err := wrong.AssumeS3(context.Background(), Params{RoleArn: "r", MigrationID: "m"}); err == nil || !strings.Contains(err.Error(), "notS3") {
		t.Errorf("got %v, want an error naming the interface *s3.Client lacks", err)
	}
}
