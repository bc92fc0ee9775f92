package putbucketpolicy

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/kmsgrant"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// ModeExplain is the mode of the ExplainFailure state, which runs after a failure has
// passed RevokeBucketPolicy (and after a revoke that failed following a SUCCESS). It
// returns the failure to report: the same error name, and a cause that says what became of
// the data and of our grant — removed, already gone, or still in the source bucket policy
// with the bucket, the account, the Sids that remain and the commands that remove them.
const ModeExplain = "explain"

// MaxCause is the longest cause Step Functions keeps for a failed execution: 32,768
// characters (ExecutionFailedEventDetails, Step Functions API Reference,
// https://docs.aws.amazon.com/step-functions/latest/apireference/API_ExecutionFailedEventDetails.html).
// The explanation is measured in bytes, which are never fewer than characters.
const MaxCause = 32768

// explainReadTimeout bounds the look at the policy ExplainFailure takes after a failed
// revoke (the failure may be the very reason it cannot be read).
const explainReadTimeout = 10 * time.Second

// Invoke is the function's entry point: mode explain returns the failure to report,
// modes grant and revoke the policy change (Handle).
func (h *Handler) Invoke(ctx context.Context, in Input) (any, error) {
	if in.Mode == ModeExplain {
		return h.Explain(ctx, in)
	}
	return h.Handle(ctx, in)
}

// Explain returns the failure of the state document, its cause rewritten. It changes
// nothing; after a failed revoke it reads the source bucket policy once to say which of
// our statements remain.
func (h *Handler) Explain(ctx context.Context, in Input) (*execution.Failure, error) {
	doc := in.Document
	if doc == nil || doc.Failure == nil || doc.Preflight == nil || doc.Preflight.Request == nil {
		err := &failure.ValidationError{}
		err.Add("document", "must be the state document with failure and preflight.request (the ExplainFailure state passes $)")
		slog.ErrorContext(ctx, "putbucketpolicy explain failed", "errorName", "ValidationError", "error", err.Error())
		return nil, err
	}
	e := explanation{doc: doc, req: *doc.Preflight.Request, executionArn: in.ExecutionArn}
	if e.revokeFailed() {
		e.remaining, e.readErr = h.remainingSids(ctx, e.req)
	}
	out := &execution.Failure{Error: doc.Failure.Error, Cause: e.cause()}
	slog.InfoContext(ctx, "failure explained", "errorName", out.Error, "migrationId", e.req.MigrationID,
		"sourceBucket", e.req.Source.Bucket, "grantLeft", e.grantLeft(), "causeBytes", len(out.Cause))
	return out, nil
}

// remainingSids reads the source bucket policy and returns which of our Sids it holds.
func (h *Handler) remainingSids(ctx context.Context, r request.Request) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, explainReadTimeout)
	defer cancel()
	b, err := h.openBucket(ctx, r)
	if err != nil {
		return nil, err
	}
	text, err := b.get(ctx)
	if err != nil {
		return nil, err
	}
	present, _ := splitSids(text, naming.SidsFor(r.MigrationID).All())
	return present, nil
}

// explanation builds the cause of one failure.
type explanation struct {
	doc          *execution.Document
	req          request.Request
	executionArn string
	// remaining and readErr: what reading the policy after a failed revoke found.
	remaining []string
	readErr   error
}

func (e explanation) sids() []string { return naming.SidsFor(e.req.MigrationID).All() }

func (e explanation) revokeFailed() bool {
	return e.doc.Revoke != nil && e.doc.Revoke.Failure != nil && e.doc.Revoke.Error != ""
}

// grantLeft reports whether our statements are (or may be) still in the policy.
func (e explanation) grantLeft() bool {
	return e.revokeFailed() && (e.readErr != nil || len(e.remaining) > 0)
}

// onlyRevokeFailed reports whether the revoke's error is the whole failure: it failed
// after a SUCCESS (RevokeFailed copied it into $.failure).
func (e explanation) onlyRevokeFailed() bool {
	return e.revokeFailed() && *e.doc.Revoke.Failure == *e.doc.Failure
}

