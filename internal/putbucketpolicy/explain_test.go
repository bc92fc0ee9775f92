package putbucketpolicy

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/requesttest"
)

const executionArn = "arn:aws:states:ap-northeast-1:222222222222:execution:dsmigrate:media-2026-11-20261127T010000Z"

// lambdaCause is a caught Lambda error's cause as Step Functions gives it.
func lambdaCause(errorType, msg string) string {
	b, _ := json.Marshal(map[string]string{"errorType": errorType, "errorMessage": msg})
	return string(b)
}

// migrated builds the state document of a migration that got as far as the poll loop:
// the grant made (on the foreign policy), the transfer at status.
func migrated(t *testing.T, status string) *execution.Document {
	t.Helper()
	h, _, _ := setup(map[string]string{"team-a-media": foreign})
	g, err := h.Handle(context.Background(), grantInput())
	if err != nil {
		t.Fatal(err)
	}
	r := requesttest.Valid()
	return &execution.Document{
		Preflight: &execution.Preflight{Request: &r},
		Roles:     roles(),
		Grant:     g,
		Task:      &execution.Task{TaskArn: "arn:aws:datasync:ap-northeast-1:222222222222:task/task-1", TaskExecutionArn: "arn:aws:datasync:ap-northeast-1:222222222222:task/task-1/execution/exec-1"},
		Progress: &execution.Progress{Status: status, Done: status == "SUCCESS", FilesTransferred: 12, BytesTransferred: 3456, FilesVerified: 12,
			EstimatedFilesToTransfer: 20, EstimatedBytesToTransfer: 5000, PolledAt: "2026-11-27T01:02:03Z"},
	}
}

func revokeError(name, msg string) *execution.RevokeResult {
	return &execution.RevokeResult{Failure: &execution.Failure{Error: name, Cause: lambdaCause(name, msg)}}
}

func revokeDone(t *testing.T, policyBefore string, changed bool) *execution.RevokeResult {
	t.Helper()
	return &execution.RevokeResult{BucketPolicyChange: &execution.BucketPolicyChange{Mode: ModeRevoke, Bucket: "team-a-media", Changed: changed,
		StatementIDs: naming.SidsFor("media-2026-11").All(), PolicyBefore: policyBefore}}
}

