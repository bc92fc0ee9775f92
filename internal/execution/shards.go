package execution

// A sharded migration (request task.shards) copies the source prefix with one DataSync
// task per shard, all at once: AWS's guidance for large buckets is to split the source by
// prefix into several tasks with include filters and run them together, since a task runs
// one execution at a time. The migration keeps one pair of roles, one grant and one pair of
// locations.

// Shard is one DataSync task of a sharded migration ($.preflight.shards).
type Shard struct {
	// Index numbers the shards from 0; the task is named and tagged with it
	// (naming.ShardTaskName, naming.ShardTagKey).
	Index int `json:"index"`
	// Folders are the folders the shard copies, relative to source.prefix, each ending
	// in '/'. For the rest shard they are the folders it leaves to the other shards.
	Folders []string `json:"folders"`
	// Rest marks the shard that copies everything under source.prefix outside the other
	// shards' folders (objects directly under source.prefix, and folders that appear
	// after Preflight listed them): sharding never changes what is copied.
	Rest bool `json:"rest,omitempty"`
}

// ShardPlan is PlanShards' result ($.shardPlan): the shards to run, each with whether an
// earlier run of this migration already copied it.
type ShardPlan struct {
	Shards []PlannedShard `json:"shards"`
	// Resumed is true when an earlier run of this migration left some shards unfinished:
	// the shards that succeeded then are skipped.
	Resumed bool `json:"resumed"`
}

// PlannedShard is one item of the RunShards Map ($.shard inside an iteration).
type PlannedShard struct {
	Shard
	// Skip is true when the shard's task's last execution succeeded and the run resumes.
	Skip bool `json:"skip"`
	// TaskArn and LastExecutionArn are the shard's task and its last execution, when the
	// task exists already ("" otherwise).
	TaskArn          string `json:"taskArn"`
	LastExecutionArn string `json:"lastExecutionArn"`
	LastStatus       string `json:"lastStatus"`
}

// Shard statuses in ShardResult.Status.
const (
	ShardSucceeded = "SUCCESS"
	ShardSkipped   = "SKIPPED"
	ShardFailed    = "FAILED"
)

// ShardResult is what one RunShards iteration returns ($.shards[i]).
type ShardResult struct {
	Shard    PlannedShard `json:"shard"`
	Status   string       `json:"status"`
	Task     *Task        `json:"task"`
	Progress *Progress    `json:"progress"`
	Failure  *Failure     `json:"failure"`
}

// ShardProgress is one shard's line of TallyShards' result ($.progress.shards).
type ShardProgress struct {
	Index            int      `json:"index"`
	Folders          []string `json:"folders"`
	Rest             bool     `json:"rest,omitempty"`
	Status           string   `json:"status"`
	TaskArn          string   `json:"taskArn,omitempty"`
	TaskExecutionArn string   `json:"taskExecutionArn,omitempty"`
	FilesTransferred int64    `json:"filesTransferred"`
	BytesTransferred int64    `json:"bytesTransferred"`
	Error            string   `json:"error,omitempty"`
}
