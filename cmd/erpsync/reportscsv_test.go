package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

// europeanCSV sets reports.csv for a European Excel.
func europeanCSV(cfg string) string {
	return strings.Replace(cfg, "reports:\n", "reports:\n  csv: {bom: true, delimiter: \";\"}\n", 1)
}

// TestE2E_ReportsCSV_European: with reports.csv {bom: true, delimiter:
// ";"}, every CSV erpsync writes for people (a run's reports, plan -out
// .csv, reconcile's) starts with the BOM and separates its cells by ";".
func TestE2E_ReportsCSV_European(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, europeanCSV)
	if code, out, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatalf("day 1: exit %d\n%s\n%s", code, out, errOut)
	}
	runs, _ := filepath.Glob(filepath.Join(e.dir, "reports", "*-1", "*.csv"))
	planOut := filepath.Join(e.dir, "plan.csv")
	if code, out, errOut := e.run("plan", "-file", day2, "-out", planOut); code > ExitRowFails {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	pack := filepath.Join(e.dir, "pack")
	if code, out, errOut := e.run("reconcile", "-file", day1, "-out", pack); code != ExitOK {
		t.Fatalf("reconcile: exit %d\n%s\n%s", code, out, errOut)
	}
	files := append(runs, planOut, filepath.Join(pack, "reconciliation.csv"))
	if len(files) < 4 {
		t.Fatalf("CSV files %v", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		header, _, _ := strings.Cut(string(data), "\n")
		if !strings.HasPrefix(header, "\ufeff") || !strings.Contains(header, ";") || strings.Contains(header, ",") {
			t.Errorf("%s starts %q, want the BOM and ; between cells", f, header)
		}
		if strings.Count(string(data), "\ufeff") != 1 {
			t.Errorf("%s holds %d BOMs", f, strings.Count(string(data), "\ufeff"))
		}
	}
}

// TestE2E_ReconcileFailOver: with -fail-over N (a count or a share of
// the customers compared), reconcile exits 1 only above N differences.
func TestE2E_ReconcileFailOver(t *testing.T) {
	t.Parallel()
	clock := simtest.Ahead()
	e := newE2E(t, crmsim.Options{Now: clock.Now}, nil)
	if code, out, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatalf("day 1: exit %d\n%s\n%s", code, out, errOut)
	}
	clock.Advance(time.Second)
	e.sim.Store.Put("C-1004", map[string]string{"creditLimit": "12500"}) // one difference of 10 customers
	for _, tc := range []struct {
		over string
		want int
	}{{"", ExitRowFails}, {"0", ExitRowFails}, {"1", ExitOK}, {"5%", ExitRowFails}, {"10%", ExitOK}} {
		args := []string{"reconcile", "-file", day1, "-out", filepath.Join(e.dir, "r"+tc.over)}
		if tc.over != "" {
			args = append(args, "-fail-over", tc.over)
		}
		if code, out, errOut := e.run(args...); code != tc.want {
			t.Errorf("-fail-over %q: exit %d, want %d\n%s\n%s", tc.over, code, tc.want, out, errOut)
		}
	}
	code, _, errOut := e.run("reconcile", "-file", day1, "-fail-over", "lots")
	if code != ExitUsage || !strings.Contains(errOut, "-fail-over") {
		t.Errorf("-fail-over lots: exit %d, want 2 naming -fail-over\n%s", code, errOut)
	}
}

// TestLoadConfig_ReportsCSV: reports.csv's keys read, and a bad
// delimiter refused naming its key.
func TestLoadConfig_ReportsCSV(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ yaml, want string }{
		{"crm:\n  base_url: http://x\nreports:\n  csv: {delimiter: \"::\"}\n", "reports.csv.delimiter"},
		{"crm:\n  base_url: http://x\nreports:\n  csv: {bom: maybe}\n", "maybe"},
	} {
		path := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(path, []byte(tc.yaml), 0o600)
		if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want it to say %q", tc.yaml, err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("crm:\n  base_url: http://x\nreports:\n  csv: {bom: true, delimiter: \";\"}\n"), 0o600)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if f := csvFormat(cfg); !f.BOM || f.Comma() != ';' {
		t.Errorf("reports.csv = %+v", f)
	}
}
