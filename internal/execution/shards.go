package execution

// A sharded migration (request task.shards) copies the source prefix with one DataSync
// task per shard, all at once: AWS's guidance for large buckets is to split the source by
// prefix into several tasks with include filters and run them together, since a task runs
// one execution at a time. The migration keeps one pair of roles, one grant and one pair of
// locations.
//
// Step Functions allows 256 KiB for a state's input or output, and the RunShards Map's
// output (one result per shard) joins the execution document: the types here are kept
// small on purpose (TestWorstCaseDocumentFits).

// Shard is one DataSync task of a sharded migration ($.preflight.shards).
type Shard struct {
	// Index numbers the shards from 0; the task is named and tagged with it
	// (naming.ShardTaskName, naming.ShardTagKey).
	Index int `json:"index"`
	// Folders are the folders the shard copies, relative to source.prefix, each ending
	// in '/'. The rest shard has none.
	Folders []string `json:"folders,omitempty"`
	// Rest marks the shard that copies everything under source.prefix outside the other
	// shards' folders (objects directly under source.prefix, and folders that appear
	// after Preflight listed them): sharding never changes what is copied.
	Rest bool `json:"rest,omitempty"`
	// Skip is set by PlanShards when an earlier run of this migration left some shards
	// unfinished and this shard's task's last execution succeeded: it is not run again.
	// Always present: CheckShardSkip reads it.
	Skip bool `json:"skip"`
}

// AllFolders returns the folders of every shard: what the rest shard leaves out.
func AllFolders(shards []Shard) []string {
	var out []string
	for _, s := range shards {
		out = append(out, s.Folders...)
	}
	return out
}

// Shard statuses in ShardResult.Status.
const (
	ShardSucceeded = "SUCCESS"
	ShardSkipped   = "SKIPPED"
	ShardFailed    = "FAILED"
)

// ShardResult is what one RunShards iteration returns ($.shards[i]): the shard's outcome
// and, when it ran, its execution and what it copied. A failed shard keeps only its error
// name (and its execution when DataSync ran it): TallyShards reads the rest from DataSync.
type ShardResult struct {
	Index            int    `json:"index"`
	Status           string `json:"status"`
	TaskExecutionArn string `json:"taskExecutionArn,omitempty"`
	FilesTransferred int64  `json:"filesTransferred,omitempty"`
	BytesTransferred int64  `json:"bytesTransferred,omitempty"`
	FilesVerified    int64  `json:"filesVerified,omitempty"`
	StartTime        string `json:"startTime,omitempty"`
	PolledAt         string `json:"polledAt,omitempty"`
	Error            string `json:"error,omitempty"`
}
