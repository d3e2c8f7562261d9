package inbox

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	gosync "sync"
	"syscall"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"erpsync/sync/source"
)

// Inbox picks the exports that the scheduled worker syncs, from the files
// matching a pattern on any source (a local glob, sftp://, s3://).
// Exports are whole snapshots: the newest settled file is the one taken;
// with an archive folder, the older settled files are archived as
// superseded (archive_dir/superseded/) without a run, so that N files
// waiting take one tick, not N; they are superseded once the newest's
// run went through (Archive) or it is held (Hold), never before: a
// newest rejected leaves them, and the next newest is taken (at once
// when the newest cannot be copied). A file is passed over only when it is
// the export synced last (same name, size and sha256, nothing synced
// since): the same bytes under another name, or after another export,
// are synced again. A remote file is copied once to the spool, and the
// export handed out is that checked copy. A file that was handled but
// cannot be moved away is remembered and passed over while it stays the
// same, so that the exports after it still go on. An export stopped by a
// guard is held (Hold): set aside in archive_dir/held/ with its reason,
// recorded in the Ledger, never retried.
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
	// Ledger records the held exports across restarts (and serve's
	// attempts); nil records none: a held export that stays in place
	// (no archive folder) is then taken again at the next tick.
	Ledger *Ledger
	// Log is told of what the inbox passes over without a word in
	// Skipped (a link in a local inbox, once per name); nil logs nothing.
	Log *zap.Logger

	mu      gosync.Mutex
	seen    map[string]observation
	handed  map[string]string         // local copy → the file's name on the store
	taken   map[string]source.Entry   // an Export's Path → the file as listed when taken
	unmoved map[string]unmovable      // the file's name → a handled file that could not be moved
	older   map[string][]source.Entry // an Export's Path → the settled files older than it, when taken
	pending []Skipped                 // files superseded after a run, told by the next Next (or Passed)
	links   map[string]bool           // the links of a local inbox warned of, while they are there
}

// unmovable is a file that was synced (or rejected) but could not be
// archived (or moved to rejected/): it is passed over while it stays the
// same, and its move is tried again at every pass.
type unmovable struct {
	obs    observation
	reject error // why it was rejected; nil for a synced export to archive
	// inPlace: rejected where it is (no archive folder): nothing to move.
	inPlace bool
	// superseded: an older export whose move to superseded/ failed. It is
	// passed over and its move tried again, never taken: taken, it would
	// sync older data over the newer export that was just synced.
	superseded bool
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
	// Rejected: the file cannot be copied, and never will be as it is (a
	// link, listed over source.max_bytes, longer than its listing): it
	// was rejected without a run, moved to archive_dir/rejected with its
	// .error.txt (Err says when that move failed). serve records it as a
	// failed run. Set once, at the pass that rejected it.
	Rejected error
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
		in.older = map[string][]source.Entry{}
	}
	return in.Store
}

