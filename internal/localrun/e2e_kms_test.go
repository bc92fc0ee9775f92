package localrun

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/execution"
)

// sourceKeyID is the id of the customer managed key of account A that cdk.json lists in
// dsmigrate:sourceKmsKeys: the source stack lets the policy-writer role grant that key
// only, so the tests seed it with this id.
const sourceKeyID = "0a5e0000-0000-4000-8000-000000000001"

// seedSourceKey creates the listed key in account A with the default key policy.
func seedSourceKey(t *testing.T, env *Environment) string {
	t.Helper()
	var out struct {
		Arn string `json:"arn"`
	}
	if err := env.Sim.admin(testCtx(t), http.MethodPost, "kms/keys", map[string]any{"accountId": env.Source.AccountID, "keyId": sourceKeyID,
		"description": "source objects"}, &out); err != nil {
		t.Fatal(err)
	}
	return out.Arn
}

// kmsDefault gives a bucket SSE-KMS default encryption with keyID ("" = aws/s3).
func kmsDefault(t *testing.T, c *s3.Client, bucket, keyID string) {
	t.Helper()
	d := &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms}
	if keyID != "" {
		d.KMSMasterKeyID = aws.String(keyID)
	}
	if _, err := c.PutBucketEncryption(testCtx(t), &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: d}}}}); err != nil {
		t.Fatal(err)
	}
}

// seedEncrypted creates both buckets, gives the source its default key (srcKey, "" for
// aws/s3) before the objects go in, so they are encrypted with it, and returns the names.
func seedEncrypted(t *testing.T, env *Environment, srcKey string, objs []SampleObject) (src, dst string) {
	t.Helper()
	ctx := testCtx(t)
	src, dst, err := env.DefaultBuckets()
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateBucket(ctx, env.Source.S3, src, env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
		t.Fatal(err)
	}
	if err := CreateBucket(ctx, env.Destination.S3, dst, env.Region, s3types.ObjectOwnershipBucketOwnerEnforced); err != nil {
		t.Fatal(err)
	}
	kmsDefault(t, env.Source.S3, src, srcKey)
	if err := Upload(ctx, env.Source.S3, src, objs); err != nil {
		t.Fatal(err)
	}
	return src, dst
}

