package localrun

import (
	"fmt"
	"testing"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestE2ERevokeRestoresOriginalText: a source policy written by hand (indented, its one
// statement given as an object rather than a list) is the same text, byte for byte, after
// the migration's grant and revoke, since nothing else changed it meanwhile.
func TestE2ERevokeRestoresOriginalText(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(5, 4, ""))
	original := fmt.Sprintf("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\n    \"Sid\": \"AuditList\",\n    \"Effect\": \"Allow\",\n"+
		"    \"Principal\": {\"AWS\": \"arn:aws:iam::%s:root\"},\n    \"Action\": \"s3:ListBucket\",\n    \"Resource\": \"arn:aws:s3:::%s\"\n  }\n}\n",
		env.Source.AccountID, src)
	putPolicy(t, env.Source.S3, src, original)
	stored := policy(t, env.Source.S3, src)

	res := run(t, env, env.NewRequest("restore", src, "", dst, ""), "restore-text")
	mustSucceed(t, res)
	if g := grantOf(t, res); g.PolicyBefore != stored || !containsFold(g.PolicyAfter, "AuditList") {
		t.Errorf("grant: got before %q after %q, want the stored text as the backup and AuditList kept", g.PolicyBefore, g.PolicyAfter)
	}
	if after := policy(t, env.Source.S3, src); after != stored {
		t.Errorf("got policy after revoke\n%s\nwant the text that was there\n%s", after, stored)
	}
}
