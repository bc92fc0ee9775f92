package localrun

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/localrun/cfn"
	"github.com/dsmigrate/dsmigrate/statemachine"
)

// Functions are the step Lambdas' function directories: the migration state machine's in
// the order it runs them (statemachine.Steps), then the batch state machine's.
var Functions = stepDirs(statemachine.AllSteps())

func stepDirs(steps []statemachine.Step) []string {
	dirs := make([]string, len(steps))
	for i, s := range steps {
		dirs[i] = s.Dir
	}
	return dirs
}

// RoleSpec is an IAM role as a stack defines it, with every intrinsic resolved.
type RoleSpec struct {
	LogicalID string
	Name      string
	Path      string
	Arn       string
	Trust     json.RawMessage
	// Policies maps an inline policy name to its document.
	Policies map[string]json.RawMessage
	// SkippedManaged lists AWS managed policies not simulated (logs, X-Ray).
	SkippedManaged []string
	// PermissionsBoundary is the ARN of the role's permissions boundary; "" for none.
	PermissionsBoundary string
}

// ManagedPolicySpec is a customer managed policy (AWS::IAM::ManagedPolicy) of a stack,
// created in the simulator as a standalone policy so that a role can have it as its
// permissions boundary (a policy attached through its Roles is also written into
// those roles' inline policies, see ReadRole).
type ManagedPolicySpec struct {
	LogicalID string
	Name      string
	Path      string
	Arn       string
	Document  json.RawMessage
}

// FunctionSpec is one Lambda function as the destination stack defines it.
type FunctionSpec struct {
	Dir       string // function directory: preflight, createroles, ...
	LogicalID string
	Name      string
	Arn       string
	Role      *RoleSpec
	Env       map[string]string
	Timeout   int
	MemoryMB  int
}

// DestinationSpec is what the runner builds in account B.
type DestinationSpec struct {
	Functions     []*FunctionSpec // in Functions order
	Substitutions map[string]string
	// BatchSubstitutions are the batch state machine's, its MigrationStateMachineArn
	// included; nil when the template has no batch state machine.
	BatchSubstitutions map[string]string
	// BatchStateMachineArn is the batch state machine's ARN ("" without one).
	BatchStateMachineArn string
	// ManagedPolicies are the stack's customer managed policies, by logical id.
	ManagedPolicies []*ManagedPolicySpec
	// StateMachineRole is the state machine's execution role: the local driver puts the
	// outgoing events (the Publish* states) with its credentials. Nil when the template's
	// state machine names no role of the stack.
	StateMachineRole *RoleSpec
}

// simulatedManagedPolicies are AWS managed policies whose permissions concern services
// the simulator does not serve (CloudWatch Logs, X-Ray); they are recorded, not created.
var simulatedManagedPolicies = map[string]bool{
	"service-role/AWSLambdaBasicExecutionRole":     true,
	"AWSXRayDaemonWriteAccess":                     true,
	"AWSXrayWriteOnlyAccess":                       true,
	"service-role/AWSLambdaVPCAccessExecutionRole": true,
}

// stateMachines finds the migration state machine and, when there is one, the batch state
// machine (the one whose substitutions name the migration state machine).
func stateMachines(t *cfn.Template) (migration, batch string, err error) {
	for _, id := range t.OfType("AWS::StepFunctions::StateMachine") {
		subs, _ := t.Resources[id].Properties["DefinitionSubstitutions"].(map[string]any)
		if _, ok := subs[statemachine.MigrationStateMachinePlaceholder]; ok {
			if batch != "" {
				return "", "", fmt.Errorf("%s: two batch state machines, %s and %s", t.Path, batch, id)
			}
			batch = id
			continue
		}
		if migration != "" {
			return "", "", fmt.Errorf("%s: want one migration state machine, found %s and %s", t.Path, migration, id)
		}
		migration = id
	}
	if migration == "" {
		return "", "", fmt.Errorf("%s: want one state machine, found none", t.Path)
	}
	return migration, batch, nil
}

