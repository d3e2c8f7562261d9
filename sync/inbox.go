package sync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	gosync "sync"
	"time"

	"erpsync/mapping"
	"erpsync/sync/source"
)

// Inbox picks the exports that the scheduled worker syncs, from the files
// matching a pattern on any source (a local glob, sftp://, s3://): with an
// archive folder, the oldest complete file, oldest first; without one, the
// newest match. A file is passed over only when it is the export synced
// last (same name, size and sha256, nothing synced since): the same bytes
// under another name, or after another export, are synced again. A remote
// file is copied once to the spool, and the export handed out is that
// checked copy. A file that was handled but cannot be moved away is
// remembered and passed over while it stays the same, so that the
// exports after it still go on.
type Inbox struct {
	Pattern    string        // source.path, when Store is nil
	ArchiveDir string        // source.archive_dir, when Store is nil; "" keeps files in place
	Settle     time.Duration // a file must be unchanged this long
	// Store is where the files are; nil means the local glob Pattern.
	Store source.Store
	// Spool holds the copies of remote files; nil makes one in the
	// system's temporary folder when first needed.
	Spool *source.Spool
	// Now is the clock that Settle is measured on; nil means time.Now.
	// Tests move it instead of sleeping.
	Now func() time.Time
	// SyncedLast reports whether the last run took this export to the
	// end: the same source (Export.Source) with the same sha256, and no
	// run since (the checkpoint's run history).
	SyncedLast func(ctx context.Context, source, sha string) (bool, error)
	// MoveTimeout bounds an archive or a reject on the source (1 minute
	// when 0): it runs after the export's run, even during a shutdown.
	MoveTimeout time.Duration

	mu      gosync.Mutex
	seen    map[string]observation
	handed  map[string]string       // local copy → the file's name on the store
	taken   map[string]source.Entry // an Export's Path → the file as listed when taken
	unmoved map[string]unmovable    // the file's name → a handled file that could not be moved
}

// unmovable is a file that was synced (or rejected) but could not be
// archived (or moved to rejected/): it is passed over while it stays the
// same, and its move is tried again at every pass.
type unmovable struct {
	obs    observation
	reject error // why it was rejected; nil for a synced export to archive
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
	Path   string // the local file to read: the file itself, or its copy in the spool
	SHA256 string
	Kind   string // local, sftp or s3: the label of /metrics
	Source string // where the file is, as it may be logged (no password)
}

// Skipped is a file the inbox passed over this time, and why.
type Skipped struct {
	Path   string
	Reason string
	// Synced: the file is the export synced last, passed over (and
	// archived) without a run.
	Synced bool
	// Err: the file was handled but cannot be moved away (archive or
	// rejected/): someone must look at it. It is passed over while it
	// stays the same.
	Err error
}

func (in *Inbox) store() source.Store {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.Store == nil {
		// Only a local pattern gets here (serve gives remote stores
		// their own): opening one does no I/O, and an error leaves the
		// store nil for Next to report.
		if st, err := source.Open(context.Background(), in.Pattern, localConfig(in.ArchiveDir), source.Options{}); err == nil {
			in.Store = st
		}
	}
	if in.seen == nil {
		in.seen = map[string]observation{}
		in.handed = map[string]string{}
		in.taken = map[string]source.Entry{}
		in.unmoved = map[string]unmovable{}
	}
	return in.Store
}

// Next returns the export to sync now, or nil, and the files it passed over.
func (in *Inbox) Next(ctx context.Context) (*Export, []Skipped, error) {
	now := time.Now
	if in.Now != nil {
		now = in.Now
	}
	st := in.store()
	if st == nil {
		return nil, nil, fmt.Errorf("inbox %s: not a path erpsync can list", in.Pattern)
	}
	in.releaseAll()
	files, err := st.List(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("inbox %s: %w", st, err)
	}
	// Oldest first; without an archive only the newest counts.
	slices.SortFunc(files, func(a, b source.Entry) int { return a.ModTime.Compare(b.ModTime) })
	if st.ArchiveDir() == "" && len(files) > 1 {
		files = files[len(files)-1:]
	}
	var skipped []Skipped
	for _, f := range files {
		where := source.Locate(st, f.Name)
		if !in.settled(f.Name, f.Size, f.ModTime, now()) {
			skipped = append(skipped, Skipped{Path: where, Reason: "still changing (waiting for it to settle)"})
			continue
		}
		if s, ok := in.retryMove(ctx, st, f, now()); ok {
			skipped = append(skipped, s)
			continue
		}
		exp, err := in.take(ctx, st, f)
		if err != nil {
			return nil, skipped, err
		}
		if exp != nil {
			return exp, skipped, nil
		}
		if st.ArchiveDir() == "" {
			continue // the newest export, already synced: the usual case between exports
		}
		skipped = append(skipped, in.archiveSynced(ctx, st, f, now()))
	}
	return nil, skipped, nil
}

