// Package batch is the batch state machine's step (statemachine/dsmigrate-batch.asl.json):
// it checks a whole batch of migration requests before anything starts, plans how the
// children run (lanes that bound the children on one source bucket), names each child
// execution so that a re-run finds the earlier ones, and at the end reports every
// migration of the batch. docs/reference.md, "Batches", is the contract.
package batch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/naming"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// Limits of a batch (docs/reference.md, "Batches").
const (
	// MaxMigrations is the most items one batch takes. Three bounds meet here: the batch
	// input, the report the outer Map returns and the input of every state are each at
	// most 256 KiB (Step Functions service quotas, "Maximum input or output size for a
	// task, state, or execution": 256 KiB), and 200 items leave each about 1.2 KiB of the
	// report; a lane that runs every item of the batch one after the other (perSourceBucket
	// 1, one source bucket) keeps its history far below 25,000 events
	// (statemachine.HistoryLimit; TestBatchLaneHistoryAtMaxMigrations counts it).
	MaxMigrations = 200
	// DefaultPerSourceBucket is how many children may hold a grant on one source bucket at
	// once when the batch does not say.
	DefaultPerSourceBucket = 2
	// DefaultMaxConcurrency is how many children run at once when the batch does not say.
	// What bounds concurrency: each running child is a live migration with its own
	// DataSync task (DataSync allows 100 tasks per account and Region: AWS DataSync quotas,
	// "Maximum number of tasks you can create in account per AWS Region"; a sharded child
	// has up to request.MaxShardTasks), two roles (IAM: 1,000 roles per account) and a
	// grant in a source bucket policy (20 KB: S3 bucket policy size). dsmigrate's own cap
	// dsmigrate:maxLiveMigrations (default 20, enforced by each child's Preflight) keeps
	// that far below the quotas, so maxConcurrency may not exceed it; perSourceBucket may
	// not exceed dsmigrate:maxGrantsPerSourceBucket. Step Functions bounds a Map too: an
	// INLINE Map runs at most 40 iterations at once (Step Functions Developer Guide, "Map
	// state processing modes"), a DISTRIBUTED one up to 10,000 child executions ("Using Map
	// state in Distributed mode"); RunLanes is DISTRIBUTED, so maxConcurrency is not held
	// to 40.
	DefaultMaxConcurrency = 4
	// MaxAttempts is how many executions of one migration a batch id may name (re-runs
	// after failures); the next re-run needs a new batch id.
	MaxAttempts = 99
	// MaxCauseBytes is how much of a failed child's cause the report keeps.
	MaxCauseBytes = 1024
)

// Input is the batch state machine's input.
type Input struct {
	BatchID    string            `json:"batchId"`
	Defaults   json.RawMessage   `json:"defaults,omitempty"`
	Migrations []json.RawMessage `json:"migrations"`
	// MaxConcurrency is how many children run at once (default DefaultMaxConcurrency); at
	// most the deployment's dsmigrate:maxLiveMigrations, which Preflight enforces per child.
	MaxConcurrency *int `json:"maxConcurrency,omitempty"`
	// PerSourceBucket is how many children may hold a grant on one source bucket at once
	// (default DefaultPerSourceBucket); at most dsmigrate:maxGrantsPerSourceBucket.
	PerSourceBucket *int `json:"perSourceBucket,omitempty"`
	// ToleratedFailurePercentage is the share of failed migrations the batch accepts and
	// still succeeds (0-100, default 0).
	ToleratedFailurePercentage *float64 `json:"toleratedFailurePercentage,omitempty"`
	// Report, when given, is where ReportBatch also writes the report as objects.
	Report *ReportLocation `json:"report,omitempty"`
}

// ReportLocation is a bucket of account B (one of dsmigrate:destinationBuckets) and a key
// prefix: ReportBatch writes <prefix><batchId>/report.json and report.csv there.
type ReportLocation struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix,omitempty"`
}