// functionLogicalIDs maps each function directory to its logical id, from the state
// machine's DefinitionSubstitutions (authoritative) or, failing that, from the id / path.
func functionLogicalIDs(t *cfn.Template) (map[string]string, map[string]any, error) {
	byDir := map[string]string{}
	migration, batch, err := stateMachines(t)
	if err != nil {
		return nil, nil, err
	}
	subs, _ := t.Resources[migration].Properties["DefinitionSubstitutions"].(map[string]any)
	all := map[string]any{}
	for k, v := range subs {
		all[k] = v
	}
	if batch != "" {
		bsubs, _ := t.Resources[batch].Properties["DefinitionSubstitutions"].(map[string]any)
		for k, v := range bsubs {
			all[k] = v
		}
	}
	for key, v := range all {
		step, ok := statemachine.StepOfPlaceholder(key)
		if !ok {
			continue
		}
		dir := step.Dir
		id := getAttTarget(v)
		if id == "" || t.Resources[id].Type != "AWS::Lambda::Function" {
			return nil, nil, fmt.Errorf("%s: DefinitionSubstitutions.%s is %s, want Fn::GetAtt of a Lambda function's Arn", t.Path, key, cfn.Compact(v))
		}
		byDir[dir] = id
	}
	funcs := t.OfType("AWS::Lambda::Function")
	for _, dir := range Functions {
		if _, ok := byDir[dir]; ok {
			continue
		}
		var found []string
		for _, id := range funcs {
			if strings.Contains(strings.ToLower(id), dir) || strings.Contains(strings.ToLower(t.Resources[id].CDKPath()), dir) {
				found = append(found, id)
			}
		}
		if len(found) != 1 {
			return nil, nil, fmt.Errorf("%s: cannot tell which Lambda function is %q (candidates %v; the state machine's DefinitionSubstitutions should name it)", t.Path, dir, found)
		}
		byDir[dir] = found[0]
	}
	return byDir, subs, nil
}

// getAttTarget returns X for {"Fn::GetAtt": [X, "Arn"]} (or "X.Arn"), else "".
func getAttTarget(v any) string {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return ""
	}
	switch a := m["Fn::GetAtt"].(type) {
	case []any:
		if len(a) == 2 {
			id, _ := a[0].(string)
			if attr, _ := a[1].(string); attr == "Arn" {
				return id
			}
		}
	case string:
		if id, ok := strings.CutSuffix(a, ".Arn"); ok {
			return id
		}
	}
	return ""
}

// refTarget returns X for {"Ref": X}, else "".
func refTarget(v any) string {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return ""
	}
	s, _ := m["Ref"].(string)
	return s
}

// NewDestinationResolver returns a resolver for the destination template where the six
// functions have the local names of docs/reference.md unless the template names them.
func NewDestinationResolver(t *cfn.Template, partition, account, region string) (*cfn.Resolver, map[string]string, error) {
	byDir, _, err := functionLogicalIDs(t)
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	for dir, id := range byDir {
		names[id] = "dsmigrate-" + dir
	}
	return &cfn.Resolver{Template: t, Partition: partition, Account: account, Region: region, FunctionNames: names}, byDir, nil
}

