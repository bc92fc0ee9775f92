package teardown

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

const prefix = "dsmigrate"

func apiErr(code, msg string) error {
	return &smithy.OperationError{ServiceID: "X", OperationName: "Op", Err: &smithy.GenericAPIError{Code: code, Message: msg}}
}

// resource is one DataSync task or location of the fake.
type resource struct {
	arn, uri string
	tags     map[string]string
	denied   bool // the function may not read its tags (another deployment's)
	status   dstypes.TaskExecutionStatus
}

type fakeDataSync struct {
	tasks, locations []*resource
	deleted          []string
	deleteErr        error
}

func (f *fakeDataSync) find(arn string) *resource {
	for _, r := range append(slices.Clone(f.tasks), f.locations...) {
		if r.arn == arn {
			return r
		}
	}
	return nil
}

func (f *fakeDataSync) ListTasks(context.Context, *datasync.ListTasksInput, ...func(*datasync.Options)) (*datasync.ListTasksOutput, error) {
	out := &datasync.ListTasksOutput{}
	for _, t := range f.tasks {
		out.Tasks = append(out.Tasks, dstypes.TaskListEntry{TaskArn: aws.String(t.arn)})
	}
	return out, nil
}

func (f *fakeDataSync) ListLocations(context.Context, *datasync.ListLocationsInput, ...func(*datasync.Options)) (*datasync.ListLocationsOutput, error) {
	out := &datasync.ListLocationsOutput{}
	for _, l := range f.locations {
		out.Locations = append(out.Locations, dstypes.LocationListEntry{LocationArn: aws.String(l.arn), LocationUri: aws.String(l.uri)})
	}
	return out, nil
}

