package localrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dsmigrate/dsmigrate/internal/createroles"
)

var uniqueRoleID = regexp.MustCompile(`AROA[A-Z0-9]{17}`)

// statementsBySid returns the AWS principals of each statement of a policy text by Sid.
func statementsBySid(t *testing.T, text string) map[string][][]string {
	t.Helper()
	var doc struct {
		Statement []struct {
			Sid       string
			Principal struct{ AWS json.RawMessage }
		}
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("decode policy %s: %v", text, err)
	}
	out := map[string][][]string{}
	for _, st := range doc.Statement {
		var aws []string
		if json.Unmarshal(st.Principal.AWS, &aws) != nil {
			var one string
			_ = json.Unmarshal(st.Principal.AWS, &one)
			aws = []string{one}
		}
		out[st.Sid] = append(out[st.Sid], aws)
	}
	return out
}

// TestE2EDeletedTransferRole: a role named in a bucket policy and then deleted is shown by
// S3 as its unique id (AROA…), and a role re-created with the same name is not what that
// statement allows (IAM User Guide, IAM role principals). Someone deletes the transfer
// role while the grant is in place: the revoke still removes our statement, and a re-run
// of a migration whose grant was left behind re-creates the role and replaces the stale
// statement instead of adding a second one.
func TestE2EDeletedTransferRole(t *testing.T) {
	t.Parallel()
	var (
		mu       sync.Mutex
		onRevoke func(body []byte) []byte
	)
	env := e2eEnv(t, Options{RequestFilters: map[string]func([]byte) []byte{
		"putbucketpolicy": func(b []byte) []byte {
			mu.Lock()
			f := onRevoke
			mu.Unlock()
			if f == nil || !bytes.Contains(b, []byte(`"mode":"revoke"`)) {
				return b
			}
			return f(b)
		},
	}})
	src, dst := seed(t, env, s3types.ObjectOwnershipBucketOwnerEnforced, smallObjects(11, 3, ""))
	original := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"AuditList","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::%s"}]}`, env.Source.AccountID, src)
	putPolicy(t, env.Source.S3, src, original)
	stored := policy(t, env.Source.S3, src)

	// deleteTransferRole deletes, as an administrator of account B would, the role our
	// statements name in the grant the revoke request carries, and returns the policy S3
	// shows afterwards.
	deleteTransferRole := func(body []byte) (string, error) {
		var in struct {
			Grant struct {
				StatementIDs []string `json:"statementIds"`
				PolicyAfter  string   `json:"policyAfter"`
			} `json:"grant"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return "", err
		}
		var arn string
		for sid, principals := range statementsBySid(t, in.Grant.PolicyAfter) {
			for _, p := range principals[0] {
				if slices.Contains(in.Grant.StatementIDs, sid) && strings.HasSuffix(p, "-transfer") {
					arn = p
				}
			}
		}
		if arn == "" {
			return "", fmt.Errorf("no statement of ours names the transfer role: %s", in.Grant.PolicyAfter)
		}
		name := arn[strings.LastIndex(arn, "/")+1:]
		ctx := testCtx(t)
		if _, err := env.Destination.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(createroles.PolicyName)}); err != nil {
			return "", err
		}
		if _, err := env.Destination.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil {
			return "", err
		}
		return policy(t, env.Source.S3, src), nil
	}
	var shown []string
	var deleteErr error
	revokeAfterDelete := func(broken bool) func([]byte) []byte {
		return func(b []byte) []byte {
			p, err := deleteTransferRole(b)
			mu.Lock()
			shown, deleteErr = append(shown, p), err
			onRevoke = nil
			mu.Unlock()
			if broken {
				return []byte(`{"mode":"revoke"}`) // the revoke fails: the grant stays
			}
			return b
		}
	}

	// 1. Deleted during the migration: the revoke removes the statement that now names
	// the unique id.
	mu.Lock()
	onRevoke = revokeAfterDelete(false)
	mu.Unlock()
	res := run(t, env, env.NewRequest("gone-role", src, "", dst, ""), "deleted-role")
	mustSucceed(t, res)
	if deleteErr != nil || len(shown) != 1 {
		t.Fatalf("deleting the transfer role: %v (policies seen %d)", deleteErr, len(shown))
	}
	transferArn := summaryOf(t, res).Roles.TransferRoleArn
	if !uniqueRoleID.MatchString(shown[0]) || strings.Contains(shown[0], transferArn) {
		t.Errorf("policy after the role was deleted: got %s, want our statement naming an AROA id instead of %s", shown[0], transferArn)
	}
	if after := policy(t, env.Source.S3, src); after != stored {
		t.Errorf("policy after the revoke: got %s, want the original %s", after, stored)
	}

	// 2. Deleted, and the revoke fails: the grant naming the unique id stays behind.
	mu.Lock()
	onRevoke = revokeAfterDelete(true)
	mu.Unlock()
	res = run(t, env, env.NewRequest("gone-role-again", src, "", dst, ""), "deleted-role-left")
	if res.Succeeded || !containsFold(res.Cause, "Grant left behind") {
		t.Fatalf("got succeeded=%v %s: %s, want a failed revoke reporting the grant left behind", res.Succeeded, res.Error, res.Cause)
	}
	left := policy(t, env.Source.S3, src)
	stale := uniqueRoleID.FindString(left)
	if stale == "" {
		t.Fatalf("policy left behind: got %s, want our statement naming the deleted role's AROA id", left)
	}

	// 3. The same migration again: the role is created anew (same ARN, new id), the
	// stale statement is replaced by one naming it, and the revoke restores the original.
	res = run(t, env, env.NewRequest("gone-role-again", src, "", dst, ""), "deleted-role-rerun")
	mustSucceed(t, res)
	var roles struct {
		Roles struct {
			TransferRole struct {
				Arn     string `json:"arn"`
				Created bool   `json:"created"`
			} `json:"transferRole"`
		} `json:"roles"`
	}
	if err := json.Unmarshal(res.StateOutput("CreateRoles"), &roles); err != nil {
		t.Fatal(err)
	}
	if !roles.Roles.TransferRole.Created {
		t.Errorf("re-run: transfer role %s not created, want it created again", roles.Roles.TransferRole.Arn)
	}
	g := grantOf(t, res)
	if !strings.Contains(g.PolicyBefore, stale) {
		t.Errorf("re-run grant: policy before %s, want the stale statement naming %s", g.PolicyBefore, stale)
	}
	before, bySid := statementsBySid(t, g.PolicyBefore), statementsBySid(t, g.PolicyAfter)
	for _, sid := range g.StatementIDs {
		if len(bySid[sid]) != 1 {
			t.Errorf("re-run grant: statement %s appears %d times, want once", sid, len(bySid[sid]))
			continue
		}
		if len(before[sid]) == 1 && slices.Contains(before[sid][0], stale) && !slices.Equal(bySid[sid][0], []string{roles.Roles.TransferRole.Arn}) {
			t.Errorf("re-run grant: statement %s names %v, want the stale %s replaced by %s", sid, bySid[sid][0], stale, roles.Roles.TransferRole.Arn)
		}
	}
	if strings.Contains(g.PolicyAfter, stale) || len(bySid) != 1+len(g.StatementIDs) {
		t.Errorf("re-run grant: policy %s, want the stale statement replaced, not kept beside ours", g.PolicyAfter)
	}
	if after := policy(t, env.Source.S3, src); after != stored {
		t.Errorf("policy after the re-run: got %s, want the original %s", after, stored)
	}
}
