package datasync

import "io"

// Test helpers shared with the external test package (datasync_test).

// PatternReader yields n bytes of a non-constant pattern without holding them.
func PatternReader(n int64) io.Reader { return &patternReader{left: n} }

// PeakHeap samples HeapInuse until stop is closed; the returned func waits for the
// sampler and gives the peak.
var PeakHeap = peakHeap