func TestExplain(t *testing.T) {
	sids := naming.SidsFor("media-2026-11").All()
	granted := migrated(t, "SUCCESS").Grant.PolicyAfter
	transferFailed := &execution.Failure{Error: "TransferFailedError", Cause: lambdaCause("TransferFailedError", "DataSync task execution exec-1 ended in ERROR: S3ObjectAccessDenied: Access denied")}
	cliRemove := `aws s3api get-bucket-policy --bucket team-a-media --expected-bucket-owner 111111111111 --region ap-northeast-1 --query Policy --output text | jq '.Statement |= [(if type == "array" then .[] else . end) | select(.Sid | IN("` + strings.Join(sids, `", "`) + `") | not)]' > policy.json && aws s3api put-bucket-policy --bucket team-a-media --expected-bucket-owner 111111111111 --region ap-northeast-1 --policy file://policy.json`
	rerun := `aws stepfunctions start-execution --region ap-northeast-1 --state-machine-arn arn:aws:states:ap-northeast-1:222222222222:stateMachine:dsmigrate --input "$(aws stepfunctions describe-execution --region ap-northeast-1 --execution-arn ` + executionArn + ` --query input --output text)"`

	tests := []struct {
		name      string
		give      func() *execution.Document
		policy    *string // the policy ExplainFailure reads; nil: reading fails
		wantError string
		want      []string // in this order
		wantNot   []string
	}{
		{
			name: "revoke failed after SUCCESS, grant read back",
			give: func() *execution.Document {
				d := migrated(t, "SUCCESS")
				d.Revoke = revokeError("TransientError", "S3 answered InternalError on s3:PutBucketPolicy; retry later")
				d.Failure = d.Revoke.Failure
				return d
			},
			policy:    &granted,
			wantError: "TransientError",
			want: []string{"Data: copied. DataSync task execution arn:aws:datasync:ap-northeast-1:222222222222:task/task-1/execution/exec-1 ended SUCCESS (12 files, 3456 bytes",
				"Grant left behind: dsmigrate's statements " + strings.Join(sids, ", ") + " are still in the bucket policy of source bucket team-a-media in account 111111111111 (read just now)",
				"roles in account 222222222222", rerun, cliRemove, "delete-bucket-policy --bucket team-a-media",
				"The revoke failed with TransientError: S3 answered InternalError on s3:PutBucketPolicy; retry later."},
			wantNot: []string{"errorType", "failed first"},
		},
		{
			name: "transfer failed, then the revoke failed and the policy cannot be read",
			give: func() *execution.Document {
				d := migrated(t, "TRANSFERRING")
				d.Failure = transferFailed
				d.Revoke = revokeError("TransientError", "could not reach S3")
				return d
			},
			wantError: "TransferFailedError",
			want: []string{"Grant left behind: dsmigrate's statements " + strings.Join(sids, ", ") + " may still be in the bucket policy of source bucket team-a-media in account 111111111111 (reading the policy failed too",
				rerun, cliRemove,
				"The migration failed first with TransferFailedError: DataSync task execution exec-1 ended in ERROR: S3ObjectAccessDenied",
				"Data: at the last poll (2026-11-27T01:02:03Z) DataSync task execution arn:aws:datasync:ap-northeast-1:222222222222:task/task-1/execution/exec-1 was TRANSFERRING with 12 of 20 files and 3456 of 5000 bytes",
				"Then the revoke failed with TransientError: could not reach S3"},
		},
		{
			name: "shards failed, grant removed",
			give: func() *execution.Document {
				d := migrated(t, "TRANSFERRING")
				d.Task, d.Progress = nil, nil
				d.Shards = []execution.ShardResult{
					{Index: 0, Status: execution.ShardSucceeded, FilesTransferred: 3, BytesTransferred: 300},
					{Index: 1, Status: execution.ShardFailed, Error: "TransferFailedError"},
					{Index: 2, Status: execution.ShardSkipped},
					{Index: 3, Status: execution.ShardSucceeded, FilesTransferred: 1, BytesTransferred: 10},
				}
				d.Failure = &execution.Failure{Error: "ShardsFailedError", Cause: lambdaCause("ShardsFailedError", "1 of 4 shards failed")}
				d.Revoke = revokeDone(t, granted, true)
				return d
			},
			wantError: "ShardsFailedError",
			want: []string{"1 of 4 shards failed.",
				"Data: of 4 shards, 2 copied their folders (4 files, 310 bytes transferred), 1 were already copied by an earlier run, 1 failed;"},
			wantNot: []string{"copied nothing"},
		},
		{
			name: "transfer failed, grant removed",
			give: func() *execution.Document {
				d := migrated(t, "TRANSFERRING")
				d.Failure = transferFailed
				d.Revoke = revokeDone(t, granted, true)
				return d
			},
			wantError: "TransferFailedError",
			want: []string{"DataSync task execution exec-1 ended in ERROR: S3ObjectAccessDenied: Access denied. Data: at the last poll",
				"Grant: removed; dsmigrate's statements " + strings.Join(sids, ", ") + " are out of the bucket policy of source bucket team-a-media in account 111111111111 again."},
			wantNot: []string{"left behind", "already gone", "someone removed"},
		},
		{
			name: "A's admin removed our statements during the transfer",
			give: func() *execution.Document {
				d := migrated(t, "TRANSFERRING")
				d.Failure = transferFailed
				d.Revoke = revokeDone(t, foreign, false)
				return d
			},
			wantError: "TransferFailedError",
			want: []string{"S3ObjectAccessDenied",
				"Grant: dsmigrate's statements " + strings.Join(sids, ", ") + " were no longer in the bucket policy of source bucket team-a-media in account 111111111111 when the revoke ran: someone removed them during the migration, which takes DataSync's access to the source bucket away."},
			wantNot: []string{"left behind"},
		},
		{
			name: "one statement removed by someone else, the others revoked",
			give: func() *execution.Document {
				d := migrated(t, "TRANSFERRING")
				d.Failure = transferFailed
				partial := strings.Replace(granted, `"Sid":"`+sids[2]+`"`, `"Sid":"SomethingElse"`, 1)
				d.Revoke = revokeDone(t, partial, true)
				return d
			},
			wantError: "TransferFailedError",
			want:      []string{"Grant: removed; dsmigrate's statements " + sids[0] + ", " + sids[1] + " are out", "Statements " + sids[2] + " were already gone: someone removed them"},
		},
		{
			name: "failure before the task started, the revoke failed, but nothing of ours is in the policy",
			give: func() *execution.Document {
				d := migrated(t, "")
				d.Task, d.Progress = nil, nil
				d.Failure = &execution.Failure{Error: "PreconditionError", Cause: lambdaCause("PreconditionError", "Cross-account pass role is not allowed")}
				d.Revoke = revokeError("PermissionError", "not allowed to call s3:GetBucketPolicy")
				return d
			},
			policy:    ptr(foreign),
			wantError: "PreconditionError",
			want: []string{"Cross-account pass role is not allowed. Data: no DataSync task execution was recorded, so this execution copied nothing.",
				"Grant: the bucket policy of source bucket team-a-media in account 111111111111 holds none of dsmigrate's statements",
				"The revoke had failed with PermissionError: not allowed to call s3:GetBucketPolicy"},
			wantNot: []string{"left behind"},
		},
		{
			name: "failure before the grant, the revoke found nothing of ours",
			give: func() *execution.Document {
				d := migrated(t, "")
				d.Task, d.Progress, d.Grant = nil, nil, nil
				d.Failure = &execution.Failure{Error: "PreconditionError", Cause: lambdaCause("PreconditionError", "the source bucket has ACLs enabled")}
				d.Revoke = revokeDone(t, foreign, false)
				return d
			},
			wantError: "PreconditionError",
			want:      []string{"Grant: the bucket policy of source bucket team-a-media in account 111111111111 holds none of dsmigrate's statements: nothing was left to remove."},
			wantNot:   []string{"no longer in", "someone removed", "left behind"},
		},
		{
			// Without the roles in the document, the request's destination account names
			// whose roles the leftover statements let in.
			name: "grant left behind, the roles not recorded",
			give: func() *execution.Document {
				d := migrated(t, "TRANSFERRING")
				d.Roles = nil
				d.Preflight.Request.Destination.AccountID = "222222222222"
				d.Failure = transferFailed
				d.Revoke = revokeError("TransientError", "S3 answered InternalError")
				return d
			},
			policy:    &granted,
			wantError: "TransferFailedError",
			want:      []string{"Grant left behind", "They let DataSync's roles in account 222222222222 read the bucket"},
		},
		{
			name: "a caught error without a cause, and States.Timeout text",
			give: func() *execution.Document {
				d := migrated(t, "TRANSFERRING")
				d.Failure = &execution.Failure{Error: "States.Timeout"}
				d.Revoke = revokeDone(t, granted, true)
				return d
			},
			wantError: "States.Timeout",
			want:      []string{"(no cause given) Data: at the last poll", "Grant: removed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f, a := setup(map[string]string{})
			if tt.policy != nil {
				f.policies["team-a-media"] = *tt.policy
			} else {
				a.err = errors.New("dial tcp: connection refused")
			}
			out, err := h.Explain(context.Background(), Input{Mode: ModeExplain, Document: tt.give(), ExecutionArn: executionArn})
			if err != nil {
				t.Fatalf("got error %v, want an explanation", err)
			}
			t.Logf("cause: %s", out.Cause)
			if out.Error != tt.wantError {
				t.Errorf("got Error %q, want %q (the name stays)", out.Error, tt.wantError)
			}
			at := 0
			for _, w := range tt.want {
				i := strings.Index(out.Cause[at:], w)
				if i < 0 {
					t.Errorf("cause lacks, after byte %d, %q\ncause: %s", at, w, out.Cause)
					continue
				}
				at += i + len(w)
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out.Cause, w) {
					t.Errorf("cause has %q, want not\ncause: %s", w, out.Cause)
				}
			}
			for _, c := range f.calls {
				if c != "GetBucketPolicy" {
					t.Errorf("explain called %s, want at most a read", c)
				}
			}
		})
	}
}

