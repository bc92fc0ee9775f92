package localrun

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Inventory is what a simulator state dump holds, by kind: the identities (ARN or name)
// of roles, locations, tasks and executions, and bucket policies by bucket.
type Inventory struct {
	Kinds    map[string][]string
	Policies map[string]string
}

var inventoryKinds = []string{"roles", "locations", "tasks", "executions", "buckets"}

// InventoryOf reads a state dump.
func InventoryOf(st map[string]any) Inventory {
	inv := Inventory{Kinds: map[string][]string{}, Policies: map[string]string{}}
	for _, kind := range inventoryKinds {
		ids := []string{}
		for i, x := range listAt(st, kind) {
			m, ok := x.(map[string]any)
			if !ok {
				ids = append(ids, fmt.Sprint(x))
				continue
			}
			id := str(m, "arn", "Arn", "locationArn", "LocationArn", "taskArn", "TaskArn", "taskExecutionArn", "TaskExecutionArn", "roleArn", "RoleArn")
			if id == "" {
				id = str(m, "name", "Name", "roleName", "RoleName", "bucket", "Bucket")
				if acct := str(m, "accountId", "AccountId", "account", "owner"); acct != "" && id != "" {
					id = acct + "/" + id
				}
			}
			if id == "" {
				id = fmt.Sprintf("#%d", i)
			}
			ids = append(ids, id)
			if kind == "buckets" {
				if p := policyText(m["policy"]); p != "" {
					inv.Policies[str(m, "name", "Name", "bucket", "Bucket")] = p
				}
			}
		}
		sort.Strings(ids)
		inv.Kinds[kind] = ids
	}
	return inv
}

// policyText is a bucket policy from a state dump: a string, or a JSON document.
func policyText(v any) string {
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
