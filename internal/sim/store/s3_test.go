package store

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dsmigrate/dsmigrate/internal/sim/identity"
)

func newTestStore(t *testing.T) *Store {
	t.Helper()
	cfg, err := ParseConfig([]byte(`{"accounts":[{"id":"111111111111","name":"a","users":[]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestListObjectsPagination(t *testing.T) {
	s := newTestStore(t)
	if err := s.CreateBucket("bkt", "us-east-1", "111111111111", ""); err != nil {
		t.Fatal(err)
	}
	keys := []string{"a", "b/1", "b/2", "b/c/3", "c", "d/1", "d/2", "e"}
	for _, k := range keys {
		if _, err := s.PutObject(PutObjectInput{Bucket: "bkt", Key: k, Body: strings.NewReader(k), Size: int64(len(k))}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name              string
		prefix, delimiter string
		max               int
		want              string
	}{
		{"all one by one", "", "", 1, "[a b/1 b/2 b/c/3 c d/1 d/2 e]"},
		{"delimiter one by one", "", "/", 1, "[a b/ c d/ e]"},
		{"delimiter pages of two", "", "/", 2, "[a b/ c d/ e]"},
		{"prefix and delimiter", "b/", "/", 1, "[b/1 b/2 b/c/]"},
		{"prefix only", "d", "", 1000, "[d/1 d/2]"},
		{"no match", "zz", "/", 10, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []string{}
			after := ""
			for pages := 0; pages < 20; pages++ {
				res, err := s.ListObjects("bkt", tt.prefix, tt.delimiter, after, tt.max)
				if err != nil {
					t.Fatal(err)
				}
				if n := len(res.Objects) + len(res.CommonPrefixes); n > tt.max {
					t.Fatalf("page of %d entries, want at most %d", n, tt.max)
				}
				// merge objects and prefixes in key order, as S3 returns them interleaved
				i, j := 0, 0
				for i < len(res.Objects) || j < len(res.CommonPrefixes) {
					if j >= len(res.CommonPrefixes) || (i < len(res.Objects) && res.Objects[i].Key < res.CommonPrefixes[j]) {
						got = append(got, res.Objects[i].Key)
						i++
					} else {
						got = append(got, res.CommonPrefixes[j])
						j++
					}
				}
				if !res.Truncated {
					break
				}
				after = res.Next
			}
			if fmt.Sprint(got) != tt.want {
				t.Errorf("got %v, want %s", got, tt.want)
			}
		})
	}
	res, _ := s.ListObjects("bkt", "", "", "", 0)
	if res.Truncated || len(res.Objects) != 0 {
		t.Errorf("max 0: got truncated=%v objects=%d, want false 0", res.Truncated, len(res.Objects))
	}
}

func TestPutObjectSizesAndOverwrite(t *testing.T) {
	s := newTestStore(t)
	if err := s.CreateBucket("bkt", "us-east-1", "111111111111", OwnershipWriter); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		body    string
		size    int64
		wantErr string
	}{
		{"exact", "hello", 5, ""},
		{"empty", "", 0, ""},
		{"body shorter than size", "hell", 5, "IncompleteBody"},
		{"body longer than size", "hello!", 5, "IncompleteBody"},
		{"unknown size", "hello world", -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := s.PutObject(PutObjectInput{Bucket: "bkt", Key: "k", Body: strings.NewReader(tt.body), Size: tt.size, Writer: "222222222222"})
			if tt.wantErr != "" {
				if e, ok := err.(*Error); !ok || e.Code != tt.wantErr {
					t.Fatalf("got %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Owner != "222222222222" {
				t.Errorf("owner with ObjectWriter: got %s, want the writer", o.Owner)
			}
			f, got, err := s.OpenObject("bkt", "k")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b := make([]byte, 64)
			n, _ := f.Read(b)
			if string(b[:n]) != tt.body || got.Size != int64(len(tt.body)) {
				t.Errorf("body: got %q (size %d), want %q", b[:n], got.Size, tt.body)
			}
		})
	}
}

func TestBucketTotalsFollowPutsOverwritesAndDeletes(t *testing.T) {
	s := newTestStore(t)
	if err := s.CreateBucket("bkt", "us-east-1", "111111111111", OwnershipEnforced); err != nil {
		t.Fatal(err)
	}
	put := func(key, body string) {
		t.Helper()
		if _, err := s.PutObject(PutObjectInput{Bucket: "bkt", Key: key, Body: strings.NewReader(body), Size: int64(len(body)), Writer: "111111111111"}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(step string, wantObjects int, wantBytes int64) {
		t.Helper()
		b, ok := s.Bucket("bkt")
		if !ok || b.Objects != wantObjects || b.Bytes != wantBytes {
			t.Errorf("%s: got %d objects, %d bytes, want %d, %d", step, b.Objects, b.Bytes, wantObjects, wantBytes)
		}
	}
	put("a", "12345")
	put("b", "123")
	check("two puts", 2, 8)
	put("a", "1")
	check("overwrite", 2, 4)
	if err := s.DeleteObject("bkt", "b"); err != nil {
		t.Fatal(err)
	}
	check("delete", 1, 1)
	if err := s.DeleteObject("bkt", "missing"); err != nil {
		t.Fatal(err)
	}
	check("delete of a missing key", 1, 1)
}

// TestRequestGlobalKeys: every request carries aws:RequestedRegion and aws:SecureTransport,
// so the usual region and TLS guards in policies decide as on AWS.
func TestRequestGlobalKeys(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"region":"ap-northeast-1","accounts":[{"id":"111111111111","name":"a","users":[
	  {"name":"u","accessKeyId":"AKIAU","secretAccessKey":"s","policies":[{"Version":"2012-10-17","Statement":[
	    {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
	    {"Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"ap-northeast-1"}}},
	    {"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}]}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	c, ok := s.Credential("AKIAU")
	if !ok {
		t.Fatal("no credential")
	}
	for _, tt := range []struct{ action, resource string }{
		{"s3:GetObject", "arn:aws:s3:::b/k"},
		{"datasync:CreateTask", "*"},
		{"iam:GetRole", "arn:aws:iam::111111111111:role/r"},
	} {
		if err := s.Authorize(c.Principal, tt.action, tt.resource, nil); err != nil {
			t.Errorf("%s: got %v, want allowed (in-region, over TLS)", tt.action, err)
		}
	}
}

// TestTagKeys: a session of a tagged role carries aws:PrincipalTag/KEY, and a call on a
// tagged role carries aws:ResourceTag/KEY and iam:ResourceTag/KEY.
func TestTagKeys(t *testing.T) {
	s := newTestStore(t)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}]}`
	for _, name := range []string{"team-a", "team-b"} {
		if _, err := s.CreateRole(CreateRoleInput{AccountID: "111111111111", Name: name, TrustPolicy: trust,
			MaxSessionDuration: 3600, Tags: []identity.Tag{{Key: "team", Value: strings.TrimPrefix(name, "team-")}}}); err != nil {
			t.Fatal(err)
		}
	}
	pol := `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"a"}}},
	  {"Effect":"Allow","Action":"iam:GetRole","Resource":"*","Condition":{"StringEquals":{"iam:ResourceTag/team":"b"}}}]}`
	if err := s.PutRolePolicy("111111111111", "team-a", "p", pol); err != nil {
		t.Fatal(err)
	}
	c, err := s.IssueSession("arn:aws:iam::111111111111:role/team-a", "s", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		action, resource string
		want             bool
	}{
		{"s3:GetObject", "arn:aws:s3:::b/k", true},
		{"iam:GetRole", "arn:aws:iam::111111111111:role/team-b", true},
		{"iam:GetRole", "arn:aws:iam::111111111111:role/team-a", false},
	}
	for _, tt := range tests {
		if got := s.Authorize(c.Principal, tt.action, tt.resource, nil) == nil; got != tt.want {
			t.Errorf("%s on %s: got allowed %v, want %v", tt.action, tt.resource, got, tt.want)
		}
	}
}
