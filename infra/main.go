// Command infra is the CDK app of dsmigrate: DestinationStack in account B (the functions,
// the state machine and its triggers) and SourceAccessStack in account A (the read role of
// preflight and the policy-writer role of putbucketpolicy). `cdk synth` runs it with the context of cdk.json.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/dsmigrate/dsmigrate/statemachine"
)

// Stack ids: the names `cdk deploy` takes.
const (
	DestinationStackID  = "DsmigrateDestination"
	SourceAccessStackID = "DsmigrateSourceAccess"
)

// appPaths are the files the app reads besides the context.
type appPaths struct {
	Definition string // the state machine definition (DefinitionFile)
	AssetDir   string // dist/: <step>/bootstrap per function
}

func defaultPaths(root string) appPaths {
	return appPaths{
		Definition: filepath.Join(root, DefinitionFile),
		AssetDir:   filepath.Join(root, "dist"),
	}
}

// stacks are the two stacks of the app.
type stacks struct {
	Destination  *DestinationStack
	SourceAccess *SourceAccessStack
}

// buildApp reads the configuration and the definition and adds both stacks to app, with
// the cdk-nag AwsSolutions checks.
func buildApp(app awscdk.App, paths appPaths) (stacks, error) {
	cfg, err := ConfigFromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		return stacks{}, err
	}
	definition, err := os.ReadFile(paths.Definition)
	if err != nil {
		return stacks{}, fmt.Errorf("state machine definition: %w", err)
	}
	if err := statemachine.CheckPlaceholders(definition); err != nil {
		return stacks{}, fmt.Errorf("%s: %w", paths.Definition, err)
	}
	if err := checkSettings(statemachine.AllSteps(), settings); err != nil {
		return stacks{}, err
	}
	for _, spec := range allSteps {
		if _, err := os.Stat(filepath.Join(paths.AssetDir, spec.Dir, "bootstrap")); err != nil {
			return stacks{}, fmt.Errorf("function %s: %w (run `make build` first)", spec.Dir, err)
		}
	}

	var sourceEnv *awscdk.Environment
	if cfg.SourceAccount == anyAccount {
		// Source account not fixed: the stack deploys into whichever account the profile is for.
		sourceEnv = &awscdk.Environment{Region: jsii.String(cfg.Region)}
	} else {
		sourceEnv = &awscdk.Environment{Account: jsii.String(cfg.SourceAccount), Region: jsii.String(cfg.Region)}
	}
	var s stacks
	s.Destination = NewDestinationStack(app, DestinationStackID, &DestinationStackProps{
		StackProps: awscdk.StackProps{
			StackName:   jsii.String(cfg.NamePrefix + "-destination"),
			Description: jsii.String("dsmigrate backend (account B): step functions, state machine, triggers"),
			Env:         &awscdk.Environment{Account: jsii.String(cfg.DestinationAccount), Region: jsii.String(cfg.Region)},
		},
		Config:     cfg,
		Definition: string(definition),
		AssetDir:   paths.AssetDir,
	})
	s.SourceAccess = NewSourceAccessStack(app, SourceAccessStackID, &SourceAccessStackProps{
		StackProps: awscdk.StackProps{
			StackName:   jsii.String(cfg.NamePrefix + "-source-access"),
			Description: jsii.String("dsmigrate roles in account A: the read role of preflight, the policy-writer role of putbucketpolicy"),
			Env:         sourceEnv,
		},
		Config: cfg,
	})
	// Error-level findings make `cdk synth` exit non-zero; each accepted one is suppressed
	// next to its resource with the reason.
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return s, nil
}

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	root, err := repoRoot()
	if err == nil {
		_, err = buildApp(app, defaultPaths(root))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dsmigrate infra:", err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
}
