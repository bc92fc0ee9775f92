package preflight

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/kmsgrant"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

// Bounds of the plan's listings: at most SampleObjects objects in at most SampleCalls
// ListObjectsV2 calls per bucket, so that a plan of a bucket of any size ends well within
// the function's timeout.
const (
	SampleObjects = 5000
	SampleCalls   = 50
)

// BasicModeObjectLimit is DataSync's quota of files, objects and directories one BASIC
// mode task execution works with between AWS storage services (DataSync User Guide,
// "AWS DataSync quotas": https://docs.aws.amazon.com/datasync/latest/userguide/datasync-limits.html#task-hard-limits);
// ENHANCED mode has no such limit.
const BasicModeObjectLimit = 25_000_000

// plan runs a plan request's reads: everything handle checks, with what would stop the
// migration reported as a blocker instead of returned, plus the bucket settings and the
// sampled listings the warnings come from. It changes nothing.
func (h *Handler) plan(ctx context.Context, r *request.Request) (*execution.Preflight, error) {
	p := &execution.SourcePlan{Warnings: []execution.Warning{}, Blockers: []string{}, Shards: []execution.Shard{}}
	// block records a PreconditionError as a blocker and returns nil; any other error
	// (a permission, a transient failure) ends the plan.
	block := func(err error) error {
		var pre *failure.PreconditionError
		if errors.As(err, &pre) {
			p.Blockers = append(p.Blockers, execution.PlanText(pre.Message))
			return nil
		}
		return err
	}
	if err := block(h.checkLiveMigrations(ctx)); err != nil {
		return nil, err
	}
	partition := h.partition()
	src, dst := r.Source, r.Destination
	readRole := naming.DefaultPathRoleArn(partition, src.AccountID, naming.SourceReadRoleName(h.Config.RolePrefix))
	sourceS3, err := h.Assumer.AssumeS3(ctx, sourceaccess.Params{RoleArn: readRole, MigrationID: r.MigrationID, Region: src.Region})
	if err != nil {
		return nil, sourceaccess.AssumeRoleError(err, readRole, h.ownRoleArn())
	}
	if err := block(checkOwnership(ctx, sourceS3, partition, "source", src.Bucket, src.Region, src.AccountID, readRole)); err != nil {
		return nil, err
	}
	// The source keys as a migration would use them (the bucket's default key added), and
	// the KMS grants the grant step would hold on them for the transfer role.
	keys, err := h.sourceKeys(ctx, sourceS3, r, readRole)
	if err := block(err); err != nil {
		return nil, err
	}
	if keys != nil {
		r.Source.KMSKeyArns = keys
	}
	p.KMSGrants = kmsgrant.Plan(r.Source.KMSKeyArns, h.transferRoleArn(r.MigrationID), r.MigrationID)
	existing, err := getPolicy(ctx, sourceS3, partition, src.Bucket, src.Region, src.AccountID, readRole)
	if err != nil {
		return nil, err
	}
	pp := execution.PolicyPlan{Bucket: src.Bucket, Action: "update", StatementsAdded: naming.SidsFor(r.MigrationID).All(),
		BytesBefore: policy.Size(existing), LimitBytes: policy.MaxBucketPolicyBytes, Before: existing}
	statements := 0
	if existing != "" {
		doc, err := policy.Parse(existing)
		if err != nil {
			return nil, &failure.PreconditionError{Message: fmt.Sprintf("the policy of source bucket %s cannot be read as a policy document (%v); fix it in account %s", src.Bucket, err, src.AccountID)}
		}
		statements = len(doc.Statement)
		for _, err := range []error{h.checkGrants(doc, r.MigrationID, src.Bucket, src.AccountID),
			checkDeletedPrincipals(doc, naming.SidsFor(r.MigrationID).All(), src.Bucket, src.AccountID)} {
			if err := block(err); err != nil {
				return nil, err
			}
		}
	}
	pp.StatementsBefore = statements
	ours := policy.SourceBucketStatements(partition, naming.SidsFor(r.MigrationID), src.Bucket, src.Prefix,
		h.transferRoleArn(r.MigrationID), h.Config.LocationsCallerRoleArn)
	merged, err := policy.Merge(existing, ours, naming.EarlierRoleArns(partition, h.Config.Home.AccountID, h.Config.RolePrefix, r.MigrationID)...)
	if err != nil {
		pp.Action = execution.PlanConflict
		if err := block(sourceaccess.MergeError(err, src.Bucket, src.AccountID)); err != nil {
			return nil, err
		}
	} else {
		pp.After, pp.BytesAfter = merged, policy.Size(merged)
		if after, err := policy.Parse(merged); err == nil {
			pp.StatementsAfter = len(after.Statement)
		}
		if sameJSON(existing, merged) {
			pp.Action, pp.StatementsAdded = "unchanged", []string{}
		}
	}
	p.SourceBucketPolicy = pp

	if err := block(checkOwnership(ctx, h.S3, partition, "destination", dst.Bucket, dst.Region, h.Config.Home.AccountID, "")); err != nil {
		return nil, err
	}
	key, err := h.destinationKey(ctx, r)
	if err := block(err); err != nil {
		return nil, err
	}
	r.Destination.KMSKeyArn = key
	if err := block(h.checkReportBucket(ctx, r)); err != nil {
		return nil, err
	}
	shards, err := shardsOf(ctx, sourceS3, partition, r, readRole)
	if err := block(err); err != nil {
		return nil, err
	}
	if shards != nil {
		// The plan branch reads them from the plan only: one copy in the document.
		p.Shards = shards
	}
	if err := h.warnings(ctx, sourceS3, r, readRole, p); err != nil {
		return nil, err
	}
	return &execution.Preflight{Request: r, SourcePolicyBytes: pp.BytesBefore, SourcePolicyStatements: statements, Plan: p}, nil
}

