// Package sdkcalls reads from dsmigrate's Go source which AWS API operations it uses, for
// the tests that tie the code to what it is allowed and given: the execution roles'
// permissions (infra, TestPoliciesMatchTheHandlers) and the operations the local
// simulator serves (internal/sim/server, TestServedOperationsMatchTheCode).
//
// Operations are named as IAM actions are, "service:Operation" with the SDK package
// name as the service ("iam:CreateRole", "s3:PutObject"); for the calls dsmigrate makes
// the two coincide.
package sdkcalls

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// interfaceMethod matches a method of a consumer-declared AWS client interface, written
// with the SDK's exact signature:
// `CreateRole(ctx context.Context, params *iam.CreateRoleInput, ...`.
var interfaceMethod = regexp.MustCompile(`(?m)^\s+(\w+)\(ctx context\.Context, params \*(\w+)\.(\w+)Input\b`)

// sdkInterfaces are the SDK's own one-operation client interfaces a package can declare
// a dependency with instead of writing the method out.
var sdkInterfaces = map[string]string{
	"stscreds.AssumeRoleAPIClient": "sts:AssumeRole", // sourceaccess: the source-access role
}

// inputLiteral matches a composite literal of an operation's input,
// `&s3.PutObjectInput{` or `s3.ListObjectsV2Input{`.
var inputLiteral = regexp.MustCompile(`\b(\w+)\.(\w+)Input\{`)

// Declared returns the operations of the AWS client interfaces declared in the non-test
// Go files under dirs, sorted and without repeats.
func Declared(dirs ...string) ([]string, error) {
	return scan(dirs, false, func(src string, add func(string)) {
		for _, m := range interfaceMethod.FindAllStringSubmatch(src, -1) {
			if m[1] == m[3] {
				add(m[2] + ":" + m[1])
			}
		}
		for name, op := range sdkInterfaces {
			if strings.Contains(src, name) {
				add(op)
			}
		}
	})
}

// Called returns the operations whose input the Go files under dirs build, tests
// included, which is how code that holds a concrete SDK client (internal/localrun and
// its end-to-end tests) calls them: `c.PutObject(ctx, &s3.PutObjectInput{...})`,
// `s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{...})`, or an input built
// first and passed later.
func Called(dirs ...string) ([]string, error) {
	return scan(dirs, true, func(src string, add func(string)) {
		for _, m := range inputLiteral.FindAllStringSubmatch(src, -1) {
			add(m[1] + ":" + m[2])
		}
	})
}

// scan runs find on every Go file under dirs (test files only with tests; testdata and
// hidden directories skipped) and returns what it added, sorted and without repeats.
func scan(dirs []string, tests bool, find func(src string, add func(string))) ([]string, error) {
	var ops []string
	add := func(op string) { ops = append(ops, op) }
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if path != dir && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(name, ".go") || !tests && strings.HasSuffix(name, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			find(string(b), add)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(ops)
	return slices.Compact(ops), nil
}
