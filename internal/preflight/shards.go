package preflight

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/policy"
	"github.com/dsmigrate/dsmigrate/internal/request"
	"github.com/dsmigrate/dsmigrate/internal/sourceaccess"
)

// shardsOf returns the shards of a request with task.shards (nil without): the listed
// prefixes, or the folders found directly under source.prefix, each with a task of its
// own (grouped beyond request.MaxShardFolders), and the rest shard for everything else.
func shardsOf(ctx context.Context, c S3API, partition string, r *request.Request, readRole string) ([]execution.Shard, error) {
	spec := r.Task.Shards
	if spec == nil {
		return nil, nil
	}
	folders := spec.Prefixes
	if spec.ByTopLevelPrefix {
		var err error
		if folders, err = listFolders(ctx, c, partition, r.Source, readRole); err != nil {
			return nil, err
		}
		if problems := request.ShardFilterProblems(r.Task, folders, true); len(problems) > 0 {
			var b strings.Builder
			for i, p := range problems {
				if i > 0 {
					b.WriteString("; ")
				}
				fmt.Fprintf(&b, "%s: %s", p.Field, p.Message)
			}
			return nil, &failure.PreconditionError{Message: fmt.Sprintf(
				"task.shards.byTopLevelPrefix found %d folders under s3://%s/%s, and the request's filters cannot be split along them: %s",
				len(folders), r.Source.Bucket, r.Source.Prefix, b.String())}
		}
	}
	groups, rest := r.Task.ShardGroups(folders, spec.ByTopLevelPrefix)
	shards := make([]execution.Shard, 0, len(groups)+1)
	for i, g := range groups {
		shards = append(shards, execution.Shard{Index: i, Folders: g})
	}
	if n := request.FolderBytes(execution.AllFolders(shards)); n > request.MaxShardFolderBytes {
		return nil, &failure.PreconditionError{Message: fmt.Sprintf(
			"task.shards.byTopLevelPrefix found %d folders under s3://%s/%s whose names take %d bytes; at most %d fit in the Step Functions execution document (256 KiB): list the shards with task.shards.prefixes, or set source.prefix to a folder further down",
			len(folders), r.Source.Bucket, r.Source.Prefix, n, request.MaxShardFolderBytes)}
	}
	if rest {
		shards = append(shards, execution.Shard{Index: len(groups), Rest: true})
	}
	return shards, nil
}

// listFolders lists the folders directly under source.prefix (ListObjectsV2 with delimiter
// "/": S3 returns each as a common prefix), relative to it.
func listFolders(ctx context.Context, c S3API, partition string, src request.Source, readRole string) ([]string, error) {
	base := src.Prefix
	if base != "" && !strings.HasSuffix(base, "/") {
		base += "/"
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(src.Bucket), Prefix: aws.String(base), Delimiter: aws.String("/"),
		ExpectedBucketOwner: aws.String(src.AccountID)}
	if base == "" {
		in.Prefix = nil
	}
	var folders []string
	for p := s3.NewListObjectsV2Paginator(c, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			if e := sourceaccess.BucketError(err, "source", src.Bucket, src.Region, src.AccountID); e != nil {
				return nil, e
			}
			return nil, awserror.Classify(err, awserror.Call{Principal: readRole, Action: "s3:ListBucket", Resource: policy.BucketArn(partition, src.Bucket)}, awserror.Precondition)
		}
		for _, cp := range page.CommonPrefixes {
			f := strings.TrimPrefix(aws.ToString(cp.Prefix), base)
			if problem := request.CheckDiscoveredFolder(f); problem != "" {
				return nil, &failure.PreconditionError{Message: fmt.Sprintf(
					"task.shards.byTopLevelPrefix found the folder %q under s3://%s/%s, which a DataSync filter cannot name: it %s; list the shards with task.shards.prefixes instead",
					f, src.Bucket, base, problem)}
			}
			folders = append(folders, f)
		}
		if len(folders) > request.MaxDiscoveredFolders {
			return nil, &failure.PreconditionError{Message: fmt.Sprintf(
				"task.shards.byTopLevelPrefix found more than %d folders under s3://%s/%s; list the shards with task.shards.prefixes (folders one level deeper, for example), or set source.prefix to a folder further down and run one migration per folder",
				request.MaxDiscoveredFolders, src.Bucket, base)}
		}
	}
	return folders, nil
}
