package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/dsmigrate/dsmigrate/internal/awserror"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
)

// The deployment settings behind the caps, named in the errors.
const (
	settingMaxLiveMigrations        = "dsmigrate:maxLiveMigrations"
	settingMaxGrantsPerSourceBucket = "dsmigrate:maxGrantsPerSourceBucket"
)

// checkLiveMigrations refuses a migration when more executions of the deployment's state
// machine are running than MaxLiveMigrations; this execution is one of them. Every live
// migration holds two IAM roles, two DataSync locations and a task (IAM allows 1,000 roles
// per account, DataSync 100 tasks per account and Region), and usually a grant in a
// source bucket policy. Counting RUNNING executions counts every migration from Preflight
// to its cleanup, whatever step it is in; it reads only the deployment's own state
// machine. ListExecutions is eventually consistent (Step Functions API Reference), so
// executions started within the last moments may not be counted yet.
func (h *Handler) checkLiveMigrations(ctx context.Context) error {
	limit := h.Config.MaxLiveMigrations
	running := 0
	p := sfn.NewListExecutionsPaginator(h.SFN, &sfn.ListExecutionsInput{
		StateMachineArn: aws.String(h.Config.StateMachineArn),
		StatusFilter:    sfntypes.ExecutionStatusRunning,
		MaxResults:      1000,
	})
	// Stop as soon as the cap is exceeded: the exact number past it does not matter.
	for p.HasMorePages() && running <= limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return awserror.Classify(err, awserror.Call{Action: "states:ListExecutions", Resource: h.Config.StateMachineArn,
				Grant: fmt.Sprintf("grant states:ListExecutions on %s to %s", h.Config.StateMachineArn, h.ownRoleArn())}, awserror.Precondition)
		}
		running += len(page.Executions)
	}
	if running > limit {
		return &failure.PreconditionError{Message: fmt.Sprintf(
			"%d or more executions of %s are running, over the cap of %d live migrations (deployment setting %s); start this migration again when some have finished, or raise %s in cdk.json and redeploy",
			running, h.Config.StateMachineArn, limit, settingMaxLiveMigrations, settingMaxLiveMigrations)}
	}
	return nil
}

// checkGrants refuses a migration when the source bucket policy already holds the
// statements of MaxGrantsPerSourceBucket other migrations of this deployment. A grant adds
// about 1 KB to a policy S3 limits to 20 KB, which the bucket's owners share with their own
// statements; the cap keeps this deployment's share bounded. A re-run of a migration whose
// grant is there adds nothing and is not refused.
func (h *Handler) checkGrants(doc *policy.Document, id, bucket, owner string) error {
	others := slices.DeleteFunc(h.grantsIn(doc), func(g string) bool { return g == id })
	limit := h.Config.MaxGrantsPerSourceBucket
	if len(others) < limit {
		return nil
	}
	return &failure.PreconditionError{Message: fmt.Sprintf(
		"the policy of source bucket %s in account %s already holds the grants of %d other migration(s) of this deployment (%s), the cap per source bucket (deployment setting %s = %d); start this migration when one of them has finished (its grant is removed at the end), remove a grant that was kept on purpose (cleanup.revokeBucketPolicy false), or raise %s in cdk.json and redeploy",
		bucket, owner, len(others), strings.Join(others, ", "), settingMaxGrantsPerSourceBucket, limit, settingMaxGrantsPerSourceBucket)}
}

// grantsIn lists, sorted, the migration ids of this deployment that have statements in the
// policy: a statement with one of the migration's Sids that names its transfer role or
// this deployment's CreateLocationS3 caller. Statements with our Sid form but another
// principal belong to someone else and do not count.
func (h *Handler) grantsIn(doc *policy.Document) []string {
	seen := map[string]bool{}
	for _, s := range doc.Statement {
		id, ok := naming.MigrationIDOfSid(s.Sid)
		if !ok || seen[id] || s.Principal == nil {
			continue
		}
		if slices.Contains(s.Principal.AWS, h.transferRoleArn(id)) || slices.Contains(s.Principal.AWS, h.Config.LocationsCallerRoleArn) {
			seen[id] = true
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
