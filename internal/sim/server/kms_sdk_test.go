package server

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestKMSGrantsAndSSEKMSObjects drives KMS and S3 with the SDK's clients: a key of A with
// the default key policy, an SSE-KMS bucket of A that B's admin may read by bucket policy,
// and a grant that lets B's admin decrypt until it is revoked.
func TestKMSGrantsAndSSEKMSObjects(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	cfgA := awsCfg(inst, "AKIAADMINA", "sa", "", "us-east-1")
	cfgB := awsCfg(inst, "AKIAADMINB", "sb", "", "us-east-1")
	kmsA, kmsB := kms.NewFromConfig(cfgA), kms.NewFromConfig(cfgB)
	s3A := s3.NewFromConfig(cfgA, func(o *s3.Options) { o.UsePathStyle = true })
	s3B := s3.NewFromConfig(cfgB, func(o *s3.Options) { o.UsePathStyle = true })

	key, err := kmsA.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("source key")})
	if err != nil {
		t.Fatal(err)
	}
	keyArn := aws.ToString(key.KeyMetadata.Arn)
	if got := key.KeyMetadata.KeyManager; got != kmstypes.KeyManagerTypeCustomer {
		t.Errorf("got key manager %s, want CUSTOMER", got)
	}
	pol, err := kmsA.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(keyArn)})
	if err != nil || !strings.Contains(aws.ToString(pol.Policy), "Enable IAM User Permissions") {
		t.Fatalf("got key policy %v (%v), want the default statement", aws.ToString(pol.Policy), err)
	}
	if _, err := s3A.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("kms-src")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3A.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("kms-src"),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(keyArn)}}}}}); err != nil {
		t.Fatal(err)
	}
	enc, err := s3A.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("kms-src")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID); got != keyArn {
		t.Errorf("got default key %q, want %q", got, keyArn)
	}
	put, err := s3A.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("kms-src"), Key: aws.String("a.txt"), Body: strings.NewReader("secret")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(put.SSEKMSKeyId); got != keyArn {
		t.Errorf("got object key %q, want %q", got, keyArn)
	}
	if _, err := s3A.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("kms-src"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Sid":"B","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/admin"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::kms-src/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	read := func() error {
		out, err := s3B.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("kms-src"), Key: aws.String("a.txt")})
		if err == nil {
			body, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if string(body) != "secret" {
				t.Errorf("got body %q, want secret", body)
			}
		}
		return err
	}
	if err := read(); apiCode(err) != "AccessDenied" || !strings.Contains(apiMessage(err), "kms:Decrypt") || !strings.Contains(apiMessage(err), keyArn) {
		t.Fatalf("got %v before the grant, want AccessDenied naming kms:Decrypt and the key", err)
	}
	if _, err := kmsB.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(keyArn), GranteePrincipal: aws.String("arn:aws:iam::222222222222:user/admin"),
		Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}}); apiCode(err) != "AccessDeniedException" {
		t.Errorf("got %v for B's CreateGrant on A's key, want AccessDeniedException", err)
	}
	grant := func() string {
		g, err := kmsA.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: aws.String(keyArn), Name: aws.String("dsmigrate-m1"),
			GranteePrincipal: aws.String("arn:aws:iam::222222222222:user/admin"), Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(g.GrantId)
	}
	id := grant()
	if again := grant(); again != id {
		t.Errorf("got grant %s on a retry with the same name, want %s", again, id)
	}
	if err := read(); err != nil {
		t.Fatalf("got %v with the grant, want the object", err)
	}
	list, err := kmsA.ListGrants(ctx, &kms.ListGrantsInput{KeyId: aws.String(keyArn)})
	if err != nil || len(list.Grants) != 1 || aws.ToString(list.Grants[0].Name) != "dsmigrate-m1" {
		t.Fatalf("got grants %+v (%v), want the one named dsmigrate-m1", list, err)
	}
	if _, err := kmsA.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(keyArn), GrantId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if err := read(); apiCode(err) != "AccessDenied" {
		t.Fatalf("got %v after the revoke, want AccessDenied", err)
	}

	// The AWS managed key aws/s3 serves its own account only.
	if _, err := s3A.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("kms-src"), Key: aws.String("b.txt"), Body: strings.NewReader("x"),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3A.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("kms-src"), Key: aws.String("b.txt")}); err != nil {
		t.Errorf("got %v reading an aws/s3 object in its account, want it", err)
	}
	if _, err := s3B.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("kms-src"), Key: aws.String("b.txt")}); apiCode(err) != "AccessDenied" {
		t.Errorf("got %v reading an aws/s3 object from B, want AccessDenied", err)
	}
}
