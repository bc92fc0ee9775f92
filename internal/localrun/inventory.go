package localrun

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/sim/server"
)

// Inventory is what a simulator state dump holds, by kind: the identities (ARN or name)
// of roles, locations, tasks and executions, and bucket policies by bucket.
type Inventory struct {
	Kinds    map[string][]string
	Policies map[string]string
}

var inventoryKinds = []string{"roles", "locations", "tasks", "executions", "buckets"}

// InventoryOf reads a state dump: roles, locations, tasks and executions by ARN,
// buckets as owner/name.
func InventoryOf(st *server.State) Inventory {
	inv := Inventory{Kinds: map[string][]string{}, Policies: map[string]string{}}
	add := func(kind, id string) { inv.Kinds[kind] = append(inv.Kinds[kind], id) }
	for _, r := range st.Roles {
		add("roles", r.Arn)
	}
	if ds := st.DataSync; ds != nil {
		for _, l := range ds.Locations {
			add("locations", l.Arn)
		}
		for _, t := range ds.Tasks {
			add("tasks", t.Arn)
		}
		for _, x := range ds.Executions {
			add("executions", x.Arn)
		}
	}
	for _, b := range st.Buckets {
		id := b.Name
		if b.Owner != "" {
			id = b.Owner + "/" + b.Name
		}
		add("buckets", id)
		if p := policyText(b.Policy); p != "" {
			inv.Policies[b.Name] = p
		}
	}
	for _, kind := range inventoryKinds {
		if inv.Kinds[kind] == nil {
			inv.Kinds[kind] = []string{}
		}
		sort.Strings(inv.Kinds[kind])
	}
	return inv
}

// policyText is a bucket policy from a state dump as compact JSON with sorted keys (so
// that two dumps compare by content), the text itself when it is not a JSON document,
// or "" when the bucket has none.
func policyText(raw json.RawMessage) string {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return ""
	}
	switch p := v.(type) {
	case nil:
		return ""
	case string:
		return p
	default:
		b, _ := json.Marshal(p)
		return string(b)
	}
}

// Diff lists, per kind, what b has that a has not ("+id") and what a had that b lost ("-id").
func (a Inventory) Diff(b Inventory) map[string][]string {
	out := map[string][]string{}
	for _, kind := range inventoryKinds {
		for _, id := range b.Kinds[kind] {
			if !slices.Contains(a.Kinds[kind], id) {
				out[kind] = append(out[kind], "+"+id)
			}
		}
		for _, id := range a.Kinds[kind] {
			if !slices.Contains(b.Kinds[kind], id) {
				out[kind] = append(out[kind], "-"+id)
			}
		}
	}
	return out
}

// Count returns how many of a kind there are.
func (a Inventory) Count(kind string) int { return len(a.Kinds[kind]) }

// Summary is "2 roles, 2 locations, 1 task".
func (a Inventory) Summary(kinds ...string) string {
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%d %s", a.Count(k), k))
	}
	return strings.Join(parts, ", ")
}
