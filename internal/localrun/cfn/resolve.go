package cfn

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Resolver evaluates the few intrinsic functions a synthesized template uses (Ref,
// Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split), as CloudFormation would for a
// stack deployed in Partition/Account/Region. Physical names that CloudFormation would
// generate are made deterministic: <stack>-<logicalId>.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
type Resolver struct {
	Template  *Template
	Partition string // AWS::Partition, e.g. "aws"
	Account   string // AWS::AccountId
	Region    string // AWS::Region
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
						return nil, fmt.Errorf("%s: %w", Compact(x), err)
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
	return "", fmt.Errorf("%s: want a string, got %s", Compact(v), Compact(out))
}

// noValue is what {"Ref": "AWS::NoValue"} resolves to: the enclosing key or list item
// is dropped.
type noValueT struct{}

var noValue = noValueT{}

// intrinsic evaluates one intrinsic function (fn is its key, "Ref" or "Fn::...").
func (r *Resolver) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("the argument of Ref is not a string")
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
		return r.GetAtt(parts[0], parts[1])
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
				v, err = r.GetAtt(id, attr)
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

// ref evaluates {"Ref": name}: a pseudo parameter, a parameter's default, or what Ref
// returns for a resource of a supported type (its name, or its ARN where that is what
// CloudFormation returns).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/pseudo-parameter-reference.html
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
		return r.Template.StackName, nil
	case "AWS::NoValue":
		return noValue, nil
	}
	if p, ok := r.Template.Parameters[name]; ok {
		if p.Default == nil {
			return nil, fmt.Errorf("parameter %s has no default", name)
		}
		return p.Default, nil
	}
	res, ok := r.Template.Resources[name]
	if !ok {
		return nil, fmt.Errorf("unknown parameter or resource %q", name)
	}
	switch res.Type {
	case "AWS::IAM::Role", "AWS::Lambda::Function", "AWS::Logs::LogGroup", "AWS::S3::Bucket", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
		if res.Type == "AWS::IAM::ManagedPolicy" {
			return r.GetAtt(name, "PolicyArn")
		}
		return r.PhysicalName(name)
	case "AWS::StepFunctions::StateMachine", "AWS::SNS::Topic":
		return r.GetAtt(name, "Arn")
	}
	return nil, fmt.Errorf("a Ref to %s (%s) is not supported by the local runner", name, res.Type)
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

// PhysicalName is the name of resource id: its name property when the template sets
// it, else FunctionNames for a function, else a deterministic stand-in for the name
// CloudFormation would generate (<stack>-<logicalId>, cut to the type's length limit).
func (r *Resolver) PhysicalName(id string) (string, error) {
	res := r.Template.Resources[id]
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
	name := r.Template.StackName + "-" + id
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

// GetAtt evaluates {"Fn::GetAtt": [id, attr]} for the attributes the stacks use, in the
// ARN formats of the Service Authorization Reference.
// https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
func (r *Resolver) GetAtt(id, attr string) (any, error) {
	res, ok := r.Template.Resources[id]
	if !ok {
		return nil, fmt.Errorf("Fn::GetAtt of unknown resource %q", id)
	}
	name, err := r.PhysicalName(id)
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

// Compact is v as JSON on one line, cut after 200 bytes: a template value quoted in an
// error message.
func Compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
