package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
)

func TestDB_Open(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	t.Run("creates the file with mode 0600", func(t *testing.T) {
		db := MustCreateDB(t)
		st, err := os.Stat(db.Path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != 0o600 {
			t.Errorf("mode = %v, want 0600", got)
		}
	})

	t.Run("WAL, foreign keys and the application id", func(t *testing.T) {
		db := MustCreateDB(t)
		raw := rawDB(t, db.Path)
		var mode string
		var id int64
		if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := raw.QueryRow(`PRAGMA application_id`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "journal_mode", mode, "wal")
		mustEqual(t, "application_id", id, int64(sqlite.ApplicationID))
	})

	t.Run("migrations are applied once", func(t *testing.T) {
		db := MustCreateDB(t)
		want, err := filepath.Glob("migrations/*.sql")
		if err != nil || len(want) == 0 {
			t.Fatalf("migrations: %v %v", want, err)
		}
		applied := func() []string {
			t.Helper()
			rows, err := rawDB(t, db.Path).Query(`SELECT name || '@' || applied FROM migrations ORDER BY name`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var s string
				rows.Scan(&s)
				out = append(out, s)
			}
			return out
		}
		first := applied()
		if len(first) != len(want) {
			t.Fatalf("applied %v, want one row for each of %v", first, want)
		}
		for i, name := range want {
			if !strings.HasPrefix(first[i], name+"@") {
				t.Errorf("migration %d = %s, want %s", i, first[i], name)
			}
		}
		// A later clock would show in a migration applied again.
		db.Now = func() time.Time { return fixedNow.Add(time.Hour) }
		MustReopenDB(t, db)
		if again := applied(); strings.Join(again, ",") != strings.Join(first, ",") {
			t.Errorf("after reopen: %v, want %v", again, first)
		}
	})

	t.Run("a checkpoint of the first schema is brought up to date", func(t *testing.T) {
		// As the first erpsync wrote it: 001 applied, recorded by its path.
		path := filepath.Join(t.TempDir(), "old.db")
		first, err := os.ReadFile("migrations/001_initial.sql")
		if err != nil {
			t.Fatal(err)
		}
		raw := rawDB(t, path)
		for _, s := range []string{
			"PRAGMA application_id = " + strconv.Itoa(sqlite.ApplicationID),
			"CREATE TABLE migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)",
			string(first),
			"INSERT INTO migrations VALUES ('migrations/001_initial.sql', 1)",
			"INSERT INTO records (reference, hash, vals, pushed_at) VALUES ('OLD', 'h', '{\"name\":\"old\"}', 1)",
		} {
			if _, err := raw.Exec(s); err != nil {
				t.Fatal(err)
			}
		}
		raw.Close()
		db := sqlite.NewDB(path)
		if err := db.Open(ctx); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var hashes []string
		if err := db.Hashes(ctx, func(ref, hash string) error { hashes = append(hashes, ref+"="+hash); return nil }); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "hashes", strings.Join(hashes, ","), "OLD=h")
		var n int
		if err := rawDB(t, path).QueryRow(`SELECT count(*) FROM migrations WHERE name = 'migrations/001_initial.sql'`).Scan(&n); err != nil || n != 1 {
			t.Errorf("001 recorded %d times, %v", n, err)
		}
	})

	t.Run("reopen keeps the data", func(t *testing.T) {
		db := MustOpenDB(t)
		MustWrite(t, db, upsert("A", "h1", map[string]string{"name": "Ä"}))
		if err := db.SetFingerprint(ctx, "fp"); err != nil {
			t.Fatal(err)
		}
		db = MustReopenDB(t, db)
		r, err := db.Get(ctx, "A")
		if err != nil || r == nil {
			t.Fatalf("Get = %v, %v", r, err)
		}
		mustEqual(t, "values", r.Values["name"], "Ä")
		fp, _ := db.Fingerprint(ctx)
		mustEqual(t, "fingerprint", fp, "fp")
	})

	t.Run("an existing empty file is a new checkpoint", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "empty.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		db := sqlite.NewDB(path)
		if err := db.Open(ctx); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if n, err := db.Count(ctx); err != nil || n != 0 {
			t.Errorf("Count = %d, %v", n, err)
		}
	})

	t.Run("a missing folder is an error, not a panic", func(t *testing.T) {
		db := sqlite.NewDB(filepath.Join(t.TempDir(), "no", "such", "erpsync.db"))
		if err := db.Open(ctx); err == nil {
			db.Close()
			t.Fatal("Open succeeded")
		}
	})

	t.Run("a nil clock is time.Now", func(t *testing.T) {
		db := &sqlite.DB{Path: filepath.Join(t.TempDir(), "erpsync.db")}
		if err := db.Open(ctx); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		before := time.Now().Add(-time.Second)
		id, err := db.StartRun(ctx, "run", "f.csv", "sha")
		if err != nil {
			t.Fatal(err)
		}
		runs, _ := db.Runs(ctx, 1)
		if len(runs) != 1 || runs[0].ID != id || runs[0].Started.Before(before) {
			t.Errorf("runs = %+v", runs)
		}
	})
}

