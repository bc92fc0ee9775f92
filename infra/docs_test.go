package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/dsmigrate/dsmigrate/internal/request"
)

// docFiles are the documentation files, relative to the repository root.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(root, "README.md"))
	for i, f := range files {
		files[i], _ = filepath.Rel(root, f)
	}
	return files
}

var (
	fence      = regexp.MustCompile("(?ms)^```.*?^```")
	codeSpan   = regexp.MustCompile("`[^`\n]+`")
	mdLink     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading  = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
	makeTarget = regexp.MustCompile("(?m)(?:`|^)make ((?:[a-z][a-z0-9-]*)(?: +[a-z][a-z0-9-]*)*)")
	makeRule   = regexp.MustCompile(`(?m)^([a-zA-Z][a-zA-Z0-9_-]*):`)
)

// anchor is the id GitHub gives a heading: lower case, punctuation dropped, spaces as '-'.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors lists the heading ids of a Markdown text (headings inside code blocks excluded).
func anchors(text string) []string {
	var ids []string
	seen := map[string]int{}
	for _, m := range mdHeading.FindAllStringSubmatch(fence.ReplaceAllString(text, ""), -1) {
		id := anchor(m[1])
		if n := seen[id]; n > 0 {
			seen[id]++
			id += "-" + strconv.Itoa(n)
		} else {
			seen[id] = 1
		}
		ids = append(ids, id)
	}
	return ids
}

// TestDocLinks: every relative link between the documentation files names a file that
// exists and, when it has one, a heading of that file.
func TestDocLinks(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range docFiles(t, root) {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		text := codeSpan.ReplaceAllString(fence.ReplaceAllString(string(b), ""), "")
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			file := doc
			if path != "" {
				file = filepath.Join(filepath.Dir(doc), path)
			}
			tb, err := os.ReadFile(filepath.Join(root, file))
			if err != nil {
				t.Errorf("%s: link %s: %v", doc, target, err)
				continue
			}
			if frag != "" && !slices.Contains(anchors(string(tb)), frag) {
				t.Errorf("%s: link %s: %s has no heading #%s (has %v)", doc, target, file, frag, anchors(string(tb)))
			}
		}
	}
}

// TestDocMakeTargets: every `make TARGET` the documentation tells the reader to run is a
// target of the Makefile.
func TestDocMakeTargets(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, m := range makeRule.FindAllStringSubmatch(string(mk), -1) {
		targets = append(targets, m[1])
	}
	found := 0
	for _, doc := range docFiles(t, root) {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range makeTarget.FindAllStringSubmatch(string(b), -1) {
			for _, target := range strings.Fields(m[1]) {
				found++
				if !slices.Contains(targets, target) {
					t.Errorf("%s: `make %s`: the Makefile has no target %q (it has %v)", doc, m[1], target, targets)
				}
			}
		}
	}
	if found == 0 {
		t.Fatal("found no `make TARGET` in the documentation; the pattern is broken")
	}
}

// requestFields lists the JSON paths of the request's fields ("source.bucket").
func requestFields(t reflect.Type, prefix string) []string {
	var paths []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct {
			paths = append(paths, requestFields(f.Type, prefix+name+".")...)
			continue
		}
		paths = append(paths, prefix+name)
	}
	return paths
}

// TestReferenceRequestFields: the request table of docs/reference.md has one row for every
// field of request.Request, and no row for a field the decoder would refuse.
func TestReferenceRequestFields(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "docs", "reference.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n## The migration request\n")
	if start < 0 {
		t.Fatal("docs/reference.md has no section \"The migration request\"")
	}
	section := doc[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var documented []string
	row := regexp.MustCompile("(?m)^\\| ((?:`[a-zA-Z.]+`(?:, )?)+) \\|")
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		for _, f := range strings.Split(m[1], ", ") {
			documented = append(documented, strings.Trim(f, "`"))
		}
	}
	fields := requestFields(reflect.TypeFor[request.Request](), "")
	slices.Sort(fields)
	slices.Sort(documented)
	if !slices.Equal(documented, fields) {
		t.Errorf("docs/reference.md, The migration request: got rows for %v, want one for each field of request.Request %v", documented, fields)
	}
}