func (e explanation) where() string {
	return fmt.Sprintf("the bucket policy of source bucket %s in account %s", e.req.Source.Bucket, e.req.Source.AccountID)
}

// cause is the explanation, at most MaxCause bytes. The fixed sentences come first and
// are kept whole; the error messages quoted in it share what room is left.
func (e explanation) cause() string {
	original := sentence(message(e.doc.Failure.Cause))
	var revoke string
	if e.revokeFailed() {
		revoke = sentence(message(e.doc.Revoke.Cause))
	}
	const o, r = "\x00original\x00", "\x00revoke\x00"
	var parts []string
	switch {
	case e.grantLeft() && e.onlyRevokeFailed():
		parts = []string{e.data(), e.leftover(), "The revoke failed with " + e.doc.Revoke.Error + ": " + r}
		original = ""
	case e.grantLeft():
		parts = []string{e.leftover(), "The migration failed first with " + e.doc.Failure.Error + ": " + o, e.data(),
			"Then the revoke failed with " + e.doc.Revoke.Error + ": " + r}
	case e.onlyRevokeFailed():
		parts = []string{e.data(), e.grant(), "The revoke had failed with " + e.doc.Revoke.Error + ": " + r}
		original = ""
	default:
		parts = []string{o, e.data(), e.grant()}
		if e.revokeFailed() {
			parts = append(parts, "The revoke had failed with "+e.doc.Revoke.Error+": "+r)
		}
	}
	parts = append(parts, e.kmsGrants())
	text := strings.Join(nonEmpty(parts), " ")
	fixed := len(text) - strings.Count(text, o)*len(o) - strings.Count(text, r)*len(r)
	original, revoke = fit(original, revoke, MaxCause-fixed)
	return strings.NewReplacer(o, original, r, revoke).Replace(text)
}

// data says what became of the data, from the task and the last poll, or from the
// shards' results for a sharded migration.
func (e explanation) data() string {
	if len(e.doc.Shards) > 0 {
		return shardsData(e.doc.Shards)
	}
	t, p := e.doc.Task, e.doc.Progress
	switch {
	case t == nil || t.TaskExecutionArn == "":
		return "Data: no DataSync task execution was recorded, so this execution copied nothing."
	case p == nil:
		return fmt.Sprintf("Data: DataSync task execution %s was started but never polled; its state is in the DataSync console, and whatever it copied stays in the destination bucket.", t.TaskExecutionArn)
	case p.Done:
		return fmt.Sprintf("Data: copied. DataSync task execution %s ended %s (%d files, %d bytes transferred, %d files verified).",
			t.TaskExecutionArn, p.Status, p.FilesTransferred, p.BytesTransferred, p.FilesVerified)
	}
	return fmt.Sprintf("Data: at the last poll (%s) DataSync task execution %s was %s with %d of %d files and %d of %d bytes transferred; what it copied stays in the destination bucket, and a new execution with the same migrationId copies what is missing.",
		p.PolledAt, t.TaskExecutionArn, p.Status, p.FilesTransferred, p.EstimatedFilesToTransfer, p.BytesTransferred, p.EstimatedBytesToTransfer)
}

// shardsData says what the shards of a sharded migration copied: how many succeeded (and
// their files and bytes), were skipped (copied by an earlier run) or failed.
func shardsData(shards []execution.ShardResult) string {
	var ok, skipped, failed int
	var files, bytes int64
	for _, s := range shards {
		switch s.Status {
		case execution.ShardSucceeded:
			ok++
			files += s.FilesTransferred
			bytes += s.BytesTransferred
		case execution.ShardSkipped:
			skipped++
		default:
			failed++
		}
	}
	return fmt.Sprintf("Data: of %d shards, %d copied their folders (%d files, %d bytes transferred), %d were already copied by an earlier run, %d failed; what was copied stays in the destination bucket, and a new execution with the same migrationId runs only the shards that did not succeed.",
		len(shards), ok, files, bytes, skipped, failed)
}