// archiveSynced archives a file that is the export synced last, found
// again in the inbox.
func (in *Inbox) archiveSynced(ctx context.Context, st source.Store, f source.Entry, at time.Time) Skipped {
	s := Skipped{Path: source.Locate(st, f.Name), Synced: true,
		Reason: "already synced: the same file as the last run (name, size, sha256)"}
	_, err := source.Archive(ctx, st, f, at)
	in.moved(f.Name, nil, err)
	if err != nil {
		s.Reason += "; it cannot be archived"
		s.Err = err
	}
	return s
}

// retryMove passes over a file that was handled but could not be moved,
// while it stays the same, and tries its move again. ok is false for any
// other file, and for one changed since (it is taken as new).
func (in *Inbox) retryMove(ctx context.Context, st source.Store, f source.Entry, at time.Time) (Skipped, bool) {
	in.mu.Lock()
	u, ok := in.unmoved[f.Name]
	if ok && (u.obs.size != f.Size || !u.obs.mod.Equal(f.ModTime)) {
		delete(in.unmoved, f.Name)
		ok = false
	}
	in.mu.Unlock()
	if !ok {
		return Skipped{}, false
	}
	s := Skipped{Path: source.Locate(st, f.Name), Reason: "synced, archived now"}
	var err error
	if u.reject != nil {
		s.Reason = "rejected, moved to rejected/ now"
		_, err = source.Reject(ctx, st, f, u.reject, at)
	} else {
		_, err = source.Archive(ctx, st, f, at)
	}
	in.moved(f.Name, u.reject, err)
	if err != nil {
		s.Reason, s.Err = "handled before but it cannot be moved away: left in place, the next exports go on", err
	}
	return s, true
}

// take hashes a settled file (copying a remote one to the spool) and
// returns it as the export, or nil when it is the export synced last.
func (in *Inbox) take(ctx context.Context, st source.Store, f source.Entry) (*Export, error) {
	in.mu.Lock()
	known := in.seen[f.Name].sha
	in.mu.Unlock()
	where := source.Locate(st, f.Name)
	if known != "" { // hashed before, unchanged since: no copy needed to know it
		if done, err := in.SyncedLast(ctx, where, known); err != nil || done {
			return nil, err
		}
	}
	local, sha, err := in.local(ctx, st, f)
	if err != nil {
		return nil, err
	}
	done, err := in.SyncedLast(ctx, where, sha)
	if err != nil || done {
		in.release(local)
		return nil, err
	}
	in.mu.Lock()
	in.taken[local] = f
	in.mu.Unlock()
	return &Export{Path: local, SHA256: sha, Kind: st.Kind(), Source: where}, nil
}

// local returns a file to read and its sha256: a local file itself, or a
// remote one's checked copy. The sha256 is computed once while the file
// stays the same.
func (in *Inbox) local(ctx context.Context, st source.Store, f source.Entry) (string, string, error) {
	in.mu.Lock()
	o := in.seen[f.Name]
	in.mu.Unlock()
	path, sha := f.Name, o.sha
	if st.Kind() != source.KindLocal {
		sp, err := in.spool()
		if err != nil {
			return "", "", err
		}
		c, err := sp.Fetch(ctx, st, f)
		if err != nil {
			return "", "", err
		}
		path, sha = c.Path, c.SHA256
		in.mu.Lock()
		in.handed[path] = f.Name
		in.mu.Unlock()
	} else if sha == "" {
		var err error
		if sha, err = FileSHA256(path); err != nil {
			return "", "", err
		}
	}
	in.mu.Lock()
	if cur, ok := in.seen[f.Name]; ok && cur.size == o.size && cur.mod.Equal(o.mod) {
		cur.sha = sha
		in.seen[f.Name] = cur
	}
	in.mu.Unlock()
	return path, sha, nil
}

