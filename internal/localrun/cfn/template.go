// Package cfn reads a synthesized CDK cloud assembly (cdk.out: manifest.json and the
// CloudFormation templates it lists) and evaluates the intrinsic functions of those
// templates as CloudFormation would for a stack deployed in a given partition, account
// and region. What it cannot evaluate is an error naming the value, never a guess.
// It starts no process and calls no AWS API.
package cfn

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// Template is the part of a synthesized CloudFormation template that is read.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html
type Template struct {
	Path       string               `json:"-"`
	StackName  string               `json:"-"`
	Resources  map[string]Resource  `json:"Resources"`
	Parameters map[string]Parameter `json:"Parameters"`
}

// Resource is one CloudFormation resource.
type Resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	Metadata   map[string]any `json:"Metadata"`
}

// Parameter is a CloudFormation parameter; only its default is used.
type Parameter struct {
	Default any `json:"Default"`
}

// LoadTemplate reads a template file of the stack stackName.
func LoadTemplate(path, stackName string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTemplate(b, path, stackName)
}

// ParseTemplate reads a JSON template of the stack stackName; path names it in errors.
func ParseTemplate(b []byte, path, stackName string) (*Template, error) {
	var t Template
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	t.Path = path
	t.StackName = stackName
	return &t, nil
}

// OfType returns the logical ids of the resources of a type, sorted.
func (t *Template) OfType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// CDKPath is the construct path CDK records in the resource's metadata, or "".
func (r Resource) CDKPath() string {
	s, _ := r.Metadata["aws:cdk:path"].(string)
	return s
}
