package source

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// Spool is the local folder that holds this run's copies of remote
// exports. A copy appears under its final name only once it is whole and
// checked; Clean removes the folder.
type Spool struct {
	dir string
	// Attempts bounds the tries of one copy (3 when 0).
	Attempts int
	// Wait is the pause before try n (n ≥ 2); nil means n-1 seconds.
	Wait func(n int) time.Duration

	stalled atomic.Int32 // fetches under way that had a transfer cut as stalled
}

// Stalled reports whether a fetch under way had a transfer cut for moving
// no byte for source.stall_timeout: from that cut until the fetch ends
// (whole after a retry, or failed). serve's /healthz answers 503 on it.
func (sp *Spool) Stalled() bool { return sp.stalled.Load() > 0 }

// NewSpool makes a fresh spool folder inside parent ("" means the
// system's temporary folder).
func NewSpool(parent string) (*Spool, error) {
	if parent != "" {
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
	}
	dir, err := os.MkdirTemp(parent, ".erpsync-spool-")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &Spool{dir: dir}, nil
}

// Dir is the spool's folder.
func (sp *Spool) Dir() string { return sp.dir }

// Clean removes the spool and every copy in it.
func (sp *Spool) Clean() error { return os.RemoveAll(sp.dir) }

// Remove deletes one copy.
func (sp *Spool) Remove(local string) {
	if filepath.Dir(filepath.Dir(local)) == sp.dir {
		_ = os.RemoveAll(filepath.Dir(local))
	}
}

// Copy is a checked local copy of a remote export.
type Copy struct {
	Path   string // in the spool, under the export's own name
	SHA256 string // of the copy
	// Verified says what the copy was checked against: "size" or
	// "size+sha256" or "size+md5".
	Verified string
}

// Fetch copies e into the spool, retrying a transfer cut in the middle or
// a copy that does not match the listing, up to Attempts times.
func (sp *Spool) Fetch(ctx context.Context, st Store, e Entry) (Copy, error) {
	if err := checkListedSize(st, e); err != nil {
		return Copy{}, err
	}
	if c, ok := st.(interface {
		checksum(context.Context, string) (string, error)
	}); ok && e.SHA256 == "" {
		hctx, cancel := context.WithTimeout(ctx, stallTimeout(st))
		sum, err := c.checksum(hctx, e.Name)
		cancel()
		if err != nil {
			return Copy{}, err
		}
		e.SHA256 = sum
	}
	attempts := max(sp.Attempts, 1)
	if sp.Attempts == 0 {
		attempts = 3
	}
	stalled := false
	defer func() {
		if stalled {
			sp.stalled.Add(-1)
		}
	}()
	var err error
	for n := 1; n <= attempts; n++ {
		if n > 1 {
			if werr := sp.pause(ctx, n); werr != nil {
				return Copy{}, werr
			}
		}
		var c Copy
		if c, err = sp.fetchOnce(ctx, st, e); err == nil {
			return c, nil
		}
		if errors.Is(err, errStalled) && !stalled {
			stalled = true
			sp.stalled.Add(1)
		}
		if ctx.Err() != nil {
			return Copy{}, ctx.Err()
		}
		var ue *UnusableError
		if errors.As(err, &ue) || errors.Is(err, errLonger) {
			return Copy{}, err // a link, or longer than listed: another try reads the same
		}
	}
	return Copy{}, fmt.Errorf("copy %s after %d tries: %w", e.Name, attempts, err)
}

