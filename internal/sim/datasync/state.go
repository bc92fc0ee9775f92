package datasync

import (
	"sort"
	"time"
)

// State is a dump of the service's resources for GET /_sim/state.
type State struct {
	Locations  []LocationState  `json:"locations"`
	Tasks      []TaskState      `json:"tasks"`
	Executions []ExecutionState `json:"executions"`
}

// LocationState is one location in a State dump.
type LocationState struct {
	Arn                 string            `json:"arn"`
	Account             string            `json:"account"`
	LocationUri         string            `json:"locationUri"`
	BucketAccessRoleArn string            `json:"bucketAccessRoleArn"`
	StorageClass        string            `json:"storageClass"`
	Created             time.Time         `json:"created"`
	Tags                map[string]string `json:"tags,omitempty"`
}

// TaskState is one task in a State dump.
type TaskState struct {
	Arn                    string            `json:"arn"`
	Account                string            `json:"account"`
	Name                   string            `json:"name,omitempty"`
	Status                 string            `json:"status"`
	TaskMode               string            `json:"taskMode"`
	SourceLocationArn      string            `json:"sourceLocationArn"`
	DestinationLocationArn string            `json:"destinationLocationArn"`
	Options                any               `json:"options"`
	Includes               []string          `json:"includes,omitempty"`
	Excludes               []string          `json:"excludes,omitempty"`
	Tags                   map[string]string `json:"tags,omitempty"`
	TaskReportConfig       any               `json:"taskReportConfig,omitempty"`
}

// ExecutionState is one execution in a State dump.
type ExecutionState struct {
	Arn         string                      `json:"arn"`
	TaskArn     string                      `json:"taskArn"`
	Status      string                      `json:"status"`
	Start       time.Time                   `json:"start"`
	End         time.Time                   `json:"end,omitzero"`
	ErrorCode   string                      `json:"errorCode,omitempty"`
	ErrorDetail string                      `json:"errorDetail,omitempty"`
	Describe    DescribeTaskExecutionOutput `json:"describe"`
	Stats       ExecutionStats              `json:"stats"`
}

func filterValues(rules []filterRule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.Value)
	}
	return out
}

// Snapshot returns every location, task and execution (GET /_sim/state shows it).
func (s *Service) Snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	var st State
	for _, l := range s.st.locations {
		st.Locations = append(st.Locations, LocationState{Arn: l.arn, Account: l.account, LocationUri: l.uri(),
			BucketAccessRoleArn: l.roleArn, StorageClass: l.storageClass, Created: l.created, Tags: l.tags})
	}
	for _, t := range s.st.tasks {
		o := t.opts
		st.Tasks = append(st.Tasks, TaskState{Arn: t.arn, Account: t.account, Name: t.name, Status: t.status(),
			TaskMode: t.mode, SourceLocationArn: t.src, DestinationLocationArn: t.dst, Options: &o,
			Includes: filterValues(t.includes), Excludes: filterValues(t.excludes), Tags: t.tags})
		if t.report != nil {
			st.Tasks[len(st.Tasks)-1].TaskReportConfig = t.report
		}
	}
	for _, e := range s.st.execs {
		st.Executions = append(st.Executions, ExecutionState{Arn: e.arn, TaskArn: e.task.arn, Status: e.status,
			Start: e.start, End: e.end, ErrorCode: e.errCode, ErrorDetail: e.errDetail,
			Describe: s.describeLocked(e), Stats: e.stats})
	}
	sort.Slice(st.Locations, func(i, j int) bool { return st.Locations[i].Arn < st.Locations[j].Arn })
	sort.Slice(st.Tasks, func(i, j int) bool { return st.Tasks[i].Arn < st.Tasks[j].Arn })
	sort.Slice(st.Executions, func(i, j int) bool { return st.Executions[i].Start.Before(st.Executions[j].Start) })
	return st
}

// Stats returns the measured transfer numbers of an execution.
func (s *Service) Stats(executionArn string) (ExecutionStats, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.st.execs[executionArn]
	if !ok {
		return ExecutionStats{}, false
	}
	return e.stats, true
}
