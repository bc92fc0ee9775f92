// Package kmsgrant creates, finds and removes the KMS grants of a migration: one grant per
// customer managed key of account A that the source objects are encrypted with, letting
// the migration's transfer role (in account B) decrypt them while DataSync reads. The
// grant step creates them (Ensure), the revoke step removes them (Remove), and any step
// that must know what a migration left behind lists them (Find) — the name of a grant
// (Name) identifies its migration, so a re-run finds the grant it made instead of making
// a second.
//
// Sources: AWS KMS Developer Guide, "Grants in AWS KMS"
// (https://docs.aws.amazon.com/kms/latest/developerguide/grants.html: "Grants are often
// used for temporary permissions because you can create one, use its permissions, and
// delete it without changing your key policies or IAM policies"; a grantee may be in
// another account), "Using a grant token" (eventual consistency: a new grant "typically
// takes less than a few seconds" to propagate, "in some cases it can take several
// minutes"), and the AWS KMS API Reference for CreateGrant (Name: a retried CreateGrant
// with the same name and parameters returns the existing grant), ListGrants (filter by
// GranteePrincipal) and RevokeGrant.
package kmsgrant

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
)

// KMSAPI is what the package calls of KMS, in the key's account.
type KMSAPI interface {
	CreateGrant(ctx context.Context, params *kms.CreateGrantInput, optFns ...func(*kms.Options)) (*kms.CreateGrantOutput, error)
	ListGrants(ctx context.Context, params *kms.ListGrantsInput, optFns ...func(*kms.Options)) (*kms.ListGrantsOutput, error)
	RevokeGrant(ctx context.Context, params *kms.RevokeGrantInput, optFns ...func(*kms.Options)) (*kms.RevokeGrantOutput, error)
}

var _ KMSAPI = (*kms.Client)(nil)

// Operations are what a migration's grant allows: kms:Decrypt only. DataSync reads the
// source through S3 as the transfer role, and S3 needs kms:Decrypt on the object's key for
// a GetObject of an SSE-KMS object (S3 User Guide, "Using server-side encryption with AWS
// KMS keys (SSE-KMS)": downloading needs kms:Decrypt; uploading needs
// kms:GenerateDataKey, which the source side never does). DescribeKey is not needed: S3,
// not the role, reads the key's metadata.
var Operations = []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}

// OperationNames are Operations as strings (for IAM conditions on kms:GrantOperations).
func OperationNames() []string {
	out := make([]string, len(Operations))
	for i, op := range Operations {
		out[i] = string(op)
	}
	return out
}

// Name is the name of a migration's grants: "dsmigrate-<migrationId>" (KMS allows 1-256
// characters of [a-zA-Z0-9:/_-]).
func Name(migrationID string) string { return "dsmigrate-" + migrationID }

// Plan is what Ensure would create for a migration: one grant per key, without ids. A
// plan-only run lists these as "KMS grants that would be created".
func Plan(keyArns []string, grantee, migrationID string) []execution.KMSGrant {
	out := make([]execution.KMSGrant, 0, len(keyArns))
	for _, k := range keyArns {
		out = append(out, execution.KMSGrant{KeyArn: k, Name: Name(migrationID), GranteePrincipal: grantee, Operations: OperationNames()})
	}
	return out
}

// Find lists the grants of key keyArn that carry the migration's name and name grantee as
// grantee principal (normally one; more only if made by hand).
func Find(ctx context.Context, c KMSAPI, keyArn, grantee, migrationID string) ([]execution.KMSGrant, error) {
	var out []execution.KMSGrant
	in := &kms.ListGrantsInput{KeyId: aws.String(keyArn), GranteePrincipal: aws.String(grantee)}
	p := kms.NewListGrantsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range page.Grants {
			if aws.ToString(g.Name) != Name(migrationID) || aws.ToString(g.GranteePrincipal) != grantee {
				continue
			}
			ops := make([]string, len(g.Operations))
			for i, op := range g.Operations {
				ops[i] = string(op)
			}
			slices.Sort(ops)
			kg := execution.KMSGrant{KeyArn: keyArn, GrantID: aws.ToString(g.GrantId), Name: aws.ToString(g.Name),
				GranteePrincipal: grantee, Operations: ops}
			if g.CreationDate != nil {
				kg.CreatedAt = g.CreationDate.UTC().Format(time.RFC3339)
			}
			out = append(out, kg)
		}
	}
	return out, nil
}

// Ensure returns the migration's grant on keyArn, creating it when Find finds none.
// Created is true for a grant made by this call; CreatedAt is then now.
func Ensure(ctx context.Context, c KMSAPI, keyArn, grantee, migrationID string, now time.Time) (execution.KMSGrant, error) {
	found, err := Find(ctx, c, keyArn, grantee, migrationID)
	if err != nil {
		return execution.KMSGrant{}, err
	}
	if len(found) > 0 {
		return found[0], nil
	}
	out, err := c.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(keyArn), GranteePrincipal: aws.String(grantee),
		Operations: Operations, Name: aws.String(Name(migrationID))})
	if err != nil {
		return execution.KMSGrant{}, err
	}
	return execution.KMSGrant{KeyArn: keyArn, GrantID: aws.ToString(out.GrantId), Name: Name(migrationID), GranteePrincipal: grantee,
		Operations: OperationNames(), Created: true, CreatedAt: now.UTC().Format(time.RFC3339)}, nil
}

// Remove revokes every grant Find finds on keyArn and returns them.
func Remove(ctx context.Context, c KMSAPI, keyArn, grantee, migrationID string) ([]execution.KMSGrant, error) {
	found, err := Find(ctx, c, keyArn, grantee, migrationID)
	if err != nil {
		return nil, err
	}
	for i, g := range found {
		if _, err := c.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(keyArn), GrantId: aws.String(g.GrantID)}); err != nil {
			return found[:i], err
		}
	}
	return found, nil
}

// Young returns the grant created most recently less than settle before now (nil when
// every grant is older): KMS may not know it everywhere yet.
func Young(grants []execution.KMSGrant, now time.Time, settle time.Duration) *execution.KMSGrant {
	var young *execution.KMSGrant
	for i := range grants {
		t, err := time.Parse(time.RFC3339, grants[i].CreatedAt)
		if err != nil || now.Sub(t) >= settle {
			continue
		}
		if young == nil || grants[i].CreatedAt > young.CreatedAt {
			young = &grants[i]
		}
	}
	return young
}

// Describe names a grant for messages: "grant <id> (<name>) on key <arn>".
func Describe(g execution.KMSGrant) string {
	return fmt.Sprintf("grant %s (%s) on key %s", g.GrantID, g.Name, g.KeyArn)
}
