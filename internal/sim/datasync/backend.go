// Package datasync simulates the AWS DataSync API (JSON 1.1, X-Amz-Target FmrsService.*)
// on top of the simulator's IAM, STS and S3 model, which it reaches through Backend.
//
// The server (internal/sim, H5) identifies the caller from the SigV4 signature and hands
// each DataSync request to Service.Handle (or Service.ServeHTTPAs). Everything DataSync
// does against S3 and IAM goes through Backend, so it is authorized exactly like the
// corresponding S3/IAM API call.
package datasync

import (
	"context"
	"io"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// Backend is what the DataSync service needs from the rest of the simulator.
//
// Errors: every error that models an AWS error must implement APIError (ErrorCode,
// ErrorMessage), like smithy.APIError, with the S3/STS code AWS would return:
// "AccessDenied", "NoSuchBucket", "NoSuchKey", ... Any other error is treated as an
// internal fault.
type Backend interface {
	// Now is the simulator clock (role creation times are compared with it).
	Now() time.Time
	// Settings returns the current tunables (they can change at run time through
	// POST /_sim/settings, so they are read on every use).
	Settings() Settings

	// Role looks up an IAM role by ARN (identity.Role: AccountID, trust policy,
	// CreateDate, inline policies).
	Role(roleArn string) (identity.Role, bool)

	// Authorize evaluates p's identity policies and, for S3 resources
	// (arn:aws:s3:::bucket[/key]), the bucket policy, with the same rules as the real
	// API call of action on resource (same account: identity OR resource policy allows;
	// cross-account: both; explicit Deny wins). cond holds request-specific condition
	// keys (e.g. "iam:PassedToService"); the backend adds the global ones it knows
	// (aws:PrincipalArn, aws:PrincipalAccount, ...). Returns nil or an APIError with
	// code "AccessDenied" (*identity.AccessDeniedError).
	Authorize(ctx context.Context, p identity.Principal, action, resource string, cond identity.Context) error

	// AssumeRoleAsService is sts:AssumeRole performed by an AWS service principal
	// (servicePrincipal = "datasync.amazonaws.com") on behalf of a customer: the role's
	// trust policy must allow Principal {"Service": servicePrincipal} sts:AssumeRole with
	// cond (DataSync passes aws:SourceAccount and aws:SourceArn). On success it returns
	// the session principal arn:aws:sts::ACCT:assumed-role/ROLE/SESSION carrying the
	// role's permissions. A trust failure is an APIError "AccessDenied".
	// The propagation delay is NOT applied here; Service checks Role.CreateDate itself.
	AssumeRoleAsService(ctx context.Context, roleArn, servicePrincipal, sessionName string, cond identity.Context) (identity.Principal, error)

	// Bucket looks up a bucket by name (no authorization).
	Bucket(name string) (BucketInfo, bool)

	// Object operations, each performed as p and authorized exactly like the S3 API call
	// (s3:ListBucket on the bucket ARN with s3:prefix; s3:GetObject / s3:PutObject /
	// s3:DeleteObject on the object ARN; HeadObject needs s3:GetObject).

	// ListObjects lists keys with prefix in lexicographic order, strictly after
	// startAfter, at most max (<=0: backend default, e.g. 1000). truncated reports
	// whether more keys follow.
	ListObjects(ctx context.Context, p identity.Principal, bucket, prefix, startAfter string, max int) (objs []ObjectInfo, truncated bool, err error)
	HeadObject(ctx context.Context, p identity.Principal, bucket, key string) (ObjectInfo, error)
	// GetObject streams the body; the caller closes it.
	GetObject(ctx context.Context, p identity.Principal, bucket, key string) (io.ReadCloser, ObjectInfo, error)
	// PutObject stores exactly size bytes read from r (streamed, never buffered whole).
	PutObject(ctx context.Context, p identity.Principal, bucket, key string, r io.Reader, size int64, meta ObjectMeta) (ObjectInfo, error)
	DeleteObject(ctx context.Context, p identity.Principal, bucket, key string) error
}

// APIError is an AWS-style error (same method set as smithy.APIError's first two).
type APIError interface {
	error
	ErrorCode() string
	ErrorMessage() string
}

// Settings are the simulator tunables that DataSync uses.
type Settings struct {
	// Region of the simulated endpoint (DataSync ARNs are built with it).
	Region string
	// PropagationDelay: a role younger than this cannot be assumed by DataSync yet
	// ("Unable to assume role"), modelling IAM eventual consistency.
	PropagationDelay time.Duration
	// TimeScale multiplies the simulated length of every execution phase (launching,
	// preparing, verifying ...). 1 = AWS-like seconds, 0 = as fast as possible,
	// 0.01 = 100x faster.
	TimeScale float64
	// TransferBytesPerSecond throttles every running execution's copy (0 = unlimited).
	TransferBytesPerSecond int64
}

// BucketInfo is an S3 bucket as DataSync sees it.
type BucketInfo struct {
	Name      string
	AccountID string // owner
	Region    string
	Ownership string // BucketOwnerEnforced | BucketOwnerPreferred | ObjectWriter
}

// ObjectInfo is an object's metadata.
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string // quoted, as S3 returns it
	LastModified time.Time
	StorageClass string
	ContentType  string
	Metadata     map[string]string // user metadata (x-amz-meta-*), keys lower case
}

// ObjectMeta is what DataSync sets when it writes an object.
type ObjectMeta struct {
	ContentType  string
	StorageClass string
	Metadata     map[string]string
}
