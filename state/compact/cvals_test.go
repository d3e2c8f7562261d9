package compact

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// cNames are the field names the C function knows in these tests.
var cNames = map[string]uint64{"city": 1, "email": 2, "name": 3, "reference": 300, "": 5, "ä": 1 << 40}

// cConn is a connection whose C function knows cNames.
func cConn(tb testing.TB) *sql.Conn {
	tb.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	if err := loadCNames(ctx, conn, cNames); err != nil {
		tb.Fatal(err)
	}
	return conn
}

// cVals is erpsync_vals008c(js) on conn: nil when it declines.
func cVals(tb testing.TB, conn *sql.Conn, js []byte) []byte {
	tb.Helper()
	var out []byte
	var null sql.NullBool
	if err := conn.QueryRowContext(context.Background(), `SELECT erpsync_vals008c(CAST(? AS TEXT)), erpsync_vals008c(CAST(? AS TEXT)) IS NULL`, js, js).
		Scan(&out, &null); err != nil {
		tb.Fatal(err)
	}
	if null.Bool {
		return nil
	}
	if out == nil {
		out = []byte{}
	}
	return out
}

// goVals is fromJSON with cNames' ids, unknown names an error.
func goVals(js []byte) ([]byte, error) {
	return fromJSON(nil, js, func(name []byte) (uint64, error) {
		if id, ok := cNames[string(name)]; ok {
			return id, nil
		}
		return 0, errors.New("unknown")
	})
}

// TestCValsTakesMarshalled: the C function encodes json.Marshal's values
// of known names (the records it exists for: escapes too) as fromJSON
// does, and declines unknown names and surrogate escapes, left to Go.
func TestCValsTakesMarshalled(t *testing.T) {
	t.Parallel()
	conn := cConn(t)
	for _, tc := range []struct {
		vals  map[string]string
		taken bool
	}{
		{map[string]string{"city": "Berlin", "email": "a@example.com", "name": "Müller GmbH", "reference": "C-1"}, true},
		{map[string]string{}, true},
		{map[string]string{"": "", "ä": "ö"}, true},
		{map[string]string{"city": `a "quoted" \ city`, "name": "[{\"id\":7}]"}, true},
		{map[string]string{"city": "<b> & \u2028 \x01 \t\n", "name": "Müller & Söhne 😀"}, true}, // \u003c, \u0026, raw UTF-8
		{map[string]string{"city": "\xff"}, true},                                               // \ufffd
		{map[string]string{"street": "Hauptstraße 1"}, false},
		{map[string]string{"city": "x"}, true},
	} {
		js, _ := json.Marshal(tc.vals)
		got := cVals(t, conn, js)
		if (got != nil) != tc.taken {
			t.Errorf("%s: taken %v, want %v", js, got != nil, tc.taken)
			continue
		}
		if want, err := goVals(js); got != nil && (err != nil || !bytes.Equal(got, want)) {
			t.Errorf("%s: C %x, Go %x (%v)", js, got, want, err)
		}
	}
}

// FuzzCVals: whatever the bytes, the C function declines them or answers
// what fromJSON answers.
func FuzzCVals(f *testing.F) {
	for _, s := range []string{`{"city":"Berlin","name":"x"}`, `{}`, `{"city":"a\"b"}`, `{"city":"B",}`, `{"city" :"B"}`,
		`{"city":"B"`, `{"city":`, `{"nope":"x"}`, `{"city":"\ud83d\ude00"}`, `{"city":"\u00e4\u00C4\/\b\f\r"}`, `{"city":"\x"}`,
		`{"city":"\u12"}`, "{\"city\":\"\\n\xff\"}", "{\"city\":\"\\n\x01\"}", "{\"city\":\"\\n\xed\xa0\x80\"}", `{"city":"a\"}`, `{"ä":""}`, "{\"city\":\"\x00\xff\"}", `[]`, `{"city":"B""name":"x"}`} {
		f.Add([]byte(s))
	}
	conn := cConn(f)
	f.Fuzz(func(t *testing.T, js []byte) {
		got := cVals(t, conn, js)
		if got == nil {
			return
		}
		want, err := goVals(js)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%q: C %x, Go %x (%v)", js, got, want, err)
		}
	})
}

// TestCHashAsSQL: erpsync_hash008c answers what the SQL it replaced
// answered: 64 lowercase hex digits as their 32 bytes, anything else as
// it is, of the same type.
func TestCHashAsSQL(t *testing.T) {
	t.Parallel()
	conn := cConn(t)
	const old = `CASE WHEN length(v) = 64 AND v = lower(v) THEN coalesce(unhex(v), v) ELSE v END`
	hex := strings.Repeat("0123456789abcdef", 4)
	for _, v := range []any{hex, strings.ToUpper(hex), hex[:63], hex[:63] + "g", hex[:62] + "é", hex + "0", []byte(hex), nil, 42, "", "sha1:x"} {
		var same, sameType bool
		var typ string
		if err := conn.QueryRowContext(context.Background(), `SELECT erpsync_hash008c(?1) IS `+strings.ReplaceAll(old, "v", "?1")+
			`, typeof(erpsync_hash008c(?1)) = typeof(`+strings.ReplaceAll(old, "v", "?1")+`), typeof(erpsync_hash008c(?1))`, v).Scan(&same, &sameType, &typ); err != nil {
			t.Fatal(err)
		}
		var got []byte
		var want []byte
		if err := conn.QueryRowContext(context.Background(), `SELECT CAST(erpsync_hash008c(?1) AS BLOB), CAST(`+strings.ReplaceAll(old, "v", "?1")+` AS BLOB)`, v).
			Scan(&got, &want); err != nil {
			t.Fatal(err)
		}
		if !same || !sameType || !bytes.Equal(got, want) {
			t.Errorf("%v: C %x (%s), SQL %x", v, got, typ, want)
		}
	}
}
