package datasync

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

// Sharding changes how the data is copied, never what (docs/reference.md, "Shards"): for
// random small trees, shard folders and filters that pass validation, the shards' tasks,
// filtered by this simulator's DataSync filter matching, together select exactly the keys
// the unsharded task selects, and no key twice. Both ways of naming shards are tried:
// listed prefixes (request validation) and discovered top-level folders (what Preflight
// does with ListObjectsV2 and a delimiter).
func TestShardsSelectWhatTheUnshardedTaskSelects(t *testing.T) {
	segs := []string{"a", "b", "ab", "a b", "x.tmp", "b(1)", "A"}
	includes := []string{"/a", "/a/", "/a*", "/a/b", "/a/b*", "/a/*", "/ab", "/ab/", "/b", "/b/a", "/b*", "/x.tmp", "/", "/*", "/a b/", "/a b*", "/ab/x*", "/b(1)/a"}
	excludes := []string{"*.tmp", "/a/b", "*/b", "*b*", "/ab*", "/a", "*/a b/*", "/b/ab", "*(1)"}
	folderSet := []string{"a/", "b/", "ab/", "a/b/", "a b/", "b/a/", "a/ab/", "b(1)/", "A/"}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(from []string, max int) []string {
		var out []string
		for range rng.IntN(max + 1) {
			out = append(out, from[rng.IntN(len(from))])
		}
		return out
	}
	base := requesttest.Valid()
	checked := map[string]int{}
	for iter := range 20000 {
		// A tree of up to 12 keys, 1 to 3 levels deep, some of them folder markers.
		keys := map[string]bool{}
		for range 1 + rng.IntN(12) {
			parts := pick(segs, 2)
			parts = append(parts, segs[rng.IntN(len(segs))])
			key := strings.Join(parts, "/")
			if rng.IntN(8) == 0 {
				key += "/" // a folder marker object
			}
			keys[key] = true
		}
		task := base.Task
		task.Includes, task.Excludes = pick(includes, 2), pick(excludes, 2)
		discovered := rng.IntN(2) == 0
		var folders []string
		if discovered {
			folders = topLevelFolders(keys)
			if problems := request.ShardFilterProblems(task, folders, true); len(problems) > 0 {
				checked["refused"]++
				continue
			}
		} else {
			folders = pick(folderSet, 3)
			r := base
			task.Shards = &request.Shards{Prefixes: folders, MaxParallel: 8}
			r.Task = task
			if err := r.Validate(requesttest.Home); err != nil {
				checked["refused"]++
				continue
			}
		}
		checked[fmt.Sprint("discovered=", discovered)]++

		groups, rest := task.ShardGroups(folders, discovered)
		var all []string
		for _, g := range groups {
			all = append(all, g...)
		}
		type shardTask struct{ inc, exc filter }
		var tasks []shardTask
		compile := func(include, exclude string) shardTask {
			inc, err := parseFilter([]filterRule{{Value: include}}, true)
			if err != nil {
				t.Fatalf("iteration %d: include %q: %v", iter, include, err)
			}
			exc, err := parseFilter([]filterRule{{Value: exclude}}, false)
			if err != nil {
				t.Fatalf("iteration %d: exclude %q: %v", iter, exclude, err)
			}
			return shardTask{inc, exc}
		}
		for _, g := range groups {
			// A task with no include filter copies everything: a shard's include must
			// never come out empty.
			tasks = append(tasks, compile(task.ShardFilters(g, false, all)))
		}
		if rest {
			tasks = append(tasks, compile(task.ShardFilters(nil, true, all)))
		}
		whole := compile(task.IncludeFilter(), task.ExcludeFilter())
		for key := range keys {
			rel := "/" + key
			want := selected(whole.inc, whole.exc, rel)
			n := 0
			for _, st := range tasks {
				if selected(st.inc, st.exc, rel) {
					n++
				}
			}
			if n > 1 || (n == 1) != want {
				t.Fatalf("iteration %d: key %q: selected by %d shard tasks, unsharded %v\nincludes %q excludes %q folders %q (discovered %v)\ngroups %q rest %v",
					iter, key, n, want, task.Includes, task.Excludes, folders, discovered, groups, rest)
			}
		}
	}
	t.Logf("requests checked: %v", checked)
	// The generator must reach both ways of sharding often, or the test proves little.
	for _, k := range []string{"discovered=true", "discovered=false"} {
		if checked[k] < 2000 {
			t.Errorf("only %d valid requests with %s (of %v); the generator needs tuning", checked[k], k, checked)
		}
	}
}

// topLevelFolders are the common prefixes a ListObjectsV2 with delimiter "/" returns.
func topLevelFolders(keys map[string]bool) []string {
	var out []string
	for k := range keys {
		if i := strings.IndexByte(k, '/'); i >= 0 && !slices.Contains(out, k[:i+1]) {
			out = append(out, k[:i+1])
		}
	}
	slices.Sort(out)
	return out
}