// Next returns the export to sync now, or nil, and the files it passed
// over: the newest settled file is the candidate; older settled files
// are archived as superseded once it went through.
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
	in.warnLinks(st)
	// Oldest first (by name within a second); without an archive only
	// the newest counts.
	slices.SortFunc(files, func(a, b source.Entry) int {
		if c := a.ModTime.Compare(b.ModTime); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if st.ArchiveDir() == "" && len(files) > 1 {
		files = files[len(files)-1:]
	}
	var skipped []Skipped
	var settled []source.Entry
	for _, f := range files {
		if !in.settled(f.Name, f.Size, f.ModTime, now()) {
			skipped = append(skipped, Skipped{Path: source.Locate(st, f.Name), Reason: "still changing (waiting for it to settle)"})
			continue
		}
		settled = append(settled, f)
	}
	if len(settled) == 0 {
		return nil, skipped, nil
	}
	// Newest first: a file rejected (it cannot be copied, or it was
	// rejected before and could not be moved) lets the next newest be
	// tried at once; the older ones are superseded only by an export
	// whose run went through (supersedeOlder).
	skipped = append(in.drain(), skipped...)
	for i := len(settled) - 1; i >= 0; i-- {
		exp, passed, done, err := in.candidate(ctx, st, settled[i], settled[:i], now())
		skipped = append(skipped, passed...)
		if err != nil || exp != nil || done {
			return exp, skipped, err
		}
	}
	return nil, skipped, nil
}

// candidate tries a settled file, newest first, with the settled files
// older than it: the export to run (the older files are remembered, to
// be superseded when its run goes through), or what was passed over.
// done is false when the file was rejected: the next newest is tried.
// A file handled before but not moved away (retryMove) that went
// through, the export synced last, or one held in place supersedes the
// older files at once.
func (in *Inbox) candidate(ctx context.Context, st source.Store, f source.Entry, older []source.Entry, at time.Time) (*Export, []Skipped, bool, error) {
	if s, rejected, ok := in.retryMove(ctx, st, f, at); ok {
		if rejected {
			return nil, []Skipped{s}, false, nil
		}
		return nil, append(in.supersede(ctx, st, older, f, at), s), true, nil
	}
	exp, passed, err := in.take(ctx, st, f)
	switch {
	case err != nil:
		return nil, nil, true, err
	case exp != nil:
		in.mu.Lock()
		in.older[exp.Path] = older
		in.mu.Unlock()
		return exp, nil, true, nil
	case passed != nil && passed.Rejected != nil:
		return nil, []Skipped{*passed}, false, nil
	}
	out := in.supersede(ctx, st, older, f, at)
	switch {
	case passed != nil: // held in place
		out = append(out, *passed)
	case st.ArchiveDir() != "":
		out = append(out, in.archiveSynced(ctx, st, f, at))
	} // else: the newest export, already synced: the usual case between exports
	return nil, out, true, nil
}

// supersedeOlder supersedes the files that were older than a taken
// export when it was taken, once its run went through (or it is held):
// what it tells is handed out by the next Next, or by Passed.
func (in *Inbox) supersedeOlder(ctx context.Context, st source.Store, path string, newest source.Entry, at time.Time) {
	in.mu.Lock()
	older := in.older[path]
	delete(in.older, path)
	in.mu.Unlock()
	if len(older) == 0 {
		return
	}
	s := in.supersede(ctx, st, older, newest, at)
	in.mu.Lock()
	in.pending = append(in.pending, s...)
	in.mu.Unlock()
}

// Passed returns what the inbox passed over since it last told it (the
// files superseded when an export's run went through), once.
func (in *Inbox) Passed() []Skipped { return in.drain() }

func (in *Inbox) drain() []Skipped {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.pending
	in.pending = nil
	return s
}

// supersede archives the settled files older than newest (moving again
// those handled before and not moved away).
func (in *Inbox) supersede(ctx context.Context, st source.Store, older []source.Entry, newest source.Entry, at time.Time) []Skipped {
	var skipped []Skipped
	for _, f := range older {
		if s, _, ok := in.retryMove(ctx, st, f, at); ok {
			skipped = append(skipped, s)
			continue
		}
		skipped = append(skipped, in.supersedeOne(ctx, st, f, newest, at))
	}
	return skipped
}

// maxLinksWarned bounds the links named one by one at a pass; the others
// are counted in one line.
const maxLinksWarned = 10

// warnLinks warns, once per name while it stays, of the symbolic links
// that a local inbox's pattern matches: the store never lists them (an
// export is never read through a link), and without a word someone
// would wait for their sync. What a link points at is not told.
func (in *Inbox) warnLinks(st source.Store) {
	if in.Log == nil || st.Kind() != source.KindLocal {
		return
	}
	matches, _ := source.Glob(st.String()) // List said already why it could not read
	links := map[string]bool{}
	for _, m := range matches {
		if fi, err := os.Lstat(m); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			links[m] = true
		}
	}
	var fresh []string
	in.mu.Lock()
	for m := range links {
		if !in.links[m] {
			fresh = append(fresh, m)
		}
	}
	in.links = links
	in.mu.Unlock()
	slices.Sort(fresh)
	for i, m := range fresh {
		if i == maxLinksWarned {
			in.Log.Warn("more symbolic links in the inbox, not read either", zap.Int("count", len(fresh)-i))
			break
		}
		in.Log.Warn("a symbolic link in the inbox is not read (an export is read from a regular file only): replace it with the file itself",
			zap.String("file", m))
	}
}

