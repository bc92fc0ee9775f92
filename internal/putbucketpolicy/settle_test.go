package putbucketpolicy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

// lateWriterS3 is a bucket on which another writer's write lands lag after each of our
// writes, as a read-modify-write that read the policy before our write does.
type lateWriterS3 struct {
	*fakeS3
	lag      time.Duration
	other    string
	landsAt  time.Time
	getsAt   []time.Time
	canceled context.CancelFunc // when set, our write cancels the step's context
}

func (l *lateWriterS3) PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, o ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	out, err := l.fakeS3.PutBucketPolicy(ctx, in, o...)
	l.landsAt = time.Now().Add(l.lag)
	if l.canceled != nil {
		l.canceled()
	}
	return out, err
}

func (l *lateWriterS3) GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, o ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	l.getsAt = append(l.getsAt, time.Now())
	if !l.landsAt.IsZero() && !time.Now().Before(l.landsAt) {
		l.policies[aws.ToString(in.Bucket)], l.landsAt = l.other, time.Time{}
	}
	return l.fakeS3.GetBucketPolicy(ctx, in, o...)
}

type fixedAssumer struct{ s3 S3API }

func (a fixedAssumer) AssumeS3(context.Context, sourceaccess.Params) (S3API, error) { return a.s3, nil }

// TestReadBackWaitsForTheSettleDelay: the read-back comes SettleDelay after the write, so
// another writer's write that lands within that window replaces ours before we look, and
// the grant fails with TransientError instead of reporting statements S3 no longer holds.
func TestReadBackWaitsForTheSettleDelay(t *testing.T) {
	h, f, _ := setup(map[string]string{"team-a-media": foreign})
	l := &lateWriterS3{fakeS3: f, lag: 20 * time.Millisecond, other: foreign}
	h.Assumer = fixedAssumer{l}
	h.Config.SettleDelay = 60 * time.Millisecond
	_, err := h.Handle(context.Background(), grantInput())
	if _, ok := err.(*failure.TransientError); !ok {
		t.Fatalf("got %T %v, want TransientError (the other writer's write was not seen)", err, err)
	}
	if len(l.getsAt) != 2 {
		t.Fatalf("got %d reads, want 2 (before the write and after settling)", len(l.getsAt))
	}
}

// TestContextEndsWhileSettling: a step whose time runs out while it waits to read back
// fails with TransientError (the state machine runs it again) and reads nothing more.
func TestContextEndsWhileSettling(t *testing.T) {
	h, f, _ := setup(map[string]string{"team-a-media": foreign})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := &lateWriterS3{fakeS3: f, lag: time.Hour, canceled: cancel}
	h.Assumer = fixedAssumer{l}
	h.Config.SettleDelay = time.Hour
	_, err := h.Handle(ctx, grantInput())
	want := "stopped before reading back the policy of source bucket team-a-media: context canceled; retry"
	if _, ok := err.(*failure.TransientError); !ok || err.Error() != want {
		t.Fatalf("got %T %v, want TransientError %q", err, err, want)
	}
	if len(l.getsAt) != 1 {
		t.Errorf("got %d reads, want 1 (none after the write)", len(l.getsAt))
	}
}

// TestPartitionFromTheRegion: a deployment that does not name its partition gets it from
// its region, in the roles it expects and in the ARNs it grants.
func TestPartitionFromTheRegion(t *testing.T) {
	h, f, _ := setup(map[string]string{})
	h.Config.Home = request.Home{AccountID: "222222222222", Region: "cn-north-1"}
	h.Config.LocationsCallerRoleArn = "arn:aws-cn:iam::222222222222:role/dsmigrate-createlocations"
	in := grantInput()
	in.Request.Source.Region, in.Request.Destination.Region = "cn-north-1", "cn-north-1"
	in.Roles = &execution.Roles{
		TransferRole: execution.Role{Name: "dsmigrate-media-2026-11-transfer", Arn: "arn:aws-cn:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-transfer"},
		ConfigRole:   execution.Role{Name: "dsmigrate-media-2026-11-config", Arn: "arn:aws-cn:iam::222222222222:role/dsmigrate/dsmigrate/dsmigrate-media-2026-11-config"},
	}
	out, err := h.Handle(context.Background(), in)
	if err != nil {
		t.Fatalf("got %v, want the grant", err)
	}
	written := f.policies["team-a-media"]
	if !strings.Contains(written, `"Resource":"arn:aws-cn:s3:::team-a-media"`) || strings.Contains(written, "arn:aws:") || out.PolicyAfter != written {
		t.Errorf("got policy %s, want every ARN in partition aws-cn", written)
	}
}
