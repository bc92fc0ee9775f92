package server

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/dsmigrate/dsmigrate/internal/sdkcalls"
)

// localrunNeeds are the operations the simulator serves although no client interface of
// the product declares them: the local run (internal/localrun) needs them to stand in
// for CloudFormation and for the person who prepares the buckets, and its end-to-end
// tests to set up and inspect a case (docs/FIDELITY.md, "Which operations exist").
var localrunNeeds = map[string]string{
	"sts:GetCallerIdentity":          "TestE2ENotPrincipalDenyWithoutTheSession names the source admin in a NotPrincipal",
	"iam:CreatePolicy":               "creates the stacks' customer managed policies (the roles' permissions boundary) before the roles",
	"iam:GetPolicy":                  "a managed policy left by an earlier run on a kept simulator: finds its default version",
	"iam:GetPolicyVersion":           "… compares that version with the synthesized document",
	"iam:CreatePolicyVersion":        "… and makes the synthesized document the default when it differs",
	"iam:PutRolePermissionsBoundary": "a role left by an earlier run gets the synthesized permissions boundary",
	"iam:UpdateAssumeRolePolicy":     "creates the stacks' roles; a role left by an earlier run on a kept simulator gets the synthesized trust policy",
	"s3:CreateBucket":                "creates the request's source and destination buckets",
	"s3:PutBucketOwnershipControls":  "gives a bucket the Object Ownership a test asks for (ObjectWriter: the ACL pitfall)",
	"s3:PutBucketEncryption":         "TestE2EKMS... give the source and destination buckets their default encryption (SSE-KMS with a customer managed key, or aws/s3)",
	"kms:CreateKey":                  "TestE2EKMSDestinationKeyOfB creates the destination bucket's key in account B",
	"s3:GetObject":                   "reads objects back to compare their content",
	"datasync:TagResource":           "TestAttackStartTaskOfAnotherDeployment: starttask's credentials re-tag another deployment's task (the steps tag only at creation), and the test's admin gives the task its owner's tag back",
}

// simulated are the services the simulator serves. Of Step Functions ("sfn") it serves
// what the functions call (Preflight's ListExecutions); awsrun's client (dsmigrate
// start / watch) talks to AWS only, and locally the state machine runs in
// aws-local-stepfunctions.
var simulated = []string{"datasync", "iam", "kms", "s3", "sfn", "sts"}

// awsOnly are the product's client packages that never talk to the simulator.
var awsOnly = []string{"awsrun"}

func repoRootDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found in the working directory or any parent")
		}
		dir = parent
	}
}

// productDirs are the directories of dsmigrate's code outside the simulator: the step
// packages and their shared packages, localrun, the functions and commands (not awsOnly).
func productDirs(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "internal"))
	if err != nil {
		t.Fatal(err)
	}
	dirs := []string{filepath.Join(root, "cmd"), filepath.Join(root, "functions")}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "sim" && !slices.Contains(awsOnly, e.Name()) {
			dirs = append(dirs, filepath.Join(root, "internal", e.Name()))
		}
	}
	return dirs
}

// onSimulated keeps the operations of the simulated services.
func onSimulated(ops []string) []string {
	return slices.DeleteFunc(ops, func(op string) bool {
		service, _, _ := strings.Cut(op, ":")
		return !slices.Contains(simulated, service)
	})
}

// served sends every operation of an SDK client to the simulator and returns those it
// serves, as "service:Operation". Each input has every string and integer member set
// (so S3 requests carry the bucket, key and sub-resource parameters that route them)
// and the SDK's input validation is skipped (so nothing stops at the client). An
// operation is not served when no answer came back, or the answer is the service's
// "no such operation": S3 501 NotImplemented, IAM and STS InvalidAction, DataSync
// UnknownOperationException.
func served(t *testing.T, service string, client any) []string {
	t.Helper()
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	v := reflect.ValueOf(client)
	var ops []string
	for i := range v.NumMethod() {
		m := v.Type().Method(i)
		mt := m.Type // receiver first
		if mt.NumIn() != 4 || !mt.IsVariadic() || mt.In(1) != ctxType || mt.In(2).Kind() != reflect.Pointer ||
			mt.In(2).Elem().Name() != m.Name+"Input" {
			continue
		}
		in := reflect.New(mt.In(2).Elem())
		fill(in.Elem())
		out := v.Method(i).Call([]reflect.Value{reflect.ValueOf(context.Background()), in})
		err, _ := out[1].Interface().(error)
		if isServed(err) {
			ops = append(ops, service+":"+m.Name)
		}
	}
	if len(ops) == 0 {
		t.Fatalf("%s: the simulator serves no operation at all: is the probe broken?", service)
	}
	return ops
}