// TestDB_Open_Unusable: every file that is not a sound checkpoint of this
// erpsync is refused with an *UnusableError, and left byte for byte.
func TestDB_Open_Unusable(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	foreign := func(name, setup string) string {
		path := filepath.Join(dir, name)
		raw := rawDB(t, path)
		if _, err := raw.Exec(setup); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		return path
	}
	// ours returns a checkpoint with a few records, closed.
	ours := func(name string) string {
		db := sqlite.NewDB(filepath.Join(dir, name))
		db.Now = func() time.Time { return fixedNow }
		if err := os.Rename(newFile(t), db.Path); err != nil {
			t.Fatal(err)
		}
		if err := db.Open(ctx); err != nil {
			t.Fatal(err)
		}
		var outs []state.Outcome
		for i := range 2000 {
			outs = append(outs, upsert(strings.Repeat("R", 1+i%50)+string(rune('a'+i%26))+strings.Repeat("x", i%7)+string(rune('0'+i%10))+string(rune('A'+i/100)), "h", map[string]string{"name": strings.Repeat("n", 200)}))
		}
		MustWrite(t, db, outs...)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return db.Path
	}
	ruin := func(path string, from, to int) string {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if to < 0 {
			to = len(data) + to
		}
		for i := from; i < to; i++ {
			data[i] = 0xA5
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	newer := func(name string) string {
		path := ours(name)
		raw := rawDB(t, path)
		if _, err := raw.Exec(`INSERT INTO migrations (name, applied) VALUES ('999_from_the_future.sql', 1)`); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		return path
	}

	for _, tc := range []struct {
		name   string
		path   string
		reason string
	}{
		{"another program's SQLite", foreign("notes.db", `CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('keep me')`), "another program"},
		{"SQLite with another application_id", foreign("app.db", `PRAGMA application_id = 1234; CREATE TABLE t (x)`), "another program"},
		{"SQLite in WAL mode of another program", foreign("wal.db", `PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1)`), "another program"},
		{"text", write("garbage.db", bytes.Repeat([]byte("not a database "), 100)), "not a SQLite database"},
		{"a few bytes", write("short.db", []byte("SQLite")), "not a SQLite database"},
		{"a SQLite header and garbage", write("header.db", append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{0xA5}, 4096)...)), ""},
		{"corrupt schema page", ruin(ours("schema.db"), 100, 4096), ""},
		{"corrupt data pages", ruin(ours("data.db"), 4096*3, -4096), "corrupt"},
		{"a newer schema", newer("newer.db"), "newer"},
		{"a directory", dir, "directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, tc.path)
			db := sqlite.NewDB(tc.path)
			err := db.Open(ctx)
			var ue *state.UnusableError
			if !errors.As(err, &ue) {
				db.Close()
				t.Fatalf("err = %v, want an *UnusableError", err)
			}
			mustEqual(t, "path", ue.Path, tc.path)
			if !strings.Contains(ue.Reason, tc.reason) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %q, want the path and %q", err, tc.reason)
			}
			if after := snapshot(t, tc.path); after != before {
				t.Errorf("the file was changed: %s, was %s", after, before)
			}
			if err := db.Close(); err != nil {
				t.Errorf("Close after a failed Open: %v", err)
			}
		})
	}

	t.Run("corrupt data pages, the check deferred to Verify", func(t *testing.T) {
		path := ruin(ours("deferred.db"), 16384*4, -16384) // records, past the schema page
		before := snapshot(t, path)
		db := sqlite.NewDB(path)
		db.DeferCheck = true
		if err := db.Open(ctx); err != nil {
			t.Fatalf("Open: %v; the page check was to wait for Verify", err)
		}
		defer db.Close()
		var ue *state.UnusableError
		for range 2 { // the finding is kept
			if err := db.Verify(ctx); !errors.As(err, &ue) || !strings.Contains(ue.Reason, "corrupt") {
				t.Fatalf("Verify = %v, want an *UnusableError saying corrupt", err)
			}
		}
		if after := snapshot(t, path); after != before {
			t.Errorf("the file was changed: %s, was %s", after, before)
		}
	})
	t.Run("a sound file, the check deferred to Verify", func(t *testing.T) {
		db := sqlite.NewDB(ours("sound.db"))
		db.DeferCheck = true
		if err := db.Open(ctx); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		var ue *state.UnusableError
		if err := db.Verify(cancelled); err == nil || errors.As(err, &ue) {
			t.Errorf("Verify, interrupted = %v, want an error that is not damage", err)
		}
		if err := db.Verify(ctx); err != nil { // an interrupted check is not kept
			t.Errorf("Verify of a sound file: %v", err)
		}
	})
}

// snapshot is a file's mode and bytes, as a string to compare.
func snapshot(t *testing.T, path string) string {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.IsDir() {
		return st.Mode().String()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().String() + " " + string(data)
}
