package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/request"
)

// TestDeployGuideExamples keeps the documented requests honest: the README's request example
// (what an operator pastes into the console) and the put-events entry of docs/operate.md
// are valid requests for the cdk.json deployment, and the entry matches the rule.
func TestDeployGuideExamples(t *testing.T) {
	root, ctx := loadCDKContext(t)
	cfg, err := ConfigFromContext(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}

	console := jsonBlockAfter(t, root, "README.md", "## The migration request")
	var entries []struct {
		EventBusName, Source, DetailType, Detail string
	}
	if err := json.Unmarshal([]byte(jsonBlockAfter(t, root, "docs/operate.md", "### By an event")), &entries); err != nil {
		t.Fatalf("put-events entry: %v", err)
	}
	if len(entries) != 1 {
		t.Fatalf("got %d entries, want 1", len(entries))
	}
	if entries[0].EventBusName != cfg.RequestBusName() {
		t.Errorf("entry: got EventBusName %q, want %q (the rule is on that bus, not the default one)", entries[0].EventBusName, cfg.RequestBusName())
	}
	if entries[0].Source != RequestEventSource || entries[0].DetailType != RequestEventDetailType {
		t.Errorf("entry: got source %q detail-type %q, want %q %q", entries[0].Source, entries[0].DetailType, RequestEventSource, RequestEventDetailType)
	}

	home := request.Home{Region: cfg.Region, AccountID: cfg.DestinationAccount, Partition: cfg.Partition()}
	for name, text := range map[string]string{"console input": console, "event detail": entries[0].Detail} {
		t.Run(name, func(t *testing.T) {
			r, err := request.Decode([]byte(text))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			r.Normalize("docs-example")
			if err := r.Validate(home); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if err := r.CheckDeployment(cfg.Deployment()); err != nil {
				t.Fatalf("CheckDeployment: %v", err)
			}
			if !slices.Contains(cfg.SourceBuckets, r.Source.Bucket) || !slices.Contains(cfg.DestinationBuckets, r.Destination.Bucket) {
				t.Errorf("buckets %s -> %s are not in the cdk.json bucket lists", r.Source.Bucket, r.Destination.Bucket)
			}
		})
	}
}

var jsonBlock = regexp.MustCompile("(?s)```json\n(.*?)```")

// jsonBlockAfter returns the first ```json block after heading in the file at path (relative
// to the repository root), if it belongs to that heading's section.
func jsonBlockAfter(t *testing.T, root, path, heading string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("%s has no heading %q", path, heading)
	}
	section := doc[i+1:]
	if next := regexp.MustCompile(`\n#{1,` + strconv.Itoa(strings.Count(heading, "#")) + `} `).FindStringIndex(section); next != nil {
		section = section[:next[0]]
	}
	m := jsonBlock.FindStringSubmatch(section)
	if m == nil {
		t.Fatalf("%s: no json block in the section %q", path, heading)
	}
	return m[1]
}
