package execution

import (
	"github.com/dsmigrate/dsmigrate/internal/failure"
	"github.com/dsmigrate/dsmigrate/internal/request"
)

// MaxPlanTextBytes bounds each reason and blocker of a plan (longer ones are cut, marked
// with "…"), so that the plan of the largest sharded migration fits in the execution
// document (TestWorstCaseDocumentFits).
const MaxPlanTextBytes = 512

// PlanText is s cut to MaxPlanTextBytes.
func PlanText(s string) string { return failure.Cut(s, MaxPlanTextBytes) }

// The plan: what a request with "mode": "plan" reads and reports. Each step, given a plan
// request, runs only its reads and writes its part under "plan" in its usual result:
// $.preflight.plan (the source bucket policy, the samples, warnings and blockers),
// $.roles.plan, $.locations.plan and $.task.plan (what would be created, reused or refused).
// The PlanReady state gathers them into the execution's output (docs/reference.md, "The
// plan").

// Actions of a PlannedResource.
const (
	// PlanCreate: the migration would create the resource.
	PlanCreate = "create"
	// PlanReuse: the migration would find and use the resource of an earlier run.
	PlanReuse = "reuse"
	// PlanConflict: the migration would stop at this resource (Reason says why and what
	// to do).
	PlanConflict = "conflict"
)

// PlannedResource is one resource a migration creates or reuses, and what it would do
// with it.
type PlannedResource struct {
	// Kind is "role", "location", "task" or "taskExecution".
	Kind string `json:"kind"`
	// Name says which one: the role name, "source" or "destination" for a location, the
	// task's name (a shard's task carries its index).
	Name string `json:"name"`
	// Arn is the resource's ARN when it exists or is known in advance (a role).
	Arn    string `json:"arn,omitempty"`
	Action string `json:"action"`
	Reason string `json:"reason"`
}

// SourcePlan is Preflight's part of the plan ($.preflight.plan).
type SourcePlan struct {
	SourceBucketPolicy PolicyPlan `json:"sourceBucketPolicy"`
	// Source is what a bounded listing of the source prefix found; Destination the same of
	// the destination prefix (only read when task.preserveDeletedFiles is REMOVE).
	Source      *ObjectSample `json:"source"`
	Destination *ObjectSample `json:"destination"`
	Warnings    []Warning     `json:"warnings"`
	// Blockers are what would stop the migration at Preflight (each a PreconditionError
	// the migration would end with).
	Blockers []string `json:"blockers"`
	// Shards are the migration's shards ([] for one task), for PlanTask.
	Shards []Shard `json:"shards"`
	// KMSGrants are the grants the grant step would hold during the transfer, one per
	// source key (created, or found from an earlier run): none for a source without
	// SSE-KMS keys.
	KMSGrants []KMSGrant `json:"kmsGrants"`
}

// Plan is the output of a plan execution (the PlanReady state): every part of the plan.
type Plan struct {
	Mode               string            `json:"mode"`
	MigrationID        string            `json:"migrationId"`
	Request            request.Request   `json:"request"`
	Roles              []PlannedResource `json:"roles"`
	SourceBucketPolicy PolicyPlan        `json:"sourceBucketPolicy"`
	Locations          []PlannedResource `json:"locations"`
	Tasks              []PlannedResource `json:"tasks"`
	Source             *ObjectSample     `json:"source"`
	Destination        *ObjectSample     `json:"destination"`
	Warnings           []Warning         `json:"warnings"`
	Blockers           []string          `json:"blockers"`
	KMSGrants          []KMSGrant        `json:"kmsGrants"`
}

// Conflicts are the resources the migration would stop at.
func (p *Plan) Conflicts() []PlannedResource {
	var out []PlannedResource
	for _, group := range [][]PlannedResource{p.Roles, p.Locations, p.Tasks} {
		for _, r := range group {
			if r.Action == PlanConflict {
				out = append(out, r)
			}
		}
	}
	return out
}

// PolicyPlan is the source bucket policy now and after the grant.
type PolicyPlan struct {
	Bucket string `json:"bucket"`
	// Action is "update" when the grant would change the policy, "unchanged" when the
	// policy already holds this migration's statements as they would be written, or
	// "conflict" (a blocker says why).
	Action string `json:"action"`
	// StatementsAdded are the Sids the grant would add or replace.
	StatementsAdded  []string `json:"statementsAdded"`
	StatementsBefore int      `json:"statementsBefore"`
	StatementsAfter  int      `json:"statementsAfter"`
	BytesBefore      int      `json:"bytesBefore"`
	BytesAfter       int      `json:"bytesAfter"`
	// LimitBytes is S3's limit on a bucket policy.
	LimitBytes int `json:"limitBytes"`
	// Before and After are the policy texts ("" when the bucket has none).
	Before string `json:"before"`
	After  string `json:"after"`
}

// ObjectSample is what a listing of up to Bound objects found under a prefix.
type ObjectSample struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
	Bound  int    `json:"bound"`
	// Complete is true when the listing reached the end: the counts are exact.
	Complete bool  `json:"complete"`
	Objects  int64 `json:"objects"`
	Bytes    int64 `json:"bytes"`
	// StorageClasses counts the listed objects by storage class.
	StorageClasses map[string]int64 `json:"storageClasses"`
}

// Warning is something about the migration that deserves a person's attention.
type Warning struct {
	// Code names the kind: ARCHIVED_OBJECTS, VERSIONED_SOURCE, REQUESTER_PAYS,
	// BASIC_OBJECT_LIMIT, REMOVE_DELETES, OBJECT_LOCK, CROSS_REGION.
	Code    string `json:"code"`
	Message string `json:"message"`
}
