package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

// The buckets' default encryption. Sources: DataSync User Guide, "Creating your transfer
// source or destination location for Amazon S3" (server-side encryption: DataSync reads
// and writes SSE-KMS objects across accounts only with a customer managed key named by
// its full ARN; the AWS managed key aws/s3 works only when the roles and the key are in
// one account; SSE-C objects are not supported), AWS Storage Blog "Transfer customer
// managed SSE-KMS encrypted objects across AWS accounts and Regions using AWS DataSync",
// and the AWS KMS Developer Guide, "Default key policy" (the statement that lets IAM
// policies of the key's account allow its use).

// KMSAPI is what preflight reads of a KMS key.
type KMSAPI interface {
	DescribeKey(ctx context.Context, params *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	GetKeyPolicy(ctx context.Context, params *kms.GetKeyPolicyInput, optFns ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
}

var _ KMSAPI = (*kms.Client)(nil)

// KMSAssumer gives a KMS client acting as the read role in account A
// (sourceaccess.KMSAssumer[KMSAPI] in the Lambda).
type KMSAssumer interface {
	AssumeKMS(ctx context.Context, p sourceaccess.Params) (KMSAPI, error)
}

// defaultKey returns the bucket's default encryption: ok false for SSE-S3 (or none), the
// configured key id ("" for aws/s3) otherwise.
func defaultKey(ctx context.Context, c S3API, partition, side, bucket, region, owner, principal string) (keyID string, kmsDefault bool, err error) {
	out, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner)})
	switch {
	case awserror.HasCode(err, "ServerSideEncryptionConfigurationNotFoundError"):
		return "", false, nil
	case err != nil:
		if p := sourceaccess.BucketError(err, side, bucket, region, owner); p != nil {
			return "", false, p
		}
		return "", false, awserror.Classify(err, awserror.Call{Principal: principal, Action: "s3:GetEncryptionConfiguration",
			Resource: policy.BucketArn(partition, bucket)}, awserror.Precondition)
	}
	if out.ServerSideEncryptionConfiguration == nil {
		return "", false, nil
	}
	for _, rule := range out.ServerSideEncryptionConfiguration.Rules {
		d := rule.ApplyServerSideEncryptionByDefault
		if d != nil && strings.HasPrefix(string(d.SSEAlgorithm), "aws:kms") {
			return aws.ToString(d.KMSMasterKeyID), true, nil
		}
	}
	return "", false, nil
}

// isAWSManagedS3 reports whether a configured key id names the AWS managed key aws/s3
// ("" means it too: S3 then uses aws/s3).
func isAWSManagedS3(id string) bool {
	return id == "" || id == "alias/aws/s3" || strings.HasSuffix(id, ":alias/aws/s3")
}