// Limits are the deployment's caps a batch must respect (the Lambda's environment).
type Limits struct {
	MaxLiveMigrations        int
	MaxGrantsPerSourceBucket int
}

// Item is one migration of the batch as the lanes run it.
type Item struct {
	MigrationID string `json:"migrationId"`
	// Index is the item's position in the batch input's migrations.
	Index        int    `json:"index"`
	SourceBucket string `json:"sourceBucket"`
	// ExecutionName is the child execution this run starts, or reuses when it is still
	// running (StartExecution with the same name and input is idempotent while the
	// execution is open).
	ExecutionName string `json:"executionName"`
	// Input is the child's input: the defaults deep-merged with the item.
	Input json.RawMessage `json:"input"`
	// Skip is true when an earlier run's child of this migration succeeded: it is not run
	// again, and Previous is reported.
	Skip     bool    `json:"skip"`
	Previous *Result `json:"previous"`
}

// Lane is a list of items run one after the other. Each source bucket's items spread over
// at most PerSourceBucket lanes, so at most that many children hold a grant on one bucket.
type Lane struct {
	Lane  int    `json:"lane"`
	Items []Item `json:"items"`
}

// Plan is the prepare step's output.
type Plan struct {
	BatchID                    string  `json:"batchId"`
	MaxConcurrency             int     `json:"maxConcurrency"`
	PerSourceBucket            int     `json:"perSourceBucket"`
	ToleratedFailurePercentage float64 `json:"toleratedFailurePercentage"`
	Total                      int     `json:"total"`
	Lanes                      []Lane  `json:"lanes"`
	// Report is the batch input's report location, null when none was given (the
	// definition reads $.report either way).
	Report *ReportLocation `json:"report"`
}

