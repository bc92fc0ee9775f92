package store

import (
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Object bodies on disk: a body of known size up to smallObjectMax goes into one shared,
// append-only segment file at a reserved offset; any other body gets a file of its own
// under dataDir/objects.

// smallObjectMax is the size up to which bodies go into the shared segment file
// instead of a file of their own (creating a file per small object costs more than
// the copy).
const smallObjectMax = 8 << 20

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// segment is an append-only file holding small object bodies at reserved offsets. Space
// of deleted or overwritten small objects is not reclaimed until the simulator exits.
type segment struct {
	mu   sync.Mutex
	f    *os.File
	size int64
}

func (s *Store) reserve(n int64) (*os.File, int64, error) {
	s.seg.mu.Lock()
	defer s.seg.mu.Unlock()
	if s.seg.f == nil {
		f, err := os.OpenFile(filepath.Join(s.dataDir, "objects", "segment"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, 0, err
		}
		s.seg.f = f
	}
	off := s.seg.size
	s.seg.size += n
	return s.seg.f, off, nil
}

// writeBody stores a body of size bytes (-1 = unknown) read from r, feeding every byte
// to also as well. It returns where the body is (path "" = the segment at segOff) and
// how many bytes it read (the caller compares them with size). A read that fails, or a
// body longer than size, is an IncompleteBody error and leaves no file behind.
func (s *Store) writeBody(r io.Reader, size int64, also []io.Writer) (path string, segOff, n int64, err error) {
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	if size >= 0 && size <= smallObjectMax {
		f, off, rerr := s.reserve(size)
		if rerr != nil {
			return "", -1, 0, rerr
		}
		w := io.MultiWriter(append([]io.Writer{io.NewOffsetWriter(f, off)}, also...)...)
		// one byte more than announced reveals a body longer than Content-Length
		n, err = io.CopyBuffer(w, io.LimitReader(r, size+1), *bufp)
		switch {
		case err != nil:
			return "", -1, n, Errf("IncompleteBody", "The request body terminated unexpectedly")
		case n > size:
			return "", -1, n, Errf("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		}
		return "", off, n, nil
	}
	f, cerr := os.CreateTemp(filepath.Join(s.dataDir, "objects"), "obj-*")
	if cerr != nil {
		return "", -1, 0, cerr
	}
	n, err = io.CopyBuffer(io.MultiWriter(append([]io.Writer{f}, also...)...), r, *bufp)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", -1, n, Errf("IncompleteBody", "The request body terminated unexpectedly")
	}
	return f.Name(), -1, n, nil
}

// Body is an open object body.
type Body interface {
	io.ReadSeeker
	io.Closer
}

type segmentBody struct{ *io.SectionReader }

func (segmentBody) Close() error { return nil }

// openBody opens the body of o (s.mu held).
func (s *Store) openBody(o *Object) (Body, error) {
	if o.path == "" {
		return segmentBody{io.NewSectionReader(s.seg.f, o.segOff, o.Size)}, nil
	}
	f, err := os.Open(o.path)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// remove deletes the body file of a large object (segment space is not reclaimed).
func (o *Object) remove() {
	if o.path != "" {
		_ = os.Remove(o.path)
	}
}

// Close releases the segment file.
func (s *Store) Close() error {
	s.seg.mu.Lock()
	defer s.seg.mu.Unlock()
	if s.seg.f == nil {
		return nil
	}
	err := s.seg.f.Close()
	s.seg.f = nil
	return err
}
