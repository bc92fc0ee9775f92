package datasync

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

// FuzzHandle feeds arbitrary request bodies to every operation: no panic, and every
// answer is a JSON object (an error has a __type).
func FuzzHandle(f *testing.F) {
	seeds := []string{
		`{}`, `null`, `[]`, `{"S3BucketArn":"arn:aws:s3:::src-bucket","S3Config":{"BucketAccessRoleArn":"arn:aws:iam::222222222222:role/r"}}`,
		`{"SourceLocationArn":"x","DestinationLocationArn":"y","TaskMode":"ENHANCED","Options":{"VerifyMode":"POINT_IN_TIME_CONSISTENT"}}`,
		`{"Includes":[{"FilterType":"SIMPLE_PATTERN","Value":"*|/a*|"}]}`, `{"MaxResults":-1,"NextToken":"!!"}`,
		`{"Filters":[{"Name":"LocationUri","Operator":"In","Values":[]}]}`, `{"Tags":[{"Key":""}]}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	fb := newFake(f)
	fb.grant("*", "*", "*")
	fb.addRole("222222222222", "r", time.Now().Add(-time.Hour))
	fb.addBucket("src-bucket", "222222222222")
	svc := New(fb, fastPhases())
	f.Cleanup(func() { svc.Close() })
	caller := identity.UserPrincipal("222222222222", "u", "AIDAU")
	ops := svc.ops()
	f.Fuzz(func(t *testing.T, body string) {
		for op := range ops {
			status, resp := svc.Handle(context.Background(), caller, op, []byte(body))
			var m map[string]any
			if err := json.Unmarshal(resp, &m); err != nil {
				t.Fatalf("%s: answer is not a JSON object: %s", op, resp)
			}
			if status != 200 && m["__type"] == nil {
				t.Fatalf("%s: error %d without __type: %s", op, status, resp)
			}
		}
	})
}
