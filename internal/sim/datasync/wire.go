package datasync

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Wire shapes of the DataSync JSON 1.1 API (field names as in the API reference).

// epoch is a timestamp encoded as JSON 1.1 does: seconds since the epoch, as a number.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)), nil
}

// UnmarshalJSON reads what MarshalJSON writes, for readers of the state dump.
func (e *epoch) UnmarshalJSON(b []byte) error {
	secs, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp %s: want seconds since the epoch", b)
	}
	*e = epoch(time.UnixMilli(int64(math.Round(secs * 1000))))
	return nil
}

func ep(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

type tagEntry struct {
	Key   *string `json:"Key,omitempty"`
	Value *string `json:"Value,omitempty"`
}

type filterRule struct {
	FilterType string `json:"FilterType,omitempty"`
	Value      string `json:"Value,omitempty"`
}

// options is the Options structure. Pointers distinguish "not given" from a value.
type options struct {
	Atime                       *string `json:"Atime,omitempty"`
	BytesPerSecond              *int64  `json:"BytesPerSecond,omitempty"`
	Gid                         *string `json:"Gid,omitempty"`
	LogLevel                    *string `json:"LogLevel,omitempty"`
	Mtime                       *string `json:"Mtime,omitempty"`
	ObjectTags                  *string `json:"ObjectTags,omitempty"`
	OverwriteMode               *string `json:"OverwriteMode,omitempty"`
	PosixPermissions            *string `json:"PosixPermissions,omitempty"`
	PreserveDeletedFiles        *string `json:"PreserveDeletedFiles,omitempty"`
	PreserveDevices             *string `json:"PreserveDevices,omitempty"`
	SecurityDescriptorCopyFlags *string `json:"SecurityDescriptorCopyFlags,omitempty"`
	TaskQueueing                *string `json:"TaskQueueing,omitempty"`
	TransferMode                *string `json:"TransferMode,omitempty"`
	Uid                         *string `json:"Uid,omitempty"`
	VerifyMode                  *string `json:"VerifyMode,omitempty"`
}

type s3Config struct {
	BucketAccessRoleArn *string `json:"BucketAccessRoleArn,omitempty"`
}

type createLocationS3In struct {
	S3BucketArn    *string    `json:"S3BucketArn"`
	S3Config       *s3Config  `json:"S3Config"`
	S3StorageClass *string    `json:"S3StorageClass"`
	Subdirectory   *string    `json:"Subdirectory"`
	AgentArns      []string   `json:"AgentArns"`
	Tags           []tagEntry `json:"Tags"`
}

type arnIn struct {
	LocationArn      *string `json:"LocationArn"`
	TaskArn          *string `json:"TaskArn"`
	TaskExecutionArn *string `json:"TaskExecutionArn"`
	ResourceArn      *string `json:"ResourceArn"`
}

type describeLocationS3Out struct {
	AgentArns      []string  `json:"AgentArns,omitempty"`
	CreationTime   *epoch    `json:"CreationTime,omitempty"`
	LocationArn    string    `json:"LocationArn"`
	LocationUri    string    `json:"LocationUri"`
	S3Config       *s3Config `json:"S3Config,omitempty"`
	S3StorageClass string    `json:"S3StorageClass,omitempty"`
}

type listFilter struct {
	Name     string   `json:"Name"`
	Operator string   `json:"Operator"`
	Values   []string `json:"Values"`
}

type listIn struct {
	Filters     []listFilter `json:"Filters"`
	MaxResults  *int32       `json:"MaxResults"`
	NextToken   *string      `json:"NextToken"`
	TaskArn     *string      `json:"TaskArn"`
	ResourceArn *string      `json:"ResourceArn"`
}

type locationEntry struct {
	LocationArn string `json:"LocationArn"`
	LocationUri string `json:"LocationUri"`
}

type taskIn struct {
	TaskArn                *string           `json:"TaskArn"`
	SourceLocationArn      *string           `json:"SourceLocationArn"`
	DestinationLocationArn *string           `json:"DestinationLocationArn"`
	CloudWatchLogGroupArn  *string           `json:"CloudWatchLogGroupArn"`
	Name                   *string           `json:"Name"`
	Options                *options          `json:"Options"`
	OverrideOptions        *options          `json:"OverrideOptions"`
	Excludes               []filterRule      `json:"Excludes"`
	Includes               []filterRule      `json:"Includes"`
	Tags                   []tagEntry        `json:"Tags"`
	TaskMode               *string           `json:"TaskMode"`
	Schedule               any               `json:"Schedule"`
	ManifestConfig         any               `json:"ManifestConfig"`
	TaskReportConfig       *taskReportConfig `json:"TaskReportConfig"`
}

type describeTaskOut struct {
	TaskArn                 string            `json:"TaskArn"`
	Name                    string            `json:"Name,omitempty"`
	Status                  string            `json:"Status"`
	SourceLocationArn       string            `json:"SourceLocationArn"`
	DestinationLocationArn  string            `json:"DestinationLocationArn"`
	CloudWatchLogGroupArn   string            `json:"CloudWatchLogGroupArn,omitempty"`
	CreationTime            *epoch            `json:"CreationTime,omitempty"`
	CurrentTaskExecutionArn string            `json:"CurrentTaskExecutionArn,omitempty"`
	Options                 *options          `json:"Options,omitempty"`
	Excludes                []filterRule      `json:"Excludes,omitempty"`
	Includes                []filterRule      `json:"Includes,omitempty"`
	TaskMode                string            `json:"TaskMode"`
	ErrorCode               string            `json:"ErrorCode,omitempty"`
	ErrorDetail             string            `json:"ErrorDetail,omitempty"`
	TaskReportConfig        *taskReportConfig `json:"TaskReportConfig,omitempty"`
}

type taskEntry struct {
	TaskArn  string `json:"TaskArn"`
	Name     string `json:"Name,omitempty"`
	Status   string `json:"Status"`
	TaskMode string `json:"TaskMode"`
}

type execEntry struct {
	TaskExecutionArn string `json:"TaskExecutionArn"`
	Status           string `json:"Status"`
	TaskMode         string `json:"TaskMode"`
}

type resultDetail struct {
	PrepareDuration  *int64  `json:"PrepareDuration,omitempty"`
	PrepareStatus    string  `json:"PrepareStatus,omitempty"`
	TransferDuration *int64  `json:"TransferDuration,omitempty"`
	TransferStatus   string  `json:"TransferStatus,omitempty"`
	VerifyDuration   *int64  `json:"VerifyDuration,omitempty"`
	VerifyStatus     string  `json:"VerifyStatus,omitempty"`
	TotalDuration    *int64  `json:"TotalDuration,omitempty"`
	ErrorCode        *string `json:"ErrorCode,omitempty"`
	ErrorDetail      *string `json:"ErrorDetail,omitempty"`
}

type filesFailed struct {
	Prepare  int64 `json:"Prepare"`
	Transfer int64 `json:"Transfer"`
	Verify   int64 `json:"Verify"`
	Delete   int64 `json:"Delete"`
}

type filesListed struct {
	AtSource               int64 `json:"AtSource"`
	AtDestinationForDelete int64 `json:"AtDestinationForDelete"`
}

type foldersFailed struct {
	List     int64 `json:"List"`
	Prepare  int64 `json:"Prepare"`
	Transfer int64 `json:"Transfer"`
	Verify   int64 `json:"Verify"`
	Delete   int64 `json:"Delete"`
}

// DescribeTaskExecutionOutput is the DescribeTaskExecution answer, also the live
// counters of an execution in the state dump (ExecutionState.Describe).
type DescribeTaskExecutionOutput struct {
	TaskExecutionArn         string        `json:"TaskExecutionArn"`
	Status                   string        `json:"Status"`
	TaskMode                 string        `json:"TaskMode"`
	Options                  *options      `json:"Options,omitempty"`
	Excludes                 []filterRule  `json:"Excludes,omitempty"`
	Includes                 []filterRule  `json:"Includes,omitempty"`
	StartTime                *epoch        `json:"StartTime,omitempty"`
	LaunchTime               *epoch        `json:"LaunchTime,omitempty"`
	EndTime                  *epoch        `json:"EndTime,omitempty"`
	EstimatedFilesToTransfer int64         `json:"EstimatedFilesToTransfer"`
	EstimatedBytesToTransfer int64         `json:"EstimatedBytesToTransfer"`
	EstimatedFilesToDelete   int64         `json:"EstimatedFilesToDelete"`
	FilesTransferred         int64         `json:"FilesTransferred"`
	BytesTransferred         int64         `json:"BytesTransferred"`
	BytesWritten             int64         `json:"BytesWritten"`
	BytesCompressed          int64         `json:"BytesCompressed"`
	FilesVerified            int64         `json:"FilesVerified"`
	FilesSkipped             int64         `json:"FilesSkipped"`
	FilesDeleted             int64         `json:"FilesDeleted"`
	FilesPrepared            int64         `json:"FilesPrepared"`
	FilesListed              *filesListed  `json:"FilesListed,omitempty"`
	FilesFailed              *filesFailed  `json:"FilesFailed,omitempty"`
	Result                   *resultDetail `json:"Result,omitempty"`
	// The execution's effective task report configuration and whether its report was
	// written; both absent without a TaskReportConfig.
	TaskReportConfig *taskReportConfig `json:"TaskReportConfig,omitempty"`
	ReportResult     *reportResult     `json:"ReportResult,omitempty"`
	// The Folders* counters, which the API reference lists for Enhanced mode tasks
	// (directories are counted apart from files there).
	EstimatedFoldersToTransfer *int64         `json:"EstimatedFoldersToTransfer,omitempty"`
	EstimatedFoldersToDelete   *int64         `json:"EstimatedFoldersToDelete,omitempty"`
	FoldersTransferred         *int64         `json:"FoldersTransferred,omitempty"`
	FoldersVerified            *int64         `json:"FoldersVerified,omitempty"`
	FoldersSkipped             *int64         `json:"FoldersSkipped,omitempty"`
	FoldersDeleted             *int64         `json:"FoldersDeleted,omitempty"`
	FoldersPrepared            *int64         `json:"FoldersPrepared,omitempty"`
	FoldersListed              *filesListed   `json:"FoldersListed,omitempty"`
	FoldersFailed              *foldersFailed `json:"FoldersFailed,omitempty"`
}

type tagIn struct {
	ResourceArn *string    `json:"ResourceArn"`
	Tags        []tagEntry `json:"Tags"`
}