// grant says what became of the grant when nothing of it is left.
func (e explanation) grant() string {
	if e.revokeFailed() {
		// The revoke failed, but reading the policy shows none of our statements.
		return fmt.Sprintf("Grant: %s holds none of dsmigrate's statements (%s), read just now: nothing is left to remove.", e.where(), strings.Join(e.sids(), ", "))
	}
	rv := e.doc.Revoke
	if rv == nil || rv.BucketPolicyChange == nil {
		return ""
	}
	var granted []string // ours in the policy the grant left
	if g := e.doc.Grant; g != nil {
		granted, _ = splitSids(g.PolicyAfter, e.sids())
	}
	atRevoke, _ := splitSids(rv.PolicyBefore, e.sids())
	var gone []string // granted, then removed by someone else before the revoke
	for _, sid := range granted {
		if !slices.Contains(atRevoke, sid) {
			gone = append(gone, sid)
		}
	}
	var s string
	switch {
	case len(gone) > 0 && len(atRevoke) == 0:
		return fmt.Sprintf("Grant: dsmigrate's statements %s were no longer in %s when the revoke ran: someone removed them during the migration, which takes DataSync's access to the source bucket away. Nothing was left to remove.",
			strings.Join(gone, ", "), e.where())
	case len(gone) > 0:
		s = fmt.Sprintf(" Statements %s were already gone: someone removed them during the migration, which takes DataSync's access to the source bucket away.", strings.Join(gone, ", "))
	}
	if rv.Changed {
		return fmt.Sprintf("Grant: removed; dsmigrate's statements %s are out of %s again.", strings.Join(atRevoke, ", "), e.where()) + s
	}
	return fmt.Sprintf("Grant: %s holds none of dsmigrate's statements: nothing was left to remove.", e.where())
}

// kmsGrants says what became of the migration's KMS grants on the source keys: revoked,
// or, when the revoke failed, which may be left and how to remove them (the grants the
// grant step recorded, found again by kmsgrant.Find on a new execution).
func (e explanation) kmsGrants() string {
	keys := e.req.Source.KMSKeyArns
	if len(keys) == 0 {
		return ""
	}
	if !e.revokeFailed() {
		rv := e.doc.Revoke
		if rv == nil || rv.BucketPolicyChange == nil {
			return ""
		}
		if len(rv.KMSGrants) == 0 {
			return "KMS grants: none of dsmigrate's was left on " + strings.Join(keys, ", ") + "."
		}
		var gone []string
		for _, g := range rv.KMSGrants {
			gone = append(gone, kmsgrant.Describe(g))
		}
		return "KMS grants: revoked " + strings.Join(gone, "; ") + "."
	}
	grantee := "the transfer role"
	if e.doc.Roles != nil {
		grantee = e.doc.Roles.TransferRole.Arn
	}
	var known []string
	if g := e.doc.Grant; g != nil {
		for _, kg := range g.KMSGrants {
			known = append(known, kmsgrant.Describe(kg))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "KMS grants left behind: grants named %s to %s may still be on keys %s", kmsgrant.Name(e.req.MigrationID), grantee, strings.Join(keys, ", "))
	if len(known) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(known, "; "))
	}
	fmt.Fprintf(&b, "; they let that role decrypt the source objects. A new execution with the same input revokes them at its end; or, as an administrator of account %s: aws kms list-grants --key-id KEY --grantee-principal %s, then aws kms revoke-grant --key-id KEY --grant-id ID for each grant named %s.",
		e.req.Source.AccountID, grantee, kmsgrant.Name(e.req.MigrationID))
	return b.String()
}