func ptr(s string) *string { return &s }

// overlongCases put a long message as the failure's, the revoke's, or both.
func overlongCases(long string) []struct{ name, original, revoke string } {
	return []struct{ name, original, revoke string }{
		{"both long", long, long},
		{"original long", long, "short revoke error"},
		{"revoke long", "short original error", long},
	}
}

// explainOverlong explains a transfer that failed with original and whose revoke failed
// with revoke, the policy unreadable (so the grant may be left behind).
func explainOverlong(t *testing.T, original, revoke string) *execution.Failure {
	t.Helper()
	d := migrated(t, "TRANSFERRING")
	d.Failure = &execution.Failure{Error: "TransferFailedError", Cause: lambdaCause("TransferFailedError", original)}
	d.Revoke = revokeError("TransientError", revoke)
	h, _, a := setup(map[string]string{})
	a.err = errors.New("connection refused")
	out, err := h.Explain(context.Background(), Input{Mode: ModeExplain, Document: d, ExecutionArn: executionArn})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Both quoted messages are far longer than the 32,768 characters Step Functions keeps:
// the explanation stays within it, keeps the grant and the commands whole, and cuts the
// messages on character boundaries.
func TestExplainFitsTheCauseLimit(t *testing.T) {
	long := strings.Repeat("日本語のエラー ", 4000) // 3 bytes a character: 88,000 bytes
	for _, tt := range overlongCases(long) {
		t.Run(tt.name, func(t *testing.T) {
			out := explainOverlong(t, tt.original, tt.revoke)
			if len(out.Cause) > MaxCause || !utf8.ValidString(out.Cause) {
				t.Fatalf("got a cause of %d bytes (valid UTF-8: %v), want at most %d", len(out.Cause), utf8.ValidString(out.Cause), MaxCause)
			}
			if len(out.Cause) < MaxCause-200 {
				t.Errorf("got a cause of %d bytes, want the room used (about %d)", len(out.Cause), MaxCause)
			}
			for _, w := range []string{"Grant left behind", "put-bucket-policy", "start-execution", "bytes cut; the whole text is in the execution's event history"} {
				if !strings.Contains(out.Cause, w) {
					t.Errorf("cause lacks %q", w)
				}
			}
			for _, short := range []string{tt.original, tt.revoke} {
				if len(short) < 100 && !strings.Contains(out.Cause, short) {
					t.Errorf("cause lacks the short message %q, kept whole", short)
				}
			}
		})
	}
}

// ASCII messages cut on any byte, so the explanation of two overlong messages takes the
// whole 32,768 bytes: the fixed text is measured without the places the messages go.
func TestExplainUsesTheWholeCauseLimit(t *testing.T) {
	long := strings.Repeat("access denied by an explicit deny; ", 2500) // 90,000 bytes
	for _, tt := range overlongCases(long) {
		t.Run(tt.name, func(t *testing.T) {
			out := explainOverlong(t, tt.original, tt.revoke)
			if len(out.Cause) != 32768 {
				t.Errorf("got a cause of %d bytes, want 32768", len(out.Cause))
			}
		})
	}
}

// clip keeps a text that fits whole, and otherwise ends it with a marker, all within n
// bytes; where only the marker would fit, it gives nothing.
func TestClip(t *testing.T) {
	text := strings.Repeat("x", 200)
	const marker = " [… 200 bytes cut; the whole text is in the execution's event history]" // 72 bytes
	tests := []struct {
		name string
		give string
		n    int
		want string
	}{
		{name: "a text exactly as long as the room", give: text, n: 200, want: text},
		{name: "one byte too long", give: text, n: 199, want: text[:127] + " [… 73 bytes cut; the whole text is in the execution's event history]"},
		{name: "room for the marker and one byte", give: text, n: 73, want: "x [… 199 bytes cut; the whole text is in the execution's event history]"},
		{name: "room for the marker alone", give: text, n: 72, want: ""},
		{name: "a cut inside a character moves to its start", give: "ab" + strings.Repeat("語", 70), n: 76, want: "ab [… 210 bytes cut; the whole text is in the execution's event history]"},
		// Bytes that start no character (a message that is not UTF-8) are cut before the
		// first one, without reading before the text.
		{name: "no character start to cut at", give: strings.Repeat("\x80", 200), n: 77, want: marker},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clip(tt.give, tt.n)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if len(got) > tt.n {
				t.Errorf("got %d bytes, want at most %d", len(got), tt.n)
			}
		})
	}
}