func (in *Inbox) spool() (*source.Spool, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.Spool == nil {
		sp, err := source.NewSpool("")
		if err != nil {
			return nil, err
		}
		in.Spool = sp
	}
	return in.Spool, nil
}

// settled reports whether a file's size and modification time have not
// changed for Settle. A file last modified longer ago than that is settled
// at first sight.
func (in *Inbox) settled(name string, size int64, mod, now time.Time) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	o, ok := in.seen[name]
	if !ok || o.size != size || !o.mod.Equal(mod) {
		since := now
		if now.Sub(mod) >= in.Settle {
			since = mod
		}
		o = observation{size: size, mod: mod, since: since}
		in.seen[name] = o
	}
	return now.Sub(o.since) >= in.Settle
}

// Archive moves a processed export into the archive folder on its
// source, keeping its name with a timestamp added: customers.csv →
// customers.20260301T020000Z.csv. path is the Export's Path. A file
// rewritten since it was taken (another version under the same name) is
// not the one synced: it stays in the inbox, the error wraps
// source.ErrChanged, and the next tick takes it as new.
func (in *Inbox) Archive(path string, at time.Time) (string, error) {
	ctx, cancel := in.moveContext()
	defer cancel()
	st, e := in.origin(path)
	dest, err := source.Archive(ctx, st, e, at)
	in.release(path)
	in.moved(e.Name, nil, err)
	return dest, err
}

// Reject moves an unusable export into archive_dir/rejected on its source
// with a .error.txt beside it that says why; a file rewritten since it
// was taken stays, as for Archive.
func (in *Inbox) Reject(path string, reason error, at time.Time) (string, error) {
	ctx, cancel := in.moveContext()
	defer cancel()
	st, e := in.origin(path)
	dest, err := source.Reject(ctx, st, e, reason, at)
	in.release(path)
	in.moved(e.Name, reason, err)
	return dest, err
}

func (in *Inbox) moveContext() (context.Context, context.CancelFunc) {
	d := in.MoveTimeout
	if d <= 0 {
		d = time.Minute
	}
	return context.WithTimeout(context.Background(), d)
}

// origin returns the store and the file on it, as listed when taken, of
// a handed-out path (its name alone for a path the inbox did not hand out).
func (in *Inbox) origin(path string) (source.Store, source.Entry) {
	st := in.store()
	in.mu.Lock()
	defer in.mu.Unlock()
	if e, ok := in.taken[path]; ok {
		return st, e
	}
	if name, ok := in.handed[path]; ok {
		return st, source.Entry{Name: name}
	}
	return st, source.Entry{Name: path}
}

// moved records the end of a file's move: once moved, what was seen of
// it is forgotten; a file that could not be moved is remembered as it
// was seen, to be passed over while it stays the same. A file that
// changed since it was taken is forgotten too: it is a new export.
func (in *Inbox) moved(name string, reject, moveErr error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if moveErr == nil || errors.Is(moveErr, source.ErrChanged) {
		delete(in.seen, name)
		delete(in.unmoved, name)
		return
	}
	if o, ok := in.seen[name]; ok {
		in.unmoved[name] = unmovable{obs: o, reject: reject}
	}
}

// release removes a copy from the spool; a local file is left alone.
func (in *Inbox) release(path string) {
	in.mu.Lock()
	_, ok := in.handed[path]
	delete(in.handed, path)
	delete(in.taken, path)
	sp := in.Spool
	in.mu.Unlock()
	if ok && sp != nil {
		sp.Remove(path)
	}
}

// releaseAll removes the copies of earlier ticks: a run that ended
// without archiving its export leaves it on the source for the next one.
func (in *Inbox) releaseAll() {
	in.mu.Lock()
	paths := make([]string, 0, len(in.handed))
	for p := range in.handed {
		paths = append(paths, p)
	}
	in.mu.Unlock()
	for _, p := range paths {
		in.release(p)
	}
	in.mu.Lock()
	clear(in.taken) // a local export of a run that ended without a move
	in.mu.Unlock()
}

// Close removes the spool.
func (in *Inbox) Close() error {
	if in.Spool != nil {
		return in.Spool.Clean()
	}
	return nil
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

func localConfig(archiveDir string) mapping.Config {
	return mapping.Config{ArchiveDir: archiveDir}
}