// Check decodes and checks a batch: every item is the defaults deep-merged with the item,
// decoded and validated as a full migration request, and the batch as a whole must not
// name a migration twice, write one destination twice, be empty or pass MaxMigrations.
// Every problem is reported at once in a *failure.ValidationError whose fields name the
// item ("migrations[3].source.bucket"). It returns the plan without previous runs (every
// item at attempt 1).
func Check(raw []byte, home request.Home, dep request.Deployment, limits Limits) (*Plan, error) {
	v := &failure.ValidationError{Subject: "batch"}
	var in Input
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		v.Add("(batch)", "is not a batch: %v; give {\"batchId\", \"defaults\", \"migrations\": [...], \"maxConcurrency\", \"perSourceBucket\", \"toleratedFailurePercentage\", \"report\"} (docs/reference.md, Batches)", err)
		return nil, v
	}
	p := &Plan{BatchID: in.BatchID, MaxConcurrency: DefaultMaxConcurrency, PerSourceBucket: DefaultPerSourceBucket}
	if r := in.Report; r != nil {
		request.CheckBucketPrefix(v, "report", r.Bucket, r.Prefix)
		p.Report = r
	}
	if !naming.ValidID(in.BatchID) {
		v.Add("batchId", "must be 1-32 characters a-z, 0-9 and -, starting and ending with a letter or digit (got %q): it names the child executions", in.BatchID)
	}
	if limits.MaxLiveMigrations > 0 {
		p.MaxConcurrency = min(p.MaxConcurrency, limits.MaxLiveMigrations)
	}
	if limits.MaxGrantsPerSourceBucket > 0 {
		p.PerSourceBucket = min(p.PerSourceBucket, limits.MaxGrantsPerSourceBucket)
	}
	if c := in.MaxConcurrency; c != nil {
		p.MaxConcurrency = *c
		switch {
		case *c < 1:
			v.Add("maxConcurrency", "must be at least 1 (got %d)", *c)
		case limits.MaxLiveMigrations > 0 && *c > limits.MaxLiveMigrations:
			v.Add("maxConcurrency", "is %d, more than the %d live migrations this deployment allows (dsmigrate:maxLiveMigrations): the children over the cap would fail in Preflight; give at most %d", *c, limits.MaxLiveMigrations, limits.MaxLiveMigrations)
		}
	}
	if c := in.PerSourceBucket; c != nil {
		p.PerSourceBucket = *c
		switch {
		case *c < 1:
			v.Add("perSourceBucket", "must be at least 1 (got %d)", *c)
		case limits.MaxGrantsPerSourceBucket > 0 && *c > limits.MaxGrantsPerSourceBucket:
			v.Add("perSourceBucket", "is %d, more than the %d grants on one source bucket this deployment allows (dsmigrate:maxGrantsPerSourceBucket); give at most %d", *c, limits.MaxGrantsPerSourceBucket, limits.MaxGrantsPerSourceBucket)
		}
	}
	if t := in.ToleratedFailurePercentage; t != nil {
		p.ToleratedFailurePercentage = *t
		if *t < 0 || *t > 100 {
			v.Add("toleratedFailurePercentage", "must be between 0 and 100 (got %v)", *t)
		}
	}
	var defaults map[string]any
	if len(in.Defaults) > 0 && string(in.Defaults) != "null" {
		if err := json.Unmarshal(in.Defaults, &defaults); err != nil || defaults == nil {
			v.Add("defaults", "must be a JSON object: the part of a migration request every item shares")
		} else if _, ok := defaults["migrationId"]; ok {
			v.Add("defaults.migrationId", "cannot be a default: each item names its own migrationId")
		}
	}
	switch n := len(in.Migrations); {
	case n == 0:
		v.Add("migrations", "is empty: give at least one migration")
	case n > MaxMigrations:
		v.Add("migrations", "has %d items, more than the %d one batch takes; split it into batches with their own batchId", n, MaxMigrations)
		return nil, v
	}
	ids := map[string]int{}
	type dest struct {
		bucket, prefix string
		index          int
	}
	var dests []dest
	var items []Item
	for i, raw := range in.Migrations {
		field := fmt.Sprintf("migrations[%d]", i)
		merged, err := mergeItem(defaults, raw)
		if err != nil {
			v.Add(field, "%v", err)
			continue
		}
		r, err := request.Decode(merged)
		if err != nil {
			addPrefixed(v, field, err)
			continue
		}
		if r.MigrationID == "" {
			v.Add(field+".migrationId", "is required in a batch: give each item 1-32 characters a-z, 0-9 and -")
		}
		r.Normalize("")
		for _, err := range []error{r.Validate(home), r.CheckDeployment(dep)} {
			if err != nil {
				addPrefixed(v, field, err, "migrationId")
			}
		}
		if r.MigrationID != "" {
			if j, ok := ids[r.MigrationID]; ok {
				v.Add(field+".migrationId", "%q is also the migrationId of migrations[%d]: every item needs its own", r.MigrationID, j)
			} else {
				ids[r.MigrationID] = i
			}
		}
		for _, d := range dests {
			if d.bucket == r.Destination.Bucket && overlap(d.prefix, r.Destination.Prefix) {
				v.Add(field+".destination.prefix", "%q in bucket %q overlaps migrations[%d]'s destination prefix %q: two migrations would write the same objects; give disjoint destination prefixes", r.Destination.Prefix, r.Destination.Bucket, d.index, d.prefix)
				break
			}
		}
		dests = append(dests, dest{r.Destination.Bucket, r.Destination.Prefix, i})
		items = append(items, Item{MigrationID: r.MigrationID, Index: i, SourceBucket: r.Source.Bucket, Input: merged,
			ExecutionName: ExecutionName(in.BatchID, r.MigrationID, 1)})
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	p.Total = len(items)
	p.Lanes = Lanes(items, p.PerSourceBucket)
	return p, nil
}

