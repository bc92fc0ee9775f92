package execution

import "testing"

func TestProgressOf(t *testing.T) {
	const poll = `{"taskExecutionArn":"arn:x","status":"TRANSFERRING","bytesTransferred":5,"polledAt":"2026-11-27T03:23:06Z"}`
	tests := []struct {
		name      string
		give      string
		wantBytes int64 // -1: no progress
	}{
		{name: "the task's own output", give: poll, wantBytes: 5},
		{name: "state document", give: `{"request":{},"progress":{"taskExecutionArn":"arn:x","status":"SUCCESS","bytesTransferred":7}}`, wantBytes: 7},
		{name: "before the first poll", give: `{"request":{},"progress":null}`, wantBytes: -1},
		{name: "another task's output", give: `{"taskArn":"arn:aws:datasync:ap-northeast-1:222222222222:task/task-0123"}`, wantBytes: -1},
		{name: "the execution's output", give: `{"migrationId":"m","status":"SUCCESS","transfer":{"bytesTransferred":9}}`, wantBytes: -1},
		{name: "not JSON", give: `{`, wantBytes: -1},
		{name: "empty", give: ``, wantBytes: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ProgressOf([]byte(tt.give))
			switch {
			case tt.wantBytes < 0 && p != nil:
				t.Fatalf("got %+v, want no progress", p)
			case tt.wantBytes >= 0 && (p == nil || p.BytesTransferred != tt.wantBytes):
				t.Fatalf("got %+v, want bytesTransferred %d", p, tt.wantBytes)
			}
		})
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		give int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{4_500_000, "4.3 MiB"},
		{12_000_000, "11.4 MiB"},
		{129<<20 + 100<<10, "129.1 MiB"},
		{1 << 30, "1.0 GiB"},
		{5 << 40, "5.0 TiB"},
		{300 * 1_000_000_000_000, "272.8 TiB"},
		{3 << 50, "3.0 PiB"},
		{1<<63 - 1, "8.0 EiB"},
	}
	for _, tt := range tests {
		if got := FormatBytes(tt.give); got != tt.want {
			t.Errorf("FormatBytes(%d): got %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestCounts(t *testing.T) {
	p := &Progress{FilesTransferred: 450, EstimatedFilesToTransfer: 1200, BytesTransferred: 4_500_000, EstimatedBytesToTransfer: 12_000_000}
	if got, want := p.Counts(), "450/1200 files  4.3 MiB/11.4 MiB"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
