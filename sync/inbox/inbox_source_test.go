package inbox_test

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"erpsync/sync/inbox"
	"erpsync/sync/source"
	"erpsync/sync/source/sourcetest"
)

// remoteInbox is one kind of remote source set up for the inbox test.
type remoteInbox struct {
	store source.Store
	put   func(t *testing.T, name, content string)    // a new file in the inbox, newer than the last
	list  func(t *testing.T, dir string) []string     // the names in a folder of the source
	read  func(t *testing.T, dir, name string) string // a file's content
}

func sftpInbox(t *testing.T) remoteInbox {
	srv := sourcetest.NewSFTPServer(t)
	root := srv.Root
	cfg := source.DefaultSettings()
	cfg.ArchiveDir = filepath.Join(root, "archive")
	cfg.SFTP = source.SFTPConfig{PasswordEnv: "PW", KnownHosts: srv.KnownHosts(t, srv.HostKey)}
	getenv := func(string) string { return sourcetest.Password }
	st, err := source.Open(context.Background(), srv.URL(root+"/inbox/*.csv"), cfg, source.Options{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return fileInbox(st, root)
}

func s3Inbox(t *testing.T) remoteInbox {
	srv := sourcetest.NewS3Server(t, "erp")
	cfg := source.DefaultSettings()
	cfg.ArchiveDir = "s3://erp/archive"
	cfg.S3.Endpoint = srv.URL
	st, err := source.Open(context.Background(), "s3://erp/inbox/*.csv", cfg, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return remoteInbox{store: st,
		put: func(t *testing.T, name, content string) { srv.Put(t, "erp", "inbox/"+name, []byte(content)) },
		list: func(t *testing.T, dir string) []string {
			var names []string
			for _, k := range srv.Keys(t, "erp", dir+"/") {
				if rest := strings.TrimPrefix(k, dir+"/"); !strings.Contains(rest, "/") {
					names = append(names, rest)
				}
			}
			return names
		},
		read: func(t *testing.T, dir, name string) string { return string(srv.Get(t, "erp", dir+"/"+name)) },
	}
}

// Guarantee: serve's inbox rules hold on SFTP and S3 as on a local
// folder: the newest taken, a synced export archived on the source, an
// unusable one rejected there with its .error.txt, the same content
// again skipped, and no copy left in the spool.
func TestInbox_RemoteArchiveReject(t *testing.T) {
	for name, setup := range map[string]func(*testing.T) remoteInbox{"sftp": sftpInbox, "s3": s3Inbox} {
		t.Run(name, func(t *testing.T) {
			r := setup(t)
			at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
			var last string // the source and sha256 of the export synced last
			spool, err := source.NewSpool(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			in := &inbox.Inbox{Store: r.store, Spool: spool, Now: func() time.Time { return at },
				SyncedLast: func(_ context.Context, src, sha string) (bool, error) { return src+" "+sha == last, nil }}
			r.put(t, "day1.csv", "reference,name\nC1,One\n")

			exp := mustNext(t, in, "day1.csv", name)
			last = exp.Source + " " + exp.SHA256
			if _, err := in.Archive(exp.Path, at); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(exp.Path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the spool copy %s outlived its archive", exp.Path)
			}
			r.put(t, "garbage.csv", "\x00\x01 not an export")
			exp = mustNext(t, in, "garbage.csv", name)
			if _, err := in.Reject(exp.Path, errors.New("no header"), at); err != nil {
				t.Fatal(err)
			}

			// The same file again (name and content) after it was synced
			// last: skipped and archived, nothing handed out.
			r.put(t, "day1.csv", "reference,name\nC1,One\n")
			exp, skipped, err := in.Next(context.Background())
			if err != nil || exp != nil || len(skipped) != 1 || !skipped[0].Synced || !strings.Contains(skipped[0].Reason, "already synced") {
				t.Fatalf("second pass: %+v, %+v, %v; want day1.csv skipped as already synced", exp, skipped, err)
			}

			if got := r.list(t, "inbox"); len(got) != 0 {
				t.Errorf("inbox still holds %v", got)
			}
			want := []string{"day1.20260302T020000Z-2.csv", "day1.20260302T020000Z.csv"}
			if got := r.list(t, "archive"); !slices.Equal(got, want) {
				t.Errorf("archive = %v, want %v", got, want)
			}
			rejected := []string{"garbage.20260302T020000Z.csv", "garbage.20260302T020000Z.csv.error.txt"}
			if got := r.list(t, "archive/rejected"); !slices.Equal(got, rejected) {
				t.Errorf("rejected = %v, want %v", got, rejected)
			}
			if txt := r.read(t, "archive/rejected", rejected[1]); !strings.Contains(txt, "no header") {
				t.Errorf(".error.txt = %q, want the reason", txt)
			}
			if left := spoolFiles(t, spool.Dir()); len(left) != 0 {
				t.Errorf("spool holds %v", left)
			}
		})
	}
}

func mustNext(t *testing.T, in *inbox.Inbox, want, kind string) *inbox.Export {
	t.Helper()
	exp, skipped, err := in.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A remote copy's name in the spool is a hash of the file's (with its
	// extension): the file taken is told by its Source.
	if exp == nil || path.Base(exp.Source) != want || filepath.Ext(exp.Path) != filepath.Ext(want) || exp.Kind != kind {
		t.Fatalf("took %+v (passed over %+v), want %s from %s", exp, skipped, want, kind)
	}
	if !strings.HasSuffix(exp.Source, "/inbox/"+want) {
		t.Errorf("source %q does not name inbox/%s", exp.Source, want)
	}
	return exp
}

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	return files
}

// fileInbox is a remoteInbox over store whose files are those of the
// folder root on this machine (a local inbox, or the SFTP test server's).
func fileInbox(store source.Store, root string) remoteInbox {
	mod := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	return remoteInbox{store: store,
		put: func(t *testing.T, name, content string) {
			p := filepath.Join(root, "inbox", name)
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			mod = mod.Add(time.Minute)
			_ = os.Chtimes(p, mod, mod)
		},
		list: func(t *testing.T, dir string) []string {
			ents, _ := os.ReadDir(filepath.Join(root, dir))
			var names []string
			for _, e := range ents {
				if !e.IsDir() {
					names = append(names, e.Name())
				}
			}
			return names
		},
		read: func(t *testing.T, dir, name string) string {
			b, _ := os.ReadFile(filepath.Join(root, dir, name))
			return string(b)
		},
	}
}

// Guarantee (issue 21 §15): on SFTP and S3 as on a local folder, the
// newest settled export is taken and the older ones are archived as
// superseded (archive_dir/superseded/) once it is held or its run went
// through (TestInbox_SupersedesOnlyAfterNewestWentThrough); an export stopped by a guard is
// held in archive_dir/held/ beside its .held.txt, recorded in the
// ledger, and not handed out again.
func TestInbox_RemoteSupersedeAndHold(t *testing.T) {
	for name, setup := range map[string]func(*testing.T) remoteInbox{"sftp": sftpInbox, "s3": s3Inbox} {
		t.Run(name, func(t *testing.T) {
			r := setup(t)
			at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
			spool, err := source.NewSpool(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ledger := &inbox.Ledger{Path: filepath.Join(t.TempDir(), "erpsync.db.serve.json")}
			in := &inbox.Inbox{Store: r.store, Spool: spool, Now: func() time.Time { return at }, Ledger: ledger,
				SyncedLast: func(context.Context, string, string) (bool, error) { return false, nil }}
			r.put(t, "day1.csv", "reference,name\nC1,One\n")
			r.put(t, "day2.csv", "reference,name\nC1,Two\n")
			exp := mustNext(t, in, "day2.csv", name)
			if got := r.list(t, "archive/superseded"); len(got) != 0 {
				t.Errorf("superseded = %v before day2's run ended, want nothing", got)
			}
			if _, err := in.Hold(exp, errors.New("max_delete: too many"), at); err != nil {
				t.Fatal(err)
			}
			if got := r.list(t, "archive/superseded"); !slices.Equal(got, []string{"day1.20260302T020000Z.csv"}) {
				t.Errorf("superseded = %v, want day1's once day2 is held", got)
			}
			held := []string{"day2.20260302T020000Z.csv", "day2.20260302T020000Z.csv.held.txt"}
			if got := r.list(t, "archive/held"); !slices.Equal(got, held) {
				t.Errorf("held = %v, want %v", got, held)
			}
			if txt := r.read(t, "archive/held", held[1]); !strings.Contains(txt, "max_delete: too many") {
				t.Errorf(".held.txt = %q, want the reason", txt)
			}
			if exp, skipped, err := in.Next(context.Background()); exp != nil || err != nil {
				t.Errorf("after the hold: %+v, %+v, %v; want nothing to take", exp, skipped, err)
			}
			recs, err := ledger.Held()
			if err != nil || len(recs) != 1 || recs[0].Source != exp.Source || recs[0].SHA256 != exp.SHA256 ||
				!strings.HasSuffix(recs[0].MovedTo, held[0]) {
				t.Errorf("ledger = %+v, %v; want day2 held at %s", recs, err, held[0])
			}
			if left := spoolFiles(t, spool.Dir()); len(left) != 0 {
				t.Errorf("spool holds %v", left)
			}
		})
	}
}
