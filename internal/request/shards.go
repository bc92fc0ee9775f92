package request

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/failure"
)

// Shards splits one migration into several DataSync tasks that run at the same time, one
// per folder under source.prefix (AWS DataSync user guide, "Transferring large datasets":
// partition the source by prefix with include filters and run one task per partition, since
// a task runs one execution at a time). Sharding changes how the data is copied, never
// what: a rest shard copies everything outside the listed folders.
type Shards struct {
	// Prefixes are the folders, relative to source.prefix, that get a task each
	// ("2024/"). Exactly one of Prefixes and ByTopLevelPrefix is given.
	Prefixes []string `json:"prefixes,omitempty"`
	// ByTopLevelPrefix makes Preflight list the folders directly under source.prefix (a
	// ListObjectsV2 with delimiter "/") and give each its own task (or groups of them,
	// beyond MaxShardFolders).
	ByTopLevelPrefix bool `json:"byTopLevelPrefix,omitempty"`
	// MaxParallel is how many shard tasks run at once (default DefaultMaxParallel).
	MaxParallel int `json:"maxParallel,omitempty"`
}

const (
	// MaxShardTasks bounds the DataSync tasks of one migration: the listed folders' tasks
	// plus the rest shard's. DataSync allows 100 tasks per account and Region by default
	// (AWS DataSync quotas, "Maximum number of tasks you can create in account per AWS
	// Region": 100); 64 leaves a third of that for other migrations and other users of the
	// account. Each task runs one execution at a time and a task queues at most 50 (same
	// page), so the one execution a shard starts is far from that quota. Beyond 64 folders,
	// discovered folders are grouped into shards; listed prefixes are refused.
	MaxShardTasks = 64
	// MaxShardFolders is the most shard folders (listed or discovered groups): one task is
	// the rest shard's.
	MaxShardFolders = MaxShardTasks - 1
	// MaxDiscoveredFolders bounds what ByTopLevelPrefix lists: the rest shard's exclude
	// filter names every folder, and the folder names travel in the execution document
	// (Step Functions allows 256 KiB per state input or output).
	MaxDiscoveredFolders = 1000
	// DefaultMaxParallel is MaxParallel's default.
	DefaultMaxParallel = 8
	// MaxShardFolderBytes bounds the folder names of all shards together: they travel in
	// the execution document ($.preflight.shards), which Step Functions limits to 256 KiB
	// with the request, the source bucket policies and the errors (internal/execution,
	// TestWorstCaseDocumentFits).
	MaxShardFolderBytes = 4096
)

// FolderBytes is what a list of shard folders takes of MaxShardFolderBytes.
func FolderBytes(folders []string) int {
	n := 0
	for _, f := range folders {
		n += len(f)
	}
	return n
}

// checkShards applies the rules of task.shards that need no AWS call (docs/reference.md,
// "Shards"). Folders discovered by Preflight are checked by CheckShardFolders.
func checkShards(v *failure.ValidationError, t TaskOptions) {
	s := t.Shards
	if s == nil {
		return
	}
	const field = "task.shards"
	switch {
	case len(s.Prefixes) == 0 && !s.ByTopLevelPrefix:
		v.Add(field, "needs either prefixes (a list of folders under source.prefix, such as [\"2024/\", \"2025/\"]) or byTopLevelPrefix: true")
	case len(s.Prefixes) > 0 && s.ByTopLevelPrefix:
		v.Add(field, "has both prefixes and byTopLevelPrefix: give one of them")
	}
	if s.MaxParallel < 0 || s.MaxParallel > MaxShardTasks {
		v.Add(field+".maxParallel", "must be between 1 and %d, the most tasks a migration runs (got %d)", MaxShardTasks, s.MaxParallel)
	}
	if len(s.Prefixes) > MaxShardFolders {
		v.Add(field+".prefixes", "lists %d folders; at most %d (with the rest shard, %d DataSync tasks: DataSync allows 100 per account and Region): list fewer, larger folders, or use byTopLevelPrefix, which groups folders",
			len(s.Prefixes), MaxShardFolders, MaxShardTasks)
	}
	if n := FolderBytes(s.Prefixes); n > MaxShardFolderBytes {
		v.Add(field+".prefixes", "holds %d bytes of folder names; at most %d (they travel in the Step Functions execution document, limited to 256 KiB): list fewer or shorter folders", n, MaxShardFolderBytes)
	}
	ok := true
	for i, p := range s.Prefixes {
		f := fmt.Sprintf("%s.prefixes[%d]", field, i)
		n := len(v.Fields)
		switch {
		case p == "" || p == "/":
			v.Add(f, "must name a folder under source.prefix, such as \"2024/\" (got %q)", p)
		case !strings.HasSuffix(p, "/"):
			v.Add(f, "must end with '/': a shard is a folder, since DataSync filters select folders and objects, not key prefixes (write %q)", p+"/")
		default:
			checkPrefix(v, f, p)
		}
		for j, q := range s.Prefixes[:i] {
			if p != "" && q != "" && overlaps(p, q) {
				v.Add(f, "overlaps %s.prefixes[%d] (%q): shards must not share objects", field, j, q)
			}
		}
		ok = ok && len(v.Fields) == n
	}
	if ok && len(s.Prefixes) > 0 && len(s.Prefixes) <= MaxShardFolders {
		for _, problem := range ShardFilterProblems(t, s.Prefixes, false) {
			v.Add(problem.Field, "%s", problem.Message)
		}
	}
}

// ShardFilterProblem is a rule of combining shards with task.includes and task.excludes
// that a set of shard folders breaks.
type ShardFilterProblem struct {
	Field, Message string
}