// warnings samples both buckets and reads their settings.
func (h *Handler) warnings(ctx context.Context, sourceS3 S3API, r *request.Request, readRole string, p *execution.SourcePlan) error {
	partition := h.partition()
	src, dst, t := r.Source, r.Destination, r.Task
	warn := func(code, format string, args ...any) {
		p.Warnings = append(p.Warnings, execution.Warning{Code: code, Message: fmt.Sprintf(format, args...)})
	}
	sample, keys, err := sampleObjects(ctx, sourceS3, src.Bucket, src.Prefix, src.AccountID)
	if err != nil {
		return bucketReadError(err, partition, "source", src.Bucket, src.Region, src.AccountID, readRole, "s3:ListBucket")
	}
	p.Source = sample

	// Objects in S3 Glacier Flexible Retrieval or Deep Archive are not readable until
	// restored (S3 User Guide, "Restoring an archived object":
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html), and
	// DataSync does not restore them (DataSync User Guide, "Storage class considerations
	// with Amazon S3 locations": https://docs.aws.amazon.com/datasync/latest/userguide/create-s3-location.html#using-storage-classes).
	if n := sample.StorageClasses[string(s3types.ObjectStorageClassGlacier)] + sample.StorageClasses[string(s3types.ObjectStorageClassDeepArchive)]; n > 0 {
		warn("ARCHIVED_OBJECTS", "%d of the %s objects listed under s3://%s/%s are in GLACIER or DEEP_ARCHIVE: DataSync cannot read them without a restore, so they would fail to transfer; restore them first (aws s3api restore-object) or exclude them",
			n, sampleSize(sample), src.Bucket, src.Prefix)
	}
	// A complete listing holds at most SampleObjects, far below the limit: only a listing
	// that stopped at its bound leaves the count unknown.
	if t.TaskMode == "BASIC" && !sample.Complete {
		warn("BASIC_OBJECT_LIMIT", "task.taskMode BASIC works with at most %d objects, folders included, per execution (DataSync quotas); the listing stopped after %s objects under s3://%s/%s, so the source may hold more: use taskMode ENHANCED (no such limit), or count the objects first (S3 Storage Lens or S3 Inventory)",
			BasicModeObjectLimit, sampleSize(sample), src.Bucket, src.Prefix)
	}
	versioning, err := sourceS3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(src.Bucket), ExpectedBucketOwner: aws.String(src.AccountID)})
	if err != nil {
		return bucketReadError(err, partition, "source", src.Bucket, src.Region, src.AccountID, readRole, "s3:GetBucketVersioning")
	}
	if versioning.Status != "" {
		// DataSync copies what ListObjectsV2 lists: the current version of each key
		// (DataSync User Guide, "Configuring AWS DataSync transfers with Amazon S3").
		warn("VERSIONED_SOURCE", "source bucket %s has versioning %s: only the current version of each object is copied; older versions and delete markers stay behind in account %s",
			src.Bucket, versioning.Status, src.AccountID)
	}
	payment, err := sourceS3.GetBucketRequestPayment(ctx, &s3.GetBucketRequestPaymentInput{Bucket: aws.String(src.Bucket), ExpectedBucketOwner: aws.String(src.AccountID)})
	if err != nil {
		return bucketReadError(err, partition, "source", src.Bucket, src.Region, src.AccountID, readRole, "s3:GetBucketRequestPayment")
	}
	if payment.Payer == s3types.PayerRequester {
		// S3 User Guide, "Using Requester Pays general purpose buckets":
		// https://docs.aws.amazon.com/AmazonS3/latest/userguide/RequesterPaysBuckets.html
		warn("REQUESTER_PAYS", "source bucket %s is a Requester Pays bucket: the requests and downloads of the transfer are charged to the requester, account %s, and S3 refuses requests that do not confirm the requester pays; check with the bucket's owners before migrating",
			src.Bucket, h.Config.Home.AccountID)
	}
	if src.Region != dst.Region {
		// DataSync pricing (https://aws.amazon.com/datasync/pricing/): data copied between
		// Regions is charged at the EC2 inter-Region data transfer rate, on top of
		// DataSync's own per-GB charge.
		warn("CROSS_REGION", "the source bucket is in %s and the destination in %s: the copy is a transfer between Regions, charged per GB (about %s listed) on top of DataSync's own charge",
			src.Region, dst.Region, formatBytes(sample.Bytes, sample.Complete))
	}
	_, err = h.S3.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(dst.Bucket), ExpectedBucketOwner: aws.String(h.Config.Home.AccountID)})
	switch {
	case awserror.HasCode(err, "ObjectLockConfigurationNotFoundError"):
	case err != nil:
		return bucketReadError(err, partition, "destination", dst.Bucket, dst.Region, h.Config.Home.AccountID, h.ownRoleArn(), "s3:GetBucketObjectLockConfiguration")
	default:
		// S3 User Guide, "Locking objects with Object Lock": Object Lock works only in a
		// versioned bucket, and a locked version cannot be overwritten or deleted
		// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html).
		warn("OBJECT_LOCK", "destination bucket %s has Object Lock: every object DataSync writes or overwrites adds a version that a default retention may keep for its whole period, and locked versions cannot be deleted (REMOVE only adds delete markers)", dst.Bucket)
	}
	if t.PreserveDeletedFiles == "REMOVE" {
		if err := h.removeWarning(ctx, r, keys, sample, p); err != nil {
			return err
		}
	}
	return nil
}

