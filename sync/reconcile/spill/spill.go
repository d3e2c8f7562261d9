// Package spill keeps records of bytes in a temporary file, each found
// again by the offset Append returned: what a reconciliation needs of a
// CRM record that differs, held on disk instead of in memory (issue 25
// §5). The file is created 0600 (os.CreateTemp) and removed by Close.
// It imports nothing of erpsync.
package spill

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// File is a temporary file of records: each is its length (uvarint) and
// its bytes. Appends are buffered; a Read flushes them first. A File is
// not safe for concurrent use.
type File struct {
	f    *os.File
	w    *bufio.Writer
	size int64 // bytes appended, flushed or not
	hdr  [binary.MaxVarintLen64]byte
}

// Create creates a spill file in dir (os.TempDir when dir is "").
func Create(dir string) (*File, error) {
	f, err := os.CreateTemp(dir, "erpsync-spill-*")
	if err != nil {
		return nil, fmt.Errorf("create spill file: %w", err)
	}
	return &File{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// Name is the file's path.
func (s *File) Name() string { return s.f.Name() }

// Size is how many bytes the records take.
func (s *File) Size() int64 { return s.size }

// Append writes a record and returns its offset.
func (s *File) Append(rec []byte) (int64, error) {
	off := s.size
	n := binary.PutUvarint(s.hdr[:], uint64(len(rec)))
	if _, err := s.w.Write(s.hdr[:n]); err != nil {
		return 0, fmt.Errorf("write spill file %s: %w", s.f.Name(), err)
	}
	if _, err := s.w.Write(rec); err != nil {
		return 0, fmt.Errorf("write spill file %s: %w", s.f.Name(), err)
	}
	s.size += int64(n + len(rec))
	return off, nil
}

// Read returns the record at off, in buf's memory when it is large
// enough.
func (s *File) Read(off int64, buf []byte) ([]byte, error) {
	if off < 0 || off >= s.size {
		return nil, fmt.Errorf("read spill file: offset %d out of its %d bytes", off, s.size)
	}
	if s.w.Buffered() > 0 {
		if err := s.w.Flush(); err != nil {
			return nil, fmt.Errorf("write spill file %s: %w", s.f.Name(), err)
		}
	}
	n, err := s.f.ReadAt(s.hdr[:min(int64(len(s.hdr)), s.size-off)], off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read spill file %s: %w", s.f.Name(), err)
	}
	size, hn := binary.Uvarint(s.hdr[:n])
	if hn <= 0 || size > uint64(s.size-off-int64(hn)) {
		return nil, fmt.Errorf("read spill file %s: no record at offset %d", s.f.Name(), off)
	}
	if uint64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := s.f.ReadAt(buf, off+int64(hn)); err != nil {
		return nil, fmt.Errorf("read spill file %s: %w", s.f.Name(), err)
	}
	return buf, nil
}

// Reset drops every record: the next is at offset 0.
func (s *File) Reset() error {
	s.w.Reset(s.f)
	s.size = 0
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("truncate spill file %s: %w", s.f.Name(), err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("truncate spill file %s: %w", s.f.Name(), err)
	}
	return nil
}

// Close closes and removes the file.
func (s *File) Close() error {
	err := s.f.Close()
	if rerr := os.Remove(s.f.Name()); err == nil && rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = fmt.Errorf("remove spill file: %w", rerr)
	}
	s.size = 0
	return err
}
