package sqlite_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"erpsync/state"
)

// TestDB_HashHeads streams the checkpoint as HashSumsBetween does, each
// hash's head only: the first 8 bytes of a stored sha256, the first 16
// characters of a hash kept as text; an error of fn is returned as it is.
func TestDB_HashHeads(t *testing.T) {
	t.Parallel() // its own checkpoint file; it shares nothing
	db := MustOpenDB(t)
	sha := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	outs := []state.Outcome{upsert("B", sha, nil), upsert("A", "h1", nil), upsert("C", strings.ToUpper(sha), nil)}
	outs[0].RowSum, outs[2].RowSum = 7, 1<<63+5
	MustWrite(t, db, outs...)
	var got []string
	err := db.HashHeads(ctx, func(ref string, head []byte, raw bool, sum uint64) error {
		h := string(head)
		if raw {
			h = "raw:" + hex.EncodeToString(head)
		}
		got = append(got, fmt.Sprintf("%s %s %d", ref, h, sum))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A h1 0", "B raw:" + sha[:16] + " 7", "C " + strings.ToUpper(sha)[:16] + " " + fmt.Sprint(uint64(1<<63+5))}
	if !slices.Equal(got, want) {
		t.Errorf("heads %q, want %q", got, want)
	}
	stop := errors.New("stop")
	calls := 0
	if err := db.HashHeads(ctx, func(string, []byte, bool, uint64) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("fn failing: %v after %d calls, want it as it is after 1", err, calls)
	}
}