func isServed(err error) bool {
	if err == nil {
		return true
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() == 0 {
		return false // no answer: the request did not reach the simulator
	}
	switch apiCode(err) {
	case "InvalidAction", "UnknownOperationException", "NotImplemented":
		return false
	case "MissingAuthenticationToken":
		return false // unsigned (AssumeRoleWithSAML, ...): refused before any operation
	}
	return re.HTTPStatusCode() != http.StatusNotImplemented // S3 HEAD: status only
}

// fill sets every *string member to "x" and every *int32 member to 1.
func fill(v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch f.Type() {
		case reflect.TypeOf((*string)(nil)):
			f.Set(reflect.ValueOf(aws.String("x")))
		case reflect.TypeOf((*int32)(nil)):
			f.Set(reflect.ValueOf(aws.Int32(1)))
		}
	}
}

// skipValidation removes the SDK's input validation from a call's middleware stack
// (operations without required members have none).
func skipValidation(st *middleware.Stack) error {
	_, _ = st.Initialize.Remove("OperationInputValidation")
	return nil
}

// TestServedOperationsMatchTheCode holds the simulator to its rule (docs/FIDELITY.md,
// "Which operations exist"): it serves an operation of IAM, STS, S3 or DataSync only
// when the product calls it. The served operations, found by sending every operation
// of the real SDK clients, must be exactly those the product's client interfaces
// declare (the interfaces TestPoliciesMatchTheHandlers grants permissions for) plus
// localrunNeeds, each of which the local run must still call.
func TestServedOperationsMatchTheCode(t *testing.T) {
	inst := startSim(t)
	cfg := awsCfg(inst, "AKIAADMINB", "sb", "", "us-east-1")
	cfg.APIOptions = append(cfg.APIOptions, skipValidation)
	var got []string
	got = append(got, served(t, "datasync", datasync.NewFromConfig(cfg))...)
	got = append(got, served(t, "iam", iam.NewFromConfig(cfg))...)
	got = append(got, served(t, "s3", s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }))...)
	got = append(got, served(t, "sts", sts.NewFromConfig(cfg))...)
	got = append(got, served(t, "sfn", sfn.NewFromConfig(cfg))...)
	got = append(got, served(t, "kms", kms.NewFromConfig(cfg))...)

	root := repoRootDir(t)
	declared, err := sdkcalls.Declared(productDirs(t, root)...)
	if err != nil {
		t.Fatal(err)
	}
	declared = onSimulated(declared)
	if len(declared) == 0 {
		t.Fatal("found no client interface in the product: is the pattern broken?")
	}
	localrun, err := sdkcalls.Called(filepath.Join(root, "internal", "localrun"))
	if err != nil {
		t.Fatal(err)
	}
	localrun = onSimulated(localrun)

	for _, op := range got {
		if !slices.Contains(declared, op) && localrunNeeds[op] == "" {
			t.Errorf("the simulator serves %s, which no client interface of the product declares and localrun does not need: remove it", op)
		}
	}
	for _, op := range declared {
		if !slices.Contains(got, op) {
			t.Errorf("the product declares %s, which the simulator does not serve", op)
		}
	}
	for _, op := range localrun {
		if !slices.Contains(got, op) {
			t.Errorf("internal/localrun calls %s, which the simulator does not serve", op)
		}
		if !slices.Contains(declared, op) && localrunNeeds[op] == "" {
			t.Errorf("internal/localrun calls %s, which no client interface declares: add it to localrunNeeds with the reason", op)
		}
	}
	for op := range localrunNeeds {
		if !slices.Contains(localrun, op) {
			t.Errorf("localrunNeeds lists %s, which internal/localrun no longer calls: remove it here and from the simulator", op)
		}
		if slices.Contains(declared, op) {
			t.Errorf("localrunNeeds lists %s, which a client interface declares anyway: remove it from localrunNeeds", op)
		}
	}
	t.Logf("served: %v", got)
}
