package execution

import (
	"encoding/json"
	"fmt"
)

// ProgressOf finds the poll result in a state's or a task's output: under "progress" (the
// state document, $.progress) or at the top level (the pollexecution task's own result).
// It returns nil when there is none: another state's output, $.progress still null before
// the first poll, or output that is not JSON.
func ProgressOf(output []byte) *Progress {
	if len(output) == 0 {
		return nil
	}
	var doc struct {
		Progress *Progress `json:"progress"`
	}
	if json.Unmarshal(output, &doc) != nil {
		return nil
	}
	if doc.Progress != nil && doc.Progress.Status != "" {
		return doc.Progress
	}
	var p Progress
	if json.Unmarshal(output, &p) == nil && p.TaskExecutionArn != "" && p.Status != "" {
		return &p
	}
	return nil
}

// Add adds q's files and bytes, transferred and estimated, to p: the sum of a sharded
// migration's shards, as the local run and `dsmigrate watch` show it.
func (p *Progress) Add(q *Progress) {
	p.FilesTransferred += q.FilesTransferred
	p.BytesTransferred += q.BytesTransferred
	p.EstimatedFilesToTransfer += q.EstimatedFilesToTransfer
	p.EstimatedBytesToTransfer += q.EstimatedBytesToTransfer
}

// Counts is the files and bytes transferred against DataSync's estimates, e.g.
// "450/1200 files  4.3 MiB/11.4 MiB": the local run's progress bar and `dsmigrate watch`
// both show it.
func (p *Progress) Counts() string {
	return fmt.Sprintf("%d/%d files  %s/%s", p.FilesTransferred, p.EstimatedFilesToTransfer,
		FormatBytes(p.BytesTransferred), FormatBytes(p.EstimatedBytesToTransfer))
}

// FormatBytes writes n bytes with one decimal and a binary (IEC) unit: 512 B, 4.3 MiB,
// 1.5 TiB. Binary units because S3 states its sizes in them (part size 5 MiB to 5 GiB,
// objects up to 48.8 TiB: https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html)
// and because "MiB" cannot be misread, where "MB" means 10^6 to some readers and 2^20 to
// others.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
