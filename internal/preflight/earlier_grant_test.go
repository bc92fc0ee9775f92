package preflight

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// A source bucket policy that still holds an earlier version's grant of this migration
// (both roles under the path "/", the write set) passes: the grant will replace it.
func TestEarlierVersionsGrantPasses(t *testing.T) {
	const earlier = `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"DsmmediaX2026X11RolesBucketAccess","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-transfer","arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-config"]},"Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"arn:aws:s3:::team-a-media"},` +
		`{"Sid":"DsmmediaX2026X11RolesObjectAccess","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-transfer","arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-config"]},"Action":["s3:AbortMultipartUpload","s3:DeleteObject","s3:GetObject","s3:ListMultipartUploadParts","s3:GetObjectTagging","s3:PutObjectTagging","s3:PutObject"],"Resource":"arn:aws:s3:::team-a-media/photos/*"}]}`
	w := newWorld()
	w.source.getPolicy = func(string) (*s3.GetBucketPolicyOutput, error) {
		return &s3.GetBucketPolicyOutput{Policy: aws.String(earlier)}, nil
	}
	if _, err := w.h.Handle(context.Background(), validInput()); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	w = newWorld()
	w.source.getPolicy = func(string) (*s3.GetBucketPolicyOutput, error) {
		return &s3.GetBucketPolicyOutput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"DsmmediaX2026X11RolesBucketAccess","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/someone-else"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-a-media"}]}`)}, nil
	}
	if _, err := w.h.Handle(context.Background(), validInput()); err == nil {
		t.Fatal("a foreign principal under our Sid: got nil, want an error")
	}
}
