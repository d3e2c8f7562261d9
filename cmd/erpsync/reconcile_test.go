package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
	"erpsync/sync/reconcile"
)

// plainNumber is a cell a spreadsheet reads as a number, never a formula.
var plainNumber = regexp.MustCompile(`^[-+]?[0-9]+(\.[0-9]+)?$`)

func TestE2E_Reconcile(t *testing.T) {
	t.Parallel()
	clock := simtest.Ahead()
	e := newE2E(t, crmsim.Options{Now: clock.Now}, nil)
	for _, day := range []string{day1, day2} {
		if code, out, errOut := e.run("run", "-file", day); code != ExitOK {
			t.Fatalf("sync %s: exit %d\n%s\n%s", day, code, out, errOut)
		}
	}
	e.writes()
	out := filepath.Join(e.dir, "agree")
	code, stdout, errOut := e.run("reconcile", "-file", day2, "-out", out)
	if code != ExitOK || !strings.Contains(stdout, "matched 10 · only in the ERP 0 · only in the CRM 0 · different 0") {
		t.Fatalf("right after a sync: exit %d\n%s\n%s", code, stdout, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("reconcile wrote to the CRM: %d upserts, %d deletes", up, del)
	}

	// Hand edits in the CRM.
	clock.Advance(time.Second)
	store := e.sim.Store
	store.Put("C-1004", map[string]string{"creditLimit": "12500"})
	store.DeleteByReference("C-1010")
	store.Put("WALK-IN", map[string]string{"name": "Walk-in customer", "creditLimit": "100", "currency": "USD"})
	store.Put("=SUM(A1)", map[string]string{"name": "=HYPERLINK(\"http://evil\")"})
	out = filepath.Join(e.dir, "differ")
	code, stdout, errOut = e.run("reconcile", "-file", day2, "-out", out)
	if code != ExitRowFails {
		t.Fatalf("after hand edits: exit %d, want 1\n%s\n%s", code, stdout, errOut)
	}
	var r reconcile.Reconciliation
	data, _ := os.ReadFile(filepath.Join(out, "reconciliation.json"))
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	want := reconcile.Summary{Matched: 8, OnlyInERP: 1, OnlyInCRM: 2, Different: 1}
	if r.Summary != want {
		t.Errorf("summary = %+v, want %+v", r.Summary, want)
	}
	if r.Fields["creditLimit"] != 1 {
		t.Errorf("fields = %v", r.Fields)
	}
	why := map[string]string{}
	for _, it := range r.Items {
		why[it.Reference] = it.Status + ": " + it.Explanation
	}
	for ref, w := range map[string]string{
		"C-1004":   "different: edited in the CRM by hand since the last sync",
		"C-1010":   "only_in_erp: deleted in the CRM by hand since the last sync",
		"WALK-IN":  "only_in_crm: not managed by erpsync",
		"=SUM(A1)": "only_in_crm: not managed by erpsync",
	} {
		if !strings.HasPrefix(why[ref], w) {
			t.Errorf("%s: %q, want %q", ref, why[ref], w)
		}
	}
	eur, usd := r.Totals["EUR"], r.Totals["USD"]
	if eur.Difference != 1000 || usd.Difference != -600 || usd.CRMCount != usd.ERPCount+1 {
		t.Errorf("totals: EUR %+v, USD %+v", eur, usd)
	}

	rows := readCSV(t, filepath.Join(out, "reconciliation.csv"))
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && !plainNumber.MatchString(cell) {
				t.Errorf("a live formula in the CSV: %q", row)
			}
		}
	}
	if !strings.Contains(strings.Join(rows[len(rows)-1], ","), "'=SUM(A1)") &&
		!strings.Contains(flatten(rows), "'=SUM(A1)") {
		t.Errorf("the formula-named customer is not in the CSV: %q", rows)
	}
	if !strings.Contains(flatten(rows), ",-500,") {
		t.Errorf("a negative difference is not written as a number: %q", rows)
	}
	html, _ := os.ReadFile(filepath.Join(out, "reconciliation.html"))
	for _, w := range []string{"C-1004", "C-1010", "WALK-IN", "=SUM(A1)", "The ERP and the CRM differ."} {
		if !strings.Contains(string(html), strings.ReplaceAll(w, "=", "=")) {
			t.Errorf("the HTML does not name %q", w)
		}
	}
	for _, external := range []string{"<link", "src=\"http", "src='http", "@import", "url(http"} {
		if strings.Contains(string(html), external) {
			t.Errorf("the HTML loads something from outside: %s", external)
		}
	}
	t.Run("rendered in Chromium", func(t *testing.T) { checkRendered(t, filepath.Join(out, "reconciliation.html")) })
}

func flatten(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	return b.String()
}

// checkRendered opens the report in headless Chromium and checks, from the
// rendered DOM, that the summary and the chart are there.
func checkRendered(t *testing.T, path string) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no Chromium on this machine (.ci/run installs Debian's chromium); the HTML was checked as text only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	abs, _ := filepath.Abs(path)
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=2000", "--dump-dom", "file://"+abs)
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	page := string(dom)
	for _, w := range []string{`id="summary"`, "Only in the CRM", `id="chart"`, "<rect", "creditLimit", `id="detail"`} {
		if !strings.Contains(page, w) {
			t.Errorf("the rendered page lacks %q", w)
		}
	}
}

// TestE2E_ReconcileListsInvalidRows: rows of the export that cannot be
// read are not compared, and the screen and the CSV say so, with their
// line and reason, not only the JSON and the HTML.
func TestE2E_ReconcileListsInvalidRows(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	export := e.file("bad.csv", "KUNNR;NAME1;LAND1;ORT01;KLIMK;WAERS;ZTERM_TYPE;ZTERM_DAYS;PARENT;ZAHLW;KATEGORIE;SPERR;LOEVM\r\n"+
		"R-1;Good;FR;Paris;1,00;EUR;1;30;;C;J;;\r\n"+
		"R-2;Bad;FR;Paris;lots;EUR;1;30;;C;J;;\r\n")
	out := filepath.Join(e.dir, "rec")
	_, stdout, errOut := e.run("reconcile", "-file", export, "-out", out)
	if !strings.Contains(stdout, "invalid rows 1 (not compared)") || !strings.Contains(stdout, "line 3") {
		t.Errorf("the screen does not list the invalid row:\n%s%s", stdout, errOut)
	}
	found := false
	for _, row := range readRows[reconcile.CSVLine](t, filepath.Join(out, "reconciliation.csv")) {
		if row.Status == reconcile.StatusInvalid && strings.Contains(row.Explanation, "line 3") {
			found = true
		}
	}
	if !found {
		t.Error("reconciliation.csv does not list the invalid row with its line")
	}
}
