// Package source is where an export is: a local file or glob, an SFTP
// server (sftp://user@host[:port]/dir/*.csv.gz) or an S3 bucket
// (s3://bucket/prefix/*.zip). It lists the matches, copies one to a local
// spool once, checks the copy against the listing, and archives or
// rejects on the source itself. What the file holds is mapping's business.
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
)

// The kinds of source: the label of /metrics and of the logs.
const (
	KindLocal = "local"
	KindSFTP  = "sftp"
	KindS3    = "s3"
)

// Entry is one file as a store lists it.
type Entry struct {
	Name    string    // the store's path or key (an OS path for local files)
	Size    int64     // bytes
	ModTime time.Time // last modification
	// SHA256 and MD5 are hex digests the store vouches for, when it gives
	// one (S3's checksum, a single-part upload's ETag); SFTP gives neither,
	// so an SFTP copy is checked by its size alone.
	SHA256 string
	MD5    string
	// ETag is the store's tag of this version of the object (S3), "" for
	// none: a move asks the store to act only on this version.
	ETag string
}

// ErrChanged is a file that changed since it was listed (the ERP wrote a
// new version under the same name): it is not moved, and stays in the
// inbox for the next tick to take.
var ErrChanged = errors.New("changed since it was listed: left in the inbox for the next tick")

// listed reports whether e holds what a listing saw, so that a move can
// check the file is still that one; an Entry of a name alone moves
// whatever is there.
func (e Entry) listed() bool { return !e.ModTime.IsZero() || e.ETag != "" }

// changed reports whether a file now of size and mod is not the one
// listed as e.
func (e Entry) changed(size int64, mod time.Time) bool {
	return !e.ModTime.IsZero() && (size != e.Size || !mod.Equal(e.ModTime))
}

// Store is one source: a place that lists, reads, moves and writes files.
type Store interface {
	Kind() string
	// String is the pattern as it may be logged: no password in it.
	String() string
	// List returns the regular files matching the pattern.
	List(ctx context.Context) ([]Entry, error)
	// Open reads a listed file from its start.
	Open(ctx context.Context, e Entry) (io.ReadCloser, error)
	// Exists reports whether a file is there.
	Exists(ctx context.Context, name string) (bool, error)
	// Move renames a file, creating the destination's folder, if it is
	// still the one listed as from (its size and time, or its ETag);
	// otherwise it leaves it and returns an error wrapping ErrChanged.
	Move(ctx context.Context, from Entry, to string) error
	// Put writes a small file (a rejected export's .error.txt, a held
	// one's .held.txt) whole or not at all: no reader finds it empty or
	// cut under its name.
	Put(ctx context.Context, name string, data []byte) error
	// Join joins a folder and a name the store's way.
	Join(dir, name string) string
	// ArchiveDir is source.archive_dir on this store, "" for none.
	ArchiveDir() string
	Close() error
}

// Options are what opening a store needs beside the source: section.
type Options struct {
	Log *zap.Logger
	// Getenv reads the secrets' variables; nil means os.Getenv.
	Getenv func(string) string
}

func (o Options) getenv(name string) string {
	if o.Getenv != nil {
		return o.Getenv(name)
	}
	return os.Getenv(name)
}

func (o Options) log() *zap.Logger {
	if o.Log != nil {
		return o.Log
	}
	return zap.NewNop()
}

// KindOf returns the kind of source a pattern names.
func KindOf(pattern string) string {
	switch {
	case strings.HasPrefix(pattern, "sftp://"):
		return KindSFTP
	case strings.HasPrefix(pattern, "s3://"):
		return KindS3
	}
	return KindLocal
}

// Open returns the store of a pattern (source.path or -file) with the
// settings of cfg. It connects lazily: nothing is dialled before the
// first List or Open.
func Open(ctx context.Context, pattern string, cfg Settings, opt Options) (Store, error) {
	switch KindOf(pattern) {
	case KindSFTP:
		return newSFTP(pattern, cfg, opt)
	case KindS3:
		return newS3(ctx, pattern, cfg, opt)
	}
	return newLocal(pattern, cfg.ArchiveDir), nil
}

// remote is what the sftp:// and s3:// URLs share: the host or bucket,
// the folder and the file-name pattern, and the archive folder.
type remote struct {
	url     *url.URL
	dir     string // the folder of the pattern
	glob    string // the pattern of file names in it
	archive string // archive_dir as a path on the store, "" for none
}

// parseRemote splits a URL; a wildcard may stand only in the file name.
func parseRemote(raw, archiveDir string) (remote, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return remote{}, configError(redactURL(raw), errors.Unwrap(err))
	}
	if u.Host == "" {
		return remote{}, configError(Redact(raw), errors.New("no host or bucket"))
	}
	dir, glob := path.Split(u.Path)
	if strings.ContainsAny(dir, "*?[") {
		return remote{}, configError(Redact(raw), errors.New("a wildcard may stand in the file name only"))
	}
	if _, err := path.Match(glob, ""); err != nil || glob == "" {
		return remote{}, configError(Redact(raw), fmt.Errorf("file name pattern %q: want a name or a glob such as *.csv.gz", glob))
	}
	r := remote{url: u, dir: path.Clean(dir), glob: glob}
	if archiveDir != "" {
		if r.archive, err = r.archivePath(archiveDir); err != nil {
			return remote{}, err
		}
	}
	return r, nil
}

// archivePath reads archive_dir: a URL of the same host or bucket, or a
// path on it.
func (r remote) archivePath(dir string) (string, error) {
	if !strings.Contains(dir, "://") {
		return path.Clean(dir), nil
	}
	u, err := url.Parse(dir)
	if err != nil || u.Scheme != r.url.Scheme || u.Host != r.url.Host {
		return "", configError(Redact(dir), fmt.Errorf("archive_dir must be on the source itself (%s://%s)", r.url.Scheme, r.url.Host))
	}
	return path.Clean(u.Path), nil
}

// matches lists the names of a folder listing that fit the pattern.
func (r remote) matches(name string) bool {
	ok, _ := path.Match(r.glob, name)
	return ok && !notExport(name)
}

// notExport says whether a name that fits the pattern is erpsync's own,
// never an export: an .error.txt or .held.txt (the reasons beside a
// rejected or held export), or the temporary file a Put writes before it
// is renamed into place (putTemp).
func notExport(name string) bool {
	base := path.Base(filepath.ToSlash(name))
	return strings.HasSuffix(base, ".error.txt") || strings.HasSuffix(base, ".held.txt") ||
		strings.HasPrefix(base, putTempPrefix) && strings.HasSuffix(base, putTempSuffix)
}

// The temporary name of a Put, beside its place: hidden, and no
// .error.txt or .held.txt, so that the ERP side's own watch for those
// never opens one half written or left by a failed put.
const putTempPrefix, putTempSuffix = ".erpsync-", ".tmp"

// Redact returns a pattern or URL with any password removed.
func Redact(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return redactURL(s)
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		// Unparsable: keep the scheme and drop the user part altogether.
		scheme, rest, _ := strings.Cut(s, "://")
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			rest = rest[i+1:]
		}
		return scheme + "://" + rest
	}
	return u.Redacted() // the password becomes xxxxx
}

// configError is a source that cannot be used as configured: an unusable
// export (exit 2), not a fatal error.
func configError(where string, err error) error {
	return &UnusableError{Where: where, Err: err}
}

func (r remote) base() remote { return r }

func trimSlash(s string) string { return strings.TrimPrefix(s, "/") }
