package inbox_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"

	"erpsync/sync/inbox"
)

func TestInboxLedger_HoldsAndAttempts(t *testing.T) {
	l := &inbox.Ledger{Path: inbox.LedgerPath(filepath.Join(t.TempDir(), "erpsync.db"))}
	if held, err := l.Held(); err != nil || len(held) != 0 {
		t.Fatalf("a missing ledger: %v, %v; want nothing held", held, err)
	}
	// Updates from several writers at once are serialized: none is lost.
	var wg gosync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := l.Hold(inbox.Held{Source: fmt.Sprintf("inbox/x%02d.csv", i), Reason: "max_delete"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if held, err := l.Held(); err != nil || len(held) != 20 {
		t.Fatalf("%d held, %v; want 20", len(held), err)
	}
	released, err := l.Release(func(h inbox.Held) bool { return h.Source == "inbox/x07.csv" })
	if err != nil || len(released) != 1 || released[0].Source != "inbox/x07.csv" {
		t.Fatalf("released %+v, %v; want x07 alone", released, err)
	}
	if held, _ := l.Held(); len(held) != 19 {
		t.Errorf("%d held after one release, want 19", len(held))
	}

	for want := range 3 {
		if earlier, err := l.Begin("inbox/bomb.csv", "abc"); err != nil || earlier != want {
			t.Fatalf("begin %d: %d earlier starts, %v", want+1, earlier, err)
		}
	}
	if n, _ := l.Unfinished("inbox/bomb.csv", "abc"); n != 3 {
		t.Errorf("unfinished = %d, want 3", n)
	}
	if n, _ := l.Unfinished("inbox/bomb.csv", "other bytes"); n != 0 {
		t.Errorf("unfinished of other bytes under the name = %d, want 0", n)
	}
	if earlier, _ := l.Begin("inbox/next.csv", "def"); earlier != 0 {
		t.Errorf("another export starts with %d earlier starts, want 0", earlier)
	}
	if err := l.End(); err != nil {
		t.Fatal(err)
	}
	if a, err := l.Attempt(); err != nil || a != nil {
		t.Errorf("after the end: %+v, %v; want no attempt", a, err)
	}
	if held, _ := l.Held(); len(held) != 19 {
		t.Errorf("%d held after the attempts, want 19 (kept)", len(held))
	}

	if err := os.WriteFile(l.Path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Held(); err == nil || !strings.Contains(err.Error(), l.Path) {
		t.Errorf("a damaged ledger: err = %v, want one naming %s", err, l.Path)
	}
}
