package localrun

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The record function writes into the deployment's destination buckets, where the
// migrated data lives; its policy names only keys in a record folder
// (<prefix><migrationId>/dsmigrate-record/...). Without that key pattern, a bug or a
// crafted invocation of the function could overwrite a migrated object.
func TestAttackRecordOverwritesMigratedObject(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, Options{})
	ctx := testCtx(t)
	_, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, nil)
	if err := Upload(ctx, env.Destination.S3, dst, []SampleObject{{Key: "from-a/photos/a.jpg", Size: 1024, Seed: 7}}); err != nil {
		t.Fatal(err)
	}
	fn := asFunction(t, env, "record").S3
	put := func(key string) error {
		_, err := fn.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(dst), Key: aws.String(key), Body: strings.NewReader(`{"forged":true}`)})
		return err
	}
	wantAllowed(t, "PutObject of a record", put("audit/media/dsmigrate-record/media-run1.json"))
	wantDenied(t, "PutObject over a migrated object", put("from-a/photos/a.jpg"))

	g := findGuard(t, env, "record", "WriteMigrationRecords")
	g.remove(t, func(st map[string]any) {
		widen := func(r any) any { return strings.Replace(r.(string), "/*/dsmigrate-record/*", "/*", 1) }
		if list, ok := st["Resource"].([]any); ok {
			for i := range list {
				list[i] = widen(list[i])
			}
			return
		}
		st["Resource"] = widen(st["Resource"])
	})
	wantAllowed(t, "PutObject over a migrated object, without the key pattern", put("from-a/photos/a.jpg"))
	g.restore(t)
	wantDenied(t, "PutObject over a migrated object, guard restored", put("from-a/photos/a.jpg"))
}