// removeWarning lists the destination prefix and counts the objects a REMOVE would
// delete: those whose key, relative to the prefix, the source does not have.
func (h *Handler) removeWarning(ctx context.Context, r *request.Request, sourceKeys map[string]bool, sample *execution.ObjectSample, p *execution.SourcePlan) error {
	dst := r.Destination
	dsample, dkeys, err := sampleObjects(ctx, h.S3, dst.Bucket, dst.Prefix, h.Config.Home.AccountID)
	if err != nil {
		return bucketReadError(err, h.partition(), "destination", dst.Bucket, dst.Region, h.Config.Home.AccountID, h.ownRoleArn(), "s3:ListBucket")
	}
	p.Destination = dsample
	extra := 0
	for k := range dkeys {
		if !sourceKeys[k] {
			extra++
		}
	}
	msg := fmt.Sprintf("task.preserveDeletedFiles REMOVE deletes every object under s3://%s/%s that the source does not have", dst.Bucket, dst.Prefix)
	switch {
	case sample.Complete && dsample.Complete:
		msg += fmt.Sprintf(": %d of the %d objects there", extra, dsample.Objects)
	case sample.Complete:
		msg += fmt.Sprintf(": at least %d among the first %d objects listed there", extra, dsample.Objects)
	default:
		msg += fmt.Sprintf(": the source holds more than the %d objects listed, so how many cannot be told; %d objects are listed under the destination prefix", sample.Objects, dsample.Objects)
	}
	p.Warnings = append(p.Warnings, execution.Warning{Code: "REMOVE_DELETES", Message: msg})
	return nil
}

