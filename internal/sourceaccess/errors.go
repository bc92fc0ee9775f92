package sourceaccess

import (
	"errors"
	"fmt"
	"regexp"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/policy"
)

// AssumeRoleError explains a failed sts:AssumeRole of a role in account A by the function
// role functionRoleArn.
func AssumeRoleError(err error, roleArn, functionRoleArn string) error {
	return awserror.Classify(err, awserror.Call{
		Action: "sts:AssumeRole", Resource: roleArn,
		Grant: fmt.Sprintf("the role %s must exist in account A and trust %s (deploy the source-access stack in account A with the same name prefix, after the destination stack: docs/operate.md, Deploy), and %s needs sts:AssumeRole on it; check source.accountId", roleArn, functionRoleArn, functionRoleArn),
	}, awserror.Precondition)
}

var expectingRegion = regexp.MustCompile(`expecting '([a-z0-9-]+)'`)

// BucketError turns "no such bucket" and "bucket in another region" into a
// PreconditionError naming the bucket and the region; it returns nil for other errors.
func BucketError(err error, side, bucket, region, owner string) error {
	code := awserror.Code(err)
	var noSuchBucket *s3types.NoSuchBucket
	var notFound *s3types.NotFound // HeadBucket's 404
	switch {
	case errors.As(err, &noSuchBucket) || errors.As(err, &notFound) ||
		// The SDK models NoSuchBucket only for a few operations (ListObjects, CreateSession):
		// GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy and GetBucketOwnershipControls
		// return it as a *smithy.GenericAPIError that carries only the code.
		code == "NoSuchBucket" || awserror.StatusCode(err) == 404:
		return &failure.PreconditionError{Message: fmt.Sprintf("%s bucket %s does not exist (looked in account %s, region %s); check %s.bucket", side, bucket, owner, region, side)}
	case code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" || code == "IllegalLocationConstraintException" ||
		awserror.StatusCode(err) == 301 || awserror.StatusCode(err) == 307:
		if code == "AuthorizationHeaderMalformed" && !expectingRegion.MatchString(awserror.Message(err)) {
			return nil
		}
		actual := awserror.Header(err, "X-Amz-Bucket-Region")
		if m := expectingRegion.FindStringSubmatch(awserror.Message(err)); actual == "" && m != nil {
			actual = m[1]
		}
		where := "another region"
		if actual != "" {
			where = "region " + actual
		}
		fix := fmt.Sprintf("set %s.region to the bucket's region", side)
		if side != "source" && side != "destination" {
			// A bucket without a region field of its own (task.report) must be in the
			// region the request gives it.
			fix = fmt.Sprintf("choose a %s bucket in region %s", side, region)
		}
		return &failure.PreconditionError{Message: fmt.Sprintf("%s bucket %s is not in region %s but in %s; %s (S3 said %s: %s)", side, bucket, region, where, fix, code, awserror.Message(err))}
	}
	return nil
}

// MergeError explains why our statements cannot be merged into the source bucket policy.
func MergeError(err error, bucket, accountID string) error {
	var conflict *policy.SidConflictError
	var tooLarge *policy.TooLargeError
	var malformed *policy.MalformedError
	switch {
	case errors.As(err, &conflict):
		return &failure.PreconditionError{Message: fmt.Sprintf("source bucket %s in account %s: %s (or give the migration another migrationId)", bucket, accountID, conflict.Error())}
	case errors.As(err, &tooLarge):
		return &failure.PreconditionError{Message: fmt.Sprintf("the policy of source bucket %s would be %d bytes (without whitespace) with dsmigrate's statements, over S3's limit of %d; remove unused statements from it in account %s, or use a shorter prefix", bucket, tooLarge.Size, tooLarge.Limit, accountID)}
	case errors.As(err, &malformed):
		return &failure.PreconditionError{Message: fmt.Sprintf("the policy of source bucket %s is not a policy document dsmigrate can edit (%v); fix it in account %s", bucket, err, accountID)}
	}
	return &failure.PreconditionError{Message: fmt.Sprintf("cannot add dsmigrate's statements to the policy of source bucket %s: %v", bucket, err)}
}
