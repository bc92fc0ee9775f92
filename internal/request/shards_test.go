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

// TestValidateShards: the rules of task.shards at their edges, through Validate, each
// problem at its own field, and the filter rules checked only for folders that pass their
// own.
func TestValidateShards(t *testing.T) {
	folders := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("p%02d/", i)
		}
		return out
	}
	tests := []struct {
		name     string
		shards   Shards
		includes []string
		excludes []string
		want     []string // "field: rule"; nil: valid
	}{
		{name: "maxParallel 64", shards: Shards{Prefixes: []string{"2024/"}, MaxParallel: 64}},
		{name: "maxParallel 65", shards: Shards{Prefixes: []string{"2024/"}, MaxParallel: 65},
			want: []string{"task.shards.maxParallel: must be between 1 and 64, the most tasks a migration runs (got 65)"}},
		{name: "maxParallel -1", shards: Shards{Prefixes: []string{"2024/"}, MaxParallel: -1},
			want: []string{"task.shards.maxParallel: must be between 1 and 64, the most tasks a migration runs (got -1)"}},
		{name: "folder names of 4,096 bytes", shards: Shards{Prefixes: []string{
			strings.Repeat("a", 999) + "/", strings.Repeat("b", 999) + "/", strings.Repeat("c", 999) + "/", strings.Repeat("d", 999) + "/", strings.Repeat("e", 95) + "/"}}},
		{name: "folder names of 4,097 bytes", shards: Shards{Prefixes: []string{
			strings.Repeat("a", 999) + "/", strings.Repeat("b", 999) + "/", strings.Repeat("c", 999) + "/", strings.Repeat("d", 999) + "/", strings.Repeat("e", 96) + "/"}},
			want: []string{"task.shards.prefixes: holds 4097 bytes of folder names; at most 4096 (they travel in the Step Functions execution document, limited to 256 KiB): list fewer or shorter folders"}},
		{name: "a folder inside another", shards: Shards{Prefixes: []string{"2024/", "2024/01/"}},
			want: []string{`task.shards.prefixes[1]: overlaps task.shards.prefixes[0] ("2024/"): shards must not share objects`}},
		{name: "an empty folder after another is no overlap", shards: Shards{Prefixes: []string{"2024/", ""}},
			want: []string{`task.shards.prefixes[1]: must name a folder under source.prefix, such as "2024/" (got "")`}},
		{name: "an empty folder before another is no overlap", shards: Shards{Prefixes: []string{"", "2024/"}},
			want: []string{`task.shards.prefixes[0]: must name a folder under source.prefix, such as "2024/" (got "")`}},
		{name: "an include reaching into a folder from outside", shards: Shards{Prefixes: []string{"2024/"}}, includes: []string{"/20*"},
			want: []string{`task.includes[0]: "/20*" selects objects both inside the shard folder "2024/" and outside it; with task.shards each include pattern must lie inside one shard's folder (start with "/2024/") or outside every shard folder`}},
		{name: "63 folders, an include reaching into one", shards: Shards{Prefixes: folders(63)}, includes: []string{"/p0*"},
			want: []string{`task.includes[0]: "/p0*" selects objects both inside the shard folder "p00/" and outside it; with task.shards each include pattern must lie inside one shard's folder (start with "/p00/") or outside every shard folder`}},
		{
			// The folder's own problem is reported; its filters are not checked as well.
			name: "a folder without its '/', an include reaching into it", shards: Shards{Prefixes: []string{"2024"}}, includes: []string{"/20*"},
			want: []string{`task.shards.prefixes[0]: must end with '/': a shard is a folder, since DataSync filters select folders and objects, not key prefixes (write "2024/")`},
		},
		{
			// Discovered folders are checked by Preflight: only the request's own exclude
			// limit applies here.
			name: "byTopLevelPrefix with an exclude filter over the limit", shards: Shards{ByTopLevelPrefix: true}, excludes: []string{strings.Repeat("x", MaxFilterLength+1)},
			want: []string{"task.excludes: joined with '|' is 102401 characters; DataSync allows 102400",
				"(request): is 102938 bytes as JSON; dsmigrate accepts at most 32768 (32 KiB): the execution keeps the request twice in its state, which Step Functions limits to 256 KiB beside the source bucket policies; shorten task.includes and task.excludes (DataSync's own limit, 102,400 characters each, does not fit)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullRequest(t)
			r.Task.Includes, r.Task.Excludes = tt.includes, tt.excludes
			s := tt.shards
			r.Task.Shards = &s
			if got := rulesOf(t, r.Validate(TestHome)); !slices.Equal(got, tt.want) {
				t.Errorf("got\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}
