package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"
)

// Export is the export a run reads: a local path, and where it came from.
type Export struct {
	Path    string // the local file to read: the export itself, or its checked copy in the spool
	Kind    string // local, sftp or s3: the label of /metrics
	Source  string // the remote file as it may be logged (no password); Path for a local one
	Name    string // the store's path or key
	Size    int64
	ModTime time.Time
	// SHA256 of the copy, computed while copying; "" for a local file,
	// which is not read an extra time.
	SHA256 string
	// Verified says what the copy was checked against ("size",
	// "size+sha256", "size+md5"); "" for a local file.
	Verified string
}

// FetchOptions are Options plus the spool's parent folder.
type FetchOptions struct {
	Options
	// SpoolDir holds the copies of remote exports for the run: the state
	// file's folder by convention; "" is the system's temporary folder.
	SpoolDir string
	// RetryWait is the pause before a copy's try n (Spool.Wait); nil
	// means the spool's own, n-1 seconds.
	RetryWait func(n int) time.Duration
}

// Fetch picks a run's export — flagFile (-file) when given, else the
// newest match of cfg.Path — and returns a local path to read: a local
// file as it is, a remote one copied once to the spool and checked.
// cleanup removes the copy (a no-op for a local file); call it when the
// run is over. An export that cannot be found is an *UnusableError
// (exit 2); a refused or lost connection is fatal (exit 4).
func Fetch(ctx context.Context, cfg Settings, flagFile string, opt FetchOptions) (*Export, func(), error) {
	pattern := flagFile
	if pattern == "" {
		pattern = cfg.Path
	}
	if pattern == "" {
		return nil, nil, configError("", errors.New("no export: give -file or set source.path"))
	}
	if KindOf(pattern) == KindLocal && flagFile != "" {
		if st, err := os.Lstat(flagFile); err == nil && st.Mode()&os.ModeSymlink != 0 {
			return nil, nil, linkError(flagFile)
		}
		return &Export{Path: flagFile, Kind: KindLocal, Source: flagFile, Name: flagFile}, func() {}, nil
	}
	st, err := Open(ctx, pattern, cfg, opt.Options)
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	e, err := newest(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	exp := &Export{Path: e.Name, Kind: st.Kind(), Source: e.Name, Name: e.Name, Size: e.Size, ModTime: e.ModTime}
	if st.Kind() == KindLocal {
		return exp, func() {}, nil
	}
	exp.Source = Locate(st, e.Name)
	sp, err := NewSpool(opt.SpoolDir)
	if err != nil {
		return nil, nil, err
	}
	sp.Wait = opt.RetryWait
	c, err := sp.Fetch(ctx, st, e)
	if err != nil {
		_ = sp.Clean()
		return nil, nil, err
	}
	exp.Path, exp.SHA256, exp.Verified = c.Path, c.SHA256, c.Verified
	opt.log().Info("export copied to the spool", zap.String("source", exp.Source), zap.String("copy", c.Path),
		zap.Int64("bytes", e.Size), zap.String("checked", c.Verified))
	return exp, func() { _ = sp.Clean() }, nil
}

// newest returns the most recently modified match.
func newest(ctx context.Context, st Store) (Entry, error) {
	entries, err := st.List(ctx)
	if err != nil {
		return Entry{}, err
	}
	if len(entries) == 0 {
		return Entry{}, configError(st.String(), fmt.Errorf("source.path %w", errNoMatch))
	}
	best := entries[0]
	for _, e := range entries[1:] {
		if e.ModTime.After(best.ModTime) {
			best = e
		}
	}
	return best, nil
}

// Locate names a file of a store for the logs: the URL with the file's
// path, no password.
func Locate(st Store, name string) string {
	r, ok := st.(interface{ base() remote })
	if !ok {
		return name
	}
	u := *r.base().url
	u.Path = "/" + trimSlash(name)
	return u.Redacted()
}
