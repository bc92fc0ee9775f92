// Package plantext writes a plan (the output of a "mode": "plan" execution,
// execution.Plan) as text for a person: what would be created (+), reused (=) or would
// stop the migration (!), the source bucket policy's statements as a diff, the samples,
// the warnings and the blockers. `dsmigrate plan` and `dsmigrate local plan` print it.
package plantext

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/execution"
	"github.com/dsmigrate/dsmigrate/internal/policy"
)

// Ready reports whether nothing in the plan would stop the migration: no blocker and no
// conflicting resource.
func Ready(p *execution.Plan) bool {
	return len(p.Blockers) == 0 && len(p.Conflicts()) == 0 && p.SourceBucketPolicy.Action != execution.PlanConflict
}

var marks = map[string]string{execution.PlanCreate: "+", execution.PlanReuse: "=", execution.PlanConflict: "!"}

// Write writes p as text.
func Write(w io.Writer, p *execution.Plan) error {
	b := &strings.Builder{}
	r := p.Request
	fmt.Fprintf(b, "Plan of migration %s: s3://%s/%s (account %s, %s) -> s3://%s/%s (%s)\n",
		p.MigrationID, r.Source.Bucket, r.Source.Prefix, r.Source.AccountID, r.Source.Region, r.Destination.Bucket, r.Destination.Prefix, r.Destination.Region)
	fmt.Fprintf(b, "  + create   = reuse   ! stops the migration\n")
	resources(b, "Roles (account B)", p.Roles)
	bucketPolicy(b, p.SourceBucketPolicy)
	if len(p.KMSGrants) > 0 {
		fmt.Fprintf(b, "\nKMS grants on the source keys (held during the transfer, revoked with the statements)\n")
		for _, g := range p.KMSGrants {
			fmt.Fprintf(b, "  + grant %s on %s to %s: %s\n", g.Name, g.KeyArn, g.GranteePrincipal, strings.Join(g.Operations, ", "))
		}
	}
	resources(b, "DataSync locations", p.Locations)
	resources(b, "DataSync task and execution", p.Tasks)
	fmt.Fprintf(b, "\nObjects listed (the transfer's filters not applied)\n")
	sample(b, "source", p.Source)
	if p.Destination != nil {
		sample(b, "destination", p.Destination)
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintf(b, "\nWarnings\n")
		for _, x := range p.Warnings {
			fmt.Fprintf(b, "  ! %s: %s\n", x.Code, x.Message)
		}
	}
	if len(p.Blockers) > 0 {
		fmt.Fprintf(b, "\nBlockers (the migration would fail at Preflight)\n")
		for _, x := range p.Blockers {
			fmt.Fprintf(b, "  ! %s\n", x)
		}
	}
	if Ready(p) {
		fmt.Fprintf(b, "\nNothing would stop this migration (%d warning(s)). Nothing was changed.\n", len(p.Warnings))
	} else {
		fmt.Fprintf(b, "\nThe migration would stop: %d blocker(s), %d conflicting resource(s). Nothing was changed.\n", len(p.Blockers), len(p.Conflicts()))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func resources(b *strings.Builder, title string, rs []execution.PlannedResource) {
	fmt.Fprintf(b, "\n%s\n", title)
	for _, r := range rs {
		fmt.Fprintf(b, "  %s %s %s", marks[r.Action], r.Kind, r.Name)
		if r.Arn != "" {
			fmt.Fprintf(b, " (%s)", r.Arn)
		}
		fmt.Fprintf(b, "\n      %s: %s\n", r.Action, r.Reason)
	}
}

// bucketPolicy writes the policy's change as a diff of its statements, by Sid: + added,
// ~ replaced, - removed (never, for a grant), the rest unchanged and counted.
func bucketPolicy(b *strings.Builder, pp execution.PolicyPlan) {
	fmt.Fprintf(b, "\nSource bucket policy of %s: %s\n", pp.Bucket, pp.Action)
	fmt.Fprintf(b, "  statements %d -> %d; size %d -> %d bytes of S3's %d\n", pp.StatementsBefore, pp.StatementsAfter, pp.BytesBefore, pp.BytesAfter, pp.LimitBytes)
	if pp.After == "" {
		return
	}
	before, after := statements(pp.Before), statements(pp.After)
	same := 0
	for _, sid := range slices.Sorted(maps.Keys(after)) {
		old, had := before[sid]
		switch {
		case !had:
			fmt.Fprintf(b, "  + %s\n", after[sid])
		case old != after[sid]:
			fmt.Fprintf(b, "  ~ %s\n    (was %s)\n", after[sid], old)
		default:
			same++
		}
	}
	for _, sid := range slices.Sorted(maps.Keys(before)) {
		if _, ok := after[sid]; !ok {
			fmt.Fprintf(b, "  - %s\n", before[sid])
		}
	}
	if same > 0 {
		fmt.Fprintf(b, "  (%d statement(s) unchanged)\n", same)
	}
}

// statements maps each statement of a policy text to its compact JSON, by Sid (a
// statement without one by its position).
func statements(text string) map[string]string {
	out := map[string]string{}
	if text == "" {
		return out
	}
	doc, err := policy.Parse(text)
	if err != nil {
		out["(policy)"] = text
		return out
	}
	for i, s := range doc.Statement {
		key := s.Sid
		if key == "" {
			key = fmt.Sprintf("(statement %d)", i)
		}
		j, _ := json.Marshal(s)
		out[key] = string(j)
	}
	return out
}

func sample(b *strings.Builder, side string, s *execution.ObjectSample) {
	if s == nil {
		return
	}
	count := fmt.Sprintf("%d objects, %s", s.Objects, execution.FormatBytes(s.Bytes))
	if !s.Complete {
		count = fmt.Sprintf("the first %d objects (the listing stops at %d), %s", s.Objects, s.Bound, execution.FormatBytes(s.Bytes))
	}
	var classes []string
	for _, c := range slices.Sorted(maps.Keys(s.StorageClasses)) {
		classes = append(classes, fmt.Sprintf("%s %d", c, s.StorageClasses[c]))
	}
	fmt.Fprintf(b, "  %s s3://%s/%s: %s", side, s.Bucket, s.Prefix, count)
	if len(classes) > 0 {
		fmt.Fprintf(b, " (%s)", strings.Join(classes, ", "))
	}
	b.WriteString("\n")
}
