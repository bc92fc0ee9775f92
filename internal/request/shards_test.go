package request

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestShardFilters(t *testing.T) {
	all := []string{"2024/", "2025/"}
	tests := []struct {
		name               string
		task               TaskOptions
		folders            []string
		rest               bool
		wantInclude, wantX string
	}{
		{"a folder without request filters", TaskOptions{}, []string{"2024/"}, false, "/2024", ""},
		{"a group of folders", TaskOptions{}, []string{"2024/", "2025/"}, false, "/2024|/2025", ""},
		{"excludes apply to every shard", TaskOptions{Excludes: []string{"*.tmp"}}, []string{"2024/"}, false, "/2024", "*.tmp"},
		{"the rest shard leaves out every shard folder", TaskOptions{Excludes: []string{"*.tmp"}}, nil, true, "", "*.tmp|/2024|/2025"},
		{"includes go to the shard they lie in", TaskOptions{Includes: []string{"/2024/a/", "/2025/b*", "/top.txt"}}, []string{"2024/"}, false, "/2024/a/", ""},
		{"a pattern naming the folder itself", TaskOptions{Includes: []string{"/2025"}}, []string{"2025/"}, false, "/2025", ""},
		{"includes outside every folder go to the rest shard", TaskOptions{Includes: []string{"/2024/a/", "/top.txt", "/2026*"}}, nil, true, "/top.txt|/2026*", "/2024|/2025"},
		{"no include inside: nothing to copy", TaskOptions{Includes: []string{"/2025/x"}}, []string{"2024/"}, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc, exc := tt.task.ShardFilters(tt.folders, tt.rest, all)
			if inc != tt.wantInclude || exc != tt.wantX {
				t.Errorf("got include %q exclude %q, want %q and %q", inc, exc, tt.wantInclude, tt.wantX)
			}
		})
	}
}

func TestShardFilterProblems(t *testing.T) {
	tests := []struct {
		name       string
		task       TaskOptions
		folders    []string
		discovered bool
		want       []string // fields named, in order
		contains   string
	}{
		{"no filters", TaskOptions{}, []string{"2024/", "2025/"}, false, nil, ""},
		{"a wildcard reaching into a folder from outside", TaskOptions{Includes: []string{"/20*"}}, []string{"2024/"}, false, []string{"task.includes[0]"}, `"/20*" selects objects both inside the shard folder "2024/" and outside it`},
		{"a wildcard on the folder name", TaskOptions{Includes: []string{"/2024*"}}, []string{"2024/"}, false, []string{"task.includes[0]"}, `start with "/2024/"`},
		{"a parent folder of a shard", TaskOptions{Includes: []string{"/data"}}, []string{"data/2024/"}, false, []string{"task.includes[0]"}, ""},
		{"the root", TaskOptions{Includes: []string{"/"}}, []string{"2024/"}, false, []string{"task.includes[0]"}, ""},
		{"a pattern inside", TaskOptions{Includes: []string{"/2024/*"}}, []string{"2024/"}, false, nil, ""},
		{"a sibling with a longer name", TaskOptions{Includes: []string{"/20245/", "/2024/x"}}, []string{"2024/", "20245/"}, false, nil, ""},
		{"a folder no include reaches", TaskOptions{Includes: []string{"/2024/"}}, []string{"2024/", "2025/"}, false, []string{"task.shards.prefixes[1]"}, "would copy nothing"},
		{"the rest shard's exclude too long", TaskOptions{Excludes: []string{strings.Repeat("x", MaxFilterLength-5)}}, []string{"2024/"}, false, []string{"task.shards"}, fmt.Sprintf("is %d characters; DataSync allows %d", MaxFilterLength+1, MaxFilterLength)},
		{"the rest shard's exclude at the limit", TaskOptions{Excludes: []string{strings.Repeat("x", MaxFilterLength-6)}}, []string{"2024/"}, false, nil, ""},
		{"a discovered folder no include reaches is left out, not refused", TaskOptions{Includes: []string{"/2024/"}}, []string{"2024/", "2025/"}, true, nil, ""},
		{"a discovered folder an include reaches across", TaskOptions{Includes: []string{"/202*"}}, []string{"2024/", "2025/"}, true, []string{"task.includes[0]"}, "selects objects both inside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fields []string
			var text string
			for _, p := range ShardFilterProblems(tt.task, tt.folders, tt.discovered) {
				fields = append(fields, p.Field)
				text += p.Message
			}
			if !slices.Equal(fields, tt.want) || !strings.Contains(text, tt.contains) {
				t.Errorf("got %v %q, want fields %v and a message with %q", fields, text, tt.want, tt.contains)
			}
		})
	}
}

