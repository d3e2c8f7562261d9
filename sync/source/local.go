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
	matches, err := Glob(l.pattern)
	if errors.Is(err, filepath.ErrBadPattern) {
		return nil, configError(l.pattern, err)
	}
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, m := range matches {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st, err := os.Lstat(m) // the entry's own type: a link is not followed, nor listed
		if err != nil || !st.Mode().IsRegular() || notExport(m) {
			continue
		}
		out = append(out, Entry{Name: m, Size: st.Size(), ModTime: st.ModTime()})
	}
	return out, nil
}

// Glob returns the names matching pattern, as filepath.Glob does, but
// says why a folder cannot be read (os.ReadDir): an inbox that cannot be
// listed is an error, not an empty inbox. A folder that does not exist
// matches nothing, as a file that is not there yet; so does a name of a
// folder pattern (dir/*/x.csv) that is not a folder.
func Glob(pattern string) ([]string, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	if !hasMeta(pattern) {
		if _, err := os.Lstat(pattern); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		} else if err != nil {
			return nil, fmt.Errorf("list %s: %w", pattern, err)
		}
		return []string{pattern}, nil
	}
	dir, file := filepath.Split(pattern)
	dir = filepath.Clean(dir)
	if !hasMeta(dir) {
		return globDir(dir, file, nil)
	}
	dirs, err := Glob(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		if out, err = globDir(d, file, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// globDir appends to out the names of dir that match pattern (one
// element), in order.
func globDir(dir, pattern string, out []string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries {
		if ok, _ := filepath.Match(pattern, e.Name()); ok { // the pattern was checked whole
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// hasMeta says whether a path holds a character Match reads as a pattern.
func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

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

// Put writes a rejected export's .error.txt (a held one's .held.txt)
// whole or not at all: into a file of its own beside it, synced and
// renamed into place, so that an operator or a monitor reading it never
// sees it empty or cut. The
// temporary name is short (an export's name may be near the system's
// bound), and no listing takes it for an export (notExport).
func (l *local) Put(_ context.Context, name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), putTempPrefix+"*"+putTempSuffix)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	_, err = tmp.Write(data)
	err = errors.Join(err, tmp.Chmod(0o640), tmp.Sync(), tmp.Close()) // not for every user
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		os.Remove(tmp.Name()) //nolint:errcheck // the write's error says what failed
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
