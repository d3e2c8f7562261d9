package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/reconcile"
)

const reconcileHeader = "KUNNR;NAME1;LAND1;ORT01;KLIMK;WAERS;ZTERM_TYPE;ZTERM_DAYS;PARENT;ZAHLW;KATEGORIE;SPERR;LOEVM\r\n"

// readReconciliation reads reconciliation.json of dir.
func readReconciliation(t *testing.T, dir string) reconcile.Reconciliation {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "reconciliation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r reconcile.Reconciliation
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReconcile_RefusedRowsCount: rows that erpsync could not send (an
// invalid row, both lines of a conflicting duplicate pair, a row the CRM
// refused) are absent from
// the CRM; reconcile does not call that agreement, nor explains them as
// not yet synced: a third verdict, exit 1, each with its row error.
func TestReconcile_RefusedRowsCount(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, func(c string) string { return strings.Replace(c, "max_failures: 10%", "max_failures: 100%", 1) })
	export := e.file("refused.csv", reconcileHeader+
		"R-1;Good;FR;Paris;1,00;EUR;1;30;;C;J;;\r\n"+
		"R-2;Bad;FR;Paris;lots;EUR;1;30;;C;J;;\r\n"+
		"R-3;Twice;FR;Paris;1,00;EUR;1;30;;C;J;;\r\n"+
		"R-3;Twice, otherwise;FR;Lyon;1,00;EUR;1;30;;C;J;;\r\n"+
		"R-4;Pounds;GB;York;1,00;GBP;1;30;;C;J;;\r\n") // the CRM refuses it: GBP is not configured
	if code, out, _ := e.run("run", "-file", export); code != ExitRowFails {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	dir := filepath.Join(e.dir, "rec")
	code, out, errOut := e.run("reconcile", "-file", export, "-out", dir)
	if code != ExitRowFails || !strings.Contains(out, "agree except 4 rows erpsync could not send") {
		t.Errorf("exit %d, want 1 and the third verdict:\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, "not yet synced") {
		t.Errorf("a refused row is explained as not yet synced:\n%s", out)
	}
	r := readReconciliation(t, dir)
	if r.Summary.CouldNotSend != 4 || r.Summary.OnlyInERP != 0 || r.Summary.Matched != 1 {
		t.Errorf("summary = %+v", r.Summary)
	}
	why := map[string]string{}
	for _, it := range r.Items {
		why[it.Reference] = it.Status + ": " + it.Explanation
	}
	if !strings.Contains(why["R-2"], "bad number") || !strings.Contains(why["R-3"], "differing values on lines 4, 5") ||
		!strings.Contains(why["R-4"], "not configured") {
		t.Errorf("items: %q", why)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "reconciliation.html"))
	if !strings.Contains(string(html), "agree except 4 rows erpsync could not send") {
		t.Error("the HTML verdict does not say it")
	}

}

// TestReconcile_UnmappedTotals: the totals of a field the mapping does
// not read (creditLimit here) are not shown as differences.
func TestReconcile_UnmappedTotals(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatal(errOut)
	}
	cfg, _ := os.ReadFile(e.cfg)
	os.WriteFile(e.cfg, []byte(strings.Replace(string(cfg), "    creditLimit: KLIMK\n", "", 1)), 0o600)
	dir := filepath.Join(e.dir, "rec")
	code, out, errOut := e.run("reconcile", "-file", day1, "-out", dir)
	if code != ExitOK || strings.Contains(out, "credit limits") || strings.Contains(out, "difference") {
		t.Errorf("exit %d:\n%s%s", code, out, errOut)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "reconciliation.json"))
	if strings.Contains(string(data), "credit_limit") || strings.Contains(string(data), `"difference"`) {
		t.Errorf("reconciliation.json shows the totals of an unmapped field:\n%s", data)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "reconciliation.html"))
	if strings.Contains(string(html), "Credit limits") {
		t.Error("the HTML shows credit limits that the mapping does not read")
	}
}