// supersedeOne archives a settled file older than the newest one into
// archive_dir/superseded/ without a run: exports are whole snapshots.
// One that cannot be moved is reported, and tried again at every tick;
// one that was held in place has its hold record released.
func (in *Inbox) supersedeOne(ctx context.Context, st source.Store, f, newest source.Entry, at time.Time) Skipped {
	s := Skipped{Path: source.Locate(st, f.Name),
		Reason: "superseded by the newer export " + path.Base(filepath.ToSlash(newest.Name)) + ": archived to superseded/ without a run"}
	_, err := moveAside(ctx, st, f, "superseded", at)
	if err == nil || errors.Is(err, source.ErrChanged) {
		in.forget(f.Name)
	}
	if err == nil && in.Ledger != nil { // one held in place is no longer in the inbox: its hold ends
		if _, rerr := in.Ledger.Release(func(h Held) bool { return h.MovedTo == "" && h.Source == s.Path }); rerr != nil {
			s.Err = fmt.Errorf("superseded, but its hold record cannot be released: %w", rerr)
		}
	}
	if err != nil && !errors.Is(err, source.ErrChanged) {
		s.Reason, s.Err = "superseded by a newer export, but it cannot be archived: passed over, its move tried again", err
		in.mu.Lock()
		in.unmoved[f.Name] = unmovable{obs: observation{size: f.Size, mod: f.ModTime}, superseded: true}
		in.mu.Unlock()
	}
	return s
}

// aside is a store whose archive folder is one inside archive_dir
// (held/, superseded/): source.Archive moves a file there, stamped.
type aside struct {
	source.Store
	dir string
}

func (a aside) ArchiveDir() string { return a.dir }

// moveAside moves a file into archive_dir/sub, its name stamped with the
// time as an archive's.
func moveAside(ctx context.Context, st source.Store, e source.Entry, sub string, at time.Time) (string, error) {
	return source.Archive(ctx, aside{Store: st, dir: st.Join(st.ArchiveDir(), sub)}, e, at)
}

