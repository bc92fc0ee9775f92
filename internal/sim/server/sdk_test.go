package server

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/sim/store"
)

const (
	acctA = "111111111111"
	acctB = "222222222222"
)

const testConfig = `{
  "region": "us-east-1",
  "accounts": [
    {"id": "111111111111", "name": "source", "users": [
      {"name": "admin", "accessKeyId": "AKIAADMINA", "secretAccessKey": "sa",
       "policies": [{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}]},
      {"name": "nobody", "accessKeyId": "AKIANOBODYA", "secretAccessKey": "sn", "policies": []}
    ]},
    {"id": "222222222222", "name": "destination", "users": [
      {"name": "admin", "accessKeyId": "AKIAADMINB", "secretAccessKey": "sb",
       "policies": [{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}]},
      {"name": "reader", "accessKeyId": "AKIAREADERB", "secretAccessKey": "sr",
       "policies": [{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}]}
    ]}
  ]
}`

func startSim(t testing.TB) *Instance {
	t.Helper()
	cfg, err := store.ParseConfig([]byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := Start(cfg, Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = inst.Close() })
	return inst
}

func awsCfg(inst *Instance, key, secret, token, region string) aws.Config {
	return aws.Config{Region: region, BaseEndpoint: aws.String(inst.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, token)}
}

func clients(inst *Instance, key, secret, token string) (*iam.Client, *sts.Client, *s3.Client) {
	c := awsCfg(inst, key, secret, token, "us-east-1")
	return iam.NewFromConfig(c), sts.NewFromConfig(c), s3.NewFromConfig(c)
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

const trustDataSync = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"222222222222"}}}]}`

func TestIAMRoleLifecycle(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	iamc, _, _ := clients(inst, "AKIAADMINB", "sb", "")

	out, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("dsm-x-transfer"),
		AssumeRolePolicyDocument: aws.String(trustDataSync),
		Tags:                     []iamtypes.Tag{{Key: aws.String("dsmigrate:migration-id"), Value: aws.String("x")}}})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	if got, want := aws.ToString(out.Role.Arn), "arn:aws:iam::222222222222:role/dsm-x-transfer"; got != want {
		t.Errorf("arn: got %s, want %s", got, want)
	}
	if out.Role.CreateDate == nil || out.Role.CreateDate.IsZero() {
		t.Errorf("CreateDate: got nil/zero")
	}
	_, err = iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("dsm-x-transfer"), AssumeRolePolicyDocument: aws.String(trustDataSync)})
	var exists *iamtypes.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate CreateRole: got %v, want EntityAlreadyExistsException", err)
	}

	got, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("dsm-x-transfer")})
	if err != nil {
		t.Fatal(err)
	}
	raw := aws.ToString(got.Role.AssumeRolePolicyDocument)
	if strings.Contains(raw, "{") {
		t.Errorf("AssumeRolePolicyDocument not URL-encoded: %s", raw)
	}
	if dec, _ := url.QueryUnescape(raw); dec != trustDataSync {
		t.Errorf("decoded trust policy: got %s, want %s", dec, trustDataSync)
	}
	if len(got.Role.Tags) != 1 || aws.ToString(got.Role.Tags[0].Value) != "x" {
		t.Errorf("tags: got %+v", got.Role.Tags)
	}

	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::src"}]}`
	if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("dsm-x-transfer"),
		PolicyName: aws.String("bucket"), PolicyDocument: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	newTrust := strings.Replace(trustDataSync, "222222222222", "111111111111", 1)
	if _, err := iamc.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("dsm-x-transfer"),
		PolicyDocument: aws.String(newTrust)}); err != nil {
		t.Fatal(err)
	}
	got, err = iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("dsm-x-transfer")})
	if err != nil {
		t.Fatal(err)
	}
	if dec, _ := url.QueryUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument)); dec != newTrust {
		t.Errorf("trust policy after UpdateAssumeRolePolicy: got %s, want %s", dec, newTrust)
	}
	_, err = iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("dsm-x-config"),
		PolicyName: aws.String("bucket"), PolicyDocument: aws.String(pol)})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("PutRolePolicy on a missing role: got %v, want NoSuchEntityException", err)
	}
	if want := "The role with name dsm-x-config cannot be found."; apiMessage(err) != want {
		t.Errorf("message: got %q, want %q", apiMessage(err), want)
	}
}

