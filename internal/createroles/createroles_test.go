package createroles

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/handlertest"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

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
	path := aws.ToString(in.Path)
	if path == "" {
		path = "/"
	}
	r := &iamtypes.Role{
		RoleName: in.RoleName, Arn: aws.String("arn:aws:iam::222222222222:role" + path + name), Path: aws.String(path),
		AssumeRolePolicyDocument: in.AssumeRolePolicyDocument, Tags: in.Tags,
	}
	if in.PermissionsBoundary != nil {
		r.PermissionsBoundary = &iamtypes.AttachedPermissionsBoundary{PermissionsBoundaryArn: in.PermissionsBoundary,
			PermissionsBoundaryType: iamtypes.PermissionsBoundaryAttachmentTypePolicy}
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

const boundaryArn = "arn:aws:iam::222222222222:policy/dsmigrate-datasync-boundary"

func newHandler(f *fakeIAM) *Handler {
	return &Handler{Config: Config{Home: requesttest.Home, RolePrefix: "dsmigrate", BoundaryArn: boundaryArn,
		SourceBuckets: []string{"team-a-logs", "team-a-media"}, DestinationBuckets: []string{"team-b-media"}}, IAM: f}
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
	if first.TransferRole.Name != "dsmigrate-media-2026-11-transfer" || first.ConfigRole.Arn != "arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-config" {
		t.Errorf("got %+v, want the derived names and ARNs under the path /dsmigrate/dsmigrate/", first)
	}
	transferPolicy, _ := policy.Parse(f.policies["dsmigrate-media-2026-11-transfer/"+PolicyName])
	if want := policy.SourceRolePolicy("aws", "team-a-media", "photos/"); !transferPolicy.Equivalent(want) {
		t.Errorf("got transfer policy %s, want %s", transferPolicy, want)
	}
	configPolicy, _ := policy.Parse(f.policies["dsmigrate-media-2026-11-config/"+PolicyName])
	if want := policy.DestinationRolePolicy("aws", "team-b-media", "from-a/"); !configPolicy.Equivalent(want) {
		t.Errorf("got config policy %s, want %s", configPolicy, want)
	}
	for _, name := range []string{"dsmigrate-media-2026-11-transfer", "dsmigrate-media-2026-11-config"} {
		role := f.roles[name]
		if v, _ := tag(role.Tags, naming.TagKey); v != "media-2026-11" {
			t.Errorf("%s: got tag %s=%q, want media-2026-11", name, naming.TagKey, v)
		}
		if v, _ := tag(role.Tags, naming.DeploymentTagKey); v != "dsmigrate" {
			t.Errorf("%s: got tag %s=%q, want dsmigrate", name, naming.DeploymentTagKey, v)
		}
		if got := boundaryOf(role); got != boundaryArn {
			t.Errorf("%s: got boundary %q, want %s", name, got, boundaryArn)
		}
		if got := aws.ToString(role.Path); got != "/dsmigrate/dsmigrate/" {
			t.Errorf("%s: got path %q, want /dsmigrate/dsmigrate/", name, got)
		}
	}

	f.calls = nil
	second, err := h.Handle(context.Background(), in)
	if err != nil {
		t.Fatalf("rerun: got %v, want nil", err)
	}
	if second.TransferRole.Created || second.ConfigRole.Created || second.TransferRole.Arn != first.TransferRole.Arn {
		t.Errorf("rerun: got %+v, want the same roles, none created", second)
	}
	want := []string{
		"CreateRole:dsmigrate-media-2026-11-transfer", "GetRole:dsmigrate-media-2026-11-transfer", "PutRolePolicy:dsmigrate-media-2026-11-transfer/" + PolicyName,
		"CreateRole:dsmigrate-media-2026-11-config", "GetRole:dsmigrate-media-2026-11-config", "PutRolePolicy:dsmigrate-media-2026-11-config/" + PolicyName,
	}
	if strings.Join(f.calls, " ") != strings.Join(want, " ") {
		t.Errorf("rerun: got calls %v, want %v", f.calls, want)
	}
	if len(f.roles) != 2 {
		t.Errorf("got %d roles, want 2", len(f.roles))
	}
}

func TestGolden(t *testing.T) {
	handlertest.Run(t, "input.json", "output.json", newHandler(newFakeIAM()).Handle)
}

func TestUnlistedBucketsGetNoRole(t *testing.T) {
	r := requesttest.Valid()
	r.Source.Bucket, r.Destination.Bucket = "team-a-secrets", "attacker-bucket"
	f := newFakeIAM()
	_, err := newHandler(f).Handle(context.Background(), Input{Request: r})
	v, ok := err.(*failure.ValidationError)
	if !ok {
		t.Fatalf("got %T %v, want *failure.ValidationError", err, err)
	}
	for _, field := range []string{"source.bucket", "destination.bucket"} {
		if !requesttest.HasField(v, field) {
			t.Errorf("got %v, want field %s", v, field)
		}
	}
	if !strings.Contains(v.Error(), "dsmigrate:sourceBuckets") || !strings.Contains(v.Error(), "dsmigrate:destinationBuckets") {
		t.Errorf("got %q, want the message to name the deployment settings", v)
	}
	if len(f.calls) != 0 {
		t.Errorf("got calls %v, want none", f.calls)
	}
}

func TestRoleVanishesAfterCreateConflict(t *testing.T) {
	f := newFakeIAM()
	f.createRole = func(in *iam.CreateRoleInput) (*iam.CreateRoleOutput, error) {
		return nil, &smithy.OperationError{ServiceID: "IAM", OperationName: "CreateRole", Err: &iamtypes.EntityAlreadyExistsException{Message: aws.String("exists")}}
	}
	_, err := newHandler(f).Handle(context.Background(), Input{Request: requesttest.Valid()})
	if got := failure.Name(err); got != "TransientError" {
		t.Errorf("got %s (%v), want TransientError", got, err)
	}
}

func TestNoTakeover(t *testing.T) {
	trust := policy.TrustPolicy("222222222222", "ap-northeast-1", "aws").String()
	foreignTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}`
	tags := func(deployment, id string) []iamtypes.Tag {
		var out []iamtypes.Tag
		if deployment != "" {
			out = append(out, iamtypes.Tag{Key: aws.String(naming.DeploymentTagKey), Value: aws.String(deployment)})
		}
		if id != "" {
			out = append(out, iamtypes.Tag{Key: aws.String(naming.TagKey), Value: aws.String(id)})
		}
		return out
	}
	ours := func(mod func(r *iamtypes.Role)) iamtypes.Role {
		r := iamtypes.Role{
			Path: aws.String("/dsmigrate/dsmigrate/"), AssumeRolePolicyDocument: aws.String(trust), Tags: tags("dsmigrate", "media-2026-11"),
			PermissionsBoundary: &iamtypes.AttachedPermissionsBoundary{PermissionsBoundaryArn: aws.String(boundaryArn)},
		}
		mod(&r)
		return r
	}
	tests := []struct {
		name    string
		role    iamtypes.Role
		getRole func(string) (*iam.GetRoleOutput, error)
		wantIn  string
	}{
		{name: "no tag", role: ours(func(r *iamtypes.Role) { r.Tags = nil }), wantIn: "no dsmigrate:migration-id tag"},
		{name: "other migration's tag", role: ours(func(r *iamtypes.Role) { r.Tags = tags("dsmigrate", "other") }), wantIn: "dsmigrate:migration-id=other"},
		{name: "other deployment's tag", role: ours(func(r *iamtypes.Role) { r.Tags = tags("dsmigrate-x", "media-2026-11") }), wantIn: `dsmigrate:deployment="dsmigrate-x"`},
		{name: "no boundary", role: ours(func(r *iamtypes.Role) { r.PermissionsBoundary = nil }), wantIn: "permissions boundary none"},
		{name: "another boundary", role: ours(func(r *iamtypes.Role) {
			r.PermissionsBoundary = &iamtypes.AttachedPermissionsBoundary{PermissionsBoundaryArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}
		}), wantIn: "AdministratorAccess"},
		{name: "outside the path", role: ours(func(r *iamtypes.Role) { r.Path = aws.String("/") }), wantIn: "under the path /, not /dsmigrate/dsmigrate/"},
		{name: "foreign trust", role: ours(func(r *iamtypes.Role) { r.AssumeRolePolicyDocument = aws.String(foreignTrust) }), wantIn: "trust policy is not the one dsmigrate writes"},
		{name: "GetRole denied: an earlier version's role or another team's", role: ours(func(r *iamtypes.Role) { r.Path = aws.String("/") }),
			getRole: func(name string) (*iam.GetRoleOutput, error) {
				return nil, &smithy.OperationError{ServiceID: "IAM", OperationName: "GetRole", Err: &smithy.GenericAPIError{Code: "AccessDenied",
					Message: "User: arn:aws:sts::222222222222:assumed-role/dsmigrate-fn-createroles/x is not authorized to perform: iam:GetRole on resource: role " + name}}
			}, wantIn: "not as a role of this deployment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIAM()
			role := tt.role
			role.RoleName = aws.String("dsmigrate-media-2026-11-transfer")
			role.Arn = aws.String("arn:aws:iam::222222222222:role" + aws.ToString(role.Path) + "dsmigrate-media-2026-11-transfer")
			f.roles["dsmigrate-media-2026-11-transfer"] = &role
			f.getRole = tt.getRole
			_, err := newHandler(f).Handle(context.Background(), Input{Request: requesttest.Valid()})
			p, ok := err.(*failure.PreconditionError)
			if !ok {
				t.Fatalf("got %T %v, want *failure.PreconditionError", err, err)
			}
			if !strings.Contains(p.Message, tt.wantIn) {
				t.Errorf("message %q does not contain %q", p.Message, tt.wantIn)
			}
			for _, c := range f.calls {
				if strings.HasPrefix(c, "PutRolePolicy") {
					t.Errorf("got call %s, want no policy put on a role that is not ours", c)
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
		RoleName: aws.String("dsmigrate-media-2026-11-transfer"), Path: aws.String("/dsmigrate/dsmigrate/"),
		Arn:                      aws.String("arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-transfer"),
		AssumeRolePolicyDocument: aws.String(text),
		PermissionsBoundary:      &iamtypes.AttachedPermissionsBoundary{PermissionsBoundaryArn: aws.String(boundaryArn)},
		Tags: []iamtypes.Tag{{Key: aws.String(naming.TagKey), Value: aws.String("media-2026-11")},
			{Key: aws.String(naming.DeploymentTagKey), Value: aws.String("dsmigrate")}},
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
			f.roles["dsmigrate-media-2026-11-transfer"] = &iamtypes.Role{}
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
			if got := failure.Name(err); got != tt.wantType {
				t.Errorf("got %s (%v), want %s", got, err, tt.wantType)
			}
		})
	}
}

func TestBadRequestsCallNothing(t *testing.T) {
	requesttest.RefusesBadRequests(t, func(r request.Request) ([]string, error) {
		f := newFakeIAM()
		_, err := newHandler(f).Handle(context.Background(), Input{Request: r})
		return f.calls, err
	})
}

func TestErrorLoggedOnce(t *testing.T) {
	f := newFakeIAM()
	f.createRole = func(*iam.CreateRoleInput) (*iam.CreateRoleOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "Throttling"}
	}
	handlertest.ErrorLoggedOnce(t, func() error {
		_, err := newHandler(f).Handle(context.Background(), Input{Request: requesttest.Valid()})
		return err
	})
}

// A migration with task.report lets the config role, which DataSync assumes to upload the
// task reports, put objects into the migration's two report folders and nowhere else; a
// report bucket outside the deployment's destination buckets gets no role at all.
func TestTaskReportStatement(t *testing.T) {
	f := newFakeIAM()
	h := newHandler(f)
	h.Config.DestinationBuckets = append(h.Config.DestinationBuckets, "team-b-reports")
	r := requesttest.Valid()
	r.Task.Report = &request.Report{Bucket: "team-b-reports", Prefix: "audit/", Level: request.ReportErrorsOnly}
	if _, err := h.Handle(context.Background(), Input{Request: r}); err != nil {
		t.Fatal(err)
	}
	got, _ := policy.Parse(f.policies["dsmigrate-media-2026-11-config/"+PolicyName])
	want := policy.DestinationRolePolicy("aws", "team-b-media", "from-a/")
	want.Statement = append(want.Statement, policy.Statement{Sid: "WriteTaskReports", Effect: "Allow", Action: policy.StringList{"s3:PutObject"},
		Resource: policy.StringList{"arn:aws:s3:::team-b-reports/audit/media-2026-11/Summary-Reports/*", "arn:aws:s3:::team-b-reports/audit/media-2026-11/Detailed-Reports/*"}})
	if !got.Equivalent(want) {
		t.Errorf("got config policy %s, want %s", got, want)
	}

	f = newFakeIAM()
	r.Task.Report.Bucket = "team-b-secrets"
	_, err := newHandler(f).Handle(context.Background(), Input{Request: r})
	v, ok := err.(*failure.ValidationError)
	if !ok || !requesttest.HasField(v, "task.report.bucket") || !strings.Contains(v.Error(), "dsmigrate:destinationBuckets") {
		t.Fatalf("got %T %v, want a ValidationError on task.report.bucket naming dsmigrate:destinationBuckets", err, err)
	}
	if len(f.calls) != 0 {
		t.Errorf("got calls %v, want none", f.calls)
	}
}
