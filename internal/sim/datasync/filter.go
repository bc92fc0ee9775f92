package datasync

import (
	"fmt"
	"strings"
)

// filter is a compiled SIMPLE_PATTERN filter: patterns separated by "|".
//
// Semantics (DataSync user guide, "Filtering data transferred by DataSync"):
//   - paths are relative to the location's subdirectory and start with "/";
//   - "*" is a wildcard for any run of characters (including "/");
//   - "/dir" and "/dir/" match the folder and everything below it: a pattern matches
//     a path when it matches the path itself or any of its parent folders;
//   - "*/tmp" matches a folder named tmp at any depth, "*.tmp" any file ending in .tmp.
type filter []string

func parseFilter(rules []filterRule, include bool) (filter, error) {
	if len(rules) == 0 {
		return nil, nil
	}
	field := "excludes"
	if include {
		field = "includes"
	}
	if len(rules) > 1 {
		return nil, validation(fmt.Sprint(len(rules)), field, "Member must have length less than or equal to 1")
	}
	r := rules[0]
	if r.FilterType != "" && r.FilterType != "SIMPLE_PATTERN" {
		return nil, validation(r.FilterType, field+".member.filterType", "Member must satisfy enum value set: [SIMPLE_PATTERN]")
	}
	if r.Value == "" {
		return nil, nil
	}
	if len(r.Value) > 102400 {
		return nil, validation("...", field+".member.value", "Member must have length less than or equal to 102400")
	}
	if strings.ContainsRune(r.Value, 0) {
		return nil, validation(r.Value, field+".member.value", "Member must satisfy regular expression pattern: ^[^\\x00]+$")
	}
	var f filter
	for _, p := range strings.Split(r.Value, "|") {
		if p == "" {
			continue
		}
		if include {
			// "Include filters support the wildcard (*) character only as the rightmost
			// character in a pattern."
			if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
				return nil, invalid("Invalid include filter pattern %q: include filters support the wildcard (*) character only as the rightmost character in a pattern.", p)
			}
		}
		if p != "/" {
			p = strings.TrimSuffix(p, "/")
		}
		f = append(f, p)
	}
	return f, nil
}

// matches reports whether any pattern matches path ("/a/b/c.txt") or one of its
// parent folders ("/a", "/a/b").
func (f filter) matches(path string) bool {
	for _, p := range f {
		if p == "/" {
			return true
		}
		if globMatch(p, path) {
			return true
		}
		for i := 1; i < len(path); i++ {
			if path[i] == '/' && globMatch(p, path[:i]) {
				return true
			}
		}
	}
	return false
}

// selected applies includes then excludes to a relative path.
func selected(includes, excludes filter, path string) bool {
	if len(includes) > 0 && !includes.matches(path) {
		return false
	}
	return !excludes.matches(path)
}

// globMatch matches s against a pattern where '*' is any sequence of characters.
func globMatch(pattern, s string) bool {
	// Iterative wildcard matching with backtracking to the last star.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