func TestIAMErrors(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	iamc, _, _ := clients(inst, "AKIAADMINB", "sb", "")
	tests := []struct {
		name     string
		trust    string
		wantCode string
		wantMsg  string
	}{
		{"invalid json", "{nope", "MalformedPolicyDocument", ""},
		{"missing principal role", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/ghost"},"Action":"sts:AssumeRole"}]}`,
			"MalformedPolicyDocument", `Invalid principal in policy: "AWS":"arn:aws:iam::222222222222:role/ghost"`},
		{"resource in trust", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}`,
			"MalformedPolicyDocument", "Has prohibited field Resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(tt.trust)})
			var mp *iamtypes.MalformedPolicyDocumentException
			if !errors.As(err, &mp) {
				t.Fatalf("got %v, want MalformedPolicyDocumentException", err)
			}
			if tt.wantMsg != "" && apiMessage(err) != tt.wantMsg {
				t.Errorf("message: got %q, want %q", apiMessage(err), tt.wantMsg)
			}
		})
	}
	// A user without IAM permissions is denied with AWS's long message.
	nobody, _, _ := clients(inst, "AKIANOBODYA", "sn", "")
	_, err := nobody.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("x")})
	want := "User: arn:aws:iam::111111111111:user/nobody is not authorized to perform: iam:GetRole on resource: arn:aws:iam::111111111111:role/x because no identity-based policy allows the iam:GetRole action"
	if apiCode(err) != "AccessDenied" || apiMessage(err) != want {
		t.Errorf("got %q %q, want AccessDenied %q", apiCode(err), apiMessage(err), want)
	}
}

func TestUnknownAccessKey(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	iamc, stsc, s3c := clients(inst, "AKIAUNKNOWN", "x", "")
	if _, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")}); apiCode(err) != "InvalidClientTokenId" {
		t.Errorf("iam: got %v, want InvalidClientTokenId", err)
	}
	in := &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/r"), RoleSessionName: aws.String("s1")}
	if _, err := stsc.AssumeRole(ctx, in); apiCode(err) != "InvalidClientTokenId" {
		t.Errorf("sts: got %v, want InvalidClientTokenId", err)
	}
	if _, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")}); apiCode(err) != "InvalidAccessKeyId" {
		t.Errorf("s3: got %v, want InvalidAccessKeyId", err)
	}
}

func TestAssumeRole(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	iamA, _, _ := clients(inst, "AKIAADMINA", "sa", "")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"dsm-7f3c"}}}]}`
	if _, err := iamA.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("source-access"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamA.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("source-access"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	roleArn := "arn:aws:iam::111111111111:role/source-access"
	tests := []struct {
		name, key, secret, externalID string
		wantErr                       string
	}{
		{"cross account with external id", "AKIAADMINB", "sb", "dsm-7f3c", ""},
		{"without external id", "AKIAADMINB", "sb", "", "AccessDenied"},
		{"wrong external id", "AKIAADMINB", "sb", "other", "AccessDenied"},
		{"caller without sts:AssumeRole permission", "AKIAREADERB", "sr", "dsm-7f3c", "AccessDenied"},
		{"account not trusted", "AKIAADMINA", "sa", "dsm-7f3c", "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stsc, _ := clients(inst, tt.key, tt.secret, "")
			in := &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("dsm")}
			if tt.externalID != "" {
				in.ExternalId = aws.String(tt.externalID)
			}
			out, err := stsc.AssumeRole(ctx, in)
			if tt.wantErr != "" {
				if apiCode(err) != tt.wantErr {
					t.Fatalf("got %v, want %s", err, tt.wantErr)
				}
				if !strings.Contains(apiMessage(err), "is not authorized to perform: sts:AssumeRole on resource: "+roleArn) {
					t.Errorf("message: got %q", apiMessage(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := "arn:aws:sts::111111111111:assumed-role/source-access/dsm"
			if got := aws.ToString(out.AssumedRoleUser.Arn); got != want {
				t.Errorf("AssumedRoleUser.Arn: got %s, want %s", got, want)
			}
			c := out.Credentials
			sessIAM, sessSTS, sessS3 := clients(inst, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
			id, err := sessSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil || aws.ToString(id.Arn) != want || aws.ToString(id.Account) != acctA {
				t.Errorf("GetCallerIdentity as session: got %+v %v, want %s in %s", id, err, want, acctA)
			}
			// The session is the caller of its requests: the role allows no IAM call, and
			// the denial names the session.
			_, err = sessIAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("source-access")})
			if apiCode(err) != "AccessDenied" || !strings.HasPrefix(apiMessage(err), "User: "+want+" is not authorized to perform: iam:GetRole") {
				t.Errorf("GetRole as session: got %q %q, want AccessDenied for %s", apiCode(err), apiMessage(err), want)
			}
			// The session acts with the role's permissions in account A.
			if _, err := sessS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("made-by-session")}); err != nil {
				t.Errorf("CreateBucket as session: %v", err)
			}
			// A wrong session token is refused.
			badIAM, _, _ := clients(inst, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "bogus")
			if _, err := badIAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("source-access")}); apiCode(err) != "InvalidClientTokenId" {
				t.Errorf("bad token: got %v, want InvalidClientTokenId", err)
			}
		})
	}
}

