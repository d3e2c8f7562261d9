package main

import (
	"os"
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
)

// Review of the merges, point 11: `release` said of an export held in
// place (no archive_dir) "it stays in the inbox, passed over while
// unchanged", but a released export held in place is taken again at
// serve's next tick (TestInbox_HeldInPlace): the text says so now.
func TestRelease_HeldInPlaceSaysTakenAgain(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	ledger := `{"held": [{"source": "/srv/inbox/b-day2.csv", "sha256": "ab", "reason": "max_delete: 2 deletes", "at": "2026-03-02T02:00:00Z"}]}`
	if err := os.WriteFile(e.state+".serve.json", []byte(ledger), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := e.run("release", "b-day2.csv")
	if code != ExitOK {
		t.Fatalf("release: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, "passed over") || !strings.Contains(out, "released /srv/inbox/b-day2.csv") ||
		!strings.Contains(out, "next tick") {
		t.Errorf("release says %q; want the export named and taken again at serve's next tick", out)
	}
}
