package createroles

import (
	"context"
	"flag"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

var update = flag.Bool("update", false, "rewrite testdata/output.json")

func TestMain(m *testing.M) {
	flag.Parse()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// fakeIAM keeps roles and inline policies like IAM does; the func fields, when set,
// replace an operation (to inject errors).
type fakeIAM struct {
	calls    []string
	roles    map[string]*iamtypes.Role
	policies map[string]string // role/policy → document

	getRole       func(name string) (*iam.GetRoleOutput, error)
	createRole    func(in *iam.CreateRoleInput) (*iam.CreateRoleOutput, error)
	putRolePolicy func(in *iam.PutRolePolicyInput) (*iam.PutRolePolicyOutput, error)
}

func newFakeIAM() *fakeIAM {
	return &fakeIAM{roles: map[string]*iamtypes.Role{}, policies: map[string]string{}}
}

func (f *fakeIAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	name := aws.ToString(in.RoleName)
	f.calls = append(f.calls, "GetRole:"+name)
	if f.getRole != nil {
		return f.getRole(name)
	}
	r, ok := f.roles[name]
	if !ok {
		return nil, &smithy.OperationError{ServiceID: "IAM", OperationName: "GetRole", Err: &iamtypes.NoSuchEntityException{Message: aws.String("The role with name " + name + " cannot be found.")}}
	}
	cp := *r
	// IAM returns the trust policy URL-encoded.
	cp.AssumeRolePolicyDocument = aws.String(url.QueryEscape(aws.ToString(r.AssumeRolePolicyDocument)))
	return &iam.GetRoleOutput{Role: &cp}, nil
}

func (f *fakeIAM) CreateRole(_ context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	name := aws.ToString(in.RoleName)
	f.calls = append(f.calls, "CreateRole:"+name)
	if f.createRole != nil {
		return f.createRole(in)
	}
	if _, ok := f.roles[name]; ok {
		return nil, &iamtypes.EntityAlreadyExistsException{Message: aws.String("Role with name " + name + " already exists.")}
	}
	r := &iamtypes.Role{
		RoleName: in.RoleName, Arn: aws.String("arn:aws:iam::222222222222:role/" + name), Path: aws.String("/"),
		AssumeRolePolicyDocument: in.AssumeRolePolicyDocument, Tags: in.Tags,
	}
	f.roles[name] = r
	return &iam.CreateRoleOutput{Role: r}, nil
}

func (f *fakeIAM) PutRolePolicy(_ context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	f.calls = append(f.calls, "PutRolePolicy:"+aws.ToString(in.RoleName)+"/"+aws.ToString(in.PolicyName))
	if f.putRolePolicy != nil {
		return f.putRolePolicy(in)
	}
	f.policies[aws.ToString(in.RoleName)+"/"+aws.ToString(in.PolicyName)] = aws.ToString(in.PolicyDocument)
	return &iam.PutRolePolicyOutput{}, nil
}

func newHandler(f *fakeIAM) *Handler {
	return &Handler{Config: Config{Env: requesttest.Env, RolePrefix: "dsmigrate"}, IAM: f}
}

func TestCreateThenRerun(t *testing.T) {
	f := newFakeIAM()
	h := newHandler(f)
	in := Input{Request: requesttest.Valid()}

	first, err := h.Handle(context.Background(), in)
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if !first.TransferRole.Created || !first.ConfigRole.Created {
		t.Errorf("got %+v, want both created", first)
	}
	if first.TransferRole.Name != "dsmigrate-media-2026-11-transfer" || first.ConfigRole.Arn != "arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-config" {
		t.Errorf("got %+v, want the derived names and ARNs", first)
	}
	transferPolicy, _ := policy.Parse(f.policies["dsmigrate-media-2026-11-transfer/"+PolicyName])
	if want := policy.RolePolicy("aws", "team-a-media", "photos/"); !transferPolicy.Equivalent(want) {
		t.Errorf("got transfer policy %s, want %s", transferPolicy, want)
	}
	configPolicy, _ := policy.Parse(f.policies["dsmigrate-media-2026-11-config/"+PolicyName])
	if want := policy.RolePolicy("aws", "team-b-media", "from-a/"); !configPolicy.Equivalent(want) {
		t.Errorf("got config policy %s, want %s", configPolicy, want)
	}
	role := f.roles["dsmigrate-media-2026-11-transfer"]
	if v, _ := tag(role.Tags, naming.TagKey); v != "media-2026-11" {
		t.Errorf("got tag %q, want media-2026-11", v)
	}

	f.calls = nil
	second, err := h.Handle(context.Background(), in)
	if err != nil {
		t.Fatalf("rerun: got %v, want nil", err)
	}
	if second.TransferRole.Created || second.ConfigRole.Created {
		t.Errorf("rerun: got %+v, want nothing created", second)
	}
	for _, c := range f.calls {
		if strings.HasPrefix(c, "CreateRole") {
			t.Errorf("rerun: got call %s, want no CreateRole", c)
		}
	}
	if len(f.roles) != 2 {
		t.Errorf("got %d roles, want 2", len(f.roles))
	}
}

func TestGolden(t *testing.T) {
	var in Input
	requesttest.ReadJSON(t, "input.json", &in)
	got, err := newHandler(newFakeIAM()).Handle(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	requesttest.Golden(t, "output.json", got, *update)
}

func TestRaceOnCreateAdoptsOurRole(t *testing.T) {
	f := newFakeIAM()
	h := newHandler(f)
	// Another run creates the role between our GetRole and CreateRole.
	f.createRole = func(in *iam.CreateRoleInput) (*iam.CreateRoleOutput, error) {
		f.createRole = nil
		_, _ = f.CreateRole(context.Background(), in)
		return nil, &smithy.OperationError{ServiceID: "IAM", OperationName: "CreateRole", Err: &iamtypes.EntityAlreadyExistsException{Message: aws.String("exists")}}
	}
	got, err := h.Handle(context.Background(), Input{Request: requesttest.Valid()})
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if got.TransferRole.Created {
		t.Errorf("got created=true for a role another run created, want false")
	}
}

func TestNoTakeover(t *testing.T) {
	trust := policy.TrustPolicy("222222222222", "ap-northeast-1", "aws").String()
	foreignTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}`
	ourTag := []iamtypes.Tag{{Key: aws.String(naming.TagKey), Value: aws.String("media-2026-11")}}
	tests := []struct {
		name   string
		role   iamtypes.Role
		wantIn string
	}{
		{name: "no tag", role: iamtypes.Role{AssumeRolePolicyDocument: aws.String(trust)}, wantIn: "no dsmigrate:migration-id tag"},
		{name: "other migration's tag", role: iamtypes.Role{AssumeRolePolicyDocument: aws.String(trust), Tags: []iamtypes.Tag{{Key: aws.String(naming.TagKey), Value: aws.String("other")}}}, wantIn: "dsmigrate:migration-id=other"},
		{name: "foreign trust", role: iamtypes.Role{AssumeRolePolicyDocument: aws.String(foreignTrust), Tags: ourTag}, wantIn: "trust policy is not the one dsmigrate writes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIAM()
			role := tt.role
			role.RoleName = aws.String("dsmigrate-media-2026-11-transfer")
			role.Arn = aws.String("arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-transfer")
			f.roles["dsmigrate-media-2026-11-transfer"] = &role
			_, err := newHandler(f).Handle(context.Background(), Input{Request: requesttest.Valid()})
			p, ok := err.(*failure.PreconditionError)
			if !ok {
				t.Fatalf("got %T %v, want *failure.PreconditionError", err, err)
			}
			if !strings.Contains(p.Message, tt.wantIn) {
				t.Errorf("message %q does not contain %q", p.Message, tt.wantIn)
			}
			for _, c := range f.calls {
				if !strings.HasPrefix(c, "GetRole") {
					t.Errorf("got call %s, want only GetRole", c)
				}
			}
		})
	}
}

func TestTrustComparedSemantically(t *testing.T) {
	f := newFakeIAM()
	// Same trust policy, written by hand with other spacing and a one-element list.
	text := `{"Statement": [{"Action": ["sts:AssumeRole"], "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:datasync:ap-northeast-1:222222222222:*"}, "StringEquals": {"aws:SourceAccount": ["222222222222"]}}, "Effect": "Allow", "Principal": {"Service": ["datasync.amazonaws.com"]}}], "Version": "2012-10-17"}`
	f.roles["dsmigrate-media-2026-11-transfer"] = &iamtypes.Role{
		RoleName: aws.String("dsmigrate-media-2026-11-transfer"), Arn: aws.String("arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-transfer"),
		AssumeRolePolicyDocument: aws.String(text), Tags: []iamtypes.Tag{{Key: aws.String(naming.TagKey), Value: aws.String("media-2026-11")}},
	}
	got, err := newHandler(f).Handle(context.Background(), Input{Request: requesttest.Valid()})
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if got.TransferRole.Created || !got.ConfigRole.Created {
		t.Errorf("got %+v, want transfer reused and config created", got)
	}
}

func TestAWSErrors(t *testing.T) {
	denied := &smithy.OperationError{ServiceID: "IAM", OperationName: "CreateRole", Err: &smithy.GenericAPIError{Code: "AccessDenied",
		Message: "User: arn:aws:sts::222222222222:assumed-role/createroles-fn/x is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::222222222222:role/dsmigrate-media-2026-11-transfer because no identity-based policy allows the iam:CreateRole action"}}
	tests := []struct {
		name     string
		setup    func(f *fakeIAM)
		wantType string
	}{
		{name: "create denied", setup: func(f *fakeIAM) {
			f.createRole = func(*iam.CreateRoleInput) (*iam.CreateRoleOutput, error) { return nil, denied }
		}, wantType: "PermissionError"},
		{name: "get throttled", setup: func(f *fakeIAM) {
			f.getRole = func(string) (*iam.GetRoleOutput, error) {
				return nil, &smithy.OperationError{ServiceID: "IAM", OperationName: "GetRole", Err: &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}}
			}
		}, wantType: "TransientError"},
		{name: "role quota", setup: func(f *fakeIAM) {
			f.createRole = func(*iam.CreateRoleInput) (*iam.CreateRoleOutput, error) {
				return nil, &iamtypes.LimitExceededException{Message: aws.String("Cannot exceed quota for RolesPerAccount: 1000")}
			}
		}, wantType: "PreconditionError"},
		{name: "new role not visible to PutRolePolicy yet", setup: func(f *fakeIAM) {
			f.putRolePolicy = func(in *iam.PutRolePolicyInput) (*iam.PutRolePolicyOutput, error) {
				return nil, &smithy.OperationError{ServiceID: "IAM", OperationName: "PutRolePolicy", Err: &iamtypes.NoSuchEntityException{Message: aws.String("The role with name " + aws.ToString(in.RoleName) + " cannot be found.")}}
			}
		}, wantType: "TransientError"},
		{name: "put policy concurrent", setup: func(f *fakeIAM) {
			f.putRolePolicy = func(*iam.PutRolePolicyInput) (*iam.PutRolePolicyOutput, error) {
				return nil, &iamtypes.ConcurrentModificationException{Message: aws.String("busy")}
			}
		}, wantType: "TransientError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIAM()
			tt.setup(f)
			_, err := newHandler(f).Handle(context.Background(), Input{Request: requesttest.Valid()})
			if got := requesttest.ErrorName(err); got != tt.wantType {
				t.Errorf("got %s (%v), want %s", got, err, tt.wantType)
			}
		})
	}
}

func TestBadRequestsCallNothing(t *testing.T) {
	n := 0
	for _, c := range requesttest.BadRequests() {
		if c.DecodeOnly {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			r, err := requesttest.Typed(c)
			if err != nil {
				t.Fatal(err)
			}
			f := newFakeIAM()
			_, err = newHandler(f).Handle(context.Background(), Input{Request: r})
			v, ok := err.(*failure.ValidationError)
			if !ok {
				t.Fatalf("got %T %v, want *failure.ValidationError", err, err)
			}
			if !requesttest.HasField(v, c.WantField) {
				t.Errorf("got %v, want field %s", v, c.WantField)
			}
			if len(f.calls) != 0 {
				t.Errorf("got calls %v, want none", f.calls)
			}
		})
	}
	if n < 30 {
		t.Errorf("got %d cases, want at least 30", n)
	}
}

func TestErrorLoggedOnce(t *testing.T) {
	rec := &requesttest.LogRecorder{}
	prev := slog.Default()
	slog.SetDefault(slog.New(rec))
	defer slog.SetDefault(prev)
	f := newFakeIAM()
	f.getRole = func(string) (*iam.GetRoleOutput, error) { return nil, &smithy.GenericAPIError{Code: "Throttling"} }
	if _, err := newHandler(f).Handle(context.Background(), Input{Request: requesttest.Valid()}); err == nil {
		t.Fatal("got nil, want an error")
	}
	if n := len(rec.AtLevel(slog.LevelError)); n != 1 {
		t.Errorf("got %d error records, want 1", n)
	}
}