// ReadDestination reads the functions, their execution roles and environment, and the
// state machine's substitutions from the destination template.
func ReadDestination(r *cfn.Resolver, byDir map[string]string) (*DestinationSpec, error) {
	t := r.Template
	spec := &DestinationSpec{Substitutions: map[string]string{}}
	migration, batch, err := stateMachines(t)
	if err != nil {
		return nil, err
	}
	if subs, ok := t.Resources[migration].Properties["DefinitionSubstitutions"].(map[string]any); ok {
		for k, v := range subs {
			s, err := r.ResolveString(v)
			if err != nil {
				return nil, fmt.Errorf("%s: DefinitionSubstitutions.%s: %w", t.Path, k, err)
			}
			spec.Substitutions[k] = s
		}
	}
	if batch != "" {
		name, err := r.ResolveString(t.Resources[batch].Properties["StateMachineName"])
		if err != nil {
			return nil, fmt.Errorf("%s: %s StateMachineName: %w", t.Path, batch, err)
		}
		spec.BatchStateMachineArn = fmt.Sprintf("arn:%s:states:%s:%s:stateMachine:%s", r.Partition, r.Region, r.Account, name)
		spec.BatchSubstitutions = map[string]string{}
		subs, _ := t.Resources[batch].Properties["DefinitionSubstitutions"].(map[string]any)
		for k, v := range subs {
			if k == statemachine.MigrationStateMachinePlaceholder {
				continue // the migration state machine's ARN: Environment.StateMachineArn
			}
			s, err := r.ResolveString(v)
			if err != nil {
				return nil, fmt.Errorf("%s: DefinitionSubstitutions.%s: %w", t.Path, k, err)
			}
			spec.BatchSubstitutions[k] = s
		}
	}
	roles := map[string]*RoleSpec{}
	for _, dir := range Functions {
		id := byDir[dir]
		res := t.Resources[id]
		f := &FunctionSpec{Dir: dir, LogicalID: id, Env: map[string]string{}}
		name, err := r.PhysicalName(id)
		if err != nil {
			return nil, fmt.Errorf("%s: function %s name: %w", t.Path, id, err)
		}
		f.Name = name
		arn, err := r.GetAtt(id, "Arn")
		if err != nil {
			return nil, err
		}
		f.Arn = arn.(string)
		roleID := getAttTarget(res.Properties["Role"])
		if roleID == "" || t.Resources[roleID].Type != "AWS::IAM::Role" {
			return nil, fmt.Errorf("%s: function %s: Role is %s, want Fn::GetAtt of an AWS::IAM::Role in this stack", t.Path, id, cfn.Compact(res.Properties["Role"]))
		}
		if roles[roleID] == nil {
			rs, err := ReadRole(r, roleID)
			if err != nil {
				return nil, err
			}
			roles[roleID] = rs
		}
		f.Role = roles[roleID]
		if env, ok := res.Properties["Environment"].(map[string]any); ok {
			vars, _ := env["Variables"].(map[string]any)
			for k, v := range vars {
				s, err := r.ResolveString(v)
				if err != nil {
					return nil, fmt.Errorf("%s: function %s env %s: %w", t.Path, id, k, err)
				}
				f.Env[k] = s
			}
		}
		if n, ok := res.Properties["Timeout"].(float64); ok {
			f.Timeout = int(n)
		}
		if n, ok := res.Properties["MemorySize"].(float64); ok {
			f.MemoryMB = int(n)
		}
		spec.Functions = append(spec.Functions, f)
	}
	if spec.ManagedPolicies, err = ReadManagedPolicies(r); err != nil {
		return nil, err
	}
	if roleID := getAttTarget(t.Resources[migration].Properties["RoleArn"]); roleID != "" && t.Resources[roleID].Type == "AWS::IAM::Role" {
		if spec.StateMachineRole, err = ReadRole(r, roleID); err != nil {
			return nil, err
		}
	}
	return spec, nil
}