// ShardFilterProblems checks that every shard's task can be given DataSync filters that
// copy exactly its part (ShardFilters): each include pattern lies inside one shard's folder
// or outside all of them, each listed folder keeps at least one include pattern when there
// are includes, and every joined filter fits DataSync's 102,400 characters. Discovered
// folders (discovered = true) that no include pattern reaches are no problem: ShardGroups
// leaves them out.
func ShardFilterProblems(t TaskOptions, folders []string, discovered bool) []ShardFilterProblem {
	var out []ShardFilterProblem
	for i, p := range t.Includes {
		for _, f := range folders {
			if covers(p, f) && !inside(p, f) {
				out = append(out, ShardFilterProblem{fmt.Sprintf("task.includes[%d]", i), fmt.Sprintf(
					"%q selects objects both inside the shard folder %q and outside it; with task.shards each include pattern must lie inside one shard's folder (start with %q) or outside every shard folder",
					p, f, filterPath(f)+"/")})
				break
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	if len(t.Includes) > 0 && !discovered {
		for i, f := range folders {
			if inc, _ := t.ShardFilters([]string{f}, false, nil); inc == "" {
				out = append(out, ShardFilterProblem{fmt.Sprintf("task.shards.prefixes[%d]", i), fmt.Sprintf(
					"no pattern of task.includes lies inside %q, so its task would copy nothing: remove the shard or add an include pattern that starts with %q", f, filterPath(f)+"/")})
			}
		}
	}
	_, exclude := t.ShardFilters(folders, true, folders)
	if len(exclude) > MaxFilterLength {
		out = append(out, ShardFilterProblem{"task.shards", fmt.Sprintf(
			"the rest shard's exclude filter (task.excludes and every shard folder, joined with '|') is %d characters; DataSync allows %d: use fewer or shorter shard folders", len(exclude), MaxFilterLength)})
	}
	return out
}

// ShardFilters returns the include and exclude filter values (FilterRule.Value, patterns
// joined with '|', "" for none) of one shard's task. A shard copies its folders; the rest
// shard (rest) copies everything outside all shard folders (all). Include patterns of the
// request go to the shard whose folder they lie in (ShardFilterProblems refuses the
// others); exclude patterns apply to every shard. A shard whose include would be empty
// while the request has includes copies nothing: include is then "" and the caller skips it.
func (t TaskOptions) ShardFilters(folders []string, rest bool, all []string) (include, exclude string) {
	var inc, exc []string
	exc = append(exc, t.Excludes...)
	if rest {
		for _, f := range all {
			exc = append(exc, filterPath(f))
		}
		for _, p := range t.Includes {
			if !slices.ContainsFunc(all, func(f string) bool { return inside(p, f) }) {
				inc = append(inc, p)
			}
		}
		return strings.Join(inc, "|"), strings.Join(exc, "|")
	}
	if len(t.Includes) == 0 {
		for _, f := range folders {
			inc = append(inc, filterPath(f))
		}
	}
	for _, p := range t.Includes {
		if slices.ContainsFunc(folders, func(f string) bool { return inside(p, f) }) {
			inc = append(inc, p)
		}
	}
	return strings.Join(inc, "|"), strings.Join(exc, "|")
}

// RestCopiesSomething reports whether the rest shard has anything to copy: always without
// includes; with includes, only when one lies outside every shard folder.
func (t TaskOptions) RestCopiesSomething(all []string) bool {
	if len(t.Includes) == 0 {
		return true
	}
	inc, _ := t.ShardFilters(nil, true, all)
	return inc != ""
}

// filterPath is a folder ("2024/") as a DataSync filter path from the location root
// ("/2024"): DataSync matches a folder pattern against the folder and everything in it.
func filterPath(folder string) string { return "/" + strings.TrimSuffix(folder, "/") }

// inside reports whether the include pattern p selects only objects in folder f.
func inside(p, f string) bool {
	fp := filterPath(f)
	return p == fp || strings.HasPrefix(p, fp+"/")
}

// covers reports whether the include pattern p can select objects in folder f: it names
// the folder, one inside it, or a parent of it, or its wildcard can reach into it.
func covers(p, f string) bool {
	fp := filterPath(f) + "/"
	if lit, ok := strings.CutSuffix(p, "*"); ok {
		return strings.HasPrefix(fp, lit) || strings.HasPrefix(lit, fp)
	}
	q := strings.TrimSuffix(p, "/") + "/"
	return strings.HasPrefix(fp, q) || strings.HasPrefix(q, fp)
}

// ShardGroups returns the folders of each shard's task and whether a rest shard runs
// too. Listed prefixes get a task each. Discovered folders (discovered = true) that no
// include pattern reaches are left out (their task would copy nothing), and beyond
// MaxShardFolders consecutive folders share a task.
func (t TaskOptions) ShardGroups(folders []string, discovered bool) (groups [][]string, rest bool) {
	keep := folders
	if discovered && len(t.Includes) > 0 {
		keep = nil
		for _, f := range folders {
			if inc, _ := t.ShardFilters([]string{f}, false, nil); inc != "" {
				keep = append(keep, f)
			}
		}
	}
	per := (len(keep) + MaxShardFolders - 1) / MaxShardFolders
	for i := 0; i < len(keep); i += max(per, 1) {
		groups = append(groups, keep[i:min(i+per, len(keep))])
	}
	return groups, t.RestCopiesSomething(folders)
}

// CheckDiscoveredFolder is the problem with a folder name that ByTopLevelPrefix found, or
// "": the rules of an S3 location's subdirectory, which also keep out '|' and '*' (a DataSync
// filter's separator and wildcard).
func CheckDiscoveredFolder(folder string) string {
	v := &failure.ValidationError{}
	checkPrefix(v, "folder", folder)
	if len(v.Fields) > 0 {
		return v.Fields[0].Rule
	}
	return ""
}
