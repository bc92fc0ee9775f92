// Package putbucketpolicy is the step that adds our statements to the source bucket policy
// in account A (mode grant) and removes them again at the end (mode revoke). It acts as the
// deployment's policy-writer role in account A (derived from source.accountId and the
// name prefix, never from the request), keeps every other statement exactly, and returns
// the policy it found as a backup.
package putbucketpolicy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/kmsgrant"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

// S3API is what the step calls of the source bucket.
type S3API interface {
	GetBucketPolicy(ctx context.Context, params *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	PutBucketPolicy(ctx context.Context, params *s3.PutBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	DeleteBucketPolicy(ctx context.Context, params *s3.DeleteBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.DeleteBucketPolicyOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Assumer gives an S3 client acting as a role in account A
// (sourceaccess.S3Assumer[S3API] in the Lambda).
type Assumer interface {
	AssumeS3(ctx context.Context, p sourceaccess.Params) (S3API, error)
}

// KMSAssumer gives a KMS client acting as a role in account A
// (sourceaccess.KMSAssumer[kmsgrant.KMSAPI] in the Lambda).
type KMSAssumer interface {
	AssumeKMS(ctx context.Context, p sourceaccess.Params) (kmsgrant.KMSAPI, error)
}

// DefaultGrantSettle is the GrantSettle of the deployed function: KMS grants are
// eventually consistent, "it typically takes less than a few seconds for the change to
// propagate throughout the system" (AWS KMS Developer Guide, "Using a grant token"). The
// grants are made before the bucket policy is written, whose read-back waits
// DefaultSettleDelay, so a first grant normally passes without an extra round.
const DefaultGrantSettle = 10 * time.Second

// Modes of the step.
const (
	ModeGrant  = "grant"
	ModeRevoke = "revoke"
)

// Config is the deployment's part of the step.
type Config struct {
	Home request.Home
	// RolePrefix names the DataSync roles; in mode grant the roles of the input must be
	// exactly <prefix>-<id>-transfer and -config of account B, so the step never grants
	// the source bucket to another principal.
	RolePrefix string
	// LocationsCallerRoleArn is the createlocations function's role, granted s3:ListBucket.
	LocationsCallerRoleArn string
	// SettleDelay is how long the step waits after a write before it reads the policy
	// back: DefaultSettleDelay, longer than WriteWindow, the window within which every
	// dsmigrate writer sends a change after its read (fence.go). A lost update (our
	// statements missing after a grant, back after a revoke) is a TransientError, so the
	// state machine runs the step again, which merges again.
	SettleDelay time.Duration
	// GrantSettle is how old the migration's KMS grants must be before the grant step
	// passes; a younger one is a NotReadyError, which the state machine retries.
	GrantSettle time.Duration
}

// Handler runs the putbucketpolicy step.
type Handler struct {
	Config  Config
	Assumer Assumer
	// KMS creates and revokes the KMS grants on the source keys, as the policy-writer role.
	KMS KMSAssumer
	clk clock // nil: the real clock
}

// Input is the step input; Roles is needed in mode grant only. Grant, in mode revoke, is
// the output of this execution's grant (null when the grant did not complete). Mode
// explain reads only Document and ExecutionArn (explain.go).
type Input struct {
	Mode    string                        `json:"mode"`
	Request request.Request               `json:"request"`
	Roles   *execution.Roles              `json:"roles,omitempty"`
	Grant   *execution.BucketPolicyChange `json:"grant,omitempty"`
	// Document is the whole state document (mode explain).
	Document *execution.Document `json:"document,omitempty"`
	// ExecutionArn is the Step Functions execution's ARN (mode explain).
	ExecutionArn string `json:"executionArn,omitempty"`
}

// Handle grants or revokes. On error it returns exactly one of the failure types.
func (h *Handler) Handle(ctx context.Context, in Input) (*execution.BucketPolicyChange, error) {
	out, err := h.handle(ctx, in)
	if err != nil {
		return nil, awserror.Fail(ctx, "putbucketpolicy", err, "mode", in.Mode, "migrationId", in.Request.MigrationID, "sourceBucket", in.Request.Source.Bucket)
	}
	out.At = h.clock().Now().UTC().Format(time.RFC3339)
	slog.InfoContext(ctx, "source bucket policy done", "mode", out.Mode, "migrationId", in.Request.MigrationID,
		"sourceBucket", out.Bucket, "changed", out.Changed, "deleted", out.Deleted,
		"policyBytesBefore", len(out.PolicyBefore), "policyBytesAfter", len(out.PolicyAfter))
	return out, nil
}

func (h *Handler) handle(ctx context.Context, in Input) (*execution.BucketPolicyChange, error) {
	if err := h.validate(in); err != nil {
		return nil, err
	}
	r := in.Request
	out := &execution.BucketPolicyChange{Mode: in.Mode, Bucket: r.Source.Bucket, StatementIDs: naming.SidsFor(r.MigrationID).All()}
	// Mode revoke does not look at cleanup.revokeBucketPolicy: the state machine decides.
	// After SUCCESS it skips RevokeBucketPolicy when the flag is false (CheckCleanup), so
	// the step runs with the flag false only after a failure, and a failure always revokes.
	b, err := h.openBucket(ctx, r)
	if err != nil {
		return nil, err
	}
	b.readAt = h.clock().Now() // what is written must be built from a read this recent (fence.go)
	existing, err := b.get(ctx)
	if err != nil {
		return nil, err
	}
	out.PolicyBefore, out.PolicyAfter = existing, existing
	if in.Mode == ModeGrant {
		// The KMS grants come first: the policy's read-back wait then counts toward their
		// propagation.
		grants, err := h.ensureGrants(ctx, b, r, in.Roles.TransferRole.Arn)
		if err != nil {
			return nil, err
		}
		res, err := h.grant(ctx, b, in, out)
		if err != nil {
			return nil, err
		}
		res.KMSGrants = grants
		if g := kmsgrant.Young(grants, h.clock().Now(), h.Config.GrantSettle); g != nil {
			return nil, &failure.NotReadyError{Message: fmt.Sprintf(
				"%s was created at %s; KMS grants are eventually consistent, so DataSync's reads could still be refused: retrying", kmsgrant.Describe(*g), g.CreatedAt)}
		}
		return res, nil
	}
	// Both the grants and the statements are removed, each even when the other fails.
	removed, gerr := h.removeGrants(ctx, b, r)
	res, err := h.revoke(ctx, b, r, in.Grant, out)
	if err != nil {
		return nil, err
	}
	if gerr != nil {
		return nil, gerr
	}
	res.KMSGrants = removed
	return res, nil
}

// ensureGrants finds or creates the migration's KMS grant on every source key, as the
// policy-writer role of account A (kmsgrant.Ensure).
func (h *Handler) ensureGrants(ctx context.Context, b *bucket, r request.Request, grantee string) ([]execution.KMSGrant, error) {
	if len(r.Source.KMSKeyArns) == 0 {
		return nil, nil
	}
	c, err := h.kmsClient(ctx, b, r)
	if err != nil {
		return nil, err
	}
	var out []execution.KMSGrant
	for _, key := range r.Source.KMSKeyArns {
		g, err := kmsgrant.Ensure(ctx, c, key, grantee, r.MigrationID, h.clock().Now())
		if err != nil {
			return nil, awserror.Classify(err, awserror.Call{Principal: b.principal, Action: "kms:CreateGrant", Resource: key,
				Grant: fmt.Sprintf("list the key in dsmigrate:sourceKmsKeys and redeploy the source stack, which lets %s create grants on it for this deployment's transfer roles; the key policy must keep the default statement that enables IAM policies in account %s", b.principal, b.owner)}, awserror.Precondition)
		}
		out = append(out, g)
	}
	return out, nil
}

// removeGrants revokes the migration's KMS grants on every source key (kmsgrant.Remove).
// The error lists the grants that may be left.
func (h *Handler) removeGrants(ctx context.Context, b *bucket, r request.Request) ([]execution.KMSGrant, error) {
	if len(r.Source.KMSKeyArns) == 0 {
		return nil, nil
	}
	c, err := h.kmsClient(ctx, b, r)
	if err != nil {
		return nil, err
	}
	grantee := h.roleArn(naming.TransferRoleName(h.Config.RolePrefix, r.MigrationID))
	var out []execution.KMSGrant
	for _, key := range r.Source.KMSKeyArns {
		gone, err := kmsgrant.Remove(ctx, c, key, grantee, r.MigrationID)
		out = append(out, gone...)
		if err != nil {
			return out, awserror.Classify(err, awserror.Call{Principal: b.principal, Action: "kms:RevokeGrant", Resource: key,
				Grant: fmt.Sprintf("KMS grants named %s to %s may be left on key %s: revoke them as an administrator of account %s (aws kms list-grants --key-id %s, then aws kms revoke-grant --key-id %s --grant-id ID)",
					kmsgrant.Name(r.MigrationID), grantee, key, b.owner, key, key)}, awserror.Precondition)
		}
	}
	return out, nil
}

func (h *Handler) kmsClient(ctx context.Context, b *bucket, r request.Request) (kmsgrant.KMSAPI, error) {
	if h.KMS == nil {
		return nil, &failure.PreconditionError{Message: "this putbucketpolicy function has no KMS client; source.kmsKeyArns cannot be granted"}
	}
	c, err := h.KMS.AssumeKMS(ctx, sourceaccess.Params{RoleArn: b.principal, MigrationID: r.MigrationID, Region: r.Source.Region})
	if err != nil {
		return nil, sourceaccess.AssumeRoleError(err, b.principal, h.roleArn(naming.FunctionRoleName(h.Config.RolePrefix, "putbucketpolicy")))
	}
	return c, nil
}

// openBucket assumes the role in account A that edits the source bucket policy.
func (h *Handler) openBucket(ctx context.Context, r request.Request) (*bucket, error) {
	src := r.Source
	writer := naming.DefaultPathRoleArn(h.partition(), src.AccountID, naming.SourcePolicyWriterRoleName(h.Config.RolePrefix))
	c, err := h.Assumer.AssumeS3(ctx, sourceaccess.Params{RoleArn: writer, MigrationID: r.MigrationID, Region: src.Region})
	if err != nil {
		return nil, sourceaccess.AssumeRoleError(err, writer, h.roleArn(naming.FunctionRoleName(h.Config.RolePrefix, "putbucketpolicy")))
	}
	return &bucket{c: c, name: src.Bucket, region: src.Region, owner: src.AccountID, principal: writer, partition: h.partition()}, nil
}

// readBackAfterSettling waits SettleDelay, then reads the policy again.
func (h *Handler) readBackAfterSettling(ctx context.Context, b *bucket) (string, error) {
	if h.Config.SettleDelay > 0 {
		if err := h.clock().Sleep(ctx, h.Config.SettleDelay); err != nil {
			return "", &failure.TransientError{Message: fmt.Sprintf("stopped before reading back the policy of source bucket %s: %v; retry", b.name, err)}
		}
	}
	return b.get(ctx)
}

func (h *Handler) grant(ctx context.Context, b *bucket, in Input, out *execution.BucketPolicyChange) (*execution.BucketPolicyChange, error) {
	r := in.Request
	ours := policy.SourceBucketStatements(b.partition, naming.SidsFor(r.MigrationID), b.name, r.Source.Prefix,
		in.Roles.TransferRole.Arn, h.Config.LocationsCallerRoleArn)
	merged, err := policy.Merge(out.PolicyBefore, ours, h.earlierRoleArns(r.MigrationID)...)
	if err != nil {
		return nil, sourceaccess.MergeError(err, b.name, b.owner)
	}
	if same(merged, out.PolicyBefore) {
		return out, nil
	}
	if err := h.writeWithin(ctx, b, func(ctx context.Context) error { return b.put(ctx, merged) }); err != nil {
		return nil, err
	}
	after, err := h.readBackAfterSettling(ctx, b)
	if err != nil {
		return nil, err
	}
	if _, missing := splitSids(after, out.StatementIDs); len(missing) > 0 {
		return nil, &failure.TransientError{Message: fmt.Sprintf(
			"the policy of source bucket %s was written but reading it back does not show statements %s (another writer may have replaced it); retry", b.name, strings.Join(missing, ", "))}
	}
	out.Changed, out.PolicyAfter = true, after
	return out, nil
}

func (h *Handler) revoke(ctx context.Context, b *bucket, r request.Request, grant, out *execution.BucketPolicyChange) (*execution.BucketPolicyChange, error) {
	// Only statements this migration wrote are removed: one with our Sid but another
	// principal belongs to someone else (another deployment using the same migrationId,
	// or a hand-written copy) and is left alone.
	id := r.MigrationID
	ours := policy.SourceBucketStatements(b.partition, naming.SidsFor(id), b.name, r.Source.Prefix,
		h.roleArn(naming.TransferRoleName(h.Config.RolePrefix, id)), h.Config.LocationsCallerRoleArn)
	result, deleted, err := policy.RevokeOurs(out.PolicyBefore, ours, h.earlierRoleArns(id)...)
	var conflict *policy.SidConflictError
	if errors.As(err, &conflict) {
		return nil, &failure.PreconditionError{Message: fmt.Sprintf(
			"dsmigrate removed nothing from the policy of source bucket %s in account %s: %s. Removing it could cut off someone else's access; if it is a leftover of migration %s from another dsmigrate deployment (another account or role prefix), remove it by hand",
			b.name, b.owner, conflict.Error(), id)}
	}
	if err != nil {
		return nil, sourceaccess.MergeError(err, b.name, b.owner)
	}
	if text, ok := original(grant, b.name, out.PolicyBefore, result, deleted, out.StatementIDs); ok {
		slog.InfoContext(ctx, "putting back the policy text the grant found", "sourceBucket", b.name, "policyBytes", len(text))
		result, deleted = text, text == ""
	}
	switch {
	case deleted:
		if err := h.writeWithin(ctx, b, b.delete); err != nil {
			return nil, err
		}
		out.Changed, out.Deleted, out.PolicyAfter = true, true, ""
	case result == out.PolicyBefore:
		// None of our statements is there: nothing to do.
	default:
		if err := h.writeWithin(ctx, b, func(ctx context.Context) error { return b.put(ctx, result) }); err != nil {
			return nil, err
		}
		out.Changed, out.PolicyAfter = true, result
	}
	if !out.Changed {
		return out, nil
	}
	after, err := h.readBackAfterSettling(ctx, b)
	if err != nil {
		return nil, err
	}
	if left, _ := splitSids(after, out.StatementIDs); len(left) > 0 {
		return nil, &failure.TransientError{Message: fmt.Sprintf(
			"the statements %s were removed from the policy of source bucket %s, but reading it back shows them again (another writer wrote a copy it had read before); retry", strings.Join(left, ", "), b.name)}
	}
	out.PolicyAfter = after
	return out, nil
}

// original returns the policy text the grant found, when writing it back is exactly what
// removing our statements means: the policy is still the text the grant read back after
// its write (nobody changed it since), the grant's backup holds none of our Sids, and it is
// the same policy as result, what the revoke would write otherwise. Then a policy whose
// Statement was a single object, or that had whitespace, comes back as it was written
// instead of as Merge's compact list.
func original(grant *execution.BucketPolicyChange, bucket, current, result string, deleted bool, sids []string) (string, bool) {
	switch {
	case grant == nil || grant.Mode != ModeGrant || !grant.Changed || grant.Bucket != bucket || current != grant.PolicyAfter:
		return "", false
	case grant.PolicyBefore == "":
		return "", deleted
	case deleted:
		return "", false
	}
	if present, _ := splitSids(grant.PolicyBefore, sids); len(present) > 0 || !same(result, grant.PolicyBefore) {
		return "", false
	}
	return grant.PolicyBefore, true
}

func (h *Handler) validate(in Input) error {
	v := &failure.ValidationError{}
	switch in.Mode {
	case ModeGrant:
		id := in.Request.MigrationID
		for _, role := range []struct{ field, got, name string }{
			{"roles.transferRole.arn", roleArn(in.Roles, true), naming.TransferRoleName(h.Config.RolePrefix, id)},
			{"roles.configRole.arn", roleArn(in.Roles, false), naming.ConfigRoleName(h.Config.RolePrefix, id)},
		} {
			want := h.roleArn(role.name)
			if role.got != want {
				v.Add(role.field, "must be %s, the role CreateRoles makes for this migration (got %q)", want, role.got)
			}
		}
	case ModeRevoke:
	default:
		v.Add("mode", "must be %q or %q (got %q)", ModeGrant, ModeRevoke, in.Mode)
	}
	if err := in.Request.Validate(h.Config.Home); err != nil {
		if rv, ok := err.(*failure.ValidationError); ok {
			v.Fields = append(v.Fields, rv.Fields...)
		} else {
			return err
		}
	}
	return v.OrNil()
}

func roleArn(o *execution.Roles, transfer bool) string {
	switch {
	case o == nil:
		return ""
	case transfer:
		return o.TransferRole.Arn
	default:
		return o.ConfigRole.Arn
	}
}

// roleArn is the ARN of a per-migration role of account B (under the deployment's path).
func (h *Handler) roleArn(name string) string {
	return naming.RoleArn(h.partition(), h.Config.Home.AccountID, h.Config.RolePrefix, name)
}

// earlierRoleArns are the principals an earlier version granted under this migration's
// Sids: its statements are still recognized as ours, replaced on grant and removed on revoke.
func (h *Handler) earlierRoleArns(id string) []string {
	return naming.EarlierRoleArns(h.partition(), h.Config.Home.AccountID, h.Config.RolePrefix, id)
}

func (h *Handler) partition() string {
	return h.Config.Home.ARNPartition()
}

// same reports whether two policy texts are the same policy (S3 may return the text it
// stored reformatted).
func same(a, b string) bool {
	if a == b {
		return true
	}
	if a == "" || b == "" {
		return false
	}
	da, err := policy.Parse(a)
	if err != nil {
		return false
	}
	db, err := policy.Parse(b)
	if err != nil {
		return false
	}
	return da.Equivalent(*db)
}

// splitSids splits sids into those the policy text holds and those it lacks (all of
// them when there is no readable policy).
func splitSids(text string, sids []string) (present, missing []string) {
	doc, err := policy.Parse(text)
	for _, sid := range sids {
		if err == nil && slices.ContainsFunc(doc.Statement, func(s policy.Statement) bool { return s.Sid == sid }) {
			present = append(present, sid)
		} else {
			missing = append(missing, sid)
		}
	}
	return present, missing
}

// bucket is the source bucket as the policy-writer role sees it.
type bucket struct {
	c                              S3API
	name, region, owner, principal string
	partition                      string
	readAt                         time.Time // when the policy a change is built from was read
}

func (b *bucket) delete(ctx context.Context) error {
	if _, err := b.c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(b.name), ExpectedBucketOwner: aws.String(b.owner)}); err != nil {
		return b.classify(err, "s3:DeleteBucketPolicy")
	}
	return nil
}

func (b *bucket) get(ctx context.Context) (string, error) {
	out, err := b.c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b.name), ExpectedBucketOwner: aws.String(b.owner)})
	switch {
	case awserror.HasCode(err, "NoSuchBucketPolicy"):
		return "", nil
	case err != nil:
		return "", b.classify(err, "s3:GetBucketPolicy")
	}
	return aws.ToString(out.Policy), nil
}

