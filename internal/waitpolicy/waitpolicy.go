// Package waitpolicy chooses how long the state machine waits before the next poll of a
// DataSync task execution.
package waitpolicy

import "time"

// Floor and Cap bound every wait.
const (
	Floor = 10 * time.Second
	Cap   = 30 * time.Minute
)

// Observation is one poll of a task execution.
type Observation struct {
	At         time.Time
	Start      time.Time
	Status     string
	BytesDone  int64
	BytesTotal int64
	FilesDone  int64
	FilesTotal int64
}

// Next returns the wait before the next poll.
func Next(prev *Observation, cur Observation) time.Duration { return Floor }