// grantsOn lists the grants of a key as A's administrator.
func grantsOn(t *testing.T, env *Environment, keyArn string) []string {
	t.Helper()
	out, err := env.Source.KMS.ListGrants(testCtx(t), &kms.ListGrantsInput{KeyId: aws.String(keyArn)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, g := range out.Grants {
		ids = append(ids, aws.ToString(g.GrantId)+" "+aws.ToString(g.Name))
	}
	return ids
}

// grantStep decodes what PutBucketPolicy wrote to $.grant.
func grantStep(t *testing.T, res *Result) execution.BucketPolicyChange {
	t.Helper()
	var doc execution.Document
	if err := json.Unmarshal(res.StateOutput("PutBucketPolicy"), &doc); err != nil || doc.Grant == nil {
		t.Fatalf("no $.grant in PutBucketPolicy's output (%v): %s", err, res.StateOutput("PutBucketPolicy"))
	}
	return *doc.Grant
}

func mustCopyExactly(t *testing.T, env *Environment, src, dst string) {
	t.Helper()
	v, err := Verify(testCtx(t), env.Source.S3, env.Destination.S3, src, "", dst, "")
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() {
		t.Fatalf("got missing %v, mismatched %v, want every object copied byte for byte", v.Missing, v.Mismatched)
	}
}

// TestE2EKMSSourceKeyOfA: a source bucket encrypted by default with a customer managed key
// of A. Preflight adds the key, the grant step gives the transfer role a KMS grant on it,
// DataSync decrypts through S3, every object arrives byte for byte, the execution output
// lists the grant, and the revoke leaves no grant on the key.
func TestE2EKMSSourceKeyOfA(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	key := seedSourceKey(t, env)
	src, dst := seedEncrypted(t, env, key, smallObjects(41, 4, ""))
	res := run(t, env, env.NewRequest("kms-cmk", src, "", dst, ""), "kms-cmk")
	mustSucceed(t, res)
	mustCopyExactly(t, env, src, dst)
	g := grantStep(t, res)
	if len(g.KMSGrants) != 1 || g.KMSGrants[0].KeyArn != key || !g.KMSGrants[0].Created || strings.Join(g.KMSGrants[0].Operations, ",") != "Decrypt" {
		t.Errorf("got grants %+v, want one Decrypt grant created on %s", g.KMSGrants, key)
	}
	if !strings.Contains(string(res.Output), `"kmsGrants"`) || !strings.Contains(string(res.Output), g.KMSGrants[0].GrantID) {
		t.Errorf("the execution output does not list the grant %s: %s", g.KMSGrants[0].GrantID, res.Output)
	}
	if left := grantsOn(t, env, key); len(left) != 0 {
		t.Errorf("got grants %v left on %s, want none", left, key)
	}
}

// TestE2EKMSRerunFindsTheGrant: a migration that keeps its grant (a standing grant the
// deployment allows), then a re-run of the same migration: the re-run finds the grant by
// its name instead of creating a second, and its revoke removes it.
func TestE2EKMSRerunFindsTheGrant(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{FunctionEnv: map[string]map[string]string{
		"preflight": {"DSMIGRATE_ALLOW_STANDING_GRANT": "true"},
		"starttask": {"DSMIGRATE_ALLOW_STANDING_GRANT": "true"},
	}})
	key := seedSourceKey(t, env)
	src, dst := seedEncrypted(t, env, key, smallObjects(42, 3, ""))
	keep := false
	first := env.NewRequest("kms-rerun", src, "", dst, "")
	first.Cleanup.RevokeBucketPolicy = &keep
	res1 := run(t, env, first, "kms-rerun-1")
	mustSucceed(t, res1)
	if got := grantsOn(t, env, key); len(got) != 1 {
		t.Fatalf("got grants %v after a run that keeps its grant, want one", got)
	}
	res2 := run(t, env, env.NewRequest("kms-rerun", src, "", dst, ""), "kms-rerun-2")
	mustSucceed(t, res2)
	g1, g2 := grantStep(t, res1), grantStep(t, res2)
	if len(g2.KMSGrants) != 1 || g2.KMSGrants[0].Created || g2.KMSGrants[0].GrantID != g1.KMSGrants[0].GrantID {
		t.Errorf("got grants %+v on the re-run, want grant %s found again, not created", g2.KMSGrants, g1.KMSGrants[0].GrantID)
	}
	if left := grantsOn(t, env, key); len(left) != 0 {
		t.Errorf("got grants %v left after the re-run's revoke, want none", left)
	}
	mustCopyExactly(t, env, src, dst)
}

// TestE2EKMSAWSManagedSourceKey: a source bucket encrypted with aws/s3 cannot be read
// from another account; Preflight refuses with the two ways out, before any change.
func TestE2EKMSAWSManagedSourceKey(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seedEncrypted(t, env, "", smallObjects(43, 2, ""))
	res := run(t, env, env.NewRequest("kms-aws-s3", src, "", dst, ""), "kms-aws-s3")
	if res.Succeeded || res.Error != "PreconditionError" {
		t.Fatalf("got succeeded=%v error %q, want PreconditionError", res.Succeeded, res.Error)
	}
	if f := res.TaskFailures(""); len(f) == 0 || f[0].State != "Preflight" {
		t.Errorf("got task failures %v, want Preflight's", f)
	}
	for _, want := range []string{"aws/s3", src, "customer managed key", "copy them within account " + env.Source.AccountID} {
		if !strings.Contains(res.Cause, want) {
			t.Errorf("cause lacks %q: %s", want, res.Cause)
		}
	}
	if p := policy(t, env.Source.S3, src); p != "" {
		t.Errorf("got source policy %s, want none: nothing may change", p)
	}
	st, err := env.Sim.State(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Roles {
		if strings.Contains(r.Name, "kms-aws-s3") {
			t.Errorf("got role %s, want no role created", r.Arn)
		}
	}
}

// TestE2EKMSGrantRevokedMidTransfer: A's administrator revokes the migration's grant while
// DataSync copies. The reads that follow are refused by KMS, and the execution fails with
// a TransferFailedError whose cause names kms:Decrypt and the key.
func TestE2EKMSGrantRevokedMidTransfer(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{WaitScale: 0.02})
	key := seedSourceKey(t, env)
	// More objects than DataSync copies at once, so that some are read after the revoke.
	src, dst := seedEncrypted(t, env, key, smallObjects(44, 12, ""))
	slowTransfer(t, env, 96<<10)
	revoked := injectWhen(t, env, transferring, func(ctx context.Context) error {
		out, err := env.Source.KMS.ListGrants(ctx, &kms.ListGrantsInput{KeyId: aws.String(key)})
		if err != nil {
			return err
		}
		for _, g := range out.Grants {
			if _, err := env.Source.KMS.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(key), GrantId: g.GrantId}); err != nil {
				return err
			}
		}
		return nil
	})
	res := run(t, env, env.NewRequest("kms-revoked", src, "", dst, ""), "kms-revoked")
	if err := <-revoked; err != nil {
		t.Fatal(err)
	}
	if res.Succeeded || res.Error != "TransferFailedError" {
		t.Fatalf("got succeeded=%v error %q, want TransferFailedError", res.Succeeded, res.Error)
	}
	for _, want := range []string{"kms:Decrypt", key} {
		if !strings.Contains(res.Cause, want) {
			t.Errorf("cause lacks %q: %s", want, res.Cause)
		}
	}
}

// TestE2EKMSDestinationKeyOfB: the destination bucket is encrypted by default with a
// customer managed key of B. Preflight records it, the config role may use it through S3,
// and every object is written under it.
func TestE2EKMSDestinationKeyOfB(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(45, 3, ""))
	out, err := env.Destination.KMS.CreateKey(testCtx(t), &kms.CreateKeyInput{Description: aws.String("destination objects")})
	if err != nil {
		t.Fatal(err)
	}
	key := aws.ToString(out.KeyMetadata.Arn)
	kmsDefault(t, env.Destination.S3, dst, key)
	res := run(t, env, env.NewRequest("kms-dest", src, "", dst, ""), "kms-dest")
	mustSucceed(t, res)
	mustCopyExactly(t, env, src, dst)
	keys, err := ListKeys(testCtx(t), env.Destination.S3, dst, "")
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys {
		o, err := env.Destination.S3.GetObject(testCtx(t), &s3.GetObjectInput{Bucket: aws.String(dst), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		o.Body.Close()
		if got := aws.ToString(o.SSEKMSKeyId); o.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || got != key {
			t.Errorf("got %s written with %s %s, want SSE-KMS with %s", k, o.ServerSideEncryption, got, key)
		}
	}
}
