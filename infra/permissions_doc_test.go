package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/policy"
)

// grantedStatement is one IAM statement dsmigrate deploys or creates, named as
// docs/operate.md names it.
type grantedStatement struct {
	Holder  string   // the role (or "<role> trust") or resource whose policy holds it
	Sid     string   // "" when the statement has none
	Actions []string // sorted
	Where   string   // logical id, for messages
}

// key identifies a statement in the doc table: holder and Sid, or holder and actions when
// the statement has no Sid (statements CDK writes for a grant).
func (g grantedStatement) key() string {
	if g.Sid != "" {
		return g.Holder + " | " + g.Sid
	}
	return g.Holder + " | — | " + strings.Join(g.Actions, ",")
}

// cdkHash is the 8-character hash CDK appends to generated ids (in generated Sids too).
var cdkHash = regexp.MustCompile(`[0-9A-F]{8}$`)

// templateStatements lists every IAM statement of a template: identity policies, role trust
// policies, and the resource policies of topics, queues, keys, event buses and log groups.
func templateStatements(t *testing.T, tmpl map[string]any, prefix string) []grantedStatement {
	t.Helper()
	res := tmpl["Resources"].(map[string]any)
	props := func(id string) map[string]any {
		r, _ := res[id].(map[string]any)
		p, _ := r["Properties"].(map[string]any)
		return p
	}
	named := func(s string) string { return strings.ReplaceAll(s, prefix+"-", "<prefix>-") }
	roleHolder := func(id string) string {
		if n, ok := props(id)["RoleName"].(string); ok {
			return named(n)
		}
		// A role CDK names (the state machine's): its logical id is <Construct>Role<hash>.
		return "role of " + strings.TrimSuffix(cdkHash.ReplaceAllString(id, ""), "Role")
	}
	ref := func(v any) string {
		if m, ok := v.(map[string]any); ok {
			if r, ok := m["Ref"].(string); ok {
				return r
			}
			if ga, ok := m["Fn::GetAtt"].([]any); ok {
				return ga[0].(string)
			}
		}
		return ""
	}
	var out []grantedStatement
	add := func(holder, where string, doc any) {
		d, ok := doc.(map[string]any)
		if !ok {
			t.Fatalf("%s: policy document %s is not an object", where, jsonString(doc))
		}
		for _, s := range asList(d["Statement"]) {
			st := s.(map[string]any)
			sid, _ := st["Sid"].(string)
			if strings.HasPrefix(sid, "AllowEventRule") {
				sid = cdkHash.ReplaceAllString(sid, "") // CDK's DLQ grant, named after the rule
			}
			out = append(out, grantedStatement{Holder: holder, Sid: sid, Actions: slices.Sorted(slices.Values(strs(st["Action"]))), Where: where})
		}
	}
	for id, r := range res {
		p := props(id)
		switch r.(map[string]any)["Type"] {
		case "AWS::IAM::Role":
			add(roleHolder(id)+" trust", id, p["AssumeRolePolicyDocument"])
			for _, pol := range asList(p["Policies"]) {
				add(roleHolder(id), id, pol.(map[string]any)["PolicyDocument"])
			}
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			holder := named(fmt.Sprint(p["ManagedPolicyName"]))
			if roles := asList(p["Roles"]); len(roles) == 1 && p["ManagedPolicyName"] == nil {
				holder = roleHolder(ref(roles[0]))
			}
			add(holder, id, p["PolicyDocument"])
		case "AWS::SNS::TopicPolicy":
			add("topic "+named(props(ref(asList(p["Topics"])[0]))["TopicName"].(string)), id, p["PolicyDocument"])
		case "AWS::SQS::QueuePolicy":
			add("queue "+named(props(ref(asList(p["Queues"])[0]))["QueueName"].(string)), id, p["PolicyDocument"])
		case "AWS::Events::EventBusPolicy":
			add("bus "+named(props(ref(p["EventBusName"]))["Name"].(string)), id, map[string]any{"Statement": p["Statement"]})
		case "AWS::KMS::Key":
			holder := "key " + id
			for _, topic := range resources(tmpl, "AWS::SNS::Topic") {
				if ref(topic["KmsMasterKeyId"]) == id {
					holder = "key of topic " + named(topic["TopicName"].(string))
				}
			}
			add(holder, id, p["KeyPolicy"])
		case "AWS::Logs::ResourcePolicy":
			// CDK renders the document as a Fn::Join of text and the log group's ARN.
			var text strings.Builder
			join, _ := p["PolicyDocument"].(map[string]any)["Fn::Join"].([]any)
			for _, part := range asList(join[1]) {
				if s, ok := part.(string); ok {
					text.WriteString(s)
				} else {
					text.WriteString("ARN")
				}
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(text.String()), &doc); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			add("log group /aws/datasync/<prefix>", id, doc)
		}
	}
	return out
}

