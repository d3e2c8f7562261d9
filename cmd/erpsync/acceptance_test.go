package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

// The package's longest test is the first test of the first file: of
// the parallel tests, that one started first in every run looked at (the
// others in no order to count on). In quirks_test.go it started 6.4 s
// into a run of 10.8 s and ended it (at 10.4 s).

// TestAcceptance_Issue21: against crmsim with sessions of 10 requests,
// pages capped at 50, millisecond dates and references compared ignoring
// case, a 2,000-row run with concurrency 8 exits 0 with every customer
// equal to its row; a second run sends nothing; reconcile finds no
// difference, and explains none as a hand edit.
func TestAcceptance_Issue21(t *testing.T) {
	t.Parallel()
	const rows = 2000
	clock := simtest.Stepping(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), time.Millisecond)
	e := newE2E(t, crmsim.Options{User: testUser, Password: testPassword, Now: clock.Now, MaxPageSize: 50,
		TimePrecision: "ms", Quirks: crmsim.Quirks{SessionRequests: 10, References: "ci"}}, sessionAuth)
	export := quirkExport(t, e.dir, rows)

	code, out, errOut := e.run("run", "-file", export)
	if code != ExitOK || !strings.Contains(out, fmt.Sprintf("created %d, updated 0", rows)) {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	for i := range rows {
		ref := fmt.Sprintf("Q-%05d", i)
		c, ok := e.customer(ref)
		wantParent := ""
		if i%10 == 9 {
			wantParent = fmt.Sprintf("Q-%05d", i-9)
		}
		switch {
		case !ok:
			t.Fatalf("%s is missing", ref)
		case c.Name != fmt.Sprintf("Customer %d", i) || c.CreditLimit == nil || *c.CreditLimit != float64(1000+i)+0.5:
			t.Errorf("%s: name %q, credit %v", ref, c.Name, c.CreditLimit)
		case (c.ParentCustomer == nil) != (wantParent == "") || c.ParentCustomer != nil && c.ParentCustomer.Reference != wantParent:
			t.Errorf("%s: parent %+v, want %q", ref, c.ParentCustomer, wantParent)
		}
	}
	if n := e.sim.Store.Len(); n != rows {
		t.Errorf("crmsim holds %d customers, want %d", n, rows)
	}
	e.writes()
	if code, out, errOut := e.run("run", "-file", export); code != ExitOK {
		t.Errorf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("second run sent %d upserts, %d deletes; want nothing", up, del)
	}
	code, r, out := e.reconcileReport(export)
	if code != ExitOK || r.Summary.Matched != rows || handEdits(r) != 0 {
		t.Errorf("reconcile: exit %d, summary %+v, %d hand edits\n%s", code, r.Summary, handEdits(r), out)
	}
	t.Logf("%d logins", e.sim.Logins())
}
