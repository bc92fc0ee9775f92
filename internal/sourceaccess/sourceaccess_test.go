package sourceaccess

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
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

func TestS3AssumesWithExternalIDAndSessionName(t *testing.T) {
	f := &fakeSTS{}
	a := &Assumer{Config: aws.Config{Region: "ap-northeast-1"}, STS: f}
	c, err := a.S3(context.Background(), Params{RoleArn: "arn:aws:iam::111111111111:role/dsmigrate-source-access", ExternalID: "ext-1", MigrationID: "m1", Region: "eu-west-1"})
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if len(f.calls) != 1 {
		t.Fatalf("got %d AssumeRole calls, want 1", len(f.calls))
	}
	in := f.calls[0]
	if aws.ToString(in.ExternalId) != "ext-1" || aws.ToString(in.RoleSessionName) != "dsmigrate-m1" || aws.ToString(in.RoleArn) != "arn:aws:iam::111111111111:role/dsmigrate-source-access" {
		t.Errorf("got input %+v, want external id ext-1, session dsmigrate-m1 and the role", in)
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

func TestS3WithoutExternalID(t *testing.T) {
	f := &fakeSTS{}
	a := &Assumer{STS: f}
	if _, err := a.S3(context.Background(), Params{RoleArn: "arn:aws:iam::1:role/r", MigrationID: "m"}); err != nil {
		t.Fatal(err)
	}
	if f.calls[0].ExternalId != nil {
		t.Errorf("got external id %q, want none", *f.calls[0].ExternalId)
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