// deadlineS3 records how much time each GetBucketPolicy had left.
type deadlineS3 struct {
	*fakeS3
	left []time.Duration
}

func (d *deadlineS3) GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, o ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	if dl, ok := ctx.Deadline(); ok {
		d.left = append(d.left, time.Until(dl))
	} else {
		d.left = append(d.left, -1)
	}
	return d.fakeS3.GetBucketPolicy(ctx, in, o...)
}

// After a failed revoke, the explanation looks at the policy for at most 10 s: the
// failure may be the very reason it cannot be read, and the explanation must still come.
func TestExplainReadsThePolicyWithinTenSeconds(t *testing.T) {
	d := migrated(t, "TRANSFERRING")
	d.Failure = &execution.Failure{Error: "TransferFailedError", Cause: lambdaCause("TransferFailedError", "ended in ERROR")}
	d.Revoke = revokeError("TransientError", "S3 answered InternalError")
	h, f, _ := setup(map[string]string{"team-a-media": foreign})
	rec := &deadlineS3{fakeS3: f}
	h.Assumer = fixedAssumer{rec}
	if _, err := h.Explain(context.Background(), Input{Mode: ModeExplain, Document: d, ExecutionArn: executionArn}); err != nil {
		t.Fatal(err)
	}
	if len(rec.left) != 1 || rec.left[0] <= 9*time.Second || rec.left[0] > 10*time.Second {
		t.Errorf("got reads with %v left, want one read with a deadline 10 s away", rec.left)
	}
}

