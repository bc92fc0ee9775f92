// Package dsresource is what the steps that look for a migration's DataSync resources
// share (createlocations, starttask, teardown): reading a resource's tags, and the
// execution statuses that mean a task is busy.
package dsresource

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
)

// TagLister reads a DataSync resource's tags.
type TagLister interface {
	ListTagsForResource(ctx context.Context, params *datasync.ListTagsForResourceInput, optFns ...func(*datasync.Options)) (*datasync.ListTagsForResourceOutput, error)
}

// ErrNotOurs is Tags' answer when DataSync denied reading a resource's tags. The
// functions' policies allow ListTagsForResource only on resources tagged with their
// deployment, so the resource is another deployment's or another team's.
var ErrNotOurs = errors.New("the resource is not tagged with this deployment")

// Tags returns the tags of a DataSync resource, ErrNotOurs when DataSync denies reading
// them, or the classified error of the call.
func Tags(ctx context.Context, c TagLister, resourceArn string) (map[string]string, error) {
	tags := map[string]string{}
	p := datasync.NewListTagsForResourcePaginator(c, &datasync.ListTagsForResourceInput{ResourceArn: aws.String(resourceArn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if awserror.Code(err) == "AccessDeniedException" {
			return nil, ErrNotOurs
		}
		if err != nil {
			return nil, awserror.Classify(err, awserror.Call{Action: "datasync:ListTagsForResource", Resource: resourceArn}, awserror.Precondition)
		}
		for _, t := range page.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}

// Running are the statuses of a task execution that is queued or still running
// (DataSync API Reference, TaskExecutionStatus).
var Running = []dstypes.TaskExecutionStatus{
	dstypes.TaskExecutionStatusQueued, dstypes.TaskExecutionStatusLaunching, dstypes.TaskExecutionStatusPreparing,
	dstypes.TaskExecutionStatusTransferring, dstypes.TaskExecutionStatusVerifying,
}
