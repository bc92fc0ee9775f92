package createlocations

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/smithy-go"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/handlertest"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

type fakeLocation struct {
	arn, uri string
	tags     []dstypes.TagListEntry
	in       *datasync.CreateLocationS3Input
	// denied: the function's policy does not let it read this location's tags (it is
	// not tagged with the function's deployment), so DataSync answers AccessDeniedException.
	denied bool
}

// fakeDataSync keeps locations like DataSync; create, when set, replaces CreateLocationS3.
type fakeDataSync struct {
	calls     []string
	locations []*fakeLocation
	pageSize  int
	create    func(in *datasync.CreateLocationS3Input) (*datasync.CreateLocationS3Output, error)
}

func (f *fakeDataSync) ListLocations(_ context.Context, in *datasync.ListLocationsInput, _ ...func(*datasync.Options)) (*datasync.ListLocationsOutput, error) {
	f.calls = append(f.calls, "ListLocations")
	start := 0
	if in.NextToken != nil {
		fmt.Sscan(*in.NextToken, &start)
	}
	size := f.pageSize
	if size == 0 {
		size = 100
	}
	out := &datasync.ListLocationsOutput{}
	for i := start; i < len(f.locations) && i < start+size; i++ {
		out.Locations = append(out.Locations, dstypes.LocationListEntry{LocationArn: aws.String(f.locations[i].arn), LocationUri: aws.String(f.locations[i].uri)})
	}
	if start+size < len(f.locations) {
		out.NextToken = aws.String(fmt.Sprint(start + size))
	}
	return out, nil
}

func (f *fakeDataSync) ListTagsForResource(_ context.Context, in *datasync.ListTagsForResourceInput, _ ...func(*datasync.Options)) (*datasync.ListTagsForResourceOutput, error) {
	f.calls = append(f.calls, "ListTagsForResource:"+aws.ToString(in.ResourceArn))
	for _, l := range f.locations {
		if l.arn == aws.ToString(in.ResourceArn) && l.denied {
			return nil, &smithy.OperationError{ServiceID: "DataSync", OperationName: "ListTagsForResource", Err: &smithy.GenericAPIError{Code: "AccessDeniedException",
				Message: "User: arn:aws:sts::222222222222:assumed-role/dsmigrate-fn-createlocations/x is not authorized to perform: datasync:ListTagsForResource on resource: " + l.arn}}
		}
		if l.arn == aws.ToString(in.ResourceArn) {
			return &datasync.ListTagsForResourceOutput{Tags: l.tags}, nil
		}
	}
	return nil, &dstypes.InvalidRequestException{Message: aws.String("not found")}
}

func (f *fakeDataSync) CreateLocationS3(_ context.Context, in *datasync.CreateLocationS3Input, _ ...func(*datasync.Options)) (*datasync.CreateLocationS3Output, error) {
	f.calls = append(f.calls, "CreateLocationS3:"+aws.ToString(in.S3BucketArn))
	if f.create != nil {
		return f.create(in)
	}
	bucket := strings.TrimPrefix(aws.ToString(in.S3BucketArn), "arn:aws:s3:::")
	sub := strings.Trim(aws.ToString(in.Subdirectory), "/")
	uri := "s3://" + bucket + "/"
	if sub != "" {
		uri += sub + "/"
	}
	l := &fakeLocation{arn: fmt.Sprintf("arn:aws:datasync:ap-northeast-1:222222222222:location/loc-%017d", len(f.locations)), uri: uri, tags: in.Tags, in: in}
	f.locations = append(f.locations, l)
	return &datasync.CreateLocationS3Output{LocationArn: aws.String(l.arn)}, nil
}

func (f *fakeDataSync) DescribeLocationS3(_ context.Context, in *datasync.DescribeLocationS3Input, _ ...func(*datasync.Options)) (*datasync.DescribeLocationS3Output, error) {
	f.calls = append(f.calls, "DescribeLocationS3:"+aws.ToString(in.LocationArn))
	for _, l := range f.locations {
		if l.arn != aws.ToString(in.LocationArn) {
			continue
		}
		out := &datasync.DescribeLocationS3Output{LocationArn: aws.String(l.arn), LocationUri: aws.String(l.uri)}
		if l.in != nil {
			out.S3StorageClass, out.S3Config = l.in.S3StorageClass, l.in.S3Config
		}
		return out, nil
	}
	return nil, &dstypes.InvalidRequestException{Message: aws.String("not found")}
}

