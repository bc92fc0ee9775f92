package localrun

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/dsmigrate/dsmigrate/internal/naming"
)

// What the local environment needs of the deployment besides the functions: the roles in
// account A the functions derive from their prefix, and the state machine whose executions
// Preflight counts.

// registerExecutionOf records an execution of a state machine and its status in the
// simulator, which lists them to Preflight (states:ListExecutions), as Step Functions would.
// machine "" records nothing.
func (e *Environment) registerExecutionOf(ctx context.Context, machine, name, status string) error {
	if machine == "" {
		return nil
	}
	return e.Sim.PutExecution(ctx, machine, name, status)
}

// stateMachineArnOf is the state machine ARN the functions are given, "" when none is.
func stateMachineArnOf(spec *DestinationSpec) string {
	for _, f := range spec.Functions {
		if arn := f.Env["DSMIGRATE_STATE_MACHINE_ARN"]; arn != "" {
			return arn
		}
	}
	return ""
}

// sourceRoleName is the role in account A the function assumes, derived from its
// DSMIGRATE_ROLE_PREFIX as the function derives it (naming.SourceReadRoleName for
// preflight, SourcePolicyWriterRoleName for putbucketpolicy); "" for the others.
func sourceRoleName(f *FunctionSpec) string {
	prefix := f.Env["DSMIGRATE_ROLE_PREFIX"]
	switch f.Dir {
	case "preflight":
		return naming.SourceReadRoleName(prefix)
	case "putbucketpolicy":
		return naming.SourcePolicyWriterRoleName(prefix)
	}
	return ""
}

// SourceRoleArn is the ARN of the role in account A that the function of dir assumes.
func (e *Environment) SourceRoleArn(dir string) string {
	for _, f := range e.Spec.Functions {
		if name := sourceRoleName(f); f.Dir == dir && name != "" {
			return naming.DefaultPathRoleArn(e.Partition, e.Source.AccountID, name)
		}
	}
	return ""
}

// checkSourceRoles requires the source-access stack to define the role in account A that
// each function derives.
func checkSourceRoles(spec *DestinationSpec, roles []*RoleSpec, path string) error {
	names := map[string]bool{}
	for _, r := range roles {
		names[r.Name] = true
	}
	for _, f := range spec.Functions {
		if want := sourceRoleName(f); want != "" && !names[want] {
			return fmt.Errorf("function %s assumes the role %q in account A, but %s does not define it (roles: %v)", f.Dir, want, path, slices.Sorted(maps.Keys(names)))
		}
	}
	return nil
}