func (f *fakeDataSync) ListTagsForResource(_ context.Context, in *datasync.ListTagsForResourceInput, _ ...func(*datasync.Options)) (*datasync.ListTagsForResourceOutput, error) {
	r := f.find(aws.ToString(in.ResourceArn))
	if r.denied {
		return nil, apiErr("AccessDeniedException", "not authorized to perform: datasync:ListTagsForResource")
	}
	out := &datasync.ListTagsForResourceOutput{}
	for k, v := range r.tags {
		out.Tags = append(out.Tags, dstypes.TagListEntry{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

func (f *fakeDataSync) ListTaskExecutions(_ context.Context, in *datasync.ListTaskExecutionsInput, _ ...func(*datasync.Options)) (*datasync.ListTaskExecutionsOutput, error) {
	r := f.find(aws.ToString(in.TaskArn))
	out := &datasync.ListTaskExecutionsOutput{}
	if r.status != "" {
		out.TaskExecutions = append(out.TaskExecutions, dstypes.TaskExecutionListEntry{TaskExecutionArn: aws.String(r.arn + "/execution/exec-1"), Status: r.status})
	}
	return out, nil
}

func (f *fakeDataSync) DeleteTask(_ context.Context, in *datasync.DeleteTaskInput, _ ...func(*datasync.Options)) (*datasync.DeleteTaskOutput, error) {
	f.deleted = append(f.deleted, aws.ToString(in.TaskArn))
	return &datasync.DeleteTaskOutput{}, f.deleteErr
}

func (f *fakeDataSync) DeleteLocation(_ context.Context, in *datasync.DeleteLocationInput, _ ...func(*datasync.Options)) (*datasync.DeleteLocationOutput, error) {
	f.deleted = append(f.deleted, aws.ToString(in.LocationArn))
	return &datasync.DeleteLocationOutput{}, f.deleteErr
}

type fakeRole struct {
	path string
	tags map[string]string
}

type fakeIAM struct {
	roles      map[string]*fakeRole // by name; absent: GetRole is denied, as for a role not tagged with the deployment
	deleted    []string
	deleteRole error
}

func (f *fakeIAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	name := aws.ToString(in.RoleName)
	r, ok := f.roles[name]
	if !ok {
		return nil, apiErr("AccessDenied", "not authorized to perform: iam:GetRole")
	}
	role := &iamtypes.Role{RoleName: aws.String(name), Path: aws.String(r.path), Arn: aws.String("arn:aws:iam::222222222222:role" + r.path + name)}
	for k, v := range r.tags {
		role.Tags = append(role.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return &iam.GetRoleOutput{Role: role}, nil
}

func (f *fakeIAM) DeleteRolePolicy(_ context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	f.deleted = append(f.deleted, "policy "+aws.ToString(in.RoleName)+"/"+aws.ToString(in.PolicyName))
	return &iam.DeleteRolePolicyOutput{}, nil
}

func (f *fakeIAM) DeleteRole(_ context.Context, in *iam.DeleteRoleInput, _ ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	f.deleted = append(f.deleted, "role "+aws.ToString(in.RoleName))
	return &iam.DeleteRoleOutput{}, f.deleteRole
}

func tags(deployment, id string) map[string]string {
	return map[string]string{naming.DeploymentTagKey: deployment, naming.TagKey: id}
}

// world is one migration's resources (id of requesttest.Valid) among others': a task of
// another migration, one of another deployment, one whose tags the function may not read.
func world() (*fakeDataSync, *fakeIAM, string) {
	id := requesttest.Valid().MigrationID
	ds := &fakeDataSync{
		tasks: []*resource{
			{arn: "arn:aws:datasync:ap-northeast-1:222222222222:task/task-ours", tags: tags(prefix, id), status: dstypes.TaskExecutionStatusSuccess},
			{arn: "arn:aws:datasync:ap-northeast-1:222222222222:task/task-shard", tags: map[string]string{naming.DeploymentTagKey: prefix, naming.TagKey: id, naming.ShardTagKey: "0"}},
			{arn: "arn:aws:datasync:ap-northeast-1:222222222222:task/task-other-migration", tags: tags(prefix, "other"), status: dstypes.TaskExecutionStatusTransferring},
			{arn: "arn:aws:datasync:ap-northeast-1:222222222222:task/task-other-deployment", tags: tags("other", id)},
			{arn: "arn:aws:datasync:ap-northeast-1:222222222222:task/task-denied", denied: true},
		},
		locations: []*resource{
			{arn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-src", uri: "s3://src/", tags: tags(prefix, id)},
			{arn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-dst", uri: "s3://dst/x/", tags: tags(prefix, id)},
			{arn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-other", uri: "s3://dst/y/", tags: tags(prefix, "other")},
			{arn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-nfs", uri: "nfs://host/", tags: tags(prefix, id)},
		},
	}
	im := &fakeIAM{roles: map[string]*fakeRole{
		naming.TransferRoleName(prefix, id): {path: naming.RolePath(prefix), tags: tags(prefix, id)},
		naming.ConfigRoleName(prefix, id):   {path: naming.RolePath(prefix), tags: tags(prefix, id)},
	}}
	return ds, im, id
}

func handler(ds *fakeDataSync, im *fakeIAM) *Handler {
	return &Handler{Config: Config{Home: requesttest.Home, Prefix: prefix, Now: func() time.Time { return time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC) }},
		DataSync: ds, IAM: im}
}

func TestCheckListsOnlyTheMigrationsResources(t *testing.T) {
	ds, im, id := world()
	out, err := handler(ds, im).Invoke(context.Background(), Input{Mode: ModeCheck, Request: requesttest.ValidJSON(), ExecutionName: requesttest.ExecutionName})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := out.(*execution.Preflight)
	if !ok || p.Request == nil || p.Request.MigrationID != id || p.Request.Task.TaskMode == "" {
		t.Fatalf("got %#v, want the normalized request as Preflight gives it", out)
	}
	if len(ds.deleted)+len(im.deleted) != 0 {
		t.Errorf("mode check deleted %v %v, want nothing", ds.deleted, im.deleted)
	}
	left, err := handler(ds, im).find(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := execution.Teardown{MigrationID: id,
		Tasks:     []string{"arn:aws:datasync:ap-northeast-1:222222222222:task/task-ours", "arn:aws:datasync:ap-northeast-1:222222222222:task/task-shard"},
		Locations: []string{"arn:aws:datasync:ap-northeast-1:222222222222:location/loc-dst", "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-src"},
		Roles: []string{"arn:aws:iam::222222222222:role" + naming.RolePath(prefix) + naming.TransferRoleName(prefix, id),
			"arn:aws:iam::222222222222:role" + naming.RolePath(prefix) + naming.ConfigRoleName(prefix, id)}}
	got, _ := json.Marshal(left)
	w, _ := json.Marshal(want)
	if string(got) != string(w) {
		t.Errorf("got %s, want %s", got, w)
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name        string
		change      func(ds *fakeDataSync, im *fakeIAM)
		wantErr     string // failure name
		wantDeleted int    // DataSync deletes
		wantNothing bool
	}{
		{name: "tasks, locations, then roles", wantDeleted: 4},
		{name: "an execution of the migration's task is running", wantErr: "MigrationRunningError",
			change: func(ds *fakeDataSync, _ *fakeIAM) { ds.tasks[1].status = dstypes.TaskExecutionStatusQueued }},
		{name: "what is gone already counts as deleted", wantDeleted: 4,
			change: func(ds *fakeDataSync, _ *fakeIAM) {
				ds.deleteErr = apiErr("InvalidRequestException", "Request references a resource which does not exist.")
			}},
		{name: "another DataSync error", wantErr: "PreconditionError", wantDeleted: 1,
			change: func(ds *fakeDataSync, _ *fakeIAM) { ds.deleteErr = apiErr("InvalidRequestException", "something else") }},
		{name: "a role with a policy dsmigrate did not put", wantErr: "PreconditionError", wantDeleted: 4,
			change: func(_ *fakeDataSync, im *fakeIAM) {
				im.deleteRole = &iamtypes.DeleteConflictException{Message: aws.String("Cannot delete entity, must detach all policies first.")}
			}},
		{name: "a role tagged with another migration is left", wantDeleted: 4,
			change: func(_ *fakeDataSync, im *fakeIAM) {
				for _, r := range im.roles {
					r.tags[naming.TagKey] = "other"
				}
			}},
		{name: "nothing left", wantNothing: true,
			change: func(ds *fakeDataSync, im *fakeIAM) {
				ds.tasks, ds.locations, im.roles = ds.tasks[2:], ds.locations[2:3], nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, im, _ := world()
			if tt.change != nil {
				tt.change(ds, im)
			}
			roles := len(im.roles)
			raw, _ := json.Marshal(requesttest.Valid())
			out, err := handler(ds, im).Invoke(context.Background(), Input{Mode: ModeDelete, Request: raw})
			if tt.wantErr != "" {
				if got := failure.Name(err); got != tt.wantErr {
					t.Fatalf("got error %v (%s), want %s", err, got, tt.wantErr)
				}
				if tt.wantErr == "MigrationRunningError" && (len(ds.deleted)+len(im.deleted) != 0 || !strings.Contains(err.Error(), "deleted nothing")) {
					t.Errorf("got deletes %v %v and %q, want none and a message saying so", ds.deleted, im.deleted, err)
				}
				if len(ds.deleted) != tt.wantDeleted {
					t.Errorf("got DataSync deletes %v, want %d", ds.deleted, tt.wantDeleted)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			td := out.(*execution.Teardown)
			if td.NothingLeft != tt.wantNothing || !td.Deleted || td.FinishedAt != "2026-12-02T15:00:00Z" {
				t.Errorf("got %+v, want nothingLeft %v, deleted, finished", td, tt.wantNothing)
			}
			if tt.wantNothing && !strings.Contains(td.Message, "nothing to delete") {
				t.Errorf("got message %q, want it to say there was nothing to delete", td.Message)
			}
			if len(ds.deleted) != tt.wantDeleted {
				t.Errorf("got DataSync deletes %v, want %d", ds.deleted, tt.wantDeleted)
			}
			// Tasks go before the locations they use.
			if tt.wantDeleted == 4 && (!strings.Contains(ds.deleted[0], ":task/") || !strings.Contains(ds.deleted[3], ":location/")) {
				t.Errorf("got delete order %v, want tasks first", ds.deleted)
			}
			if wantRoles := len(td.Roles); len(im.deleted) != 2*wantRoles || (wantRoles > 0 && roles == 0) {
				t.Errorf("got IAM deletes %v, want the inline policy and the role of each of %v", im.deleted, td.Roles)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	ds, im, _ := world()
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{"no mode", Input{Request: requesttest.ValidJSON()}, "mode"},
		{"an invalid request", Input{Mode: ModeDelete, Request: []byte(`{"migrationId":"x","source":{"bucket":"b"}}`)}, "source.accountId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := handler(ds, im).Invoke(context.Background(), tt.in)
			if failure.Name(err) != "ValidationError" || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want a ValidationError naming %s", err, tt.want)
			}
			if len(ds.deleted)+len(im.deleted) != 0 {
				t.Errorf("got deletes %v %v, want none", ds.deleted, im.deleted)
			}
		})
	}
}
