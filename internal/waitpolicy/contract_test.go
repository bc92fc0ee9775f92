package waitpolicy

import (
	"testing"
	"time"
)

// TestNextDocumentedValues pins each bound of the policy (the package comment) with a case
// that no other bound clamps, as literal durations: changing a number in the policy changes
// one of these waits.
func TestNextDocumentedValues(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	bytes := func(s float64, status string, done, total int64) Observation {
		return Observation{At: at(s), Start: start, Status: status, BytesDone: done, BytesTotal: total}
	}
	files := func(s float64, done, total int64) Observation {
		return Observation{At: at(s), Start: start, Status: StatusTransferring, FilesDone: done, FilesTotal: total}
	}
	p := func(o Observation) *Observation { return &o }
	tests := []struct {
		name string
		prev *Observation
		give Observation
		want time.Duration
	}{
		{name: "the shortest wait is 10 s", give: bytes(2, StatusQueued, 0, 0), want: 10 * time.Second},
		{name: "the longest wait is 2 h", prev: p(bytes(10*86400, StatusTransferring, 1, 1e15)), give: bytes(10*86400+3600, StatusTransferring, 2, 1e15), want: 2 * time.Hour},
		{name: "the same phase backs off ×1.5", prev: p(bytes(960, StatusPreparing, 0, 0)), give: bytes(1000, StatusPreparing, 0, 0), want: 60 * time.Second},
		{name: "before the transfer a wait is at most 10 % of the elapsed time", prev: p(bytes(2000, StatusLaunching, 0, 0)), give: bytes(3000, StatusPreparing, 0, 0), want: 300 * time.Second},
		{name: "before the transfer a wait may always reach 30 s", prev: p(bytes(60, StatusQueued, 0, 0)), give: bytes(100, StatusQueued, 0, 0), want: 30 * time.Second},
		{name: "before the transfer a wait is at most 10 min", prev: p(bytes(10000, StatusQueued, 0, 0)), give: bytes(20000, StatusQueued, 0, 0), want: 10 * time.Minute},
		{
			// 1 byte/s, 5,000 bytes left: 80 % of 5,000 s.
			name: "far from the end a wait covers 80 % of the time left", prev: p(bytes(3500, StatusTransferring, 3500, 8600)), give: bytes(3600, StatusTransferring, 3600, 8600),
			want: 4000 * time.Second,
		},
		{name: "a wait is at most 3 × the elapsed time", prev: p(bytes(90, StatusTransferring, 1, 1e6)), give: bytes(100, StatusTransferring, 2, 1e6), want: 300 * time.Second},
		{
			// 10 bytes/s recently, 300 bytes left: the end is 30 s away, within the 30 s tail.
			name: "an end exactly 30 s away is aimed at", prev: p(bytes(990, StatusTransferring, 800, 1200)), give: bytes(1000, StatusTransferring, 900, 1200),
			want: 30 * time.Second,
		},
		{name: "an end 25 s away is aimed at", prev: p(bytes(990, StatusTransferring, 800, 1150)), give: bytes(1000, StatusTransferring, 900, 1150), want: 25 * time.Second},
		{name: "an end 40 s away is 80 % of it", prev: p(bytes(990, StatusTransferring, 800, 1300)), give: bytes(1000, StatusTransferring, 900, 1300), want: 32 * time.Second},
		{name: "the faster recent rate counts", prev: p(bytes(900, StatusTransferring, 100, 10000)), give: bytes(1000, StatusTransferring, 1100, 10000), want: 712 * time.Second},
		{name: "the faster average rate counts", prev: p(bytes(900, StatusTransferring, 9950, 20000)), give: bytes(1000, StatusTransferring, 10000, 20000), want: 800 * time.Second},
		{name: "a stalled transfer waits at most 2 % of the elapsed time", prev: p(bytes(5000, StatusTransferring, 500, 1000)), give: bytes(6000, StatusTransferring, 500, 1000), want: 120 * time.Second},
		{
			// Files move but DataSync has no estimate of them yet: nothing predicts the end.
			name: "files moving without an estimate wait at most 2 % of the elapsed time", prev: p(files(9000, 100, 0)), give: files(10000, 200, 0),
			want: 200 * time.Second,
		},
		{name: "a stalled transfer may always wait 30 s", prev: p(bytes(100, StatusTransferring, 500, 1000)), give: bytes(160, StatusTransferring, 500, 1000), want: 30 * time.Second},
		{name: "a transfer past its estimate waits for the status", prev: p(bytes(80, StatusTransferring, 900, 1000)), give: bytes(120, StatusTransferring, 1100, 1000), want: 30 * time.Second},
		{name: "verifying waits at most 30 s on a short run", prev: p(bytes(100, StatusVerifying, 10, 10)), give: bytes(130, StatusVerifying, 10, 10), want: 30 * time.Second},
		{name: "every wait is at least 0.4 % of the elapsed time", prev: p(bytes(99990, StatusVerifying, 10, 10)), give: bytes(100000, StatusVerifying, 10, 10), want: 400 * time.Second},
		{
			// Empty objects: DataSync estimates 0 bytes; the files predict the end.
			name: "files predict when the byte estimate is 0", prev: p(files(3500, 3500, 8600)),
			give: Observation{At: at(3600), Start: start, Status: StatusTransferring, BytesDone: 5000, FilesDone: 3600, FilesTotal: 8600},
			want: 4000 * time.Second,
		},
		{
			name: "files predict while no byte is transferred yet", prev: p(files(3500, 3500, 8600)),
			give: Observation{At: at(3600), Start: start, Status: StatusTransferring, BytesTotal: 1e9, FilesDone: 3600, FilesTotal: 8600},
			want: 4000 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Next(tt.prev, tt.give); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestBoundsDocumentedValues pins the exported bounds at both sides of where their
// fraction of the elapsed time takes over.
func TestBoundsDocumentedValues(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name    string
		f       func(time.Duration) time.Duration
		elapsed time.Duration
		want    time.Duration
	}{
		{name: "MinWait short", f: MinWait, elapsed: 2000 * s, want: 10 * s},
		{name: "MinWait 0.4 %", f: MinWait, elapsed: 10000 * s, want: 40 * s},
		{name: "TailCap short", f: TailCap, elapsed: 5000 * s, want: 30 * s},
		{name: "TailCap 0.4 %", f: TailCap, elapsed: 10000 * s, want: 40 * s},
		{name: "LagCap short", f: LagCap, elapsed: 1000 * s, want: 30 * s},
		{name: "LagCap 2 %", f: LagCap, elapsed: 10000 * s, want: 200 * s},
		{name: "PreTransferCap short", f: PreTransferCap, elapsed: 100 * s, want: 30 * s},
		{name: "PreTransferCap 10 %", f: PreTransferCap, elapsed: 3000 * s, want: 300 * s},
		{name: "PreTransferCap long", f: PreTransferCap, elapsed: 10000 * s, want: 600 * s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f(tt.elapsed); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
