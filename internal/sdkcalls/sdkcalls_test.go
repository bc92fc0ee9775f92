package sdkcalls

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDeclaredAndCalled(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"step/step.go": `package step
type IAMAPI interface {
	CreateRole(ctx context.Context, params *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	GetRole(ctx context.Context, params *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	Other(ctx context.Context, params *iam.GetRoleInput) error
}
type Assumer struct{ STS stscreds.AssumeRoleAPIClient }
func seed(c *s3.Client) {
	in := &s3.CreateBucketInput{Bucket: aws.String("b")}
	c.CreateBucket(ctx, in)
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{})
}
`,
		"step/step_test.go": `package step
type fake interface {
	DeleteRole(ctx context.Context, params *iam.DeleteRoleInput, optFns ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
}
var _ = &s3.DeleteObjectInput{}
`,
		"step/testdata/x.go": `package x
var _ = &s3.HeadObjectInput{}
`,
	})
	tests := []struct {
		name string
		find func(...string) ([]string, error)
		want []string
	}{
		{"declared: interface methods named like their input, and stscreds", Declared,
			[]string{"iam:CreateRole", "iam:GetRole", "sts:AssumeRole"}},
		{"called: inputs built, tests included, testdata left out", Called,
			[]string{"s3:CreateBucket", "s3:DeleteObject", "s3:ListObjectsV2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.find(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDeclaredFindsTheProductInterfaces guards the pattern against the code it reads:
// a change of the house style for client interfaces that the pattern no longer matches
// fails here, not as an empty list that makes the permission and simulator tests pass.
func TestDeclaredFindsTheProductInterfaces(t *testing.T) {
	got, err := Declared(filepath.Join("..", "createroles"), filepath.Join("..", "sourceaccess"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"iam:CreateRole", "iam:GetRole", "iam:PutRolePolicy", "sts:AssumeRole"} {
		if !slices.Contains(got, want) {
			t.Errorf("got %v, want it to contain %s", got, want)
		}
	}
}
