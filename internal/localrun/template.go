package localrun

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Template is the part of a synthesized CloudFormation template the runner reads.
type Template struct {
	Path       string                       `json:"-"`
	StackName  string                       `json:"-"`
	Resources  map[string]Resource          `json:"Resources"`
	Parameters map[string]TemplateParameter `json:"Parameters"`
	Outputs    map[string]map[string]any    `json:"Outputs"`
}

// Resource is one CloudFormation resource.
type Resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	Metadata   map[string]any `json:"Metadata"`
}

// TemplateParameter is a CloudFormation parameter; only its default is used.
type TemplateParameter struct {
	Type    string `json:"Type"`
	Default any    `json:"Default"`
}

// LoadTemplate reads a template file.
func LoadTemplate(path, stackName string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t Template
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	t.Path = path
	t.StackName = stackName
	return &t, nil
}

// ofType returns the logical ids of the resources of a type, sorted.
func (t *Template) ofType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// cdkPath is the construct path CDK records in the metadata, or "".
func (r Resource) cdkPath() string {
	s, _ := r.Metadata["aws:cdk:path"].(string)
	return s
}

// Stacks are the two synthesized templates the runner needs.
type Stacks struct {
	Destination *Template // functions, their roles, the state machine (account B)
	Source      *Template // the source-access role (account A)
	// Environments from the cloud assembly manifest ("" when environment-agnostic).
	DestinationAccount, DestinationRegion string
	SourceAccount, SourceRegion           string
}

type manifest struct {
	Artifacts map[string]struct {
		Type        string `json:"type"`
		Environment string `json:"environment"`
		DisplayName string `json:"displayName"`
		Properties  struct {
			TemplateFile string `json:"templateFile"`
			StackName    string `json:"stackName"`
		} `json:"properties"`
	} `json:"artifacts"`
}

// LoadStacks finds the destination stack (the one with the state machine) and the
// source-access stack (a role and no functions) in a cloud assembly directory.
func LoadStacks(dir string) (*Stacks, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("no synthesized templates in %s (run `make synth`): %w", dir, err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s/manifest.json: %w", dir, err)
	}
	var s Stacks
	var dests, srcs []string
	names := make([]string, 0, len(m.Artifacts))
	for name := range m.Artifacts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a := m.Artifacts[name]
		if a.Type != "aws:cloudformation:stack" || a.Properties.TemplateFile == "" {
			continue
		}
		t, err := LoadTemplate(filepath.Join(dir, a.Properties.TemplateFile), firstNonEmpty(a.Properties.StackName, name))
		if err != nil {
			return nil, err
		}
		acct, region := parseEnvironment(a.Environment)
		switch {
		case len(t.ofType("AWS::StepFunctions::StateMachine")) > 0:
			dests = append(dests, name)
			s.Destination, s.DestinationAccount, s.DestinationRegion = t, acct, region
		case len(t.ofType("AWS::IAM::Role")) > 0 && len(t.ofType("AWS::Lambda::Function")) == 0:
			srcs = append(srcs, name)
			s.Source, s.SourceAccount, s.SourceRegion = t, acct, region
		}
	}
	if len(dests) != 1 {
		return nil, fmt.Errorf("%s: want exactly one stack with a state machine, found %d %v (run `make synth`)", dir, len(dests), dests)
	}
	if len(srcs) != 1 {
		return nil, fmt.Errorf("%s: want exactly one source-access stack (IAM role, no function), found %d %v (run `make synth`)", dir, len(srcs), srcs)
	}
	return &s, nil
}

// parseEnvironment reads "aws://ACCOUNT/REGION"; unknown parts are "".
func parseEnvironment(env string) (account, region string) {
	rest, ok := strings.CutPrefix(env, "aws://")
	if !ok {
		return "", ""
	}
	account, region, _ = strings.Cut(rest, "/")
	if strings.HasPrefix(account, "unknown-") {
		account = ""
	}
	if strings.HasPrefix(region, "unknown-") {
		region = ""
	}
	return account, region
}

// Resolver evaluates the few intrinsic functions a synthesized template uses, as
// CloudFormation would for a stack deployed in Account/Region. Physical names that
// CloudFormation would generate are made deterministic: <stack>-<logicalId>.
type Resolver struct {
	T         *Template
	Partition string
	Account   string
	Region    string
	// FunctionNames gives the physical name of Lambda functions by logical id.
	FunctionNames map[string]string
}