// forget drops what was seen of a file that left the inbox.
func (in *Inbox) forget(name string) {
	in.mu.Lock()
	delete(in.seen, name)
	delete(in.unmoved, name)
	in.mu.Unlock()
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
// other file, and for one changed since (it is taken as new); rejected
// says the file was rejected (its run did not go through).
func (in *Inbox) retryMove(ctx context.Context, st source.Store, f source.Entry, at time.Time) (s Skipped, rejected, ok bool) {
	in.mu.Lock()
	u, ok := in.unmoved[f.Name]
	if ok && (u.obs.size != f.Size || !u.obs.mod.Equal(f.ModTime)) {
		delete(in.unmoved, f.Name)
		ok = false
	}
	in.mu.Unlock()
	if !ok {
		return Skipped{}, false, false
	}
	s = Skipped{Path: source.Locate(st, f.Name), Reason: "synced, archived now"}
	if u.inPlace {
		s.Reason = "rejected before (it cannot be copied); no archive_dir: left in place, passed over while it stays the same"
		return s, true, true
	}
	var err error
	switch {
	case u.superseded:
		s.Reason = "superseded by a newer export that synced, archived to superseded/ now"
		_, err = moveAside(ctx, st, f, "superseded", at)
		if err != nil && !errors.Is(err, source.ErrChanged) {
			s.Reason, s.Err = "superseded by a newer export that synced, but it cannot be archived: passed over, never taken", err
			return s, false, true // still remembered as superseded
		}
	case u.reject != nil:
		s.Reason = "rejected, moved to rejected/ now"
		_, err = source.Reject(ctx, st, f, u.reject, at)
	default:
		_, err = source.Archive(ctx, st, f, at)
	}
	in.moved(f.Name, u.reject, err)
	if err != nil {
		s.Reason, s.Err = "handled before but it cannot be moved away: left in place, the next exports go on", err
	}
	return s, u.reject != nil, true
}

// FetchError is an export that could not be read or copied from its
// source: no run could start.
type FetchError struct {
	Source string // where the export is, as it may be logged
	Err    error
}

func (e *FetchError) Error() string { return "fetch " + e.Source + ": " + e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// take hashes a settled file (copying a remote one to the spool) and
// returns it as the export; or nil when it is the export synced last, or
// with passed set when it is held in place.
func (in *Inbox) take(ctx context.Context, st source.Store, f source.Entry) (*Export, *Skipped, error) {
	in.mu.Lock()
	known := in.seen[f.Name].sha
	in.mu.Unlock()
	where := source.Locate(st, f.Name)
	if known != "" { // hashed before, unchanged since: no copy needed to know it
		if s, err := in.heldInPlace(where, known); err != nil || s != nil {
			return nil, s, err
		}
		if done, err := in.SyncedLast(ctx, where, known); err != nil || done {
			return nil, nil, err
		}
	}
	local, sha, err := in.local(ctx, st, f)
	var uf unusableFile
	if err != nil && ctx.Err() == nil && errors.As(err, &uf) && uf.Unusable() {
		return nil, in.rejectUncopied(st, f, where, err), nil
	}
	if err != nil {
		return nil, nil, &FetchError{Source: where, Err: err}
	}
	s, err := in.heldInPlace(where, sha)
	if err != nil || s != nil {
		in.release(local)
		return nil, s, err
	}
	done, err := in.SyncedLast(ctx, where, sha)
	if err != nil || done {
		in.release(local)
		return nil, nil, err
	}
	in.mu.Lock()
	in.taken[local] = f
	in.mu.Unlock()
	return &Export{Path: local, SHA256: sha, Kind: st.Kind(), Source: where}, nil, nil
}

// rejectUncopied rejects a file that cannot be copied, and never will be
// as it is (the source's error is a *source.UnusableError: a link, listed
// over source.max_bytes, longer than its listing), so that the exports
// after it go on: it moves to archive_dir/rejected with its .error.txt.
// A transient failure (a cut transfer, a stall) is not for here: it is
// tried again at the next tick. Without an archive folder, or when the
// move fails, the file is passed over while it stays the same. The move
// is bounded by MoveTimeout, as an archive's.
func (in *Inbox) rejectUncopied(st source.Store, f source.Entry, where string, why error) *Skipped {
	s := &Skipped{Path: where, Rejected: why,
		Reason: "it cannot be copied (" + clipText(why.Error(), 300) + "): rejected without a run, moved to rejected/"}
	at := time.Now()
	if in.Now != nil {
		at = in.Now()
	}
	mctx, cancel := in.moveContext()
	defer cancel()
	_, err := source.Reject(mctx, st, f, why, at)
	switch {
	case errors.Is(err, source.ErrChanged):
		s.Reason = "it cannot be copied, and it changed since it was listed: left in the inbox, the next tick takes it as new"
		in.forget(f.Name)
	case err != nil:
		s.Reason, s.Err = "it cannot be copied, and it cannot be moved to rejected/: left in place, passed over while it stays the same", err
		in.moved(f.Name, why, err)
	case st.ArchiveDir() == "":
		s.Reason = "it cannot be copied: rejected without a run; no archive_dir: left in place, passed over while it stays the same"
		in.keepRejected(f.Name, why)
	default:
		in.moved(f.Name, why, nil)
	}
	return s
}

// keepRejected remembers a rejected file left in place (no archive
// folder): it is passed over while it stays the same.
func (in *Inbox) keepRejected(name string, why error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if o, ok := in.seen[name]; ok {
		in.unmoved[name] = unmovable{obs: o, reject: why, inPlace: true}
	}
}

// heldInPlace returns a Skipped for an export held where it is (no
// archive folder, or its move failed), nil for any other.
func (in *Inbox) heldInPlace(where, sha string) (*Skipped, error) {
	if in.Ledger == nil {
		return nil, nil
	}
	held, err := in.Ledger.Held()
	if err != nil {
		return nil, err
	}
	for _, h := range held {
		if h.MovedTo == "" && h.Source == where && h.SHA256 == sha {
			return &Skipped{Path: where, Reason: "held since " + h.At.Format(time.RFC3339) +
				" (stopped by a guard): a newer export or `erpsync release` lets it go"}, nil
		}
	}
	return nil, nil
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
	in.supersedeOlder(ctx, st, path, e, at) // its run went through: the older files are outdated
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

// Hold sets aside an export stopped by a guard: the Ledger records it,
// then it moves into archive_dir/held/ with a .held.txt beside it that
// says why (without an archive folder, or when the move fails, it stays
// in place). The record comes first: /healthz and status read the
// ledger, and a file in held/ must never be held by nobody; when the
// ledger cannot be written, nothing is moved (the error wraps
// ErrNotHeld). It is not taken again while held; a newer export that
// syncs, or `erpsync release`, lets it go. It returns where the file is
// now; a file rewritten since it was taken is not held (the error wraps
// source.ErrChanged, its record is dropped: the next tick takes it as new).
func (in *Inbox) Hold(exp *Export, reason error, at time.Time) (string, error) {
	ctx, cancel := in.moveContext()
	defer cancel()
	st, e := in.origin(exp.Path)
	defer in.release(exp.Path)
	h := Held{Source: exp.Source, SHA256: exp.SHA256, Reason: clipText(reason.Error(), heldReasonMax), At: at.UTC()}
	if in.Ledger != nil {
		if err := in.Ledger.Hold(h); err != nil {
			return e.Name, fmt.Errorf("%w: %w", ErrNotHeld, err)
		}
	}
	dest, moveErr := in.moveHeld(ctx, st, e, h)
	if errors.Is(moveErr, source.ErrChanged) {
		in.forget(e.Name)
		if in.Ledger != nil {
			_, err := in.Ledger.Release(func(r Held) bool { return r.Source == h.Source && r.SHA256 == h.SHA256 && r.At.Equal(h.At) })
			moveErr = errors.Join(moveErr, err)
		}
		return e.Name, moveErr
	}
	// A usable export, newer than the files waiting: they are superseded
	// (syncing an older one would let the held one go).
	in.supersedeOlder(ctx, st, exp.Path, e, at)
	if dest == "" {
		return e.Name, moveErr
	}
	in.forget(e.Name)
	if in.Ledger != nil {
		moveErr = errors.Join(moveErr, in.Ledger.HeldAt(h, dest))
	}
	return dest, moveErr
}

// ErrNotHeld: an export stopped by a guard could not be recorded as
// held; it stays in the inbox, as any export whose run did not go through.
var ErrNotHeld = errors.New("not held: serve's ledger cannot be written")

// moveHeld moves a held export into archive_dir/held/ and writes its
// .held.txt; dest is "" when it stays in place (no archive folder, or
// its move failed).
func (in *Inbox) moveHeld(ctx context.Context, st source.Store, e source.Entry, h Held) (string, error) {
	if st.ArchiveDir() == "" {
		return "", nil
	}
	dest, err := moveAside(ctx, st, e, "held", h.At)
	if err != nil {
		return "", err
	}
	h.MovedTo = dest
	return dest, st.Put(ctx, dest+".held.txt", []byte(heldText(h)))
}

// heldReasonMax bounds a held export's reason in the ledger.
const heldReasonMax = 2000

// heldText is the .held.txt beside a held export.
func heldText(h Held) string {
	return fmt.Sprintf("%s was stopped by a guard at %s and is held here; it is not taken again.\n\n%s\n\n"+
		"A newer export that syncs lets it go, and so does `erpsync release -config FILE %s`.\n"+
		"To sync it anyway: change the guard in the config, run `erpsync run -config FILE -file %s`,\nthen release it.\n",
		path.Base(filepath.ToSlash(h.Source)), h.At.Format(time.RFC3339), h.Reason, path.Base(filepath.ToSlash(h.Source)), h.MovedTo)
}

// clipText cuts s to at most n bytes on a character's boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
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
	delete(in.older, path)
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
	clear(in.older) // its older files wait: the next pass sees them again
	in.mu.Unlock()
}

// Close removes the spool.
func (in *Inbox) Close() error {
	if in.Spool != nil {
		return in.Spool.Clean()
	}
	return nil
}

// FileSHA256 hashes a regular file, never through a link: whoever
// writes to the inbox could swap one in after the listing, pointing at a
// key file or /proc/self/environ; nor a FIFO, whose open would wait for a
// writer (O_NONBLOCK). Either is an unusable export (*source.UnusableError).
func FileSHA256(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return "", &source.UnusableError{Where: path,
			Err: errors.New("it is a symbolic link: an export is read from a regular file only, never through a link")}
	}
	if err != nil {
		return "", err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return "", &source.UnusableError{Where: path, Err: errors.New("not a regular file")}
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func localConfig(archiveDir string) source.Settings {
	return source.Settings{ArchiveDir: archiveDir}
}

// unusableFile is an error of a file that cannot be used as it is
// (mapping.FileError and source.UnusableError say so): rejected, not
// tried again.
type unusableFile interface{ Unusable() bool }
