package preflight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

// shardInput is the valid request with task.shards (and task.includes) replaced.
func shardInput(t *testing.T, shards any, includes ...string) Input {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(requesttest.ValidJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	task := doc["task"].(map[string]any)
	task["shards"] = shards
	delete(task, "includes")
	if len(includes) > 0 {
		task["includes"] = includes
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return Input{Request: raw, ExecutionName: requesttest.ExecutionName}
}

func TestShardsListed(t *testing.T) {
	w := newWorld()
	got, err := w.h.Handle(context.Background(), shardInput(t, map[string]any{"prefixes": []string{"2024/", "2025/"}}))
	if err != nil {
		t.Fatal(err)
	}
	want := []execution.Shard{
		{Index: 0, Folders: []string{"2024/"}},
		{Index: 1, Folders: []string{"2025/"}},
		{Index: 2, Rest: true},
	}
	if !slices.EqualFunc(got.Shards, want, sameShard) || got.Request.Task.Shards.MaxParallel != 8 {
		t.Errorf("got %+v (maxParallel %d), want %+v and 8", got.Shards, got.Request.Task.Shards.MaxParallel, want)
	}
	if slices.ContainsFunc(w.log, func(c string) bool { return strings.Contains(c, "ListObjectsV2") }) {
		t.Errorf("got calls %v, want no listing for listed prefixes", w.log)
	}
}

func sameShard(a, b execution.Shard) bool {
	return a.Index == b.Index && a.Rest == b.Rest && slices.Equal(a.Folders, b.Folders)
}

func TestShardsDiscovered(t *testing.T) {
	w := newWorld()
	w.source.keys = []string{"other/x", "photos/2024/a", "photos/2024/b/c", "photos/2025/d", "photos/readme.txt", "photos/z/e"}
	got, err := w.h.Handle(context.Background(), shardInput(t, map[string]any{"byTopLevelPrefix": true, "maxParallel": 2}))
	if err != nil {
		t.Fatal(err)
	}
	want := []execution.Shard{
		{Index: 0, Folders: []string{"2024/"}},
		{Index: 1, Folders: []string{"2025/"}},
		{Index: 2, Folders: []string{"z/"}},
		{Index: 3, Rest: true},
	}
	if !slices.EqualFunc(got.Shards, want, sameShard) {
		t.Errorf("got %+v, want %+v", got.Shards, want)
	}
	// Listed in the source account, through the read role, folders only.
	list := slices.IndexFunc(w.log, func(c string) bool {
		return strings.HasPrefix(c, "A:ListObjectsV2:team-a-media:prefix=photos/:delimiter=/")
	})
	if list < 0 {
		t.Errorf("got calls %v, want a ListObjectsV2 with prefix photos/ and delimiter / in account A", w.log)
	}
}

// longNames are 65 folders of 64 bytes each under photos/.
func longNames() []string {
	var keys []string
	for i := range 65 {
		keys = append(keys, fmt.Sprintf("photos/%063d/x", i))
	}
	return keys
}

func TestShardsDiscoveredRefused(t *testing.T) {
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("photos/f%04d/x", i)
	}
	tests := []struct {
		name     string
		keys     []string
		includes []string
		want     string
	}{
		{"a folder name no filter can hold", []string{"photos/a|b/x"}, nil, `found the folder "a|b/"`},
		{"too many folders", many, nil, "found more than 1000 folders"},
		{"folder names too long for the document", longNames(), nil, "whose names take 4160 bytes; at most 4096"},
		{"an include across a discovered folder", []string{"photos/2024/x", "photos/2025/y"}, []string{"/202*"}, `task.includes[0]: "/202*" selects objects both inside`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			w.source.keys = tt.keys
			_, err := w.h.Handle(context.Background(), shardInput(t, map[string]any{"byTopLevelPrefix": true}, tt.includes...))
			var pe *failure.PreconditionError
			if !errors.As(err, &pe) || !strings.Contains(pe.Message, tt.want) {
				t.Errorf("got %v, want a PreconditionError with %q", err, tt.want)
			}
		})
	}
}

// A discovered folder that no include pattern reaches gets no task (docs/reference.md,
// "Shards": "a discovered one is left out"); it is not a reason to refuse the migration.
func TestShardsDiscoveredWithIncludes(t *testing.T) {
	w := newWorld()
	w.source.keys = []string{"photos/2024/a", "photos/2025/b", "photos/2026/c", "photos/top.txt"}
	got, err := w.h.Handle(context.Background(), shardInput(t, map[string]any{"byTopLevelPrefix": true}, "/2025/", "/top.txt"))
	if err != nil {
		t.Fatalf("got %v, want the folders without includes left out", err)
	}
	want := []execution.Shard{
		{Index: 0, Folders: []string{"2025/"}},
		{Index: 1, Rest: true},
	}
	if !slices.EqualFunc(got.Shards, want, sameShard) {
		t.Errorf("got %+v, want %+v", got.Shards, want)
	}
}