func roles() execution.Roles {
	return execution.Roles{
		TransferRole: execution.Role{Name: "dsmigrate-media-2026-11-transfer", Arn: "arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-transfer"},
		ConfigRole:   execution.Role{Name: "dsmigrate-media-2026-11-config", Arn: "arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-config"},
	}
}

func newHandler(f *fakeDataSync) *Handler {
	return &Handler{Config: Config{Home: requesttest.Home, RolePrefix: "dsmigrate", LocationsCallerRoleArn: "arn:aws:iam::222222222222:role/dsmigrate-createlocations"}, DataSync: f}
}

func input() Input { return Input{Request: requesttest.Valid(), Roles: roles()} }

func TestCreateThenRerun(t *testing.T) {
	f := &fakeDataSync{pageSize: 2}
	// Unrelated locations: one on the source bucket with another migration's tag, one of
	// another deployment (same migration id) whose tags this function may not read, one of
	// another deployment that it may read (the tags still say it is not ours).
	tag := func(k, v string) dstypes.TagListEntry {
		return dstypes.TagListEntry{Key: aws.String(k), Value: aws.String(v)}
	}
	f.locations = []*fakeLocation{
		{arn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-other1", uri: "s3://unrelated/"},
		{arn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-other2", uri: "s3://team-a-media/photos/",
			tags: []dstypes.TagListEntry{tag(naming.DeploymentTagKey, "dsmigrate"), tag(naming.TagKey, "other"), tag(naming.RoleTagKey, "source")}},
		{arn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-other3", uri: "nfs://host/export/"},
		{arn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-other4", uri: "s3://team-a-media/photos/", denied: true,
			tags: []dstypes.TagListEntry{tag(naming.DeploymentTagKey, "dsmigrate-x"), tag(naming.TagKey, "media-2026-11"), tag(naming.RoleTagKey, "source")}},
		{arn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-other5", uri: "s3://team-b-media/from-a/",
			tags: []dstypes.TagListEntry{tag(naming.DeploymentTagKey, "dsmigrate-y"), tag(naming.TagKey, "media-2026-11"), tag(naming.RoleTagKey, "destination")}},
	}
	h := newHandler(f)
	got, err := h.Handle(context.Background(), input())
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if !got.SourceCreated || !got.DestinationCreated {
		t.Errorf("got %+v, want both created", got)
	}
	src, dst := f.locations[5].in, f.locations[6].in
	if aws.ToString(src.S3BucketArn) != "arn:aws:s3:::team-a-media" || aws.ToString(src.Subdirectory) != "/photos/" ||
		aws.ToString(src.S3Config.BucketAccessRoleArn) != roles().TransferRole.Arn || src.S3StorageClass != dstypes.S3StorageClassStandard {
		t.Errorf("got source input %+v, want bucket, prefix, transfer role, STANDARD", src)
	}
	if aws.ToString(dst.S3BucketArn) != "arn:aws:s3:::team-b-media" || aws.ToString(dst.Subdirectory) != "/from-a/" ||
		aws.ToString(dst.S3Config.BucketAccessRoleArn) != roles().ConfigRole.Arn {
		t.Errorf("got destination input %+v, want bucket, prefix, config role", dst)
	}
	for _, in := range []*datasync.CreateLocationS3Input{src, dst} {
		got := map[string]string{}
		for _, t := range in.Tags {
			got[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if got[naming.DeploymentTagKey] != "dsmigrate" || got[naming.TagKey] != "media-2026-11" {
			t.Errorf("got tags %v, want the deployment and the migration id", got)
		}
	}
	for _, c := range f.calls {
		if strings.Contains(c, "loc-other1") || strings.Contains(c, "loc-other3") {
			t.Errorf("got %s, want tags read only for locations on our buckets", c)
		}
	}

	f.calls = nil
	again, err := h.Handle(context.Background(), input())
	if err != nil {
		t.Fatalf("rerun: got %v, want nil", err)
	}
	if again.SourceCreated || again.DestinationCreated || again.SourceLocationArn != got.SourceLocationArn || again.DestinationLocationArn != got.DestinationLocationArn {
		t.Errorf("rerun: got %+v, want the same locations, none created", again)
	}
	if len(f.locations) != 7 {
		t.Errorf("got %d locations, want 7", len(f.locations))
	}
}

func TestGolden(t *testing.T) {
	handlertest.Run(t, "input.json", "output.json", newHandler(&fakeDataSync{}).Handle)
}

func TestCrossAccountRoleRejectedBeforeAWS(t *testing.T) {
	f := &fakeDataSync{}
	in := input()
	in.Roles.TransferRole.Arn = "arn:aws:iam::111111111111:role/datasync-transfer-role"
	_, err := newHandler(f).Handle(context.Background(), in)
	p, ok := err.(*failure.PreconditionError)
	if !ok {
		t.Fatalf("got %T %v, want *failure.PreconditionError", err, err)
	}
	for _, s := range []string{"Cross-account pass role is not allowed", "111111111111", "222222222222"} {
		if !strings.Contains(p.Message, s) {
			t.Errorf("message %q does not contain %q", p.Message, s)
		}
	}
	if len(f.calls) != 0 {
		t.Errorf("got calls %v, want none", f.calls)
	}
}

func TestCreateErrors(t *testing.T) {
	invalid := func(msg string) error {
		return &smithy.OperationError{ServiceID: "DataSync", OperationName: "CreateLocationS3", Err: &dstypes.InvalidRequestException{Message: aws.String(msg)}}
	}
	tests := []struct {
		name     string
		give     error
		wantType string
		wantIn   []string
	}{
		{name: "role not usable yet", give: invalid("Unable to assume role. Reason: Access denied when calling sts:AssumeRole"), wantType: "NotReadyError", wantIn: []string{"Unable to assume role", "trust policy"}},
		{
			name:     "ListBucket grant missing",
			give:     invalid("DataSync location access test failed: could not perform s3:HeadBucket on bucket team-a-media. Access denied. Ensure bucket access role has s3:ListBucket permission."),
			wantType: "NotReadyError", wantIn: []string{"could not perform s3:HeadBucket", "Grant s3:ListBucket on the source bucket to arn:aws:iam::222222222222:role/dsmigrate-createlocations", "PutBucketPolicy step does this", "if this persists check the source bucket policy"},
		},
		{name: "cross-account from AWS", give: invalid("Cross-account pass role is not allowed."), wantType: "PreconditionError", wantIn: []string{"Cross-account pass role is not allowed", "account 222222222222"}},
		{name: "throttled", give: &smithy.OperationError{ServiceID: "DataSync", OperationName: "CreateLocationS3", Err: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}}, wantType: "TransientError"},
		{name: "internal", give: &smithy.OperationError{ServiceID: "DataSync", OperationName: "CreateLocationS3", Err: &dstypes.InternalException{Message: aws.String("boom")}}, wantType: "TransientError"},
		{name: "denied", give: &smithy.OperationError{ServiceID: "DataSync", OperationName: "CreateLocationS3", Err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:sts::222222222222:assumed-role/fn/x is not authorized to perform: iam:PassRole on resource: arn:aws:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-transfer"}}, wantType: "PermissionError", wantIn: []string{"iam:PassRole"}},
		{name: "other invalid request", give: invalid("Invalid S3 storage class"), wantType: "PreconditionError", wantIn: []string{"Invalid S3 storage class"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDataSync{create: func(*datasync.CreateLocationS3Input) (*datasync.CreateLocationS3Output, error) { return nil, tt.give }}
			_, err := newHandler(f).Handle(context.Background(), input())
			if got := failure.Name(err); got != tt.wantType {
				t.Fatalf("got %s (%v), want %s", got, err, tt.wantType)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not contain %q", err.Error(), s)
				}
			}
		})
	}
}

func TestReusedLocationMustMatchTheRequest(t *testing.T) {
	tests := []struct {
		name    string
		change  func(in *Input)
		wantErr string // substring of the PreconditionError; "" = reused
	}{
		{name: "same request reuses", change: func(*Input) {}},
		{name: "other storage class", change: func(in *Input) { in.Request.Destination.StorageClass = "GLACIER_INSTANT_RETRIEVAL" },
			wantErr: "storage class STANDARD, the request asks for GLACIER_INSTANT_RETRIEVAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDataSync{}
			h := newHandler(f)
			first, err := h.Handle(context.Background(), input())
			if err != nil {
				t.Fatal(err)
			}
			in := input()
			tt.change(&in)
			f.calls = nil
			got, err := h.Handle(context.Background(), in)
			if tt.wantErr == "" {
				if err != nil || got.DestinationLocationArn != first.DestinationLocationArn || got.DestinationCreated {
					t.Fatalf("got %+v, %v, want the location %s reused", got, err, first.DestinationLocationArn)
				}
				return
			}
			if failure.Name(err) != "PreconditionError" || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), first.DestinationLocationArn) {
				t.Fatalf("got %v, want a PreconditionError naming %s and %q", err, first.DestinationLocationArn, tt.wantErr)
			}
			for _, c := range f.calls {
				if strings.HasPrefix(c, "CreateLocationS3") {
					t.Errorf("got call %s, want nothing created", c)
				}
			}
		})
	}
}

func TestTaggedLocationWithOtherPrefix(t *testing.T) {
	f := &fakeDataSync{locations: []*fakeLocation{{
		arn: "arn:aws:datasync:ap-northeast-1:222222222222:location/loc-1", uri: "s3://team-a-media/videos/",
		tags: []dstypes.TagListEntry{{Key: aws.String(naming.DeploymentTagKey), Value: aws.String("dsmigrate")}, {Key: aws.String(naming.TagKey), Value: aws.String("media-2026-11")}, {Key: aws.String(naming.RoleTagKey), Value: aws.String("source")}},
	}}}
	_, err := newHandler(f).Handle(context.Background(), input())
	if failure.Name(err) != "PreconditionError" || !strings.Contains(err.Error(), "s3://team-a-media/videos/") {
		t.Errorf("got %v, want a PreconditionError naming the location's URI", err)
	}
}

func TestBadRequestsCallNothing(t *testing.T) {
	requesttest.RefusesBadRequests(t, func(r request.Request) ([]string, error) {
		f := &fakeDataSync{}
		_, err := newHandler(f).Handle(context.Background(), Input{Request: r, Roles: roles()})
		return f.calls, err
	})
	f := &fakeDataSync{}
	other := roles()
	other.ConfigRole.Arn = "arn:aws:iam::222222222222:role/admin"
	_, err := newHandler(f).Handle(context.Background(), Input{Request: requesttest.Valid(), Roles: other})
	if v, ok := err.(*failure.ValidationError); !ok || !requesttest.HasField(v, "roles.configRole.arn") || len(f.calls) != 0 {
		t.Errorf("foreign role: got %v and calls %v, want a ValidationError naming roles.configRole.arn and no call", err, f.calls)
	}
	_, err = newHandler(f).Handle(context.Background(), Input{Request: requesttest.Valid()})
	if v, ok := err.(*failure.ValidationError); !ok || !requesttest.HasField(v, "roles.transferRole.arn") || len(f.calls) != 0 {
		t.Errorf("missing roles: got %v and calls %v, want a ValidationError naming roles.transferRole.arn and no call", err, f.calls)
	}
}

func TestErrorLoggedOnce(t *testing.T) {
	f := &fakeDataSync{create: func(*datasync.CreateLocationS3Input) (*datasync.CreateLocationS3Output, error) {
		return nil, &dstypes.InvalidRequestException{Message: aws.String("Unable to assume role")}
	}}
	handlertest.ErrorLoggedOnce(t, func() error {
		_, err := newHandler(f).Handle(context.Background(), input())
		return err
	})
}
