// Package statemachine holds the dsmigrate Step Functions definition (dsmigrate.asl.json)
// and the helpers that fill in its ${...} placeholders, for the CDK app
// (DefinitionSubstitutions) and for local runs (statemachine/localrun/run.mjs).
package statemachine

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

//go:embed dsmigrate.asl.json
var definition []byte

// FileName is the definition's file name inside this directory.
const FileName = "dsmigrate.asl.json"

// Functions maps each ASL placeholder (a DefinitionSubstitutions key) to the function
// directory under functions/ whose ARN it takes (docs/reference.md).
var Functions = map[string]string{
	"PreflightFunctionArn":       "preflight",
	"CreateRolesFunctionArn":     "createroles",
	"PutBucketPolicyFunctionArn": "putbucketpolicy",
	"CreateLocationsFunctionArn": "createlocations",
	"StartTaskFunctionArn":       "starttask",
	"PollExecutionFunctionArn":   "pollexecution",
}

// Placeholders returns the placeholder names of Functions, sorted.
func Placeholders() []string {
	names := make([]string, 0, len(Functions))
	for name := range Functions {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Definition returns a copy of the definition with its placeholders as they are.
func Definition() []byte { return bytes.Clone(definition) }

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// UsedPlaceholders returns the names of the ${...} placeholders that def contains, sorted
// and without duplicates.
func UsedPlaceholders(def []byte) []string {
	var names []string
	for _, m := range placeholder.FindAllSubmatch(def, -1) {
		names = append(names, string(m[1]))
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// Substitute returns the definition with every ${Name} replaced by values[Name], as
// CloudFormation does with DefinitionSubstitutions. Every placeholder needs a value and
// every value a placeholder; values are JSON-escaped. The result is checked to be JSON.
func Substitute(values map[string]string) ([]byte, error) {
	return substitute(definition, values)
}

func substitute(def []byte, values map[string]string) ([]byte, error) {
	used := UsedPlaceholders(def)
	var problems []string
	for _, name := range used {
		if _, ok := values[name]; !ok {
			problems = append(problems, "no value for ${"+name+"}")
		}
	}
	for name := range values {
		if !slices.Contains(used, name) {
			problems = append(problems, "no placeholder ${"+name+"} in the definition")
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("substitute: %s", strings.Join(problems, "; "))
	}
	out := placeholder.ReplaceAllFunc(def, func(m []byte) []byte {
		quoted, _ := json.Marshal(values[string(m[2:len(m)-1])])
		return quoted[1 : len(quoted)-1]
	})
	if !json.Valid(out) {
		return nil, fmt.Errorf("substitute: the result is not valid JSON")
	}
	return out, nil
}

// LocalFunctionArns returns the placeholder values for a local run: the function ARNs
// arn:aws:lambda:<region>:<accountID>:function:dsmigrate-<function dir> of the contract.
func LocalFunctionArns(region, accountID string) map[string]string {
	values := make(map[string]string, len(Functions))
	for name, dir := range Functions {
		values[name] = fmt.Sprintf("arn:aws:lambda:%s:%s:function:dsmigrate-%s", region, accountID, dir)
	}
	return values
}
