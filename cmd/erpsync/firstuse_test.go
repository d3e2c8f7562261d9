package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
)

// The small things a new user meets first (issue 21 §17).

// lastSummary reads the summary.json of the newest report folder.
func (e *e2e) lastSummary() map[string]any {
	e.t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(e.dir, "reports", "*", "summary.json"))
	if len(dirs) == 0 {
		e.t.Fatal("no summary.json")
	}
	newest := dirs[0]
	for _, d := range dirs {
		if st, _ := os.Stat(d); st != nil {
			if nst, _ := os.Stat(newest); st.ModTime().After(nst.ModTime()) {
				newest = d
			}
		}
	}
	data, err := os.ReadFile(newest)
	if err != nil {
		e.t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		e.t.Fatalf("%s: %v", newest, err)
	}
	return s
}

// A dry run says so in summary.json: nothing sent, what would be.
func TestFirstUse_DryRunSummary(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	code, out, errOut := e.run("run", "-file", day1, "-dry-run")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	s := e.lastSummary()
	rows, _ := s["rows"].(map[string]any)
	if s["dry_run"] != true || s["status"] == "done" || rows["sent"] != 0.0 || rows["would_send"] != 10.0 {
		t.Errorf("summary.json of a dry run: status %v, dry_run %v, rows %v", s["status"], s["dry_run"], rows)
	}
	if c, _ := s["counts"].(map[string]any)["create"].(map[string]any); c["ok"] != 0.0 || c["would_send"] != 10.0 {
		t.Errorf("counts.create = %v", c)
	}
	if !strings.Contains(out, "would send") {
		t.Errorf("the console does not say what a dry run would send:\n%s", out)
	}
}

// The console and summary.json count invalid rows alike: a conflicting
// duplicate pair is two invalid rows, and so is a row whose parent is
// one of them.
func TestFirstUse_InvalidRowsAgree(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	data, _ := os.ReadFile(day1)
	text := strings.Replace(string(data), "C-1003;Boutique Lumière;FR;Lyon;2.250,50", "C-1003;Boutique Lumière;FR;Lyon;2,250,50", 1)
	text += "C-1009;Silver Line bis;IT;Milano;4.100,00;EUR;1;30;;T;R;;\r\n"
	code, out, _ := e.run("run", "-file", e.file("dup.csv", text))
	if code != ExitRowFails {
		t.Fatalf("exit %d\n%s", code, out)
	}
	// C-1003, both lines of C-1009, and C-1010 whose parent is C-1009.
	if !strings.Contains(out, "invalid rows 4") {
		t.Errorf("the console does not count 4 invalid rows:\n%s", out)
	}
	s := e.lastSummary()
	if rows := s["rows"].(map[string]any); rows["invalid"] != 4.0 || s["row_errors"] != 4.0 {
		t.Errorf("summary.json: row_errors %v, rows %v", s["row_errors"], rows)
	}
}

// status shows why a run did not go through.
func TestFirstUse_StatusGivesReason(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, func(c string) string { return strings.Replace(c, "max_delete: 30%", "max_delete: 1", 1) })
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatal(errOut)
	}
	if code, _, _ := e.run("run", "-file", day2); code != ExitGuard {
		t.Fatalf("exit %d, want a guard", code)
	}
	_, out, _ := e.run("status")
	if !strings.Contains(out, "aborted") || !strings.Contains(out, "max_delete") {
		t.Errorf("status lists the aborted run without its reason:\n%s", out)
	}
}

// plan against a missing checkpoint says that run would refuse.
func TestFirstUse_PlanMissingCheckpoint(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	_, out, _ := e.run("plan", "-file", day1)
	if !strings.Contains(out, "no checkpoint") || strings.Contains(out, "would refuse") {
		t.Errorf("plan on an empty CRM without checkpoint:\n%s", out)
	}
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatal(errOut)
	}
	if err := os.Remove(e.state); err != nil {
		t.Fatal(err)
	}
	_, out, _ = e.run("plan", "-file", day1)
	if !strings.Contains(out, "no checkpoint at "+e.state) || !strings.Contains(out, "run would refuse") ||
		!strings.Contains(out, "10 customers") || !strings.Contains(out, "init") {
		t.Errorf("plan against a missing checkpoint does not say that run would refuse:\n%s", out)
	}
	if _, err := os.Stat(e.state); err == nil {
		t.Error("plan created the checkpoint")
	}
}

// A plan after init -adopt shows the fields that differ and the CRM's
// values.
func TestFirstUse_PlanAfterAdoptShowsFields(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatal(errOut)
	}
	if _, err := e.sim.Store.Put("C-1004", map[string]string{"creditLimit": "1"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(e.state); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := e.run("init", "-adopt", "-file", day1); code != ExitOK {
		t.Fatalf("init -adopt: %d\n%s\n%s", code, out, errOut)
	}
	_, out, _ := e.run("plan", "-file", day1)
	if !strings.Contains(out, `C-1004 (line 5): changed — creditLimit "1" → "12000"`) {
		t.Errorf("the adopted customer's change is not shown field by field:\n%s", out)
	}
}

// crm.base_url is required: left out, it is no silent default.
func TestFirstUse_BaseURLRequired(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("crm:\n  auth: none\n"), 0o600)
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), "crm.base_url") {
		t.Errorf("a config without crm.base_url: err = %v", err)
	}
}

// erpsync version (and -version) prints its version and its modules'.
func TestFirstUse_Version(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"version", "-version", "--version"} {
		var out, errOut strings.Builder
		code := NewMain(&out, &errOut).Run(t.Context(), []string{arg})
		if code != ExitOK || !strings.HasPrefix(out.String(), "erpsync ") || !strings.Contains(out.String(), "go.uber.org/zap v") ||
			!strings.Contains(out.String(), "go1.") {
			t.Errorf("%s: exit %d\n%s%s", arg, code, out.String(), errOut.String())
		}
	}
}
