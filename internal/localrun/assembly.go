package localrun

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/dsmigrate/dsmigrate/internal/localrun/cfn"
)

// Stacks are the two synthesized templates the runner needs.
type Stacks struct {
	Destination *cfn.Template // functions, their roles, the state machine (account B)
	Source      *cfn.Template // the roles the functions assume in account A
	// Environments from the cloud assembly manifest ("" when environment-agnostic).
	DestinationAccount, DestinationRegion string
	SourceAccount, SourceRegion           string
}

// LoadStacks finds the destination stack (the one with the state machine) and the
// source-access stack (a role and no functions) in a cloud assembly directory.
func LoadStacks(dir string) (*Stacks, error) {
	assembly, err := cfn.LoadAssembly(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no synthesized templates in %s (run `make synth`): %w", dir, err)
	}
	if err != nil {
		return nil, err
	}
	var s Stacks
	var dests, srcs []string
	for _, st := range assembly {
		t := st.Template
		switch {
		case len(t.OfType("AWS::StepFunctions::StateMachine")) > 0:
			dests = append(dests, st.ArtifactID)
			s.Destination, s.DestinationAccount, s.DestinationRegion = t, st.Account, st.Region
		case len(t.OfType("AWS::IAM::Role")) > 0 && len(t.OfType("AWS::Lambda::Function")) == 0:
			srcs = append(srcs, st.ArtifactID)
			s.Source, s.SourceAccount, s.SourceRegion = t, st.Account, st.Region
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
