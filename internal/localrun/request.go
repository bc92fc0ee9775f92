package localrun

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/request"
)

// s3BucketsIn returns the bucket names of plain bucket ARNs (no wildcard, no key) in the
// policies, sorted and without duplicates.
func s3BucketsIn(partition string, policies ...map[string]json.RawMessage) []string {
	seen := map[string]bool{}
	prefix := "arn:" + partition + ":s3:::"
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			if name, ok := strings.CutPrefix(x, prefix); ok && name != "" && !strings.ContainsAny(name, "/*?$") {
				seen[name] = true
			}
		}
	}
	for _, ps := range policies {
		for _, p := range ps {
			var doc any
			json.Unmarshal(p, &doc)
			walk(doc)
		}
	}
	out := make([]string, 0, len(seen))
	for b := range seen {
		out = append(out, b)
	}
	sort.Strings(out)
	return out
}

// SourceBuckets are the buckets in A the roles of the source-access stack may read or
// edit the policy of.
func (e *Environment) SourceBuckets() []string {
	var ps []map[string]json.RawMessage
	for _, r := range e.SourceRoles {
		ps = append(ps, r.Policies)
	}
	return s3BucketsIn(e.Partition, ps...)
}

// DestinationBuckets are the buckets in B the functions' roles name (source buckets excluded).
func (e *Environment) DestinationBuckets() []string {
	var ps []map[string]json.RawMessage
	for _, f := range e.Spec.Functions {
		ps = append(ps, f.Role.Policies)
	}
	src := map[string]bool{}
	for _, b := range e.SourceBuckets() {
		src[b] = true
	}
	var out []string
	for _, b := range s3BucketsIn(e.Partition, ps...) {
		if !src[b] {
			out = append(out, b)
		}
	}
	return out
}

// DefaultBuckets picks the first configured source and destination bucket.
func (e *Environment) DefaultBuckets() (source, destination string, err error) {
	s, d := e.SourceBuckets(), e.DestinationBuckets()
	if len(s) == 0 {
		return "", "", fmt.Errorf("the source-access stack's roles name no source bucket (context dsmigrate:sourceBuckets)")
	}
	if len(d) == 0 {
		d = []string{s[0] + "-copy"}
	}
	return s[0], d[0], nil
}

// NewRequest returns a migration request between the two simulated accounts (the
// functions derive their roles in A from source.accountId).
func (e *Environment) NewRequest(migrationID, srcBucket, srcPrefix, dstBucket, dstPrefix string) request.Request {
	return request.Request{
		MigrationID: migrationID,
		Source: request.Source{
			Bucket: srcBucket, AccountID: e.Source.AccountID, Region: e.Region, Prefix: srcPrefix,
		},
		Destination: request.Destination{Bucket: dstBucket, Region: e.Region, Prefix: dstPrefix},
	}
}
