package inbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/inbox"
	"erpsync/sync/source"
	"erpsync/sync/source/sourcetest"
)

// sftpInboxWith is sftpInbox with the mapping's settings tuned.
func sftpInboxWith(t *testing.T, tune func(*source.Settings)) (remoteInbox, *sourcetest.SFTPServer) {
	t.Helper()
	srv := sourcetest.NewSFTPServer(t)
	cfg := source.DefaultSettings()
	cfg.ArchiveDir = filepath.Join(srv.Root, "archive")
	cfg.SFTP = source.SFTPConfig{PasswordEnv: "PW", KnownHosts: srv.KnownHosts(t, srv.HostKey)}
	if tune != nil {
		tune(&cfg)
	}
	getenv := func(string) string { return sourcetest.Password }
	st, err := source.Open(context.Background(), srv.URL(srv.Root+"/inbox/*.csv"), cfg, source.Options{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return fileInbox(st, srv.Root), srv
}

// rejectInbox is an inbox over r whose spool does not pause between tries.
func rejectInbox(t *testing.T, r remoteInbox, syncedLast func(context.Context, string, string) (bool, error)) *inbox.Inbox {
	t.Helper()
	spool, err := source.NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	spool.Wait = func(int) time.Duration { return 0 }
	if syncedLast == nil {
		syncedLast = func(context.Context, string, string) (bool, error) { return false, nil }
	}
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	return &inbox.Inbox{Store: r.store, Spool: spool, Now: func() time.Time { return at }, SyncedLast: syncedLast}
}

// nextRejected calls Next once and returns the file it rejected: no
// export handed out, no error, one Skipped with Rejected set.
func nextRejected(t *testing.T, in *inbox.Inbox, name string) inbox.Skipped {
	t.Helper()
	exp, skipped, err := in.Next(context.Background())
	if err != nil || exp != nil {
		t.Fatalf("Next = %+v, %+v, %v; want %s rejected, no error (the worker must not be stuck on it)", exp, skipped, err, name)
	}
	for _, s := range skipped {
		if strings.HasSuffix(s.Path, "/"+name) && s.Rejected != nil {
			return s
		}
	}
	t.Fatalf("passed over %+v; want %s rejected", skipped, name)
	return inbox.Skipped{}
}

// Issue 26 follow-up §1: a file that cannot be copied, and never will be
// as it is (a link swapped in, a file listed over source.max_bytes, one
// that serves more than its listing), is rejected without a run: moved
// to archive_dir/rejected beside its .error.txt, and the next export is
// taken at the next pass. A transient failure (a cut transfer) is not:
// it stays in the inbox, and Next says it failed, as before.
func TestInbox_RejectsWhatItCannotCopy(t *testing.T) {
	t.Run("sftp over max_bytes", func(t *testing.T) {
		r, _ := sftpInboxWith(t, func(c *source.Settings) { c.MaxBytes = 100 })
		in := rejectInbox(t, r, nil)
		r.put(t, "big.csv", "reference,name\n"+strings.Repeat("C1,One\n", 50))
		s := nextRejected(t, in, "big.csv")
		if !strings.Contains(s.Rejected.Error(), "max_bytes") {
			t.Errorf("rejected because %v, want max_bytes named", s.Rejected)
		}
		checkRejectedFile(t, r, "big", "max_bytes")
		r.put(t, "day2.csv", "reference,name\nC1,Two\n")
		mustNext(t, in, "day2.csv", "sftp")
	})
	t.Run("sftp over max_bytes, no archive_dir", func(t *testing.T) {
		r, _ := sftpInboxWith(t, func(c *source.Settings) { c.MaxBytes = 100; c.ArchiveDir = "" })
		in := rejectInbox(t, r, nil)
		r.put(t, "big.csv", "reference,name\n"+strings.Repeat("C1,One\n", 50))
		nextRejected(t, in, "big.csv")
		// Left in place: passed over at the next passes, not rejected again.
		exp, skipped, err := in.Next(context.Background())
		if err != nil || exp != nil || len(skipped) != 1 || skipped[0].Rejected != nil || skipped[0].Err != nil {
			t.Fatalf("second pass: %+v, %+v, %v; want big.csv passed over, quietly", exp, skipped, err)
		}
		r.put(t, "day2.csv", "reference,name\nC1,Two\n")
		mustNext(t, in, "day2.csv", "sftp")
	})
	t.Run("s3 longer than listed", func(t *testing.T) {
		srv := sourcetest.NewS3Server(t, "erp")
		cfg := source.DefaultSettings()
		cfg.ArchiveDir = "s3://erp/archive"
		cfg.S3.Endpoint = srv.URL
		st, err := source.Open(context.Background(), "s3://erp/inbox/*.csv", cfg, source.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		r := remoteInbox{store: st,
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
		in := rejectInbox(t, r, nil)
		r.put(t, "grow.csv", "reference,name\nC1,One\n")
		srv.SetBody("erp", "inbox/grow.csv", sourcetest.Endless)
		s := nextRejected(t, in, "grow.csv")
		if !strings.Contains(s.Rejected.Error(), "longer than") {
			t.Errorf("rejected because %v, want the copy refused as longer than its listing", s.Rejected)
		}
		checkRejectedFile(t, r, "grow", "longer than")
		r.put(t, "day2.csv", "reference,name\nC1,Two\n")
		mustNext(t, in, "day2.csv", "s3")
	})
	t.Run("sftp link swapped in after the listing", func(t *testing.T) {
		r, srv := sftpInboxWith(t, nil)
		const secret = "CRM_TOKEN=do-not-read-me"
		target := filepath.Join(srv.Root, "environ")
		if err := os.WriteFile(target, []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(srv.Root, "inbox", "day1.csv")
		swap := false
		in := rejectInbox(t, r, func(context.Context, string, string) (bool, error) {
			if swap { // between the listing and the copy
				swap = false
				if err := os.Remove(file); err != nil {
					return false, err
				}
				return false, os.Symlink(target, file)
			}
			return false, nil
		})
		r.put(t, "day1.csv", "reference,name\nC1,One\n")
		mustNext(t, in, "day1.csv", "sftp") // its run failed: left in the inbox
		swap = true
		s := nextRejected(t, in, "day1.csv")
		if !strings.Contains(s.Rejected.Error(), "symbolic link") || strings.Contains(s.Rejected.Error(), secret) {
			t.Errorf("rejected because %v, want the link named, not what it points at", s.Rejected)
		}
		r.put(t, "day2.csv", "reference,name\nC1,Two\n")
		mustNext(t, in, "day2.csv", "sftp")
	})
	t.Run("sftp cut: retried, not rejected", func(t *testing.T) {
		r, srv := sftpInboxWith(t, nil)
		in := rejectInbox(t, r, nil)
		r.put(t, "big.csv", "reference,name\n"+strings.Repeat("C1,One\n", 20_000))
		srv.CutAfter(40_000, 1000)
		exp, skipped, err := in.Next(context.Background())
		var fe *inbox.FetchError
		if exp != nil || !errors.As(err, &fe) {
			t.Fatalf("Next = %+v, %+v, %v; want a FetchError", exp, skipped, err)
		}
		for _, s := range skipped {
			if s.Rejected != nil {
				t.Errorf("a transient failure was rejected: %+v", s)
			}
		}
		if got := r.list(t, "inbox"); len(got) != 1 {
			t.Errorf("inbox = %v, want big.csv left for the next tick", got)
		}
		if got := r.list(t, "archive/rejected"); len(got) != 0 {
			t.Errorf("rejected = %v, want nothing", got)
		}
	})
}

// checkRejectedFile checks that the inbox is empty and that
// archive/rejected holds stem's file and its .error.txt saying why.
func checkRejectedFile(t *testing.T, r remoteInbox, stem, why string) {
	t.Helper()
	if got := r.list(t, "inbox"); len(got) != 0 {
		t.Errorf("inbox = %v, want the file moved away", got)
	}
	got := r.list(t, "archive/rejected")
	want := []string{stem + ".20260302T020000Z.csv", stem + ".20260302T020000Z.csv.error.txt"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("rejected = %v, want %v", got, want)
	}
	if txt := r.read(t, "archive/rejected", want[1]); !strings.Contains(txt, why) {
		t.Errorf(".error.txt = %q, want %q in it", txt, why)
	}
}