func TestShardGroups(t *testing.T) {
	folders := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("f%03d/", i))
		}
		return out
	}
	t.Run("one task per folder up to the bound", func(t *testing.T) {
		groups, rest := TaskOptions{}.ShardGroups(folders(63), true)
		if len(groups) != 63 || len(groups[62]) != 1 || !rest {
			t.Errorf("got %d groups (last %v), rest %v; want 63 of one folder and a rest shard", len(groups), groups[len(groups)-1], rest)
		}
	})
	t.Run("consecutive folders share a task beyond it", func(t *testing.T) {
		groups, _ := TaskOptions{}.ShardGroups(folders(200), true)
		n := 0
		for _, g := range groups {
			n += len(g)
		}
		if len(groups) > MaxShardFolders || n != 200 || !slices.Equal(groups[0], []string{"f000/", "f001/", "f002/", "f003/"}) {
			t.Errorf("got %d groups holding %d folders, first %v; want at most %d groups holding all 200, four each", len(groups), n, groups[0], MaxShardFolders)
		}
	})
	t.Run("discovered folders no include reaches are left out", func(t *testing.T) {
		task := TaskOptions{Includes: []string{"/f001/", "/f003/x*"}}
		groups, rest := task.ShardGroups(folders(5), true)
		if !slices.EqualFunc(groups, [][]string{{"f001/"}, {"f003/"}}, slices.Equal) || rest {
			t.Errorf("got %v, rest %v; want f001/ and f003/ only, and no rest shard", groups, rest)
		}
	})
	t.Run("listed folders are kept", func(t *testing.T) {
		task := TaskOptions{Includes: []string{"/f001/", "/top.csv"}}
		groups, rest := task.ShardGroups([]string{"f001/", "f002/"}, false)
		if len(groups) != 2 || !rest {
			t.Errorf("got %v, rest %v; want both listed folders and a rest shard (for /top.csv)", groups, rest)
		}
	})
	t.Run("no folders: the rest shard copies everything", func(t *testing.T) {
		groups, rest := TaskOptions{}.ShardGroups(nil, true)
		if len(groups) != 0 || !rest {
			t.Errorf("got %v, rest %v; want only the rest shard", groups, rest)
		}
	})
}

func TestCheckDiscoveredFolder(t *testing.T) {
	for folder, want := range map[string]string{
		"2024/":      "",
		"a|b/":       "may hold only",
		"a*b/":       "may hold only",
		"a//b/":      "must not contain '//'",
		"caf\u00e9/": "may hold only",
	} {
		if got := CheckDiscoveredFolder(folder); (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("CheckDiscoveredFolder(%q) = %q, want %q", folder, got, want)
		}
	}
}

func TestShardsNormalizeAndValidate(t *testing.T) {
	r := fullRequest(t)
	r.Task.Includes = nil
	r.Task.Shards = &Shards{Prefixes: []string{"2024/", "2025/"}}
	r.Normalize("run")
	if r.Task.Shards.MaxParallel != 8 {
		t.Errorf("got maxParallel %d, want the default 8", r.Task.Shards.MaxParallel)
	}
	if err := r.Validate(TestHome); err != nil {
		t.Errorf("got %v, want valid", err)
	}
	r.Task.Shards.Prefixes = make([]string, 64)
	for i := range r.Task.Shards.Prefixes {
		r.Task.Shards.Prefixes[i] = fmt.Sprintf("p%02d/", i)
	}
	if err := r.Validate(TestHome); err == nil || !strings.Contains(err.Error(), "task.shards.prefixes: lists 64 folders; at most 63") {
		t.Errorf("got %v, want 64 folders refused", err)
	}
	r.Task.Shards.Prefixes = r.Task.Shards.Prefixes[:63]
	if err := r.Validate(TestHome); err != nil {
		t.Errorf("got %v, want 63 folders accepted", err)
	}
}
