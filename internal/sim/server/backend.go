package server

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/datasync"
	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

// DataSyncBackend gives the DataSync service access to IAM, STS and S3 with the same
// authorization as the corresponding API calls.
type DataSyncBackend struct{ st *store.Store }

var _ datasync.Backend = (*DataSyncBackend)(nil)

// NewDataSyncBackend wraps a store.
func NewDataSyncBackend(st *store.Store) *DataSyncBackend { return &DataSyncBackend{st: st} }

// Now is the simulator clock.
func (b *DataSyncBackend) Now() time.Time { return b.st.Now() }

// Settings returns the current tunables.
func (b *DataSyncBackend) Settings() datasync.Settings {
	s := b.st.Settings()
	return datasync.Settings{Region: b.st.Region(), PropagationDelay: s.PropagationDelay, TimeScale: s.TimeScale,
		TransferBytesPerSecond: s.TransferBytesPerSecond}
}

// Role looks up a role by ARN.
func (b *DataSyncBackend) Role(roleArn string) (identity.Role, bool) { return b.st.RoleByArn(roleArn) }

// Authorize evaluates like the real API call (bucket policy included for S3). During a
// DataSync API call, aws:RequestedRegion is the Region that call was signed for ("the
// AWS Region that was called in the request", IAM User Guide, global condition context
// keys), iam:PassRole included; S3 checks keep the bucket's Region (the store's).
func (b *DataSyncBackend) Authorize(ctx context.Context, p identity.Principal, action, resource string, cond identity.Context) error {
	if region, ok := identity.RequestedRegionFrom(ctx); ok && !strings.HasPrefix(resource, "arn:aws:s3:::") {
		if _, given := cond.Get("aws:RequestedRegion"); !given {
			c := identity.Context{"aws:RequestedRegion": {region}}
			for k, v := range cond {
				c[k] = v
			}
			cond = c
		}
	}
	return b.st.Authorize(p, action, resource, cond)
}

// AssumeRoleAsService checks the trust policy for the service and returns a session.
func (b *DataSyncBackend) AssumeRoleAsService(_ context.Context, roleArn, service, session string, cond identity.Context) (identity.Principal, error) {
	if err := b.st.AuthorizeServiceAssume(roleArn, service, cond); err != nil {
		return identity.Principal{}, err
	}
	p, ok := b.st.ServiceSession(roleArn, session)
	if !ok {
		return identity.Principal{}, &identity.AccessDeniedError{PrincipalArn: service, Action: "sts:AssumeRole", Resource: roleArn}
	}
	return p, nil
}

// Bucket looks up a bucket.
func (b *DataSyncBackend) Bucket(name string) (datasync.BucketInfo, bool) {
	bi, ok := b.st.Bucket(name)
	if !ok {
		return datasync.BucketInfo{}, false
	}
	return datasync.BucketInfo{Name: bi.Name, AccountID: bi.Owner, Region: bi.Region, Ownership: bi.Ownership}, true
}

func objectInfo(o store.Object) datasync.ObjectInfo {
	return datasync.ObjectInfo{Key: o.Key, Size: o.Size, ETag: o.ETag, LastModified: o.LastModified,
		StorageClass: o.StorageClass, ContentType: o.ContentType, Metadata: o.Metadata}
}

func (b *DataSyncBackend) bucketExists(bucket string) error {
	if _, ok := b.st.Bucket(bucket); !ok {
		return &store.Error{Code: "NoSuchBucket", Message: "The specified bucket does not exist",
			Fields: map[string]string{"BucketName": bucket}}
	}
	return nil
}

// ListObjects lists keys as p (s3:ListBucket with s3:prefix).
func (b *DataSyncBackend) ListObjects(_ context.Context, p identity.Principal, bucket, prefix, startAfter string, max int) ([]datasync.ObjectInfo, bool, error) {
	if err := b.bucketExists(bucket); err != nil {
		return nil, false, err
	}
	if err := b.st.Authorize(p, "s3:ListBucket", bucketArn(bucket), identity.Context{"s3:prefix": {prefix}}); err != nil {
		return nil, false, err
	}
	if max <= 0 {
		max = 1000
	}
	res, err := b.st.ListObjects(bucket, prefix, "", startAfter, max)
	if err != nil {
		return nil, false, err
	}
	out := make([]datasync.ObjectInfo, len(res.Objects))
	for i, o := range res.Objects {
		out[i] = objectInfo(o)
	}
	return out, res.Truncated, nil
}