// leftover says that our grant is (or may be) still in the policy, and how to remove it.
func (e explanation) leftover() string {
	var b strings.Builder
	src := e.req.Source
	sids := e.remaining
	if e.readErr != nil {
		sids = e.sids()
		fmt.Fprintf(&b, "Grant left behind: dsmigrate's statements %s may still be in %s (reading the policy failed too: %s).",
			strings.Join(sids, ", "), e.where(), clip(e.readErr.Error(), 500))
	} else {
		fmt.Fprintf(&b, "Grant left behind: dsmigrate's statements %s are still in %s (read just now).", strings.Join(sids, ", "), e.where())
	}
	b.WriteString(" They let DataSync's roles in account " + e.roleAccount() + " read the bucket; remove them in either of two ways.")
	b.WriteString(" (1) Start a new execution with the same input: it finds every finished step again and removes the grant at its end")
	if e.req.Cleanup.RevokeBucketPolicy != nil && !*e.req.Cleanup.RevokeBucketPolicy {
		b.WriteString(" only if it fails, since this request sets cleanup.revokeBucketPolicy to false (after a successful transfer use (2))")
	}
	if sm, region, ok := stateMachineOf(e.executionArn); ok {
		fmt.Fprintf(&b, `: aws stepfunctions start-execution --region %s --state-machine-arn %s --input "$(aws stepfunctions describe-execution --region %s --execution-arn %s --query input --output text)"`,
			region, sm, region, e.executionArn)
		fmt.Fprintf(&b, " (or dsmigrate start --state-machine-arn %s --input FILE, with that input saved in FILE).", sm)
	} else {
		b.WriteString(" (dsmigrate start --input FILE, with this execution's input saved in FILE).")
	}
	owner := fmt.Sprintf("--bucket %s --expected-bucket-owner %s --region %s", src.Bucket, src.AccountID, src.Region)
	quoted := make([]string, len(sids))
	for i, sid := range sids {
		quoted[i] = `"` + sid + `"`
	}
	fmt.Fprintf(&b, " (2) As an administrator of account %s, remove only these statements (with jq): aws s3api get-bucket-policy %s --query Policy --output text | jq '.Statement |= [(if type == \"array\" then .[] else . end) | select(.Sid | IN(%s) | not)]' > policy.json && aws s3api put-bucket-policy %s --policy file://policy.json",
		src.AccountID, owner, strings.Join(quoted, ", "), owner)
	fmt.Fprintf(&b, " (when no statement is left, S3 refuses an empty policy: aws s3api delete-bucket-policy %s instead).", owner)
	return b.String()
}

// roleAccount is the account of the DataSync roles: the destination account.
func (e explanation) roleAccount() string {
	if g := e.doc.Roles; g != nil {
		if a, err := arn.Parse(g.TransferRole.Arn); err == nil {
			return a.AccountID
		}
	}
	if e.req.Destination.AccountID != "" {
		return e.req.Destination.AccountID
	}
	return "B (the destination)"
}

// stateMachineOf derives the state machine ARN and region from an execution ARN
// (arn:<partition>:states:<region>:<account>:execution:<state machine>:<name>).
func stateMachineOf(executionArn string) (stateMachine, region string, ok bool) {
	a, err := arn.Parse(executionArn)
	if err != nil || a.Service != "states" {
		return "", "", false
	}
	parts := strings.Split(a.Resource, ":")
	if len(parts) < 3 || parts[0] != "execution" || parts[1] == "" {
		return "", "", false
	}
	a.Resource = "stateMachine:" + parts[1]
	return a.String(), a.Region, true
}

// message is the readable part of a caught error's cause: a Lambda function's error
// arrives as the JSON document {"errorMessage", "errorType"}, other causes as text.
func message(cause string) string {
	cause = execution.Failure{Cause: cause}.Message()
	if strings.TrimSpace(cause) == "" {
		return "(no cause given)"
	}
	return cause
}

// sentence ends s with a full stop unless it ends with punctuation already.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?)]") {
		return s
	}
	return s + "."
}

// fit shortens a and b so that together they take at most budget bytes: each keeps its
// whole text when it fits in an even share, and a short one leaves its share's rest to
// the other.
func fit(a, b string, budget int) (string, string) {
	budget = max(budget, 0)
	if len(a)+len(b) <= budget {
		return a, b
	}
	half := budget / 2
	switch {
	case len(a) <= half:
		return a, clip(b, budget-len(a))
	case len(b) <= half:
		return clip(a, budget-len(b)), b
	}
	return clip(a, half), clip(b, budget-half)
}

// clip cuts s to at most n bytes on a character boundary, saying how much was cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const marker = " [… %d bytes cut; the whole text is in the execution's event history]"
	keep := n - len(fmt.Sprintf(marker, len(s)))
	if keep <= 0 {
		return ""
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + fmt.Sprintf(marker, len(s)-keep)
}

func nonEmpty(parts []string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