func TestS3ObjectsAndListing(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	_, _, s3c := clients(inst, "AKIAADMINA", "sa", "")
	mustCreateBucket(t, s3c, "src")
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("src")})
	if err != nil {
		t.Errorf("re-create in us-east-1 by owner: got %v, want nil", err)
	}
	keys := []string{"a.txt", "photos/2026/1.jpg", "photos/2026/2.jpg", "photos/2025/1.jpg", "photos/x.jpg", "z/deep/k"}
	for _, k := range keys {
		body := []byte("body of " + k)
		out, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String(k), Body: bytes.NewReader(body),
			Metadata: map[string]string{"origin": "test"}})
		if err != nil {
			t.Fatalf("PutObject %s: %v", k, err)
		}
		sum := md5.Sum(body)
		if want := `"` + hex.EncodeToString(sum[:]) + `"`; aws.ToString(out.ETag) != want {
			t.Errorf("ETag: got %s, want %s", aws.ToString(out.ETag), want)
		}
	}
	get, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("src"), Key: aws.String("photos/x.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(get.Body)
	get.Body.Close()
	if string(b) != "body of photos/x.jpg" || get.Metadata["origin"] != "test" {
		t.Errorf("GetObject: got %q %v", b, get.Metadata)
	}

	// Delimiter listing.
	lo, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("src"), Prefix: aws.String("photos/"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	var gotKeys, gotPrefixes []string
	for _, o := range lo.Contents {
		gotKeys = append(gotKeys, aws.ToString(o.Key))
	}
	for _, p := range lo.CommonPrefixes {
		gotPrefixes = append(gotPrefixes, aws.ToString(p.Prefix))
	}
	if fmt.Sprint(gotKeys) != "[photos/x.jpg]" || fmt.Sprint(gotPrefixes) != "[photos/2025/ photos/2026/]" {
		t.Errorf("delimiter listing: got keys %v prefixes %v", gotKeys, gotPrefixes)
	}
	// Pagination with max-keys 2 through the SDK paginator.
	p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String("src"), MaxKeys: aws.Int32(2)})
	var all []string
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range page.Contents {
			all = append(all, aws.ToString(o.Key))
		}
	}
	want := "[a.txt photos/2025/1.jpg photos/2026/1.jpg photos/2026/2.jpg photos/x.jpg z/deep/k]"
	if fmt.Sprint(all) != want || pages != 3 {
		t.Errorf("paginated: got %v in %d pages, want %s in 3", all, pages, want)
	}

	_, err = s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("src"), Key: aws.String("missing")})
	var nsk *s3types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("GetObject missing: got %v, want NoSuchKey", err)
	}
	_, err = s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nope")})
	var nsb *s3types.NoSuchBucket
	if !errors.As(err, &nsb) {
		t.Errorf("ListObjectsV2 missing bucket: got %v, want NoSuchBucket", err)
	}

	// Buckets in another region: the location constraint must match the signing region.
	euC := s3.NewFromConfig(awsCfg(inst, "AKIAADMINA", "sa", "", "eu-west-1"))
	if _, err := euC.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("eu-bucket"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}}); err != nil {
		t.Fatal(err)
	}
	// A request signed for another region than the bucket's is redirected.
	if _, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("eu-bucket")}); apiCode(err) != "PermanentRedirect" {
		t.Errorf("ListObjectsV2 signed for us-east-1 on an eu-west-1 bucket: got %v, want PermanentRedirect", err)
	}
	if _, err := euC.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("eu-bucket")}); err != nil {
		t.Errorf("ListObjectsV2 signed for eu-west-1: %v", err)
	}
	if _, err := euC.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("no-constraint")}); apiCode(err) != "IllegalLocationConstraintException" {
		t.Errorf("CreateBucket without constraint in eu-west-1: got %v", err)
	}
}

