package compact

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// copyConn is a connection registered with c whose old.records (in
// memory) holds vals, one record each.
func copyConn(t *testing.T, c *Copier, vals ...string) *sql.Conn {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := registerOn(conn, c); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`ATTACH DATABASE ':memory:' AS old`, `CREATE TABLE old.records (reference TEXT PRIMARY KEY, vals TEXT NOT NULL)`} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range vals {
		if _, err := conn.ExecContext(ctx, `INSERT INTO old.records VALUES (?, ?)`, string(rune('A'+i)), v); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

// fieldIDs are the field ids of an encoded value, in order.
func fieldIDs(t *testing.T, b []byte) []uint64 {
	t.Helper()
	var ids []uint64
	for len(b) > 0 {
		id, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatalf("bad encoding %x", b)
		}
		l, m := binary.Uvarint(b[n:])
		if m <= 0 || uint64(len(b[n+m:])) < l {
			t.Fatalf("bad encoding %x", b)
		}
		ids = append(ids, id)
		b = b[n+m+int(l):]
	}
	return ids
}

// TestCopyAllocFailsOnce: when alloc (the copy after the split) fails
// for a name, the copy stops on it or gives it its id on a retry: no
// record is ever written with field id 0, unreadable once installed.
func TestCopyAllocFailsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	failed := false
	c := &Copier{ids: map[string]uint64{}}
	c.alloc = func(name string) (uint64, error) {
		if !failed {
			failed = true
			return 0, errors.New("database is locked")
		}
		c.next++
		return c.next, nil
	}
	conn := copyConn(t, c, `{"city":"Berlin","name":"A"}`, `{"city":"Bonn","name":"B"}`)
	for try := 0; try < 2; try++ {
		if err := c.prime(ctx, conn, ""); err != nil {
			continue // stopped: the migration fails, the retry reads again
		}
		rows, err := conn.QueryContext(ctx, `SELECT coalesce(erpsync_vals008c(vals), erpsync_vals008(vals)) FROM old.records ORDER BY reference`)
		if err != nil {
			continue
		}
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			for _, id := range fieldIDs(t, b) {
				if id == 0 {
					t.Errorf("try %d: a record copied with field id 0: %x", try, b)
				}
			}
		}
		rows.Close()
	}
	if !failed {
		t.Fatal("alloc never failed")
	}
}

// TestCValsBigValueUnderHeapLimit: a value the C function cannot find
// room for is declined (Go encodes it), not an "out of memory" that
// fails every retry of the batch. Not parallel: the heap limit is the
// process's.
func TestCValsBigValueUnderHeapLimit(t *testing.T) {
	ctx := context.Background()
	c := &Copier{ids: map[string]uint64{"city": 1}}
	conn := copyConn(t, c)
	if err := loadCNames(ctx, conn, c.ids); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA hard_heap_limit = 60000000`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := conn.ExecContext(ctx, `PRAGMA hard_heap_limit = 0`); err != nil {
			t.Error(err)
		}
	})
	js := []byte(`{"city":"` + strings.Repeat("x", 12<<20) + `"}`)
	var got []byte
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(erpsync_vals008c(CAST(?1 AS TEXT)), erpsync_vals008(CAST(?1 AS TEXT)))`, js).Scan(&got); err != nil {
		t.Fatalf("copy of a 12 MiB value under a 60 MB heap limit: %v", err)
	}
	want, err := fromJSON(nil, js, func([]byte) (uint64, error) { return 1, nil })
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got %d bytes, want Go's %d", len(got), len(want))
	}
}

// TestCValsDirectOnly: the C functions that keep the connection's state
// answer top-level SQL only, not a view's or a trigger's (the
// checkpoint's, untrusted, are copied into the new file).
func TestCValsDirectOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := copyConn(t, &Copier{})
	for name, view := range map[string]string{
		"erpsync_field008": `SELECT erpsync_field008(7, 'x')`,
		"erpsync_vals008c": `SELECT erpsync_vals008c('{}')`,
	} {
		if _, err := conn.ExecContext(ctx, `CREATE VIEW old.v_`+name+` AS `+view); err != nil {
			t.Fatal(err)
		}
		var v any
		err := conn.QueryRowContext(ctx, `SELECT * FROM old.v_`+name).Scan(&v)
		if err == nil || !strings.Contains(err.Error(), "unsafe use") {
			t.Errorf("%s in a view: %v, want unsafe use", name, err)
		}
		if _, err := conn.ExecContext(ctx, view); err != nil {
			t.Errorf("%s at top level: %v", name, err)
		}
	}
}
