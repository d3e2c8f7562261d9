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
	"syscall"
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
		st, err := os.Lstat(m) // the entry's own type: a link is not followed, nor listed
		if err != nil || !st.Mode().IsRegular() || strings.HasSuffix(m, ".error.txt") {
			continue
		}
		out = append(out, Entry{Name: m, Size: st.Size(), ModTime: st.ModTime()})
	}
	return out, nil
}

// Open reads a file, never through a link (one swapped in since the
// listing is refused).
func (l *local) Open(_ context.Context, e Entry) (io.ReadCloser, error) {
	f, err := os.OpenFile(e.Name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, linkError(e.Name)
	}
	return f, err
}

// linkError is a file that is a symbolic link: whoever writes to the
// inbox could point it at /proc/self/environ or a key file.
func linkError(name string) error {
	return configError(name, errors.New("it is a symbolic link: an export is read from a regular file only, never through a link"))
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
