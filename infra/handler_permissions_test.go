package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/sdkcalls"
)

// dependentActions are the extra actions AWS evaluates for a call the handlers make
// (Service Authorization Reference "dependent actions"; tags given at creation).
var dependentActions = map[string][]string{
	"iam:CreateRole":            {"iam:TagRole"},
	"datasync:CreateLocationS3": {"iam:PassRole", "datasync:TagResource"},
	// A TaskReportConfig passes its BucketAccessRoleArn to DataSync, at CreateTask or as a
	// StartTaskExecution override.
	"datasync:CreateTask":         {"datasync:TagResource", "iam:CreateServiceLinkedRole", "iam:PassRole"},
	"datasync:StartTaskExecution": {"datasync:TagResource", "iam:PassRole"},
}

// iamPrefix maps an SDK service package to its IAM service prefix where they differ.
var iamPrefix = map[string]string{"sfn": "states"}

// iamAction maps an operation to the IAM action that authorizes it where their names
// differ: S3's ListObjectsV2 needs s3:ListBucket, GetBucketEncryption
// s3:GetEncryptionConfiguration and GetObjectLockConfiguration
// s3:GetBucketObjectLockConfiguration (Amazon S3 API Reference, each operation's
// "Permissions").
var iamAction = map[string]string{"s3:ListObjectsV2": "s3:ListBucket", "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
	"s3:GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration"}

// sourceRoleActions are what each step may do in account A through its role there.
var sourceRoleActions = map[string][]string{
	"preflight":       sourceReadActions,
	"putbucketpolicy": sourcePolicyWriterActions,
}

// serviceChecks are actions granted for checks a service makes with the caller's identity
// rather than for calls of the handler: DataSync's CreateLocationS3 access test, and S3's
// call to KMS for a record PutObject into a bucket encrypted by default with a KMS key.
var serviceChecks = map[string][]string{
	"createlocations": {"s3:ListBucket"},
	"record":          {"kms:GenerateDataKey"},
}

// handlerActions lists the IAM actions of the AWS calls declared in internal/<step>, and
// whether the step assumes a role in account A (functions/<step>/main.go uses
// sourceaccess).
func handlerActions(t *testing.T, root, step string) (actions []string, assumesSource bool) {
	t.Helper()
	ops, err := sdkcalls.Declared(filepath.Join(root, "internal", step))
	if err != nil {
		t.Fatalf("internal/%s: %v", step, err)
	}
	for _, op := range ops {
		service, name, _ := strings.Cut(op, ":")
		if p, ok := iamPrefix[service]; ok {
			service = p
		}
		action := service + ":" + name
		if a, ok := iamAction[action]; ok {
			action = a
		}
		actions = append(actions, action)
	}
	main, err := os.ReadFile(filepath.Join(root, "functions", step, "main.go"))
	if err != nil {
		t.Fatalf("functions/%s/main.go: %v", step, err)
	}
	return actions, strings.Contains(string(main), "sourceaccess.")
}

// TestPoliciesMatchTheHandlers ties each execution role to the code it runs: every AWS
// call a handler declares is allowed (directly, or through its role in A),
// and every allowed action is used, so a handler change that needs a new permission, or
// makes one unnecessary, fails here rather than in AWS.
func TestPoliciesMatchTheHandlers(t *testing.T) {
	app := defaultSynth(t)
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	granted := map[string][]string{} // step -> actions
	for id, p := range resources(app.Dest, "AWS::IAM::Policy") {
		for _, spec := range steps {
			if strings.HasPrefix(id, spec.State+"Role") {
				for _, s := range asList(p["PolicyDocument"].(map[string]any)["Statement"]) {
					granted[spec.Dir] = append(granted[spec.Dir], strs(s.(map[string]any)["Action"])...)
				}
			}
		}
	}
	for _, spec := range steps {
		t.Run(spec.Dir, func(t *testing.T) {
			calls, assumes := handlerActions(t, root, spec.Dir)
			if len(calls) == 0 {
				t.Fatalf("found no AWS client methods in internal/%s", spec.Dir)
			}
			mine := granted[spec.Dir]
			used := map[string]bool{"logs:CreateLogStream": true, "logs:PutLogEvents": true,
				"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true}
			if assumes {
				if !slices.Contains(mine, "sts:AssumeRole") {
					t.Errorf("the function assumes a role in account A but may not sts:AssumeRole")
				}
				used["sts:AssumeRole"] = true
			}
			for _, a := range serviceChecks[spec.Dir] {
				used[a] = true
			}
			for _, call := range calls {
				need := append([]string{call}, dependentActions[call]...)
				for _, a := range need {
					used[a] = true
					viaSource := assumes && slices.Contains(sourceRoleActions[spec.Dir], a)
					if !slices.Contains(mine, a) && !viaSource {
						t.Errorf("internal/%s calls %s but the role may not %s", spec.Dir, call, a)
					}
				}
			}
			for _, a := range mine {
				if !used[a] {
					t.Errorf("the role may %s but internal/%s makes no call that needs it", a, spec.Dir)
				}
			}
			for _, a := range sourceRoleActions[spec.Dir] {
				if !slices.Contains(calls, a) {
					t.Errorf("its role in account A may %s but internal/%s makes no such call", a, spec.Dir)
				}
			}
		})
	}
}