var subRef = regexp.MustCompile(`\$\{([^}]*)\}`)

// Resolve returns v with every intrinsic function evaluated. An intrinsic it cannot
// evaluate is an error naming the value, never a silent skip.
func (r *Resolver) Resolve(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") || k == "Condition" {
					out, err := r.intrinsic(k, arg)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", compact(x), err)
					}
					return out, nil
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			re, err := r.Resolve(e)
			if err != nil {
				return nil, err
			}
			if re == noValue {
				continue
			}
			out[k] = re
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			re, err := r.Resolve(e)
			if err != nil {
				return nil, err
			}
			if re == noValue {
				continue
			}
			out = append(out, re)
		}
		return out, nil
	default:
		return v, nil
	}
}

// ResolveString resolves v and requires a string.
func (r *Resolver) ResolveString(v any) (string, error) {
	out, err := r.Resolve(v)
	if err != nil {
		return "", err
	}
	switch s := out.(type) {
	case string:
		return s, nil
	case float64, bool:
		return fmt.Sprint(s), nil
	}
	return "", fmt.Errorf("%s: want a string, got %s", compact(v), compact(out))
}

type noValueT struct{}

var noValue = noValueT{}

func (r *Resolver) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref of a non-string")
		}
		return r.ref(name)
	case "Fn::GetAtt":
		var parts []string
		switch a := arg.(type) {
		case string:
			parts = strings.SplitN(a, ".", 2)
		case []any:
			for _, p := range a {
				s, ok := p.(string)
				if !ok {
					return nil, fmt.Errorf("Fn::GetAtt with a non-string part")
				}
				parts = append(parts, s)
			}
		}
		if len(parts) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt wants [LogicalId, Attribute]")
		}
		return r.getAtt(parts[0], parts[1])
	case "Fn::Join":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Join wants [delimiter, list]")
		}
		delim, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Join delimiter is not a string")
		}
		list, err := r.Resolve(a[1])
		if err != nil {
			return nil, err
		}
		items, ok := list.([]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Join list is not a list")
		}
		strs := make([]string, len(items))
		for i, it := range items {
			s, err := r.ResolveString(it)
			if err != nil {
				return nil, err
			}
			strs[i] = s
		}
		return strings.Join(strs, delim), nil
	case "Fn::Sub":
		var text string
		vars := map[string]any{}
		switch a := arg.(type) {
		case string:
			text = a
		case []any:
			if len(a) != 2 {
				return nil, fmt.Errorf("Fn::Sub wants a string or [string, variables]")
			}
			s, ok := a[0].(string)
			m, ok2 := a[1].(map[string]any)
			if !ok || !ok2 {
				return nil, fmt.Errorf("Fn::Sub wants [string, {variables}]")
			}
			text, vars = s, m
		default:
			return nil, fmt.Errorf("Fn::Sub wants a string or [string, variables]")
		}
		var subErr error
		out := subRef.ReplaceAllStringFunc(text, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return "${" + name[1:] + "}"
			}
			var v any
			var err error
			if val, ok := vars[name]; ok {
				v, err = r.ResolveString(val)
			} else if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
				v, err = r.getAtt(id, attr)
			} else {
				v, err = r.ref(name)
			}
			if err != nil {
				subErr = err
				return m
			}
			s, ok := v.(string)
			if !ok {
				subErr = fmt.Errorf("${%s} is not a string", name)
			}
			return s
		})
		if subErr != nil {
			return nil, subErr
		}
		return out, nil
	case "Fn::Select":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Select wants [index, list]")
		}
		idxV, err := r.Resolve(a[0])
		if err != nil {
			return nil, err
		}
		var idx int
		switch n := idxV.(type) {
		case float64:
			idx = int(n)
		case string:
			if _, err := fmt.Sscan(n, &idx); err != nil {
				return nil, fmt.Errorf("Fn::Select index %q", n)
			}
		default:
			return nil, fmt.Errorf("Fn::Select index is not a number")
		}
		list, err := r.Resolve(a[1])
		if err != nil {
			return nil, err
		}
		items, ok := list.([]any)
		if !ok || idx < 0 || idx >= len(items) {
			return nil, fmt.Errorf("Fn::Select index %d out of range", idx)
		}
		return items[idx], nil
	case "Fn::Split":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Split wants [delimiter, string]")
		}
		delim, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Split delimiter is not a string")
		}
		s, err := r.ResolveString(a[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out, nil
	}
	return nil, fmt.Errorf("intrinsic %s is not supported by the local runner", fn)
}