func TestBucketPolicyValidation(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	_, _, s3c := clients(inst, "AKIAADMINA", "sa", "")
	mustCreateBucket(t, s3c, "src")
	_, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("src")})
	if apiCode(err) != "NoSuchBucketPolicy" {
		t.Errorf("GetBucketPolicy none: got %v, want NoSuchBucketPolicy", err)
	}
	stmt := func(sid, principal string) string {
		return `{"Sid":"` + sid + `","Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::src"}`
	}
	big := `{"Version":"2012-10-17","Statement":[` + stmt("A", "222222222222")
	for i := 0; len(big) < 21000; i++ {
		big += "," + stmt(fmt.Sprintf("S%d", i), "222222222222")
	}
	big += "]}"
	tests := []struct {
		name, give, wantMsg string
	}{
		{"not json", "nope", "Policies must be valid JSON and the first byte must be '{'"},
		{"no statements", `{"Version":"2012-10-17","Statement":[]}`, "Could not parse the policy: Statement is empty!"},
		{"duplicate sid", `{"Statement":[` + stmt("A", "222222222222") + "," + stmt("A", "222222222222") + `]}`, "Statement IDs (SID) in a single policy must be unique."},
		{"over 20 KB", big, "Policy exceeds the maximum allowed document size."},
		{"role that does not exist", `{"Statement":[` + stmt("A", "arn:aws:iam::222222222222:role/ghost") + `]}`, "Invalid principal in policy"},
		{"other bucket", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}`, "Policy has invalid resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("src"), Policy: aws.String(tt.give)})
			if apiCode(err) != "MalformedPolicy" || apiMessage(err) != tt.wantMsg {
				t.Errorf("got %q %q, want MalformedPolicy %q", apiCode(err), apiMessage(err), tt.wantMsg)
			}
		})
	}
	good := `{"Version":"2012-10-17","Statement":[` + stmt("DataSyncCreateS3Location", "arn:aws:iam::222222222222:root") + `]}`
	if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("src"), Policy: aws.String(good)}); err != nil {
		t.Fatal(err)
	}
	gp, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("src")})
	if err != nil || aws.ToString(gp.Policy) != good {
		t.Errorf("GetBucketPolicy: got %v %v", gp, err)
	}
	// Only the owner account may read the policy.
	_, _, s3B := clients(inst, "AKIAADMINB", "sb", "")
	if _, err := s3B.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("src")}); err == nil {
		t.Errorf("cross-account GetBucketPolicy: got nil error")
	}
	if _, err := s3c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("src")}); err != nil {
		t.Fatal(err)
	}
}

func TestCrossAccountBucketAccess(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	_, _, s3A := clients(inst, "AKIAADMINA", "sa", "")
	_, _, s3Reader := clients(inst, "AKIAREADERB", "sr", "")
	mustCreateBucket(t, s3A, "src")
	if _, err := s3A.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	_, err := s3Reader.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("src"), Key: aws.String("k")})
	if apiCode(err) != "AccessDenied" || apiMessage(err) != "Access Denied" {
		t.Fatalf("without bucket policy: got %v, want AccessDenied", err)
	}
	pol := `{"Statement":[{"Sid":"R","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/reader"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::src","arn:aws:s3:::src/*"]}]}`
	if _, err := s3A.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("src"), Policy: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	out, err := s3Reader.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("src"), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("with bucket policy: %v", err)
	}
	out.Body.Close()
	if _, err := s3Reader.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("w"), Body: strings.NewReader("v")}); apiCode(err) != "AccessDenied" {
		t.Errorf("PutObject not granted: got %v, want AccessDenied", err)
	}
	// A missing key is NoSuchKey for a caller with s3:ListBucket.
	var nsk *s3types.NoSuchKey
	if _, err := s3Reader.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("src"), Key: aws.String("none")}); !errors.As(err, &nsk) {
		t.Errorf("missing key with ListBucket: got %v, want NoSuchKey", err)
	}

	// ACLs enabled (ObjectWriter): an object written by account B stays B's, so A's
	// bucket policy cannot grant access to it and A itself cannot read it.
	if _, err := s3A.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String("src"),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}}}); err != nil {
		t.Fatal(err)
	}
	oc, err := s3A.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("src")})
	if err != nil || oc.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipObjectWriter {
		t.Fatalf("GetBucketOwnershipControls: got %v %v, want ObjectWriter", oc, err)
	}
	_, _, s3B := clients(inst, "AKIAADMINB", "sb", "")
	writePol := `{"Statement":[{"Sid":"W","Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::src/*"}]}`
	if _, err := s3A.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("src"), Policy: aws.String(writePol)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3B.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("from-b"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3A.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("src"), Key: aws.String("from-b")}); apiCode(err) != "AccessDenied" {
		t.Errorf("bucket owner reading a foreign-owned object: got %v, want AccessDenied", err)
	}
	if _, err := s3A.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String("src"),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}}); err != nil {
		t.Fatal(err)
	}
	oc, err = s3A.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("src")})
	if err != nil || oc.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Fatalf("GetBucketOwnershipControls: %v %v", oc, err)
	}
	if o, err := s3A.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("src"), Key: aws.String("from-b")}); err != nil {
		t.Errorf("with BucketOwnerEnforced the owner reads every object: %v", err)
	} else {
		o.Body.Close()
	}
}

func TestFaults(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	iamc, _, s3c := clients(inst, "AKIAADMINA", "sa", "")
	post := func(path, body string) {
		resp, err := http.Post(inst.URL+path, "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST %s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	post("/_sim/faults", `{"service":"s3","operation":"CreateBucket","count":1,"kind":"throttle"}`)
	post("/_sim/faults", `{"service":"iam","operation":"GetRole","count":2,"kind":"500"}`)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")}); apiCode(err) != "SlowDown" {
		t.Errorf("s3 throttle: got %v, want SlowDown", err)
	}
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")}); err != nil {
		t.Errorf("after the fault: %v", err)
	}
	for i := 0; i < 2; i++ {
		if _, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")}); apiCode(err) != "ServiceFailure" {
			t.Errorf("iam 500 #%d: got %v, want ServiceFailure", i, err)
		}
	}
	var nse *iamtypes.NoSuchEntityException
	if _, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")}); !errors.As(err, &nse) {
		t.Errorf("after the faults: got %v, want NoSuchEntity", err)
	}
	// The SDK's standard retryer rides through a throttle.
	retrying := s3.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(inst.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAADMINA", "sa", "")})
	post("/_sim/faults", `{"service":"s3","operation":"ListObjectsV2","count":1,"kind":"throttle"}`)
	if _, err := retrying.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")}); err != nil {
		t.Errorf("retried ListObjectsV2: %v", err)
	}
}

func TestAdminAPI(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	iamB, _, _ := clients(inst, "AKIAADMINB", "sb", "")
	trust := `{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := iamB.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("fn"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(inst.URL+"/_sim/credentials", "application/json",
		strings.NewReader(`{"roleArn":"arn:aws:iam::222222222222:role/fn","sessionName":"dsmigrate-createroles"}`))
	if err != nil {
		t.Fatal(err)
	}
	var creds struct{ AccessKeyID, SecretAccessKey, SessionToken string }
	_ = json.NewDecoder(resp.Body).Decode(&struct {
		AccessKeyID     *string `json:"accessKeyId"`
		SecretAccessKey *string `json:"secretAccessKey"`
		SessionToken    *string `json:"sessionToken"`
	}{&creds.AccessKeyID, &creds.SecretAccessKey, &creds.SessionToken})
	resp.Body.Close()
	// The credentials act as a session of the role, which may not call IAM: the denial
	// names the session.
	fnIAM, _, _ := clients(inst, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	_, err = fnIAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("fn")})
	if !strings.HasPrefix(apiMessage(err), "User: arn:aws:sts::222222222222:assumed-role/fn/dsmigrate-createroles is not authorized") {
		t.Fatalf("GetRole with admin credentials: got %v, want a denial naming the fn session", err)
	}
	resp, err = http.Get(inst.URL + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Roles []struct {
			Arn string `json:"arn"`
		} `json:"roles"`
		Tasks     json.RawMessage `json:"tasks"`
		Locations json.RawMessage `json:"locations"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&state)
	resp.Body.Close()
	if len(state.Roles) != 1 || state.Roles[0].Arn != "arn:aws:iam::222222222222:role/fn" {
		t.Errorf("state roles: got %+v", state.Roles)
	}
	if state.Tasks == nil || state.Locations == nil {
		t.Errorf("state: want top-level tasks and locations, got %s %s", state.Tasks, state.Locations)
	}
	resp, err = http.Post(inst.URL+"/_sim/settings", "application/json", strings.NewReader(`{"propagationDelaySeconds":30,"transferBytesPerSecond":1.048576e+06}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("settings: %v %v", resp, err)
	}
	resp.Body.Close()
	if got := inst.Store.Settings().PropagationDelay.Seconds(); got != 30 {
		t.Errorf("propagation delay: got %v, want 30", got)
	}
	if got := inst.Store.Settings().TransferBytesPerSecond; got != 1<<20 {
		t.Errorf("transferBytesPerSecond: got %v, want %d", got, 1<<20)
	}
}

func TestStreamingLargeObject(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	_, _, s3c := clients(inst, "AKIAADMINA", "sa", "")
	mustCreateBucket(t, s3c, "big")
	path := filepath.Join(t.TempDir(), "body")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for i := 0; i < 32; i++ {
		chunk[i] = byte(i)
		_, _ = f.Write(chunk)
		h.Write(chunk)
	}
	_, _ = f.Seek(0, 0)
	defer f.Close()
	want := `"` + hex.EncodeToString(h.Sum(nil)) + `"`
	out, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("big"), Key: aws.String("blob"), Body: f})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ETag) != want {
		t.Errorf("ETag: got %s, want %s", aws.ToString(out.ETag), want)
	}
	get, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("big"), Key: aws.String("blob"), Range: aws.String("bytes=0-1048575")})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, get.Body)
	get.Body.Close()
	if n != 1<<20 {
		t.Errorf("ranged GET: got %d bytes, want %d", n, 1<<20)
	}
}

// TestEndpointFromEnvironment checks the way the Lambdas reach the simulator: the SDK's
// standard AWS_ENDPOINT_URL with an IP address uses path-style S3 requests.
func TestEndpointFromEnvironment(t *testing.T) {
	inst := startSim(t)
	t.Setenv("AWS_ENDPOINT_URL", inst.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAADMINB")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "sb")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("env-role"), AssumeRolePolicyDocument: aws.String(trustDataSync)})
	if err != nil || aws.ToString(role.Role.Arn) != "arn:aws:iam::"+acctB+":role/env-role" {
		t.Fatalf("CreateRole as the environment's user: %v %v, want a role in %s", role, err, acctB)
	}
	s3c := s3.NewFromConfig(cfg)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("env-bucket")}); err != nil {
		t.Fatalf("CreateBucket (path-style): %v", err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("env-bucket"), Key: aws.String("dir/k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
}

// TestBucketPolicyNewRolePropagation: a role younger than the propagation delay is an
// "Invalid principal in policy" for S3, as while IAM's change propagates on AWS.
func TestBucketPolicyNewRolePropagation(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	delay := 3600.0
	inst.Store.UpdateSettings(durationPtr(delay), nil, nil)
	iamB, _, _ := clients(inst, "AKIAADMINB", "sb", "")
	_, _, s3A := clients(inst, "AKIAADMINA", "sa", "")
	if _, err := iamB.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("fresh"), AssumeRolePolicyDocument: aws.String(trustDataSync)}); err != nil {
		t.Fatal(err)
	}
	mustCreateBucket(t, s3A, "src")
	pol := `{"Statement":[{"Sid":"R","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/fresh"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::src"}]}`
	_, err := s3A.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("src"), Policy: aws.String(pol)})
	if apiCode(err) != "MalformedPolicy" || apiMessage(err) != "Invalid principal in policy" {
		t.Fatalf("young role: got %v, want MalformedPolicy Invalid principal in policy", err)
	}
	inst.Store.UpdateSettings(durationPtr(0), nil, nil)
	if _, err := s3A.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("src"), Policy: aws.String(pol)}); err != nil {
		t.Fatalf("after propagation: %v", err)
	}
}

func durationPtr(seconds float64) *time.Duration {
	d := time.Duration(seconds * float64(time.Second))
	return &d
}

func TestDataSyncFrontEnd(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	unknown := datasync.NewFromConfig(awsCfg(inst, "AKIAUNKNOWN", "x", "", "us-east-1"))
	if _, err := unknown.ListTasks(ctx, &datasync.ListTasksInput{}); apiCode(err) != "UnrecognizedClientException" {
		t.Errorf("unknown key: got %v, want UnrecognizedClientException", err)
	}
	resp, err := http.Post(inst.URL+"/_sim/faults", "application/json",
		strings.NewReader(`{"service":"datasync","operation":"ListTasks","count":1,"kind":"500"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	dsc := datasync.NewFromConfig(awsCfg(inst, "AKIAADMINB", "sb", "", "us-east-1"))
	_, err = dsc.ListTasks(ctx, &datasync.ListTasksInput{})
	var ie *dstypes.InternalException
	if !errors.As(err, &ie) {
		t.Errorf("500 fault: got %v, want InternalException", err)
	}
	if _, err := dsc.ListTasks(ctx, &datasync.ListTasksInput{}); err != nil {
		t.Errorf("after the fault: %v", err)
	}
}

func TestExpectedBucketOwner(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	_, _, s3c := clients(inst, "AKIAADMINA", "sa", "")
	mustCreateBucket(t, s3c, "bkt")
	if _, err := s3c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("bkt"), ExpectedBucketOwner: aws.String(acctA)}); err != nil {
		t.Errorf("right owner: %v", err)
	}
	_, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("bkt"), ExpectedBucketOwner: aws.String(acctB)})
	if apiCode(err) != "AccessDenied" {
		t.Errorf("wrong owner: got %v, want AccessDenied", err)
	}
}

func TestAwkwardKeys(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	_, _, s3c := clients(inst, "AKIAADMINA", "sa", "")
	mustCreateBucket(t, s3c, "bkt")
	keys := []string{"dir/file with space+plus&amp?.txt", "日本語/ファイル.jpg", "a//double", "percent%2Fslash", "trailing/"}
	for _, k := range keys {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatalf("PutObject %q: %v", k, err)
		}
		out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("GetObject %q: %v", k, err)
		}
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(b) != k {
			t.Errorf("GetObject %q: got body %q", k, b)
		}
	}
	lo, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), EncodingType: s3types.EncodingTypeUrl})
	if err != nil {
		t.Fatal(err)
	}
	if len(lo.Contents) != len(keys) {
		t.Fatalf("listed %d keys, want %d", len(lo.Contents), len(keys))
	}
	// aws-sdk-go-v2 does not decode EncodingType=url listings; the caller does, with
	// form decoding (S3 encodes a space as "+").
	got := map[string]bool{}
	for _, o := range lo.Contents {
		k, err := url.QueryUnescape(aws.ToString(o.Key))
		if err != nil {
			t.Fatal(err)
		}
		got[k] = true
	}
	for _, k := range keys {
		if !got[k] {
			t.Errorf("key %q missing from the url-encoded listing: got %v", k, got)
		}
	}
}

// TestListBucketMaxKeysCondition: s3:max-keys is a request value, present only when the
// request sends max-keys, and compared as a number.
func TestListBucketMaxKeysCondition(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	_, _, s3A := clients(inst, "AKIAADMINA", "sa", "")
	_, _, s3Reader := clients(inst, "AKIAREADERB", "sr", "")
	mustCreateBucket(t, s3A, "src")
	pol := `{"Statement":[{"Sid":"SmallPages","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/reader"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::src",
	  "Condition":{"NumericLessThanEqualsIfExists":{"s3:max-keys":"100"}}}]}`
	if _, err := s3A.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("src"), Policy: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		give    *int32
		wantErr string
	}{
		{"no max-keys: key absent, IfExists holds", nil, ""},
		{"max-keys 50", aws.Int32(50), ""},
		{"max-keys 100", aws.Int32(100), ""},
		{"max-keys 500", aws.Int32(500), "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s3Reader.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("src"), MaxKeys: tt.give})
			if got := apiCode(err); got != tt.wantErr {
				t.Errorf("got error %v, want code %q", err, tt.wantErr)
			}
		})
	}
}

// TestAssumeRoleValidation: STS checks its input constraints before authorizing and
// words them as AWS does.
func TestAssumeRoleValidation(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	_, stsB, _ := clients(inst, "AKIAADMINB", "sb", "")
	roleArn := "arn:aws:iam::111111111111:role/none"
	tests := []struct {
		name     string
		session  string
		external *string
		duration *int32
		want     string
	}{
		{"session name too short", "a", nil, nil,
			"1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{"session name with a space", "my session", nil, nil,
			`1 validation error detected: Value 'my session' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`},
		{"external id too long", "dsm", aws.String(strings.Repeat("x", 1225)), nil,
			"1 validation error detected: Value '" + strings.Repeat("x", 1225) + "' at 'externalId' failed to satisfy constraint: Member must have length less than or equal to 1224"},
		{"empty external id", "dsm", aws.String(""), nil,
			"1 validation error detected: Value '' at 'externalId' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{"duration over 12 hours", "dsm", nil, aws.Int32(50000),
			"1 validation error detected: Value '50000' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"},
		{"two problems", "a", nil, aws.Int32(60),
			"2 validation errors detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2; Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := stsB.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String(tt.session),
				ExternalId: tt.external, DurationSeconds: tt.duration})
			if apiCode(err) != "ValidationError" || apiMessage(err) != tt.want {
				t.Errorf("got %v, want ValidationError %q", err, tt.want)
			}
		})
	}
}

// TestCreateRoleWithTagsNeedsTagRole: tags given to CreateRole also need iam:TagRole.
func TestCreateRoleWithTagsNeedsTagRole(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	iamA, stsA, _ := clients(inst, "AKIAADMINA", "sa", "")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/admin"},"Action":"sts:AssumeRole"}]}`
	if _, err := iamA.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("creator"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamA.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("creator"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Action":"iam:CreateRole","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	out, err := stsA.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/creator"), RoleSessionName: aws.String("creator")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	creator, _, _ := clients(inst, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	tagged := &iam.CreateRoleInput{RoleName: aws.String("tagged"), AssumeRolePolicyDocument: aws.String(trust),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}
	_, err = creator.CreateRole(ctx, tagged)
	if apiCode(err) != "AccessDenied" || !strings.Contains(apiMessage(err), "iam:TagRole on resource: arn:aws:iam::111111111111:role/tagged") {
		t.Errorf("CreateRole with tags, no iam:TagRole: got %v, want AccessDenied for iam:TagRole", err)
	}
	if _, err := iamA.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("tagged")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("the refused role exists: GetRole got %v, want NoSuchEntity", err)
	}
	if _, err := creator.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("plain"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Errorf("CreateRole without tags: %v", err)
	}
}

// TestPutObjectHeaderConditions: PutObject's header condition keys reach the bucket
// policy (the usual "uploads must grant bucket-owner-full-control" guard).
func TestPutObjectHeaderConditions(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	_, _, s3A := clients(inst, "AKIAADMINA", "sa", "")
	mustCreateBucket(t, s3A, "guarded")
	pol := `{"Version":"2012-10-17","Statement":[
	  {"Sid":"OwnerFullControl","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::guarded/*","Condition":{"StringNotEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}},
	  {"Sid":"NoGlacier","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::guarded/*","Condition":{"StringEquals":{"s3:x-amz-storage-class":"GLACIER"}}}]}`
	if _, err := s3A.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("guarded"), Policy: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		acl     s3types.ObjectCannedACL
		class   s3types.StorageClass
		wantErr string
	}{
		{"no ACL header", "", "", "AccessDenied"},
		{"bucket-owner-full-control", s3types.ObjectCannedACLBucketOwnerFullControl, "", ""},
		{"bucket-owner-full-control, GLACIER", s3types.ObjectCannedACLBucketOwnerFullControl, s3types.StorageClassGlacier, "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s3A.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("guarded"), Key: aws.String("k"),
				Body: strings.NewReader("v"), ACL: tt.acl, StorageClass: tt.class})
			if got := apiCode(err); got != tt.wantErr {
				t.Errorf("got %v, want code %q", err, tt.wantErr)
			}
		})
	}
}

// mustCreateBucket creates bucket name with client c (its region, its account as owner).
func mustCreateBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

// TestRequestedRegionIsTheSigningRegion: aws:RequestedRegion is "the AWS Region that was
// called in the request" (IAM User Guide, global condition context keys): for STS and
// DataSync calls the Region their signature names, whatever Region the simulator
// models.
func TestRequestedRegionIsTheSigningRegion(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	iamB, _, _ := clients(inst, "AKIAADMINB", "sb", "")
	onlyEU := `"Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}`
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/admin"},"Action":"sts:AssumeRole",` + onlyEU + `}]}`
	if _, err := iamB.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("eu-only"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamB.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("eu-only"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"datasync:ListTasks","Resource":"*",` + onlyEU + `}]}`)}); err != nil {
		t.Fatal(err)
	}
	assume := func(region string) (*sts.AssumeRoleOutput, error) {
		return sts.NewFromConfig(awsCfg(inst, "AKIAADMINB", "sb", "", region)).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::222222222222:role/eu-only"), RoleSessionName: aws.String("eu-session")})
	}
	if _, err := assume("us-east-1"); apiCode(err) != "AccessDenied" {
		t.Errorf("AssumeRole signed for us-east-1: got %v, want AccessDenied", err)
	}
	out, err := assume("eu-west-1")
	if err != nil {
		t.Fatalf("AssumeRole signed for eu-west-1: %v", err)
	}
	c := out.Credentials
	for region, want := range map[string]string{"eu-west-1": "", "us-east-1": "AccessDeniedException"} {
		dsc := datasync.NewFromConfig(awsCfg(inst, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken, region))
		if _, err := dsc.ListTasks(ctx, &datasync.ListTasksInput{}); apiCode(err) != want {
			t.Errorf("ListTasks signed for %s: got %v, want %q", region, err, want)
		}
	}
}
