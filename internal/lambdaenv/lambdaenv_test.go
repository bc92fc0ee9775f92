package lambdaenv

import (
	"slices"
	"strings"
	"testing"
)

func reader(env map[string]string) *Reader {
	return &Reader{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

func TestAllMissingListedAtOnce(t *testing.T) {
	r := reader(map[string]string{})
	r.Home()
	r.RolePrefix()
	r.LocationsCallerRoleArn()
	r.TaskLogGroupArn()
	r.Deployment()
	r.Cap(MaxLiveMigrations)
	r.StateMachineArn()
	err := r.Err()
	if err == nil {
		t.Fatal("got nil, want an error")
	}
	for _, name := range []string{Region, AccountID, RolePrefix, LocationsCallerRoleArn, MaxLiveMigrations, StateMachineArn} {
		if !strings.Contains(err.Error(), name+" is missing") {
			t.Errorf("got %q, want %s listed", err, name)
		}
	}
	for _, name := range []string{TaskLogGroupArn, AllowRemove, AllowStandingGrant} {
		if strings.Contains(err.Error(), name) {
			t.Errorf("got %q, want the optional %s not listed", err, name)
		}
	}
}

func TestValid(t *testing.T) {
	r := reader(map[string]string{
		Region: "ap-northeast-1", AccountID: "222222222222",
		RolePrefix: "dsmigrate", LocationsCallerRoleArn: "arn:aws:iam::222222222222:role/dsmigrate-createlocations",
		TaskLogGroupArn: "arn:aws:logs:ap-northeast-1:222222222222:log-group:/dsmigrate/tasks:*",
		AllowRemove:     "true", MaxLiveMigrations: "20",
		StateMachineArn: "arn:aws:states:ap-northeast-1:222222222222:stateMachine:dsmigrate",
	})
	e := r.Home()
	if r.RolePrefix() != "dsmigrate" || r.TaskLogGroupArn() == "" || r.LocationsCallerRoleArn() == "" {
		t.Errorf("values not read")
	}
	if d := r.Deployment(); !d.AllowRemove || d.AllowStandingGrant {
		t.Errorf("Deployment: got %+v, want AllowRemove only", d)
	}
	if got := r.Cap(MaxLiveMigrations); got != 20 {
		t.Errorf("Cap: got %d, want 20", got)
	}
	if got := r.StateMachineArn(); got != "arn:aws:states:ap-northeast-1:222222222222:stateMachine:dsmigrate" {
		t.Errorf("StateMachineArn: got %q", got)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if e.Partition != "aws" || e.AccountID != "222222222222" {
		t.Errorf("got %+v", e)
	}
}

func TestMalformed(t *testing.T) {
	r := reader(map[string]string{
		Region: "ap-northeast-1", AccountID: "2222", RolePrefix: "a-prefix-that-is-far-too-long",
		LocationsCallerRoleArn: "arn:aws:iam::222222222222:user/x", TaskLogGroupArn: "my-group",
		AllowRemove: "yes", AllowStandingGrant: "1", MaxGrantsPerSourceBucket: "0", MaxLiveMigrations: "many",
		StateMachineArn: "arn:aws:states:ap-northeast-1:222222222222:execution:dsmigrate:x",
	})
	r.Home()
	r.RolePrefix()
	r.LocationsCallerRoleArn()
	r.TaskLogGroupArn()
	r.Deployment()
	r.Cap(MaxGrantsPerSourceBucket)
	r.Cap(MaxLiveMigrations)
	r.StateMachineArn()
	err := r.Err()
	for _, name := range []string{AccountID, RolePrefix, LocationsCallerRoleArn, TaskLogGroupArn,
		AllowRemove, AllowStandingGrant, MaxGrantsPerSourceBucket, MaxLiveMigrations, StateMachineArn} {
		if err == nil || !strings.Contains(err.Error(), name+" must") {
			t.Errorf("got %v, want %s reported as malformed", err, name)
		}
	}
}

func TestExtraRegions(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    []string
		wantErr bool
	}{
		{name: "unset", give: "", want: nil},
		{name: "one", give: "ap-northeast-9", want: []string{"ap-northeast-9"}},
		{name: "two with spaces", give: " ap-northeast-9 , eu-south-7", want: []string{"ap-northeast-9", "eu-south-7"}},
		{name: "not a region", give: "ap-northeast-9,tokyo", wantErr: true},
		{name: "empty element", give: "ap-northeast-9,", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reader(map[string]string{Region: "ap-northeast-1", AccountID: "222222222222", ExtraRegions: tt.give})
			e := r.Home()
			err := r.Err()
			if (err != nil) != tt.wantErr || err != nil && !strings.Contains(err.Error(), ExtraRegions) {
				t.Fatalf("got error %v, want error %v naming %s", err, tt.wantErr, ExtraRegions)
			}
			if !tt.wantErr && !slices.Equal(e.ExtraRegions, tt.want) {
				t.Errorf("got %q, want %q", e.ExtraRegions, tt.want)
			}
		})
	}
}

func TestBoundaryAndBuckets(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		wantSource  []string
		wantProblem string
	}{
		{name: "valid", env: map[string]string{
			RoleBoundaryArn: "arn:aws:iam::222222222222:policy/dsmigrate-datasync-boundary",
			SourceBuckets:   "team-a-media, team-a-logs", DestinationBuckets: "team-b-media",
		}, wantSource: []string{"team-a-media", "team-a-logs"}},
		{name: "missing", env: map[string]string{}, wantProblem: RoleBoundaryArn + " is missing"},
		{name: "boundary not a policy", env: map[string]string{
			RoleBoundaryArn: "arn:aws:iam::222222222222:role/x", SourceBuckets: "a-b", DestinationBuckets: "c-d",
		}, wantProblem: RoleBoundaryArn + " must"},
		{name: "bucket list malformed", env: map[string]string{
			RoleBoundaryArn: "arn:aws:iam::222222222222:policy/p", SourceBuckets: "ok-bucket,,Bad", DestinationBuckets: "c-d",
		}, wantProblem: SourceBuckets + " must"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reader(tt.env)
			r.RoleBoundaryArn()
			got := r.Buckets(SourceBuckets)
			r.Buckets(DestinationBuckets)
			err := r.Err()
			if tt.wantProblem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantProblem) {
					t.Fatalf("got %v, want %q", err, tt.wantProblem)
				}
				return
			}
			if err != nil || strings.Join(got, ",") != strings.Join(tt.wantSource, ",") {
				t.Errorf("got (%v, %v), want (%v, nil)", got, err, tt.wantSource)
			}
		})
	}
}
