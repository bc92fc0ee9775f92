package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestBucketSettingsAndCallLog reads the settings the plan reads through the SDK, before
// and after the admin API sets them, and checks that the call log holds each request with
// its operation and caller.
func TestBucketSettingsAndCallLog(t *testing.T) {
	inst := startSim(t)
	ctx := context.Background()
	_, _, s3c := clients(inst, "AKIAADMINA", "sa", "")
	mustCreateBucket(t, s3c, "src")
	from := len(calls(t, inst, 0))

	read := func() (string, s3types.Payer, string) {
		t.Helper()
		v, err := s3c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("src")})
		if err != nil {
			t.Fatal(err)
		}
		p, err := s3c.GetBucketRequestPayment(ctx, &s3.GetBucketRequestPaymentInput{Bucket: aws.String("src")})
		if err != nil {
			t.Fatal(err)
		}
		lock := "Enabled"
		if _, err := s3c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String("src")}); apiCode(err) == "ObjectLockConfigurationNotFoundError" {
			lock = "none"
		} else if err != nil {
			t.Fatal(err)
		}
		return string(v.Status), p.Payer, lock
	}
	if v, p, l := read(); v != "" || p != s3types.PayerBucketOwner || l != "none" {
		t.Errorf("new bucket: got versioning %q, payer %s, lock %s; want \"\", BucketOwner, none", v, p, l)
	}
	body, _ := json.Marshal(map[string]any{"bucket": "src", "versioning": "Enabled", "requesterPays": true, "objectLock": true})
	resp, err := http.Post(inst.URL+"/_sim/buckets/settings", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /_sim/buckets/settings: got %v %v, want 200", resp, err)
	}
	resp.Body.Close()
	if v, p, l := read(); v != "Enabled" || p != s3types.PayerRequester || l != "Enabled" {
		t.Errorf("after settings: got versioning %q, payer %s, lock %s; want Enabled, Requester, Enabled", v, p, l)
	}

	got := calls(t, inst, from)
	want := []string{"GetBucketVersioning", "GetBucketRequestPayment", "GetObjectLockConfiguration"}
	if len(got) != 2*len(want) {
		t.Fatalf("got %d calls %+v, want %d", len(got), got, 2*len(want))
	}
	for i, c := range got {
		if c.Service != "s3" || c.Operation != want[i%3] || c.Caller != "arn:aws:iam::111111111111:user/admin" {
			t.Errorf("call %d: got %+v, want s3 %s by arn:aws:iam::111111111111:user/admin", i, c, want[i%3])
		}
	}
	if got[2].Status != 404 || got[5].Status != 200 {
		t.Errorf("GetObjectLockConfiguration statuses: got %d, %d, want 404, 200", got[2].Status, got[5].Status)
	}
}

func calls(t *testing.T, inst *Instance, from int) []Call {
	t.Helper()
	resp, err := http.Get(inst.URL + "/_sim/calls?since=" + strconv.Itoa(from))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Calls []Call }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Calls
}
