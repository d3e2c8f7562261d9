package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// local is a file or glob on this machine. It is read in place: there is
// nothing to copy.
type local struct {
	pattern string
	archive string
}

func newLocal(pattern, archiveDir string) *local {
	return &local{pattern: pattern, archive: archiveDir}
}

func (l *local) Kind() string       { return KindLocal }
func (l *local) String() string     { return l.pattern }
func (l *local) ArchiveDir() string { return l.archive }
func (l *local) Close() error       { return nil }

func (l *local) Join(dir, name string) string { return filepath.Join(dir, name) }

func (l *local) List(ctx context.Context) ([]Entry, error) {
	matches, err := filepath.Glob(l.pattern)
	if err != nil {
		return nil, configError(l.pattern, err)
	}
	var out []Entry
	for _, m := range matches {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st, err := os.Stat(m)
		if err != nil || !st.Mode().IsRegular() || strings.HasSuffix(m, ".error.txt") {
			continue
		}
		out = append(out, Entry{Name: m, Size: st.Size(), ModTime: st.ModTime()})
	}
	return out, nil
}

func (l *local) Open(_ context.Context, e Entry) (io.ReadCloser, error) {
	return os.Open(e.Name)
}

func (l *local) Exists(_ context.Context, name string) (bool, error) {
	_, err := os.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Move checks the file against its listing just before the rename (a
// rewrite between the two is not seen: the window is one system call).
func (l *local) Move(_ context.Context, from Entry, to string) error {
	if from.listed() {
		st, err := os.Stat(from.Name)
		if err != nil {
			return fmt.Errorf("archive %s: %w", from.Name, err)
		}
		if from.changed(st.Size(), st.ModTime()) {
			return fmt.Errorf("archive %s: %w", from.Name, ErrChanged)
		}
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	if err := moveFile(from.Name, to); err != nil {
		return fmt.Errorf("archive %s: %w", from.Name, err)
	}
	return nil
}

func (l *local) Put(_ context.Context, name string, data []byte) error {
	if err := os.WriteFile(name, data, 0o640); err != nil { // a rejected export's .error.txt: not for every user
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