// sourceKeys returns source.kmsKeyArns with the bucket's default key added, or the
// refusal when that key cannot work across accounts.
func (h *Handler) sourceKeys(ctx context.Context, c S3API, r *request.Request, readRole string) ([]string, error) {
	src := r.Source
	partition := h.partition()
	id, isKMS, err := defaultKey(ctx, c, partition, "source", src.Bucket, src.Region, src.AccountID, readRole)
	if err != nil || !isKMS {
		return src.KMSKeyArns, err
	}
	awsManaged := func(arn string) error {
		return &failure.PreconditionError{Message: fmt.Sprintf(
			"source bucket %s is encrypted by default with the AWS managed key aws/s3 (%s), which only principals of account %s can use through S3: DataSync's roles in account %s cannot decrypt its objects, and its key policy cannot be changed. Either re-encrypt the objects with a customer managed key of account %s (set it as the bucket's default encryption, copy the objects over themselves, and list the key in source.kmsKeyArns if the default changes again), or first copy them within account %s to a bucket encrypted with SSE-S3 or a customer managed key, and migrate that bucket",
			src.Bucket, orAlias(arn), src.AccountID, h.Config.Home.AccountID, src.AccountID, src.AccountID)}
	}
	if isAWSManagedS3(id) {
		return nil, awsManaged(id)
	}
	if _, _, account, ok := request.KMSKeyArnParts(id); ok && account != src.AccountID {
		return nil, otherAccountKey(src, id)
	}
	if h.SourceKMS == nil {
		return nil, &failure.PreconditionError{Message: "this preflight function has no KMS client, so it cannot check the default key of source bucket " + src.Bucket}
	}
	kc, err := h.SourceKMS.AssumeKMS(ctx, sourceaccess.Params{RoleArn: readRole, MigrationID: r.MigrationID, Region: src.Region})
	if err != nil {
		return nil, sourceaccess.AssumeRoleError(err, readRole, h.ownRoleArn())
	}
	out, err := kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		return nil, awserror.Classify(err, awserror.Call{Principal: readRole, Action: "kms:DescribeKey", Resource: id,
			Grant: fmt.Sprintf("list the key %s (the default key of source bucket %s) by its full ARN in dsmigrate:sourceKmsKeys and redeploy the source stack", id, src.Bucket)}, awserror.Precondition)
	}
	md := out.KeyMetadata
	arn := aws.ToString(md.Arn)
	switch {
	case md.KeyManager == kmstypes.KeyManagerTypeAws:
		return nil, awsManaged(arn)
	case aws.ToString(md.AWSAccountId) != src.AccountID:
		return nil, otherAccountKey(src, arn)
	case slices.Contains(src.KMSKeyArns, arn):
		return src.KMSKeyArns, nil
	case len(src.KMSKeyArns) >= request.MaxKMSKeyArns:
		return nil, &failure.PreconditionError{Message: fmt.Sprintf("source.kmsKeyArns names %d keys and the default key %s of source bucket %s would be one more; dsmigrate grants at most %d keys per migration: split the migration by prefix",
			len(src.KMSKeyArns), arn, src.Bucket, request.MaxKMSKeyArns)}
	}
	return append(slices.Clone(src.KMSKeyArns), arn), nil
}

func orAlias(arn string) string {
	if arn == "" {
		return "no key id configured, so alias/aws/s3"
	}
	return arn
}

func otherAccountKey(src request.Source, arn string) error {
	return &failure.PreconditionError{Message: fmt.Sprintf(
		"the default key %s of source bucket %s belongs to another account than the bucket's account %s; dsmigrate creates KMS grants only in account %s. Have the key's owner allow the transfer role to decrypt through S3, or re-encrypt the objects with a customer managed key of account %s",
		arn, src.Bucket, src.AccountID, src.AccountID, src.AccountID)}
}

// destinationKey returns the customer managed key the destination bucket's default
// encryption uses ("" for SSE-S3 or aws/s3, which the config role of the same account
// can use through S3), after checking that its key policy lets IAM policies allow its use.
func (h *Handler) destinationKey(ctx context.Context, r *request.Request) (string, error) {
	dst, home := r.Destination, h.Config.Home.AccountID
	id, isKMS, err := defaultKey(ctx, h.S3, h.partition(), "destination", dst.Bucket, dst.Region, home, "")
	if err != nil {
		return "", err
	}
	if !isKMS || isAWSManagedS3(id) {
		if dst.KMSKeyArn != "" {
			return "", &failure.PreconditionError{Message: fmt.Sprintf("destination.kmsKeyArn is %s, but destination bucket %s is not encrypted by default with a customer managed key; leave the field out", dst.KMSKeyArn, dst.Bucket)}
		}
		return "", nil
	}
	if h.KMS == nil {
		return "", &failure.PreconditionError{Message: "this preflight function has no KMS client, so it cannot check the default key of destination bucket " + dst.Bucket}
	}
	call := awserror.Call{Principal: h.ownRoleArn(), Action: "kms:DescribeKey", Resource: id}
	out, err := h.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		return "", awserror.Classify(err, call, awserror.Precondition)
	}
	md := out.KeyMetadata
	arn := aws.ToString(md.Arn)
	switch {
	case md.KeyManager == kmstypes.KeyManagerTypeAws:
		return "", nil
	case aws.ToString(md.AWSAccountId) != home:
		return "", &failure.PreconditionError{Message: fmt.Sprintf("the default key %s of destination bucket %s belongs to another account than %s; dsmigrate lets the config role use keys of account %s only: set a key of account %s as the bucket's default encryption", arn, dst.Bucket, home, home, home)}
	case dst.KMSKeyArn != "" && dst.KMSKeyArn != arn:
		return "", &failure.PreconditionError{Message: fmt.Sprintf("destination.kmsKeyArn is %s, but destination bucket %s is encrypted by default with %s; give that key or leave the field out", dst.KMSKeyArn, dst.Bucket, arn)}
	}
	call.Action = "kms:GetKeyPolicy"
	pol, err := h.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(arn), PolicyName: aws.String("default")})
	if err != nil {
		return "", awserror.Classify(err, call, awserror.Precondition)
	}
	if !delegatesToIAM(aws.ToString(pol.Policy), h.partition(), home) {
		root := "arn:" + h.partition() + ":iam::" + home + ":root"
		return "", &failure.PreconditionError{Message: fmt.Sprintf(
			"the key policy of %s, the default key of destination bucket %s, does not let IAM policies of account %s allow its use, so the config role's policy would not count; add this statement to the key policy (AWS KMS default key policy): {\"Sid\":\"Enable IAM User Permissions\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"%s\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}",
			arn, dst.Bucket, home, root)}
	}
	return arn, nil
}

