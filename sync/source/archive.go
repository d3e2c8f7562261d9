package source

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Archive moves a processed export into the store's archive folder, its
// name stamped with the time: customers.csv.gz →
// customers.20260301T020000Z.csv.gz. Without an archive folder it stays.
//
// e is the file as listed: one that changed since (a new version under
// the same name) is not moved, and the error wraps ErrChanged.
func Archive(ctx context.Context, st Store, e Entry, at time.Time) (string, error) {
	if st.ArchiveDir() == "" {
		return e.Name, nil
	}
	return moveStamped(ctx, st, e, st.ArchiveDir(), at)
}

// Reject moves an unusable export into archive_dir/rejected with a
// .error.txt beside it that says why; e as for Archive.
func Reject(ctx context.Context, st Store, e Entry, reason error, at time.Time) (string, error) {
	name := e.Name
	if st.ArchiveDir() == "" {
		return name, nil
	}
	dest, err := moveStamped(ctx, st, e, st.Join(st.ArchiveDir(), "rejected"), at)
	if err != nil {
		return "", err
	}
	text := fmt.Sprintf("%s was rejected at %s and changed nothing in the CRM.\n\n%s\n",
		excerpt(baseName(name), 256), at.UTC().Format(time.RFC3339), excerpt(reason.Error(), maxReason))
	if err := st.Put(ctx, dest+".error.txt", []byte(text)); err != nil {
		return dest, err
	}
	return dest, nil
}

// maxReason bounds the reason written beside a rejected export: the
// .error.txt lands in the ERP side's folder, and a reason may quote the
// export (or whatever a link made it read).
const maxReason = 1024

// excerpt returns at most n bytes of s, control characters but line
// ends and tabs shown as '?', and says how long s was when it is cut.
func excerpt(s string, n int) string {
	total := len(s)
	if total > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	s = strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)) {
			return '?'
		}
		return r
	}, s)
	if total > n {
		s += fmt.Sprintf("… (cut: %d bytes in all)", total)
	}
	return s
}

func moveStamped(ctx context.Context, st Store, e Entry, dir string, at time.Time) (string, error) {
	name := e.Name
	stem, ext := SplitExt(baseName(name))
	stamp := at.UTC().Format("20060102T150405Z")
	dest := st.Join(dir, stem+"."+stamp+ext)
	for i := 2; ; i++ {
		taken, err := st.Exists(ctx, dest)
		if err != nil {
			return "", fmt.Errorf("archive %s: %w", name, err)
		}
		if !taken {
			break
		}
		if i > 1000 {
			return "", fmt.Errorf("archive %s: %s is taken 1000 times over", name, dest)
		}
		dest = st.Join(dir, fmt.Sprintf("%s.%s-%d%s", stem, stamp, i, ext))
	}
	if err := st.Move(ctx, e, dest); err != nil {
		return "", err
	}
	return dest, nil
}

// SplitExt splits a file name before its extension, keeping a
// compression's inner extension with it: customers.csv.gz → customers,
// .csv.gz.
func SplitExt(name string) (stem, ext string) {
	ext = path.Ext(name)
	stem = strings.TrimSuffix(name, ext)
	if strings.EqualFold(ext, ".gz") {
		if inner := path.Ext(stem); inner != "" && len(inner) <= 5 {
			ext = inner + ext
			stem = strings.TrimSuffix(stem, inner)
		}
	}
	return stem, ext
}

func baseName(name string) string {
	return path.Base(filepath.ToSlash(name))
}