// fit gives the room a short text leaves to the other one, to the last byte: with an odd
// budget the longer text gets the odd byte.
func TestFitGivesTheRestToTheLongerText(t *testing.T) {
	long, short := strings.Repeat("a", 300), strings.Repeat("b", 100)
	for _, tt := range []struct {
		name string
		a, b string
	}{
		{"the short one second", long, short},
		{"the short one first", short, long},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := fit(tt.a, tt.b, 201)
			if len(a)+len(b) != 201 {
				t.Errorf("got %d + %d bytes, want 201 in all", len(a), len(b))
			}
			if !strings.Contains(a+b, short) {
				t.Errorf("got %q and %q, want the short text whole", a, b)
			}
		})
	}
}

func TestExplainCommands(t *testing.T) {
	keep := false
	d := migrated(t, "SUCCESS")
	d.Preflight.Request.Cleanup.RevokeBucketPolicy = &keep
	d.Revoke = revokeError("PermissionError", "denied")
	d.Failure = d.Revoke.Failure
	h, _, a := setup(map[string]string{})
	a.err = errors.New("denied")
	t.Run("keep flag", func(t *testing.T) {
		out, err := h.Explain(context.Background(), Input{Mode: ModeExplain, Document: d, ExecutionArn: executionArn})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.Cause, "only if it fails, since this request sets cleanup.revokeBucketPolicy to false (after a successful transfer use (2))") {
			t.Errorf("cause %s\nwant it to say a re-run keeps the grant after a success", out.Cause)
		}
	})
	t.Run("no execution ARN", func(t *testing.T) {
		out, err := h.Explain(context.Background(), Input{Mode: ModeExplain, Document: d})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.Cause, "start-execution") || !strings.Contains(out.Cause, "dsmigrate start --input FILE") {
			t.Errorf("cause %s\nwant the dsmigrate command without an ARN", out.Cause)
		}
	})
	t.Run("no document", func(t *testing.T) {
		_, err := h.Explain(context.Background(), Input{Mode: ModeExplain})
		if got := failure.Name(err); got != "ValidationError" || !strings.Contains(err.Error(), "document") {
			t.Errorf("got %s %v, want a ValidationError naming document", got, err)
		}
	})
	t.Run("Invoke dispatches", func(t *testing.T) {
		out, err := h.Invoke(context.Background(), Input{Mode: ModeExplain, Document: d, ExecutionArn: executionArn})
		if _, ok := out.(*execution.Failure); !ok || err != nil {
			t.Errorf("got %T, %v, want a *execution.Failure", out, err)
		}
	})
}

func TestStateMachineOf(t *testing.T) {
	for _, tt := range []struct{ give, want, region string }{
		{executionArn, "arn:aws:states:ap-northeast-1:222222222222:stateMachine:dsmigrate", "ap-northeast-1"},
		{"arn:aws-cn:states:cn-north-1:222222222222:execution:sm:x", "arn:aws-cn:states:cn-north-1:222222222222:stateMachine:sm", "cn-north-1"},
		{"arn:aws:states:us-east-1:222222222222:stateMachine:sm", "", ""},
		{"not an arn", "", ""},
	} {
		sm, region, ok := stateMachineOf(tt.give)
		if sm != tt.want || region != tt.region || ok != (tt.want != "") {
			t.Errorf("stateMachineOf(%q) = %q, %q, %v, want %q, %q", tt.give, sm, region, ok, tt.want, tt.region)
		}
	}
}