// readable authorizes s3:GetObject and hides a missing key without s3:ListBucket.
func (b *DataSyncBackend) readable(p identity.Principal, bucket, key string) error {
	if err := b.bucketExists(bucket); err != nil {
		return err
	}
	if err := b.st.Authorize(p, "s3:GetObject", objectArn(bucket, key), nil); err != nil {
		return err
	}
	if _, err := b.st.HeadObject(bucket, key); err != nil {
		var se *store.Error
		if errors.As(err, &se) && se.Code == "NoSuchKey" {
			if aerr := b.st.Authorize(p, "s3:ListBucket", bucketArn(bucket), identity.Context{"s3:prefix": {key}}); aerr != nil {
				return aerr
			}
		}
		return err
	}
	return nil
}

// HeadObject reads metadata as p.
func (b *DataSyncBackend) HeadObject(_ context.Context, p identity.Principal, bucket, key string) (datasync.ObjectInfo, error) {
	if err := b.readable(p, bucket, key); err != nil {
		return datasync.ObjectInfo{}, err
	}
	o, err := b.st.HeadObject(bucket, key)
	if err != nil {
		return datasync.ObjectInfo{}, err
	}
	return objectInfo(o), nil
}

// GetObject opens the body as p.
func (b *DataSyncBackend) GetObject(_ context.Context, p identity.Principal, bucket, key string) (io.ReadCloser, datasync.ObjectInfo, error) {
	if err := b.readable(p, bucket, key); err != nil {
		return nil, datasync.ObjectInfo{}, err
	}
	f, o, err := b.st.OpenObject(bucket, key)
	if err != nil {
		return nil, datasync.ObjectInfo{}, err
	}
	// DataSync reads as the location's bucket access role, so S3 calls KMS for that role
	// (kms:Decrypt through S3); it cannot send an SSE-C key (DataSync User Guide, creating
	// an S3 location: SSE-C objects are not supported).
	bi, _ := b.st.Bucket(bucket)
	if err := b.st.AuthorizeObjectRead(p, bi.Region, o); err != nil {
		f.Close()
		return nil, datasync.ObjectInfo{}, err
	}
	return f, objectInfo(o), nil
}

// PutObject writes as p (the object owner follows the bucket's Object Ownership).
func (b *DataSyncBackend) PutObject(_ context.Context, p identity.Principal, bucket, key string, r io.Reader, size int64, meta datasync.ObjectMeta) (datasync.ObjectInfo, error) {
	if err := b.bucketExists(bucket); err != nil {
		return datasync.ObjectInfo{}, err
	}
	var ctx identity.Context
	if meta.StorageClass != "" {
		ctx = identity.Context{"s3:x-amz-storage-class": {meta.StorageClass}}
	}
	if err := b.st.Authorize(p, "s3:PutObject", objectArn(bucket, key), ctx); err != nil {
		return datasync.ObjectInfo{}, err
	}
	// DataSync writes without encryption headers: the bucket default applies, and under
	// SSE-KMS the writing role needs kms:GenerateDataKey on its key.
	sse, keyArn, err := b.st.ObjectEncryption(p, bucket, "", "")
	if err != nil {
		return datasync.ObjectInfo{}, err
	}
	o, err := b.st.PutObject(store.PutObjectInput{Bucket: bucket, Key: key, Body: r, Size: size, Writer: p.AccountID,
		ContentType: meta.ContentType, StorageClass: meta.StorageClass, Metadata: meta.Metadata, SSE: sse, KMSKeyArn: keyArn})
	if err != nil {
		return datasync.ObjectInfo{}, err
	}
	return objectInfo(o), nil
}

// DeleteObject deletes as p.
func (b *DataSyncBackend) DeleteObject(_ context.Context, p identity.Principal, bucket, key string) error {
	if err := b.bucketExists(bucket); err != nil {
		return err
	}
	if err := b.st.Authorize(p, "s3:DeleteObject", objectArn(bucket, key), nil); err != nil {
		return err
	}
	return b.st.DeleteObject(bucket, key)
}
