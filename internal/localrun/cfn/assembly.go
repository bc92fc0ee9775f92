package cfn

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Stack is one CloudFormation stack of a cloud assembly.
type Stack struct {
	ArtifactID string    // the key in manifest.json "artifacts"
	Template   *Template // with StackName and Path set
	// Account and Region come from the artifact's environment; "" when the stack is
	// environment-agnostic.
	Account, Region string
}

// manifest is the part of a cloud assembly's manifest.json that is read.
// https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.cloud_assembly_schema.AssemblyManifest.html
type manifest struct {
	Artifacts map[string]struct {
		Type        string `json:"type"`
		Environment string `json:"environment"`
		Properties  struct {
			TemplateFile string `json:"templateFile"`
			StackName    string `json:"stackName"`
		} `json:"properties"`
	} `json:"artifacts"`
}

// stackArtifact is the artifact type of a CloudFormation stack.
// https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.cloud_assembly_schema.ArtifactType.html
const stackArtifact = "aws:cloudformation:stack"

// LoadAssembly reads dir/manifest.json and the template of every CloudFormation stack
// it lists, in artifact id order. A stack without a stackName property is named after
// its artifact id, as the CDK CLI deploys it.
func LoadAssembly(dir string) ([]Stack, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	ids := make([]string, 0, len(m.Artifacts))
	for id := range m.Artifacts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var stacks []Stack
	for _, id := range ids {
		a := m.Artifacts[id]
		if a.Type != stackArtifact || a.Properties.TemplateFile == "" {
			continue
		}
		name := a.Properties.StackName
		if name == "" {
			name = id
		}
		t, err := LoadTemplate(filepath.Join(dir, a.Properties.TemplateFile), name)
		if err != nil {
			return nil, err
		}
		acct, region := parseEnvironment(a.Environment)
		stacks = append(stacks, Stack{ArtifactID: id, Template: t, Account: acct, Region: region})
	}
	return stacks, nil
}

// parseEnvironment reads an artifact environment "aws://ACCOUNT/REGION"; a part CDK
// left open ("unknown-account", "unknown-region") is "".
// https://docs.aws.amazon.com/cdk/v2/guide/environments.html
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