// ReadRole reads a role: its trust policy, its inline policies and every AWS::IAM::Policy
// (or RolePolicy / ManagedPolicy) of the template attached to it.
func ReadRole(r *cfn.Resolver, roleID string) (*RoleSpec, error) {
	t := r.Template
	res := t.Resources[roleID]
	name, err := r.PhysicalName(roleID)
	if err != nil {
		return nil, fmt.Errorf("%s: role %s name: %w", t.Path, roleID, err)
	}
	arn, err := r.GetAtt(roleID, "Arn")
	if err != nil {
		return nil, err
	}
	rs := &RoleSpec{LogicalID: roleID, Name: name, Arn: arn.(string), Path: "/", Policies: map[string]json.RawMessage{}}
	if v, ok := res.Properties["Path"]; ok {
		if rs.Path, err = r.ResolveString(v); err != nil {
			return nil, err
		}
	}
	if v, ok := res.Properties["PermissionsBoundary"]; ok {
		if rs.PermissionsBoundary, err = r.ResolveString(v); err != nil {
			return nil, fmt.Errorf("%s: role %s PermissionsBoundary: %w", t.Path, roleID, err)
		}
	}
	if rs.Trust, err = resolveJSON(r, res.Properties["AssumeRolePolicyDocument"]); err != nil {
		return nil, fmt.Errorf("%s: role %s trust policy: %w", t.Path, roleID, err)
	}
	add := func(policyName string, doc any, where string) error {
		b, err := resolveJSON(r, doc)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", t.Path, where, err)
		}
		if _, dup := rs.Policies[policyName]; dup {
			policyName += "-" + where
		}
		rs.Policies[policyName] = b
		return nil
	}
	if list, ok := res.Properties["Policies"].([]any); ok {
		for i, p := range list {
			pm, _ := p.(map[string]any)
			pn, err := r.ResolveString(pm["PolicyName"])
			if err != nil {
				return nil, fmt.Errorf("%s: role %s Policies[%d]: %w", t.Path, roleID, i, err)
			}
			if err := add(pn, pm["PolicyDocument"], roleID); err != nil {
				return nil, err
			}
		}
	}
	if list, ok := res.Properties["ManagedPolicyArns"].([]any); ok {
		for _, v := range list {
			if id := refTarget(v); id != "" && t.Resources[id].Type == "AWS::IAM::ManagedPolicy" {
				continue // attached below through the policy's Roles
			}
			arn, err := r.ResolveString(v)
			if err != nil {
				return nil, fmt.Errorf("%s: role %s ManagedPolicyArns: %w", t.Path, roleID, err)
			}
			_, after, ok := strings.Cut(arn, ":iam::aws:policy/")
			if !ok || !simulatedManagedPolicies[after] {
				return nil, fmt.Errorf("%s: role %s has managed policy %s, which the local runner cannot reproduce (write its statements in the stack instead)", t.Path, roleID, arn)
			}
			rs.SkippedManaged = append(rs.SkippedManaged, arn)
		}
	}
	// Separate policy resources that attach to this role.
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"} {
		for _, pid := range t.OfType(typ) {
			p := t.Resources[pid]
			attached := false
			if typ == "AWS::IAM::RolePolicy" {
				attached = refTarget(p.Properties["RoleName"]) == roleID
			} else {
				list, _ := p.Properties["Roles"].([]any)
				for _, v := range list {
					if refTarget(v) == roleID {
						attached = true
					} else if refTarget(v) == "" {
						s, err := r.ResolveString(v)
						if err != nil {
							return nil, fmt.Errorf("%s: policy %s Roles: %w", t.Path, pid, err)
						}
						attached = attached || s == name
					}
				}
			}
			if !attached {
				continue
			}
			if err := add(pid, p.Properties["PolicyDocument"], pid); err != nil {
				return nil, err
			}
		}
	}
	return rs, nil
}

// ReadManagedPolicies reads every AWS::IAM::ManagedPolicy of the template.
func ReadManagedPolicies(r *cfn.Resolver) ([]*ManagedPolicySpec, error) {
	t := r.Template
	ids := t.OfType("AWS::IAM::ManagedPolicy")
	sort.Strings(ids)
	var out []*ManagedPolicySpec
	for _, id := range ids {
		res := t.Resources[id]
		mp := &ManagedPolicySpec{LogicalID: id, Path: "/"}
		var err error
		if mp.Name, err = r.PhysicalName(id); err != nil {
			return nil, fmt.Errorf("%s: managed policy %s name: %w", t.Path, id, err)
		}
		if v, ok := res.Properties["Path"]; ok {
			if mp.Path, err = r.ResolveString(v); err != nil {
				return nil, fmt.Errorf("%s: managed policy %s Path: %w", t.Path, id, err)
			}
		}
		arn, err := r.GetAtt(id, "PolicyArn")
		if err != nil {
			return nil, err
		}
		mp.Arn = arn.(string)
		if mp.Document, err = resolveJSON(r, res.Properties["PolicyDocument"]); err != nil {
			return nil, fmt.Errorf("%s: managed policy %s: %w", t.Path, id, err)
		}
		out = append(out, mp)
	}
	return out, nil
}

// resolveJSON resolves a policy document and encodes it.
func resolveJSON(r *cfn.Resolver, doc any) (json.RawMessage, error) {
	if doc == nil {
		return nil, fmt.Errorf("missing policy document")
	}
	v, err := r.Resolve(doc)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// ReadSourceRoles reads the IAM roles of the source-access stack: the roles the
// functions assume in account A, sorted by logical id.
func ReadSourceRoles(r *cfn.Resolver) ([]*RoleSpec, error) {
	ids := r.Template.OfType("AWS::IAM::Role")
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: the source-access stack has no IAM role", r.Template.Path)
	}
	var roles []*RoleSpec
	for _, id := range ids {
		rs, err := ReadRole(r, id)
		if err != nil {
			return nil, err
		}
		roles = append(roles, rs)
	}
	return roles, nil
}
