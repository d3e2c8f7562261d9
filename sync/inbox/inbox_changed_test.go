package inbox_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"erpsync/sync/inbox"
	"erpsync/sync/source"
)

// localInbox is a local folder set up as the remote ones are.
func localInbox(t *testing.T) remoteInbox {
	root := t.TempDir()
	cfg := source.DefaultSettings()
	cfg.ArchiveDir = filepath.Join(root, "archive")
	st, err := source.Open(context.Background(), filepath.Join(root, "inbox", "*.csv"), cfg, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return fileInbox(st, root)
}

// Guarantee: the file archived (or rejected) is the one synced. When the
// ERP writes a new version under the same name while the run reads the
// one taken, the move leaves the new version in the inbox (the error
// says it changed), and the next pass takes it as a new export.
func TestInbox_ChangedSinceTakenStays(t *testing.T) {
	setups := map[string]func(*testing.T) remoteInbox{"local": localInbox, "sftp": sftpInbox}
	for _, kind := range []string{"local", "sftp"} {
		for _, move := range []string{"archive", "reject"} {
			t.Run(kind+"/"+move, func(t *testing.T) {
				r := setups[kind](t)
				at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
				spool, err := source.NewSpool(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				in := &inbox.Inbox{Store: r.store, Spool: spool, Now: func() time.Time { return at },
					SyncedLast: func(context.Context, string, string) (bool, error) { return false, nil }}
				r.put(t, "customers.csv", "reference,name\nC1,One\n")
				exp := mustNext(t, in, "customers.csv", kind)

				const second = "reference,name\nC1,One\nC2,Two\n"
				r.put(t, "customers.csv", second) // the ERP's next export, same name
				if err := moveExport(in, move, exp.Path, at); !errors.Is(err, source.ErrChanged) {
					t.Fatalf("%s of a file rewritten since it was taken: %v, want source.ErrChanged", move, err)
				}
				if got := r.read(t, "inbox", "customers.csv"); got != second {
					t.Fatalf("inbox holds %q, want the new version %q", got, second)
				}
				if got := append(r.list(t, "archive"), r.list(t, "archive/rejected")...); len(got) != 0 {
					t.Errorf("archive holds %v, want nothing moved", got)
				}

				next := mustNext(t, in, "customers.csv", kind)
				if next.SHA256 == exp.SHA256 {
					t.Fatalf("the next pass handed out the old version again (sha256 %s)", next.SHA256)
				}
				if err := moveExport(in, move, next.Path, at); err != nil {
					t.Fatalf("%s of the unchanged new version: %v", move, err)
				}
				if got := r.list(t, "inbox"); len(got) != 0 {
					t.Errorf("inbox still holds %v", got)
				}
				dir := map[string]string{"archive": "archive", "reject": "archive/rejected"}[move]
				if got := r.list(t, dir); !slices.Contains(got, "customers.20260302T020000Z.csv") ||
					r.read(t, dir, "customers.20260302T020000Z.csv") != second {
					t.Errorf("%s holds %v, want the new version moved there", dir, got)
				}
			})
		}
	}
}

func moveExport(in *inbox.Inbox, move, path string, at time.Time) error {
	var err error
	if move == "archive" {
		_, err = in.Archive(path, at)
	} else {
		_, err = in.Reject(path, errors.New("no header"), at)
	}
	return err
}