// delegatesToIAM reports whether a key policy has an Allow statement naming the account
// (its root ARN or id) for kms:GenerateDataKey without conditions.
func delegatesToIAM(text, partition, account string) bool {
	doc, err := policy.Parse(text)
	if err != nil {
		return false
	}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || s.Principal == nil || len(s.Condition) > 0 {
			continue
		}
		named := slices.ContainsFunc(s.Principal.AWS, func(p string) bool {
			return p == account || p == "arn:"+partition+":iam::"+account+":root"
		})
		allows := slices.ContainsFunc(s.Action, func(a string) bool {
			a = strings.ToLower(a)
			return a == "kms:*" || a == "*" || a == "kms:generatedatakey" || a == "kms:generatedatakey*"
		})
		if named && allows {
			return true
		}
	}
	return false
}

// checkReportBucket checks task.report.bucket before anything changes: it must exist in
// account B and in the deployment's region (the record is written there, and DataSync
// uploads the reports as the config role of this region), and its default encryption must
// be one the config role can write with. The config role may use the destination bucket's
// key only (destinationKey), so a report bucket encrypted by default with another
// customer managed key is refused: DataSync's upload would fail with an access denied on
// kms:GenerateDataKey after the transfer.
func (h *Handler) checkReportBucket(ctx context.Context, r *request.Request) error {
	rep, home, region := r.Task.Report, h.Config.Home.AccountID, r.Destination.Region
	if rep == nil {
		return nil
	}
	id, isKMS, err := defaultKey(ctx, h.S3, h.partition(), "task.report", rep.Bucket, region, home, "")
	if err != nil || !isKMS || isAWSManagedS3(id) || rep.Bucket == r.Destination.Bucket {
		return err
	}
	if r.Destination.KMSKeyArn != "" && (id == r.Destination.KMSKeyArn || strings.HasSuffix(r.Destination.KMSKeyArn, ":key/"+id)) {
		return nil
	}
	if h.KMS != nil {
		out, err := h.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
		if err != nil {
			return awserror.Classify(err, awserror.Call{Principal: h.ownRoleArn(), Action: "kms:DescribeKey", Resource: id}, awserror.Precondition)
		}
		if md := out.KeyMetadata; md.KeyManager == kmstypes.KeyManagerTypeAws || aws.ToString(md.Arn) == r.Destination.KMSKeyArn {
			return nil
		}
	}
	return &failure.PreconditionError{Message: fmt.Sprintf("task.report.bucket %s is encrypted by default with the KMS key %s, which DataSync could not use to upload the task reports: the config role may use only the destination bucket's key (%s); report into the destination bucket, into a bucket with SSE-S3, or into one whose default key is the destination's",
		rep.Bucket, id, orNone(r.Destination.KMSKeyArn))}
}

func orNone(keyArn string) string {
	if keyArn == "" {
		return "none: the destination uses SSE-S3 or aws/s3"
	}
	return keyArn
}
