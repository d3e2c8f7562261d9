package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
	"erpsync/sync/reconcile"
)

// quirkExport writes n rows in the demo's format: due types 1 and 2 in
// turn, and every tenth row a sub-customer of the row nine before it.
func quirkExport(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("KUNNR;NAME1;LAND1;ORT01;KLIMK;WAERS;ZTERM_TYPE;ZTERM_DAYS;PARENT;ZAHLW;KATEGORIE;SPERR;LOEVM\n")
	for i := range n {
		parent := ""
		if i%10 == 9 {
			parent = fmt.Sprintf("Q-%05d", i-9)
		}
		fmt.Fprintf(&b, "Q-%05d;Customer %d;FR;Lyon;%d,50;EUR;%d;30;%s;C;J;;\n", i, i, 1000+i, 1+i%2, parent)
	}
	path := filepath.Join(dir, "quirks.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// reconcileReport runs reconcile into a folder of its own and reads its
// JSON report.
func (e *e2e) reconcileReport(export string) (int, reconcile.Reconciliation, string) {
	e.t.Helper()
	dir, err := os.MkdirTemp(e.dir, "reconcile-")
	if err != nil {
		e.t.Fatal(err)
	}
	code, out, errOut := e.run("reconcile", "-file", export, "-out", dir)
	var r reconcile.Reconciliation
	data, err := os.ReadFile(filepath.Join(dir, "reconciliation.json"))
	if err != nil {
		e.t.Fatalf("reconcile: exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		e.t.Fatal(err)
	}
	return code, r, out + errOut
}

// handEdits counts the differences that a reconciliation explains as
// edited in the CRM by hand.
func handEdits(r reconcile.Reconciliation) int {
	n := 0
	for _, it := range r.Items {
		for _, d := range it.Differences {
			if strings.Contains(d.Explanation, "by hand") {
				n++
			}
		}
		if strings.Contains(it.Explanation, "by hand") {
			n++
		}
	}
	return n
}

// TestE2E_MillisecondsNoHandEdits: against a CRM answering milliseconds
// (and due type 2 under a name of its own), a sync then a reconcile
// explains no difference as a hand edit: nobody touched the CRM, and the
// checkpoint keeps the CRM's lastUpdated to the millisecond.
func TestE2E_MillisecondsNoHandEdits(t *testing.T) {
	t.Parallel()
	const rows = 60
	clock := simtest.Stepping(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 7*time.Millisecond)
	e := newE2E(t, crmsim.Options{Now: clock.Now, TimePrecision: "ms",
		Quirks: crmsim.Quirks{DueTypeNames: []string{"daysAfterInvoiceDate", "daysAfterEndOfMonth"}}}, nil)
	export := quirkExport(t, e.dir, rows)
	if code, out, errOut := e.run("run", "-file", export); code > ExitRowFails {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	_, r, out := e.reconcileReport(export)
	if n := handEdits(r); n != 0 {
		t.Errorf("%d differences explained as hand edits; summary %+v\n%s", n, r.Summary, out)
	}
}

// TestE2E_AnswersAsTheReferenceAllows: a CRM answering parentCustomer as
// a bare id and due type 2 under a name crmsim never guessed. A sync, then
// reconcile finds no difference; after the checkpoint is lost, init -adopt
// takes every customer back and the next run sends nothing; check names
// the due types the CRM uses.
func TestE2E_AnswersAsTheReferenceAllows(t *testing.T) {
	t.Parallel()
	const rows = 60
	e := newE2E(t, crmsim.Options{Quirks: crmsim.Quirks{ParentShape: "id",
		DueTypeNames: []string{"daysAfterInvoiceDate", "endOfMonthPlusDays"}}}, nil)
	export := quirkExport(t, e.dir, rows)
	if code, out, errOut := e.run("run", "-file", export); code != ExitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	e.writes()
	code, r, out := e.reconcileReport(export)
	if code != ExitOK || r.Summary.Matched != rows || r.Summary.Different != 0 {
		t.Errorf("reconcile: exit %d, summary %+v, fields %v\n%s", code, r.Summary, r.Fields, out)
	}
	if code, out, errOut := e.run("run", "-file", export); code != ExitOK {
		t.Errorf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("second run sent %d upserts, %d deletes; want nothing", up, del)
	}

	if err := os.Remove(e.state); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := e.run("init", "-adopt", "-file", export); code != ExitOK {
		t.Fatalf("init -adopt: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := e.run("run", "-file", export); code != ExitOK {
		t.Errorf("run after adopting: exit %d\n%s\n%s", code, out, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("run after adopting sent %d upserts, %d deletes; want nothing", up, del)
	}
	code, out, errOut := e.run("check")
	if code != ExitOK || !strings.Contains(out, "due types     daysAfterInvoiceDate (1), endOfMonthPlusDays (2)") {
		t.Errorf("check: exit %d\n%s\n%s", code, out, errOut)
	}
}
