package inbox_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"erpsync/sync/inbox"
	"erpsync/sync/source"
	"erpsync/sync/source/sourcetest"
)

// Guarantee: a remote file hashed before, whose size and modification
// time are unchanged, is not copied again to know it is the export
// synced last (without an archive, the newest export stays on the server
// and is seen at every tick). The proof: its bytes are swapped behind the
// inbox's back, same size and time, and it is still passed over; touched,
// it is copied and handed out.
func TestInbox_KnownRemoteFileNotCopiedAgain(t *testing.T) {
	srv := sourcetest.NewSFTPServer(t)
	cfg := source.DefaultSettings()
	cfg.SFTP = source.SFTPConfig{PasswordEnv: "PW", KnownHosts: srv.KnownHosts(t, srv.HostKey)}
	st, err := source.Open(context.Background(), srv.URL(srv.Root+"/*.csv"), cfg,
		source.Options{Getenv: func(string) string { return sourcetest.Password }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	path := filepath.Join(srv.Root, "customers.csv")
	mod := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	write := func(content string, mod time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	var last string
	in := &inbox.Inbox{Store: st, Now: func() time.Time { return mod.Add(time.Hour) },
		SyncedLast: func(_ context.Context, src, sha string) (bool, error) { return src+" "+sha == last, nil }}
	t.Cleanup(func() { in.Close() })
	next := func() *inbox.Export {
		t.Helper()
		exp, _, err := in.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return exp
	}

	write("reference,name\nC1,One\n", mod)
	exp := next()
	if exp == nil {
		t.Fatal("the export was not taken")
	}
	last = exp.Source + " " + exp.SHA256
	if exp := next(); exp != nil {
		t.Fatalf("the export synced last was taken again: %+v", exp)
	}
	write("reference,name\nC2,Two\n", mod) // same size, same time
	if exp := next(); exp != nil {
		t.Fatalf("a file unchanged in size and time was copied again (its new bytes were seen): %+v", exp)
	}
	write("reference,name\nC2,Two\n", mod.Add(time.Minute)) // touched
	if exp := next(); exp == nil || exp.SHA256 == "" || exp.Source+" "+exp.SHA256 == last {
		t.Fatalf("a touched file with other bytes was not taken: %+v", exp)
	}
}