func (sp *Spool) pause(ctx context.Context, n int) error {
	d := time.Duration(n-1) * time.Second
	if sp.Wait != nil {
		d = sp.Wait(n)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fetchOnce copies e to a .part file, checks it, and renames it.
func (sp *Spool) fetchOnce(ctx context.Context, st Store, e Entry) (Copy, error) {
	dir, err := os.MkdirTemp(sp.dir, "")
	if err != nil {
		return Copy{}, fmt.Errorf("spool: %w", err)
	}
	final := filepath.Join(dir, spoolName(e.Name))
	c, err := copyChecked(ctx, st, e, final+".part")
	if err == nil {
		err = os.Rename(final+".part", final)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return Copy{}, err
	}
	_ = os.Chtimes(final, e.ModTime, e.ModTime) // the remote's time, for the logs and metrics
	c.Path = final
	return c, nil
}

// spoolName is a copy's file name: a hash of the store's name (a legal S3
// key is up to 1,024 bytes, a file name 255), with its extension when
// that is short and plain, for the format (customers.csv.gz → <hash>.csv.gz).
func spoolName(name string) string {
	sum := sha256.Sum256([]byte(name))
	_, ext := SplitExt(baseName(name))
	if len(ext) > 16 || strings.Trim(strings.ToLower(ext), ".abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		ext = ""
	}
	return hex.EncodeToString(sum[:12]) + ext
}

// copyChecked writes e to part and checks size and digests.
func copyChecked(ctx context.Context, st Store, e Entry, part string) (Copy, error) {
	ctx, dog := watch(ctx, stallTimeout(st))
	defer dog.stop()
	c, err := copyWatched(ctx, st, e, part, dog)
	dog.t.Stop()
	if err != nil && dog.fired() {
		return Copy{}, fmt.Errorf("copy %s: %w (source.stall_timeout %s), after %d of %d bytes",
			e.Name, errStalled, dog.d, dog.bytes.Load(), e.Size)
	}
	return c, err
}

// copyWatched is copyChecked under a watchdog that every byte read feeds.
func copyWatched(ctx context.Context, st Store, e Entry, part string, dog *watchdog) (Copy, error) {
	rc, err := st.Open(ctx, e)
	if err != nil {
		return Copy{}, err
	}
	defer rc.Close()
	r := fedReader{rc, dog}
	f, err := os.OpenFile(part, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return Copy{}, fmt.Errorf("spool: %w", err)
	}
	sh, md := sha256.New(), md5.New()
	// At most the listed size: a byte more is a file changed since its
	// listing, or a store that never ends; it is not written.
	n, err := io.Copy(io.MultiWriter(f, sh, md), ctxReader{ctx, io.LimitReader(r, e.Size)})
	if err == nil && n == e.Size {
		var one [1]byte
		if k, _ := io.ReadFull(ctxReader{ctx, r}, one[:]); k > 0 {
			err = fmt.Errorf("%w: more than the %d bytes listed (changed since, or not a file): copy stopped there", errLonger, e.Size)
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, errLonger) { // another try reads the same: an unusable export, as a link is
		return Copy{}, configError(Locate(st, e.Name), fmt.Errorf("copy: %w", err))
	}
	if err != nil {
		return Copy{}, fmt.Errorf("copy %s: cut after %d of %d bytes: %w", e.Name, n, e.Size, err)
	}
	if n != e.Size {
		return Copy{}, fmt.Errorf("copy %s: %d bytes, the listing said %d (changed while copied?)", e.Name, n, e.Size)
	}
	c := Copy{SHA256: hex.EncodeToString(sh.Sum(nil)), Verified: "size"}
	if err := checkDigest(e.Name, "sha256", e.SHA256, sh); err != nil {
		return Copy{}, err
	} else if e.SHA256 != "" {
		c.Verified = "size+sha256"
	} else if err := checkDigest(e.Name, "md5", e.MD5, md); err != nil {
		return Copy{}, err
	} else if e.MD5 != "" {
		c.Verified = "size+md5"
	}
	return c, nil
}

func checkDigest(name, algo, want string, h hash.Hash) error {
	if want == "" {
		return nil
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("copy %s: %s %s, the store said %s", name, algo, got, want)
	}
	return nil
}

// ctxReader stops a copy when its context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

var errNoMatch = errors.New("matches no file")

// errLonger is a remote file longer than its listing.
var errLonger = errors.New("longer than its listing")