// sampleObjects lists up to SampleObjects objects under prefix, one folder level per
// call (delimiter "/", as the read role in account A may list), breadth first, and
// returns the sample and the keys listed, relative to prefix.
func sampleObjects(ctx context.Context, c S3API, bucket, prefix, owner string) (*execution.ObjectSample, map[string]bool, error) {
	base := prefix
	if base != "" && !strings.HasSuffix(base, "/") {
		base += "/"
	}
	s := &execution.ObjectSample{Bucket: bucket, Prefix: prefix, Bound: SampleObjects, StorageClasses: map[string]int64{}}
	keys := map[string]bool{}
	queue := []string{base}
	var token *string
	for calls := 0; len(queue) > 0; calls++ {
		if calls == SampleCalls || s.Objects >= SampleObjects {
			return s, keys, nil
		}
		in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Delimiter: aws.String("/"), ExpectedBucketOwner: aws.String(owner),
			MaxKeys: aws.Int32(int32(min(1000, SampleObjects-s.Objects))), ContinuationToken: token}
		if queue[0] != "" {
			in.Prefix = aws.String(queue[0])
		}
		page, err := c.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, nil, err
		}
		for _, o := range page.Contents {
			s.Objects++
			s.Bytes += aws.ToInt64(o.Size)
			class := string(o.StorageClass)
			if class == "" {
				class = string(s3types.ObjectStorageClassStandard)
			}
			s.StorageClasses[class]++
			keys[strings.TrimPrefix(aws.ToString(o.Key), base)] = true
		}
		for _, cp := range page.CommonPrefixes {
			queue = append(queue, aws.ToString(cp.Prefix))
		}
		if aws.ToBool(page.IsTruncated) {
			token = page.NextContinuationToken
			continue
		}
		token, queue = nil, queue[1:]
	}
	s.Complete = true
	return s, keys, nil
}

// bucketReadError turns a failed read of a bucket into the step's error.
func bucketReadError(err error, partition, side, bucket, region, owner, principal, action string) error {
	if p := sourceaccess.BucketError(err, side, bucket, region, owner); p != nil {
		return p
	}
	return awserror.Classify(err, awserror.Call{Principal: principal, Action: action, Resource: policy.BucketArn(partition, bucket)}, awserror.Precondition)
}

func sampleSize(s *execution.ObjectSample) string {
	if s.Complete {
		return fmt.Sprint(s.Objects)
	}
	return fmt.Sprintf("first %d", s.Objects)
}

func formatBytes(n int64, complete bool) string {
	text := execution.FormatBytes(n)
	if !complete {
		text = "at least " + text
	}
	return text
}

// sameJSON reports whether two policy texts are the same once insignificant whitespace
// is removed.
func sameJSON(a, b string) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, []byte(a)) != nil || json.Compact(&cb, []byte(b)) != nil {
		return a == b
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