func (b *bucket) put(ctx context.Context, text string) error {
	_, err := b.c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b.name), Policy: aws.String(text), ExpectedBucketOwner: aws.String(b.owner)})
	switch {
	case err == nil:
		return nil
	case awserror.HasCode(err, "MalformedPolicy") && strings.Contains(strings.ToLower(awserror.Message(err)), "invalid principal") && deletedPrincipal(text) != nil:
		// A deleted user or role, shown by its unique id, never becomes valid: waiting
		// does not help (policy.DeletedPrincipals).
		d := deletedPrincipal(text)
		return &failure.PreconditionError{Message: fmt.Sprintf(
			"S3 refused the policy of source bucket %s: %s; statement %q names %q, the unique id of an IAM user or role deleted since, which S3 does not save: in the bucket's account, remove that principal or replace it with the ARN of an existing one", b.name, awserror.Message(err), d.Sid, d.ID)}
	case awserror.HasCode(err, "MalformedPolicy") && strings.Contains(strings.ToLower(awserror.Message(err)), "invalid principal"):
		return &failure.NotReadyError{Message: fmt.Sprintf(
			"S3 refused the policy of source bucket %s: %s; a role just created in account B is not visible to S3 yet (IAM propagation), retrying", b.name, awserror.Message(err))}
	case awserror.HasCode(err, "MalformedPolicy"):
		return &failure.PreconditionError{Message: fmt.Sprintf("S3 refused the policy dsmigrate built for source bucket %s: %s", b.name, awserror.Message(err))}
	}
	return b.classify(err, "s3:PutBucketPolicy")
}

func (b *bucket) classify(err error, action string) error {
	if p := sourceaccess.BucketError(err, "source", b.name, b.region, b.owner); p != nil {
		return p
	}
	return awserror.Classify(err, awserror.Call{Principal: b.principal, Action: action, Resource: policy.BucketArn(b.partition, b.name)}, awserror.Precondition)
}

// deletedPrincipal returns the first principal of text named by a unique id, or nil.
func deletedPrincipal(text string) *policy.DeletedPrincipal {
	doc, err := policy.Parse(text)
	if err != nil {
		return nil
	}
	if d := doc.DeletedPrincipals(); len(d) > 0 {
		return &d[0]
	}
	return nil
}