func (r *Resolver) ref(name string) (any, error) {
	switch name {
	case "AWS::Partition":
		return r.Partition, nil
	case "AWS::AccountId":
		return r.Account, nil
	case "AWS::Region":
		return r.Region, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return r.T.StackName, nil
	case "AWS::NoValue":
		return noValue, nil
	}
	if p, ok := r.T.Parameters[name]; ok {
		if p.Default == nil {
			return nil, fmt.Errorf("parameter %s has no default", name)
		}
		return p.Default, nil
	}
	res, ok := r.T.Resources[name]
	if !ok {
		return nil, fmt.Errorf("Ref to unknown %q", name)
	}
	switch res.Type {
	case "AWS::IAM::Role", "AWS::Lambda::Function", "AWS::Logs::LogGroup", "AWS::S3::Bucket", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
		if res.Type == "AWS::IAM::ManagedPolicy" {
			return r.getAtt(name, "PolicyArn")
		}
		return r.physicalName(name)
	case "AWS::StepFunctions::StateMachine", "AWS::SNS::Topic":
		return r.getAtt(name, "Arn")
	}
	return nil, fmt.Errorf("Ref to %s (%s) is not supported by the local runner", name, res.Type)
}

// nameProperty is the property that holds a resource type's physical name.
var nameProperty = map[string]string{
	"AWS::IAM::Role":                   "RoleName",
	"AWS::Lambda::Function":            "FunctionName",
	"AWS::Logs::LogGroup":              "LogGroupName",
	"AWS::S3::Bucket":                  "BucketName",
	"AWS::IAM::Policy":                 "PolicyName",
	"AWS::IAM::ManagedPolicy":          "ManagedPolicyName",
	"AWS::StepFunctions::StateMachine": "StateMachineName",
}

// physicalName is the name property when set, else a deterministic generated name.
func (r *Resolver) physicalName(id string) (string, error) {
	res := r.T.Resources[id]
	if prop, ok := nameProperty[res.Type]; ok {
		if v, ok := res.Properties[prop]; ok {
			return r.ResolveString(v)
		}
	}
	if res.Type == "AWS::Lambda::Function" {
		if n, ok := r.FunctionNames[id]; ok {
			return n, nil
		}
	}
	name := r.T.StackName + "-" + id
	max := 64
	if res.Type == "AWS::S3::Bucket" {
		name = strings.ToLower(name)
		max = 63
	}
	if len(name) > max {
		name = name[:max]
	}
	return name, nil
}

func (r *Resolver) getAtt(id, attr string) (any, error) {
	res, ok := r.T.Resources[id]
	if !ok {
		return nil, fmt.Errorf("Fn::GetAtt of unknown resource %q", id)
	}
	name, err := r.physicalName(id)
	if err != nil {
		return nil, err
	}
	p, a, reg := r.Partition, r.Account, r.Region
	switch res.Type + "." + attr {
	case "AWS::IAM::Role.Arn":
		path := "/"
		if v, ok := res.Properties["Path"]; ok {
			if path, err = r.ResolveString(v); err != nil {
				return nil, err
			}
		}
		return fmt.Sprintf("arn:%s:iam::%s:role%s%s", p, a, path, name), nil
	case "AWS::IAM::ManagedPolicy.PolicyArn":
		path := "/"
		if v, ok := res.Properties["Path"]; ok {
			if path, err = r.ResolveString(v); err != nil {
				return nil, err
			}
		}
		return fmt.Sprintf("arn:%s:iam::%s:policy%s%s", p, a, path, name), nil
	case "AWS::Logs::LogGroup.Arn":
		return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:*", p, reg, a, name), nil
	case "AWS::Lambda::Function.Arn":
		return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", p, reg, a, name), nil
	case "AWS::StepFunctions::StateMachine.Arn":
		return fmt.Sprintf("arn:%s:states:%s:%s:stateMachine:%s", p, reg, a, name), nil
	case "AWS::StepFunctions::StateMachine.Name":
		return name, nil
	case "AWS::S3::Bucket.Arn":
		return fmt.Sprintf("arn:%s:s3:::%s", p, name), nil
	case "AWS::SNS::Topic.TopicArn":
		return fmt.Sprintf("arn:%s:sns:%s:%s:%s", p, reg, a, name), nil
	}
	return nil, fmt.Errorf("Fn::GetAtt %s.%s (%s) is not supported by the local runner", id, attr, res.Type)
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
