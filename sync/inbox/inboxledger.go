package inbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Ledger is what serve keeps beside the checkpoint across restarts:
// the exports held (stopped by a guard, set aside until a newer export
// syncs or an operator releases them) and the attempt under way (recorded
// before a run starts, cleared at its end: an export whose runs did not
// end twice, their process killed, is a poison pill). It is a small JSON
// file (LedgerPath), written whole (a temporary file renamed over it)
// under an advisory lock (LedgerPath + ".lock") shared with `erpsync
// release`; read without one.
type Ledger struct {
	Path string
	// Now is the clock of the records; nil means time.Now.
	Now func() time.Time
}

// LedgerPath is the ledger of a state file: beside it.
func LedgerPath(statePath string) string { return statePath + ".serve.json" }

// Held is an export stopped by a guard and set aside.
type Held struct {
	Source string `json:"source"` // where it was in the inbox
	SHA256 string `json:"sha256"`
	// MovedTo is where it is now (archive_dir/held/…); "" when it stayed
	// in the inbox (no archive_dir, or the move failed): it is then
	// passed over while its content stays the same.
	MovedTo string    `json:"moved_to,omitempty"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
}

// Attempt is the export whose run started last and did not end yet.
type Attempt struct {
	Source string    `json:"source"`
	SHA256 string    `json:"sha256"`
	Starts int       `json:"starts"` // runs of it started without an end, this one included
	Last   time.Time `json:"last"`
}

type ledgerFile struct {
	Held    []Held   `json:"held,omitempty"`
	Attempt *Attempt `json:"attempt,omitempty"`
}

// ledgerMax bounds the file read: it holds a few records.
const ledgerMax = 1 << 20

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Held returns the held exports, oldest first.
func (l *Ledger) Held() ([]Held, error) {
	var held []Held
	err := l.view(func(f *ledgerFile) { held = f.Held })
	return held, err
}

// Attempt returns the attempt recorded and not ended; nil when none.
func (l *Ledger) Attempt() (*Attempt, error) {
	var a *Attempt
	err := l.view(func(f *ledgerFile) { a = f.Attempt })
	return a, err
}

// Hold records an export held.
func (l *Ledger) Hold(h Held) error {
	return l.update(func(f *ledgerFile) error {
		f.Held = append(f.Held, h)
		return nil
	})
}

// HeldAt records where a held export was moved (h as recorded by Hold,
// before its move); a record released meanwhile is left released.
func (l *Ledger) HeldAt(h Held, movedTo string) error {
	return l.update(func(f *ledgerFile) error {
		for i, r := range f.Held {
			if r.Source == h.Source && r.SHA256 == h.SHA256 && r.At.Equal(h.At) && r.MovedTo == "" {
				f.Held[i].MovedTo = movedTo
				break
			}
		}
		return nil
	})
}

// Release lets go of the held exports that match (all of them with a
// nil match) and returns them.
func (l *Ledger) Release(match func(Held) bool) ([]Held, error) {
	var out []Held
	err := l.update(func(f *ledgerFile) error {
		kept := f.Held[:0]
		for _, h := range f.Held {
			if match == nil || match(h) {
				out = append(out, h)
			} else {
				kept = append(kept, h)
			}
		}
		f.Held = kept
		return nil
	})
	return out, err
}

// Begin records that a run of an export starts, before it starts, and
// returns how many runs of it started before without an end.
func (l *Ledger) Begin(source, sha string) (int, error) {
	earlier := 0
	err := l.update(func(f *ledgerFile) error {
		if a := f.Attempt; a != nil && a.Source == source && a.SHA256 == sha {
			earlier = a.Starts
		}
		f.Attempt = &Attempt{Source: source, SHA256: sha, Starts: earlier + 1, Last: l.now().UTC()}
		return nil
	})
	return earlier, err
}

// Unfinished returns how many runs of an export started without an end.
func (l *Ledger) Unfinished(source, sha string) (int, error) {
	a, err := l.Attempt()
	if err != nil || a == nil || a.Source != source || a.SHA256 != sha {
		return 0, err
	}
	return a.Starts, nil
}

// End records that the run of the attempt ended (in any way).
func (l *Ledger) End() error {
	return l.update(func(f *ledgerFile) error {
		f.Attempt = nil
		return nil
	})
}

// view reads the ledger. It takes no lock: the file is replaced whole
// (renamed over), so a reader sees one version or the other, and a
// reader without write access to the folder (status) can read it.
func (l *Ledger) view(fn func(*ledgerFile)) error {
	f, err := l.read()
	if err != nil {
		return err
	}
	fn(&f)
	return nil
}

// update reads, changes and writes the ledger under its lock; the file
// is replaced whole and flushed to disk before the rename.
func (l *Ledger) update(fn func(*ledgerFile) error) error {
	unlock, err := l.lock()
	if err != nil {
		return err
	}
	defer unlock()
	f, err := l.read()
	if err != nil {
		return err
	}
	if err := fn(&f); err != nil {
		return err
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", l.Path, err)
	}
	return writeWhole(l.Path, append(data, '\n'))
}

func (l *Ledger) read() (ledgerFile, error) {
	var f ledgerFile
	fh, err := os.Open(l.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("read %s: %w", l.Path, err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, ledgerMax+1))
	if err != nil {
		return f, fmt.Errorf("read %s: %w", l.Path, err)
	}
	if len(data) > ledgerMax {
		return f, fmt.Errorf("read %s: larger than %d bytes, not a ledger of erpsync", l.Path, ledgerMax)
	}
	if len(data) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("read %s: %w", l.Path, err)
	}
	return f, nil
}

// lock takes the ledger's advisory lock (a file beside it), waiting for
// another process's update to end.
func (l *Ledger) lock() (func(), error) {
	path := l.Path + ".lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", l.Path, err)
	}
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", l.Path, err)
	}
	if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX); err != nil {
		fh.Close()
		return nil, fmt.Errorf("lock %s: %w", l.Path, err)
	}
	return func() {
		_ = syscall.Flock(int(fh.Fd()), syscall.LOCK_UN)
		fh.Close()
	}, nil
}

// writeWhole writes a file through a temporary file beside it, flushed
// to disk, then renamed over it: a reader sees the old file or the new.
func writeWhole(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
