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

// registerExecution records an execution of the state machine and its status in the
// simulator, which lists them to Preflight (states:ListExecutions), as Step Functions would.
func (e *Environment) registerExecution(ctx context.Context, name, status string) error {
	if e.StateMachineArn == "" {
		return nil
	}
	return e.Sim.PutExecution(ctx, e.StateMachineArn, name, status)
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

// checkSourceRoles requires the source-access stack to define the role in account A that
// each function derives from its DSMIGRATE_ROLE_PREFIX (naming.SourceReadRoleName for
// preflight, SourcePolicyWriterRoleName for putbucketpolicy).
func checkSourceRoles(spec *DestinationSpec, roles []*RoleSpec, path string) error {
	names := map[string]bool{}
	for _, r := range roles {
		names[r.Name] = true
	}
	for _, f := range spec.Functions {
		prefix := f.Env["DSMIGRATE_ROLE_PREFIX"]
		var want string
		switch f.Dir {
		case "preflight":
			want = naming.SourceReadRoleName(prefix)
		case "putbucketpolicy":
			want = naming.SourcePolicyWriterRoleName(prefix)
		default:
			continue
		}
		if !names[want] {
			return fmt.Errorf("function %s assumes the role %q in account A, but %s does not define it (roles: %v)", f.Dir, want, path, slices.Sorted(maps.Keys(names)))
		}
	}
	return nil
}
