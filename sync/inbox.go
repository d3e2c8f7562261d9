package sync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"time"
)

// Inbox picks the exports that the scheduled worker syncs, from the files
// matching a glob: with an archive folder, the oldest complete file not
// yet processed, each taken once; without one, the newest match when its
// content differs from the last processed one.
type Inbox struct {
	Pattern    string        // source.path
	ArchiveDir string        // source.archive_dir; "" keeps files in place
	Settle     time.Duration // a file must be unchanged this long
	// Now is the clock that Settle is measured on; nil means time.Now.
	// Tests move it instead of sleeping.
	Now func() time.Time
	// Processed reports whether an export with this sha256 was already
	// synced (the checkpoint's run history).
	Processed func(ctx context.Context, sha string) (bool, error)

	mu   gosync.Mutex
	seen map[string]observation
}

// observation is what a file looked like when first seen unchanged.
type observation struct {
	size  int64
	mod   time.Time
	since time.Time
	sha   string // once hashed, while size and mod stay
}

// Export is a file the inbox hands out.
type Export struct {
	Path   string
	SHA256 string
}

// Skipped is a file the inbox passed over this time, and why.
type Skipped struct {
	Path   string
	Reason string
}

// Next returns the export to sync now, or nil, and the files it passed over.
func (in *Inbox) Next(ctx context.Context) (*Export, []Skipped, error) {
	now := time.Now
	if in.Now != nil {
		now = in.Now
	}
	matches, err := filepath.Glob(in.Pattern)
	if err != nil {
		return nil, nil, fmt.Errorf("inbox %q: %w", in.Pattern, err)
	}
	type file struct {
		path string
		mod  time.Time
		size int64
	}
	var files []file
	for _, m := range matches {
		st, err := os.Stat(m)
		if err != nil || !st.Mode().IsRegular() || strings.HasSuffix(m, ".error.txt") {
			continue
		}
		files = append(files, file{m, st.ModTime(), st.Size()})
	}
	// Oldest first; without an archive only the newest counts.
	slices.SortFunc(files, func(a, b file) int { return a.mod.Compare(b.mod) })
	if in.ArchiveDir == "" && len(files) > 1 {
		files = files[len(files)-1:]
	}
	in.mu.Lock()
	if in.seen == nil {
		in.seen = map[string]observation{}
	}
	in.mu.Unlock()
	var skipped []Skipped
	for _, f := range files {
		if !in.settled(f.path, f.size, f.mod, now()) {
			skipped = append(skipped, Skipped{f.path, "still changing (waiting for it to settle)"})
			continue
		}
		sha, err := in.hash(f.path)
		if err != nil {
			return nil, skipped, err
		}
		done, err := in.Processed(ctx, sha)
		if err != nil {
			return nil, skipped, err
		}
		if done {
			if in.ArchiveDir == "" {
				continue // the newest export, already synced: the usual case between exports
			}
			skipped = append(skipped, Skipped{f.path, "already processed (same sha256)"})
			if _, err := in.Archive(f.path, now()); err != nil {
				return nil, skipped, err
			}
			continue
		}
		return &Export{Path: f.path, SHA256: sha}, skipped, nil
	}
	return nil, skipped, nil
}

// settled reports whether a file's size and modification time have not
// changed for Settle. A file last modified longer ago than that is settled
// at first sight.
func (in *Inbox) settled(path string, size int64, mod, now time.Time) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	o, ok := in.seen[path]
	if !ok || o.size != size || !o.mod.Equal(mod) {
		since := now
		if now.Sub(mod) >= in.Settle {
			since = mod
		}
		o = observation{size: size, mod: mod, since: since}
		in.seen[path] = o
	}
	return now.Sub(o.since) >= in.Settle
}

// hash returns a settled file's sha256, computed once while it stays the same.
func (in *Inbox) hash(path string) (string, error) {
	in.mu.Lock()
	o := in.seen[path]
	in.mu.Unlock()
	if o.sha != "" {
		return o.sha, nil
	}
	sha, err := FileSHA256(path)
	if err != nil {
		return "", err
	}
	in.mu.Lock()
	if cur, ok := in.seen[path]; ok && cur.size == o.size && cur.mod.Equal(o.mod) {
		cur.sha = sha
		in.seen[path] = cur
	}
	in.mu.Unlock()
	return sha, nil
}

// Archive moves a processed export into ArchiveDir, keeping its name with
// a timestamp added: customers.csv → customers.20260301T020000Z.csv.
func (in *Inbox) Archive(path string, at time.Time) (string, error) {
	return in.move(path, in.ArchiveDir, at)
}

// Reject moves an unusable export into ArchiveDir/rejected with a
// .error.txt beside it that says why.
func (in *Inbox) Reject(path string, reason error, at time.Time) (string, error) {
	dest, err := in.move(path, filepath.Join(in.ArchiveDir, "rejected"), at)
	if err != nil {
		return "", err
	}
	text := fmt.Sprintf("%s was rejected at %s and changed nothing in the CRM.\n\n%v\n",
		filepath.Base(path), at.UTC().Format(time.RFC3339), reason)
	if err := os.WriteFile(dest+".error.txt", []byte(text), 0o644); err != nil {
		return dest, fmt.Errorf("write %s.error.txt: %w", dest, err)
	}
	return dest, nil
}

func (in *Inbox) move(path, dir string, at time.Time) (string, error) {
	if in.ArchiveDir == "" {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	base := filepath.Base(path)
	ext := filepath.Ext(base)
	dest := filepath.Join(dir, strings.TrimSuffix(base, ext)+"."+at.UTC().Format("20060102T150405Z")+ext)
	for i := 2; fileExists(dest); i++ {
		dest = filepath.Join(dir, fmt.Sprintf("%s.%s-%d%s", strings.TrimSuffix(base, ext), at.UTC().Format("20060102T150405Z"), i, ext))
	}
	if err := os.Rename(path, dest); err != nil {
		return "", fmt.Errorf("archive %s: %w", path, err)
	}
	in.mu.Lock()
	delete(in.seen, path)
	in.mu.Unlock()
	return dest, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, os.ErrNotExist)
}

// FileSHA256 hashes a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