// addPrefixed adds err's problems (a *failure.ValidationError) under prefix, leaving out
// those of the fields in skip.
func addPrefixed(v *failure.ValidationError, prefix string, err error, skip ...string) {
	ve, ok := err.(*failure.ValidationError)
	if !ok {
		v.Add(prefix, "%v", err)
		return
	}
	for _, f := range ve.Fields {
		if slices.Contains(skip, f.Field) {
			continue
		}
		field := prefix + "." + f.Field
		if strings.HasPrefix(f.Field, "(") {
			field = prefix
		}
		v.Fields = append(v.Fields, failure.FieldError{Field: field, Rule: f.Rule})
	}
}

// overlap reports whether two prefixes of one bucket name some key in common: one is a
// prefix of the other ("" holds every key).
func overlap(a, b string) bool { return strings.HasPrefix(a, b) || strings.HasPrefix(b, a) }

// mergeItem deep-merges the item over the defaults: objects merge key by key, any other
// value of the item (arrays included) replaces the default's.
func mergeItem(defaults map[string]any, raw json.RawMessage) (json.RawMessage, error) {
	var item map[string]any
	if err := json.Unmarshal(raw, &item); err != nil || item == nil {
		return nil, fmt.Errorf("must be a JSON object: a migration request, or the part of it that differs from defaults")
	}
	if defaults == nil {
		return raw, nil
	}
	b, err := json.Marshal(merge(defaults, item))
	return b, err
}

func merge(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		bo, ok1 := out[k].(map[string]any)
		vo, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			out[k] = merge(bo, vo)
			continue
		}
		out[k] = v
	}
	return out
}

// ExecutionName is the name of attempt n of a migration's child execution: batch id,
// migration id and attempt joined by "_", which neither id may contain, so two
// (batch, migration) pairs never share a name. At most 32+1+32+1+2 = 68 characters (a
// name may have 80: StartExecution, Step Functions API Reference).
func ExecutionName(batchID, migrationID string, attempt int) string {
	return batchID + "_" + migrationID + "_" + strconv.Itoa(attempt)
}

// Lanes spreads the items over lanes: each source bucket's items go round-robin over
// min(perSourceBucket, its item count) lanes of their own, so at most perSourceBucket
// children of one bucket run at once however many lanes run at once. The longest lanes
// come first, so that a Map with MaxConcurrency starts the long queues early.
func Lanes(items []Item, perSourceBucket int) []Lane {
	perSourceBucket = max(perSourceBucket, 1)
	var buckets []string
	byBucket := map[string][]Item{}
	for _, it := range items {
		if _, ok := byBucket[it.SourceBucket]; !ok {
			buckets = append(buckets, it.SourceBucket)
		}
		byBucket[it.SourceBucket] = append(byBucket[it.SourceBucket], it)
	}
	var lanes []Lane
	for _, b := range buckets {
		its := byBucket[b]
		n := min(perSourceBucket, len(its))
		group := make([]Lane, n)
		for i, it := range its {
			group[i%n].Items = append(group[i%n].Items, it)
		}
		lanes = append(lanes, group...)
	}
	slices.SortStableFunc(lanes, func(a, b Lane) int { return len(b.Items) - len(a.Items) })
	for i := range lanes {
		lanes[i].Lane = i
	}
	return lanes
}

// Requests returns a batch's items merged with its defaults, read leniently (unknown
// fields ignored), for tools that prepare the buckets a batch names, such as the local
// run; Check is the strict reading the batch state machine applies.
func Requests(raw []byte) ([]request.Request, error) {
	var in Input
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	var defaults map[string]any
	if len(in.Defaults) > 0 {
		if err := json.Unmarshal(in.Defaults, &defaults); err != nil {
			return nil, fmt.Errorf("defaults: %w", err)
		}
	}
	out := make([]request.Request, 0, len(in.Migrations))
	for i, item := range in.Migrations {
		merged, err := mergeItem(defaults, item)
		if err != nil {
			return nil, fmt.Errorf("migrations[%d]: %w", i, err)
		}
		var r request.Request
		if err := json.Unmarshal(merged, &r); err != nil {
			return nil, fmt.Errorf("migrations[%d]: %w", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}
