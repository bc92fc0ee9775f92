package localrun

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

// The policy-writer role may create KMS grants on the listed source keys. A holder of
// putbucketpolicy's credentials assumes it and tries to grant a key to a principal of its
// choice (the writer role itself), and to a transfer role with more than kms:Decrypt.
// Without the guard (GrantSourceKeysToTransferRoles without its kms:GranteePrincipal and
// kms:GrantOperations conditions) both succeed; with it, both are refused, and the grant
// dsmigrate makes (a transfer role, Decrypt) is still allowed.
func TestAttackWriterGrantsKeyToItself(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	ctx := testCtx(t)
	key := seedSourceKey(t, env)
	prefix := functionSpec(t, env, "putbucketpolicy").Env["DSMIGRATE_ROLE_PREFIX"]
	writer := sourceRole(t, env, naming.SourcePolicyWriterRoleName(prefix))
	name, doc := policyWithStatement(t, writer, "GrantSourceKeysToTransferRoles")
	fn := functionConfig(t, env, "putbucketpolicy")
	a := &sourceaccess.Assumer{Config: fn, STS: sts.NewFromConfig(fn)}
	c, err := a.KMS(ctx, sourceaccess.Params{RoleArn: writer.Arn, MigrationID: "attack", Region: env.Region})
	if err != nil {
		t.Fatal(err)
	}
	transfer := naming.RoleArn("aws", env.Destination.AccountID, prefix, naming.TransferRoleName(prefix, "attack"))
	grant := func(grantee string, ops ...kmstypes.GrantOperation) error {
		out, err := c.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(grantee), Operations: ops})
		if err == nil {
			// A's administrator takes it back, so that each attempt starts from no grant.
			if _, rerr := env.Source.KMS.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(key), GrantId: out.GrantId}); rerr != nil {
				t.Fatal(rerr)
			}
		}
		return err
	}
	attacks := []struct {
		name    string
		grantee string
		ops     []kmstypes.GrantOperation
	}{
		{"to the writer role itself", writer.Arn, []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}},
		{"more than Decrypt to a transfer role", transfer, []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt, kmstypes.GrantOperationCreateGrant}},
	}

	// Without the guard.
	open, _ := editStatement(t, doc, "GrantSourceKeysToTransferRoles", func(st map[string]any) { delete(st, "Condition") })
	putRolePolicy(t, env.Source.IAM, writer.Name, name, open)
	for _, at := range attacks {
		if err := grant(at.grantee, at.ops...); err != nil {
			t.Fatalf("without the guard: a grant %s got %v, want it made (else the test cannot show the guard works)", at.name, err)
		}
	}

	// With the guard.
	putRolePolicy(t, env.Source.IAM, writer.Name, name, doc)
	for _, at := range attacks {
		if err := grant(at.grantee, at.ops...); !isAccessDenied(err) {
			t.Errorf("a grant %s: got %v, want AccessDeniedException", at.name, err)
		}
	}
	if err := grant(transfer, kmstypes.GrantOperationDecrypt); err != nil {
		t.Errorf("dsmigrate's own grant (Decrypt to a transfer role): got %v, want it made", err)
	}
}