// runtimeStatements are the statements each migration creates: the two roles createroles
// makes (trust and inline policy, with the KMS statements of encrypted buckets) and the
// grant it adds to the source bucket policy.
func runtimeStatements() []grantedStatement {
	var out []grantedStatement
	add := func(holder string, d policy.Document) {
		for _, st := range d.Statement {
			out = append(out, grantedStatement{Holder: holder, Sid: st.Sid, Actions: slices.Sorted(slices.Values([]string(st.Action))), Where: "createroles/putbucketpolicy"})
		}
	}
	for _, role := range []string{"<prefix>-<id>-transfer", "<prefix>-<id>-config"} {
		add(role+" trust", policy.TrustPolicy("222222222222", "ap-northeast-1", "aws"))
	}
	add("<prefix>-<id>-transfer", policy.SourceRolePolicy("aws", "bucket", "prefix/"))
	add("<prefix>-<id>-config", policy.DestinationRolePolicy("aws", "bucket", "prefix/"))
	// With SSE-KMS buckets createroles adds one statement to each.
	add("<prefix>-<id>-transfer", policy.Document{Statement: policy.Statements{policy.SourceKMSStatement("ap-northeast-1", []string{"key"})}})
	add("<prefix>-<id>-config", policy.Document{Statement: policy.Statements{policy.DestinationKMSStatement("ap-northeast-1", "key")}})
	// With task.report the config role may upload the task reports.
	add("<prefix>-<id>-config", policy.Document{Statement: policy.Statements{policy.TaskReportStatement("aws", "bucket", []string{"reports/id/Summary-Reports/"})}})
	for _, st := range policy.SourceBucketStatements("aws", naming.SidsFor("id"), "bucket", "", "transfer", "caller") {
		sid := strings.Replace(st.Sid, "Dsmid", "Dsm<id>", 1)
		out = append(out, grantedStatement{Holder: "source bucket policy", Sid: sid, Actions: slices.Sorted(slices.Values([]string(st.Action))), Where: "putbucketpolicy"})
	}
	return out
}

// docRow is one row of the table in docs/operate.md, "What each role may do".
type docRow struct {
	Holder, Sid string
	Actions     []string
	Why         string
}

var backticked = regexp.MustCompile("`([^`]+)`")

func docRows(t *testing.T) []docRow {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "docs", "operate.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "### What each role may do")
	if i < 0 {
		t.Fatal(`docs/operate.md has no "### What each role may do"`)
	}
	section := doc[i+len("### What each role may do"):]
	if j := strings.Index(section, "\n#"); j >= 0 {
		section = section[:j]
	}
	var rows []docRow
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 5 || strings.HasPrefix(strings.TrimSpace(cells[0]), "---") || strings.TrimSpace(cells[0]) == "holder" {
			continue
		}
		unquote := func(c string) string { return strings.Trim(strings.TrimSpace(c), "`") }
		var actions []string
		for _, m := range backticked.FindAllStringSubmatch(cells[2], -1) {
			actions = append(actions, m[1])
		}
		slices.Sort(actions)
		rows = append(rows, docRow{Holder: unquote(cells[0]), Sid: unquote(cells[1]), Actions: actions, Why: strings.TrimSpace(cells[4])})
	}
	return rows
}

func (r docRow) key() string {
	if r.Sid != "—" {
		return r.Holder + " | " + r.Sid
	}
	return r.Holder + " | — | " + strings.Join(r.Actions, ",")
}

// TestEveryStatementIsExplained lists every IAM statement of both synthesized templates
// (with a request producer and a schedule, so that every optional statement is there) and
// every statement a migration creates, and requires each to have its row in
// docs/operate.md, "What each role may do": same holder, same Sid, exactly the same
// actions, and a reason. A permission added anywhere fails here until it is explained;
// a row whose statement is gone fails too.
func TestEveryStatementIsExplained(t *testing.T) {
	var request map[string]any
	if err := json.Unmarshal([]byte(scheduledRequestJSON), &request); err != nil {
		t.Fatal(err)
	}
	app := synthApp(t, map[string]any{ctxRequestProducers: []any{"333333333333"}, ctxSchedule: "rate(1 day)", ctxScheduledRequest: request}, "")
	prefix := app.Config.NamePrefix
	var granted []grantedStatement
	granted = append(granted, templateStatements(t, app.Dest, prefix)...)
	granted = append(granted, templateStatements(t, app.Source, prefix)...)
	granted = append(granted, runtimeStatements()...)
	if len(granted) < 40 {
		t.Fatalf("found %d statements, fewer than the stacks hold: the listing is broken", len(granted))
	}

	rows := map[string]docRow{}
	for _, r := range docRows(t) {
		if _, dup := rows[r.key()]; dup {
			t.Errorf("docs/operate.md lists %s twice", r.key())
		}
		rows[r.key()] = r
	}
	used := map[string]bool{}
	for _, g := range granted {
		r, ok := rows[g.key()]
		if !ok {
			t.Errorf("%s (%s): no row in docs/operate.md \"What each role may do\"; add `| `%s` | %s | %s | … | why |`",
				g.key(), g.Where, g.Holder, orDash(g.Sid), "`"+strings.Join(g.Actions, "`, `")+"`")
			continue
		}
		used[g.key()] = true
		if !slices.Equal(r.Actions, g.Actions) {
			t.Errorf("%s: the statement allows %v, the doc row lists %v", g.key(), g.Actions, r.Actions)
		}
		if len(r.Why) < 20 {
			t.Errorf("%s: the doc row gives no reason (%q)", g.key(), r.Why)
		}
	}
	for k := range rows {
		if !used[k] {
			t.Errorf("docs/operate.md explains %s, which no template or migration grants any more", k)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return "`" + s + "`"
}
