package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"erpsync/state/sqlite"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// TestE2E_MissingCheckpoint: a checkpoint that was deleted or truncated
// never starts over silently while the CRM holds customers: run and status
// stop with exit 2 naming the path and init, and create nothing; init
// -adopt takes the CRM's customers back, and the next run mirror-deletes
// what the ERP dropped.
func TestE2E_MissingCheckpoint(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatalf("day 1 on an empty CRM (creates the checkpoint): %d %s", code, errOut)
	}
	e.writes()

	for _, c := range []struct {
		name string
		lose func() error
	}{
		{"truncated", func() error { return os.Truncate(e.state, 0) }},
		{"deleted", func() error { return os.Remove(e.state) }},
	} {
		name, lose := c.name, c.lose
		if err := lose(); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"run", "status", "unlock"} {
			code, _, errOut := e.run(cmd, "-file", day2)
			if cmd != "run" {
				code, _, errOut = e.run(cmd)
			}
			if code != ExitUsage || !strings.Contains(errOut, e.state) || !strings.Contains(errOut, "erpsync init") {
				t.Errorf("%s, checkpoint %s: exit %d %q, want 2 naming the path and init", cmd, name, code, errOut)
			}
		}
		if up, del := e.writes(); up+del != 0 {
			t.Errorf("checkpoint %s: %d upserts, %d deletes sent", name, up, del)
		}
		st, err := os.Stat(e.state)
		if name == "deleted" && err == nil {
			t.Errorf("checkpoint deleted: a new one was created")
		}
		if name == "truncated" && (err != nil || st.Size() != 0) {
			t.Errorf("checkpoint truncated: it was written (%v)", err)
		}
	}

	if code, out, errOut := e.run("init", "-adopt", "-file", day1); code != ExitOK || !strings.Contains(out, "10 adopted") {
		t.Fatalf("init -adopt: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := e.run("init"); code != ExitUsage || !strings.Contains(errOut, "already exists") {
		t.Errorf("init over a checkpoint: %d %q", code, errOut)
	}
	code, out, errOut := e.run("run", "-file", day1)
	if up, del := e.writes(); code != ExitOK || up+del != 0 {
		t.Errorf("day 1 after adopting day 1: exit %d, %d upserts, %d deletes, want nothing sent\n%s%s", code, up, del, out, errOut)
	}
	code, out, errOut = e.run("run", "-file", day2)
	if code != ExitOK || !strings.Contains(out, "deleted 2") {
		t.Errorf("day 2 after adopting: exit %d, want the mirror delete\n%s%s", code, out, errOut)
	}
	if _, ok := e.customer("C-1006"); ok {
		t.Errorf("C-1006, dropped by day 2, is still in the CRM")
	}
}

// TestE2E_PlanWritesNothing: plan against a missing checkpoint plans
// against an empty one and leaves no file behind.
func TestE2E_PlanWritesNothing(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	code, out, errOut := e.run("plan", "-file", day1)
	if code != ExitOK || !strings.Contains(out, "create 10") {
		t.Fatalf("plan: %d %q %q", code, out, errOut)
	}
	if _, err := os.Stat(e.state); err == nil {
		t.Errorf("plan created %s", e.state)
	}
}

// TestE2E_ReferencesThatNameRoutes: references ".", "..", or holding a
// slash would reach other API routes (POST /customers, POST
// /customers/reference): they are row errors, and only the good row's
// route is touched.
func TestE2E_ReferencesThatNameRoutes(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	export := e.file("routes.csv", "KUNNR;NAME1;LAND1;ORT01;KLIMK;WAERS;ZTERM_TYPE;ZTERM_DAYS;PARENT;ZAHLW;KATEGORIE;SPERR;LOEVM\r\n"+
		".;Dot;FR;Paris;1,00;EUR;1;30;;C;J;;\r\n"+
		"..;Dots;FR;Paris;1,00;EUR;1;30;;C;J;;\r\n"+
		"a/b;Slash;FR;Paris;1,00;EUR;1;30;;C;J;;\r\n"+
		"..\\x;Back;FR;Paris;1,00;EUR;1;30;;C;J;;\r\n"+
		"GOOD-1;Good;FR;Paris;1,00;EUR;1;30;;C;J;;\r\n")
	code, out, errOut := e.run("run", "-file", export)
	if code != ExitRowFails || !strings.Contains(out, "invalid rows 4") {
		t.Fatalf("run: exit %d, want 1 with 4 invalid rows\n%s%s", code, out, errOut)
	}
	st := e.sim.Stats()
	if st[crm.OpUpsert] != 1 || len(st) > 3 {
		t.Errorf("the CRM saw %v, want one upsert by reference (and the refresh's listing)", st)
	}
	if _, ok := e.customer("GOOD-1"); !ok {
		t.Error("the good row was not sent")
	}
}

// TestE2E_FIFOExport: a named pipe as the export is refused at once (exit
// 2) instead of hanging in open, deaf to signals, holding the state lock.
func TestE2E_FIFOExport(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	fifo := filepath.Join(e.dir, "export.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v (no named pipes on this system)", err)
	}
	for _, cmd := range []string{"run", "plan", "import", "reconcile"} {
		done := make(chan struct{})
		var code int
		var errOut string
		go func() {
			defer close(done)
			code, _, errOut = e.run(cmd, "-file", fifo)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s on a FIFO still runs after 5 s", cmd)
		}
		if code != ExitUsage || !strings.Contains(errOut, "not a regular file") {
			t.Errorf("%s on a FIFO: exit %d %q, want 2 naming it", cmd, code, errOut)
		}
	}
	if _, err := os.Stat(e.state); err == nil {
		t.Errorf("a checkpoint was created for a FIFO export")
	}
}

// TestE2E_StatusGoneRunIsInterrupted: a run whose process died (kill -9)
// left its record "running"; with no live holder of the lock, status
// shows it interrupted, not running forever.
func TestE2E_StatusGoneRunIsInterrupted(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	if code, _, errOut := e.run("init"); code != ExitOK {
		t.Fatalf("init: %d %s", code, errOut)
	}
	db := sqlite.NewDB(e.state)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartRun(context.Background(), "run", day1, "abc"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, errOut := e.run("status")
	if code != ExitOK || !strings.Contains(out, "interrupted") || strings.Contains(out, " running ") {
		t.Errorf("status: %d\n%s%s", code, out, errOut)
	}
}

// TestE2E_SharedReportsDir: two configs (two state files) sharing
// reports.dir both keep their reports.
func TestE2E_SharedReportsDir(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	cfg, err := os.ReadFile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(e.dir, "other.yaml")
	if err := os.WriteFile(other, []byte(strings.Replace(string(cfg), e.state, filepath.Join(e.dir, "other.db"), 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatalf("first config: %d %s", code, errOut)
	}
	var out, errOut strings.Builder
	if code := NewMain(&out, &errOut).Run(context.Background(), []string{"init", "-config", other}); code != ExitOK {
		t.Fatalf("init the second config: %d %s", code, errOut.String())
	}
	if code := NewMain(&out, &errOut).Run(context.Background(), []string{"run", "-config", other, "-file", day1}); code != ExitOK {
		t.Fatalf("second config: %d %s", code, errOut.String())
	}
	summaries, _ := filepath.Glob(filepath.Join(e.dir, "reports", "*", "summary.json"))
	if len(summaries) != 2 {
		t.Errorf("%d reports kept, want 2: %v", len(summaries), summaries)
	}
}

// TestE2E_InitAdoptFailureKeepsNothing: an init -adopt that fails (here the
// CRM refuses the listing) leaves no half-filled checkpoint behind, so
// that neither a second init nor a run is misled by it.
func TestE2E_InitAdoptFailureKeepsNothing(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{Token: "the-right-token"}, nil)
	code, _, errOut := e.run("init", "-adopt", "-file", day1)
	if code != ExitFatal || !strings.Contains(errOut, "run init again") {
		t.Fatalf("init -adopt refused by the CRM: %d %q, want 4", code, errOut)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Stat(e.state + suffix); err == nil {
			t.Errorf("%s%s was left behind", e.state, suffix)
		}
	}
}

// TestE2E_HandDeleteCountedAndListed: a customer deleted by hand in the
// CRM between runs is found by the next run's counts; with drift: report
// it is listed (plan, status), not put back; with erp_wins it is put back.
func TestE2E_HandDeleteCountedAndListed(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, func(cfg string) string {
		return strings.Replace(cfg, "drift: erp_wins", "drift: report", 1)
	})
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatalf("day 1: %d %s", code, errOut)
	}
	if err := e.sim.Store.DeleteByReference("C-1010"); err != nil {
		t.Fatalf("hand delete: %v", err)
	}
	e.writes()
	code, out, errOut := e.run("run", "-file", day1)
	if up, _ := e.writes(); code != ExitOK || up != 0 || !strings.Contains(out, "drift  C-1010: deleted by hand in the CRM") {
		t.Errorf("report: exit %d, %d upserts, want 0 and the delete only listed\n%s%s", code, up, out, errOut)
	}
	code, out, _ = e.run("status")
	if code != ExitOK || !strings.Contains(out, "Deleted by hand in the CRM (1)") || !strings.Contains(out, "C-1010") {
		t.Errorf("status does not list the hand delete:\n%s", out)
	}
	cfg, _ := os.ReadFile(e.cfg)
	os.WriteFile(e.cfg, []byte(strings.Replace(string(cfg), "drift: report", "drift: erp_wins", 1)), 0o600)
	code, out, errOut = e.run("run", "-file", day1)
	if _, ok := e.customer("C-1010"); code != ExitOK || !ok || !strings.Contains(out, "deleted by hand") {
		t.Errorf("erp_wins: exit %d, C-1004 back %v\n%s%s", code, ok, out, errOut)
	}
}

// TestE2E_ImplausibleEmailWarns: an email that is not plausible is a
// warning shown in the plan and kept in warnings.csv (the row is sent);
// with source.strict: [email] it is a row error.
func TestE2E_ImplausibleEmailWarns(t *testing.T) {
	t.Parallel()
	withEmail := func(cfg string) string {
		return strings.Replace(cfg, "onHold: SPERR", "onHold: SPERR\n    email: SMTP", 1)
	}
	export := "KUNNR;NAME1;LAND1;ORT01;KLIMK;WAERS;ZTERM_TYPE;ZTERM_DAYS;PARENT;ZAHLW;KATEGORIE;SPERR;LOEVM;SMTP\r\n" +
		"M-1;Good;FR;Paris;1,00;EUR;1;30;;C;J;;;shop@example.fr\r\n" +
		"M-2;Odd;FR;Paris;1,00;EUR;1;30;;C;J;;;info(at)example.fr\r\n"
	e := newE2E(t, crmsim.Options{}, withEmail)
	code, out, errOut := e.run("run", "-file", e.file("mail.csv", export))
	if code != ExitOK || !strings.Contains(out, "warnings 1") || !strings.Contains(out, "line 3") {
		t.Fatalf("run: exit %d, want 0 with the warning shown\n%s%s", code, out, errOut)
	}
	ws, _ := filepath.Glob(filepath.Join(e.dir, "reports", "*", "warnings.csv"))
	if len(ws) != 1 {
		t.Fatalf("warnings.csv: %v", ws)
	}
	if data, _ := os.ReadFile(ws[0]); !strings.Contains(string(data), "M-2,3,") {
		t.Errorf("warnings.csv = %s", data)
	}

	strict := newE2E(t, crmsim.Options{}, func(cfg string) string {
		return strings.Replace(withEmail(cfg), "  list_separator:", "  strict: [email]\n  list_separator:", 1)
	})
	code, out, errOut = strict.run("run", "-file", strict.file("mail.csv", export))
	if code != ExitRowFails || !strings.Contains(out, "invalid rows 1") {
		t.Errorf("strict: exit %d, want 1 with one invalid row\n%s%s", code, out, errOut)
	}
}

// TestE2E_PlanOutFormats: plan -out picks its format from the extension:
// .json is one valid JSON document, .csv a CSV, anything else exit 2.
func TestE2E_PlanOutFormats(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	js := filepath.Join(e.dir, "p.json")
	if code, _, errOut := e.run("plan", "-file", day1, "-out", js); code != ExitOK {
		t.Fatalf("plan -out p.json: %d %s", code, errOut)
	}
	var doc struct {
		Actions []struct{ Op, Reference string }
	}
	data, _ := os.ReadFile(js)
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.Actions) != 10 || doc.Actions[0].Op != "create" {
		t.Errorf("p.json: %v, %d actions: %.200s", err, len(doc.Actions), data)
	}
	if code, _, errOut := e.run("plan", "-file", day1, "-out", filepath.Join(e.dir, "p.csv")); code != ExitOK {
		t.Errorf("plan -out p.csv: %d %s", code, errOut)
	}
	code, _, errOut := e.run("plan", "-file", day1, "-out", filepath.Join(e.dir, "p.xlsx"))
	if _, err := os.Stat(filepath.Join(e.dir, "p.xlsx")); code != ExitUsage || err == nil || !strings.Contains(errOut, ".csv or .json") {
		t.Errorf("plan -out p.xlsx: %d %q, want exit 2 and no file", code, errOut)
	}
}

// TestE2E_NullValues: with null_values: [NULL], a fax written "NULL" (as
// Northwind's 22 faxes are) reaches the CRM empty, not as the text NULL.
func TestE2E_NullValues(t *testing.T) {
	t.Parallel()
	nulls := func(list string) func(string) string {
		return func(cfg string) string {
			cfg = strings.Replace(cfg, "onHold: SPERR", "onHold: SPERR\n    fax: TELFX", 1)
			return strings.Replace(cfg, "  list_separator:", "  null_values: "+list+"\n  list_separator:", 1)
		}
	}
	// Unquoted, NULL is YAML's own null: it would vanish from the list.
	bare := newE2E(t, crmsim.Options{}, nulls("[NULL, n/a]"))
	if code, _, errOut := bare.run("plan", "-file", day1); code != ExitUsage || !strings.Contains(errOut, `quote it ("NULL")`) {
		t.Errorf("null_values: [NULL]: exit %d %q, want 2 asking to quote it", code, errOut)
	}
	e := newE2E(t, crmsim.Options{}, nulls(`["NULL", "n/a"]`))
	export := e.file("nw.csv", "KUNNR;NAME1;LAND1;ORT01;KLIMK;WAERS;ZTERM_TYPE;ZTERM_DAYS;PARENT;ZAHLW;KATEGORIE;SPERR;LOEVM;TELFX\r\n"+
		"ALFKI;Alfreds Futterkiste;Germany;Berlin;1,00;EUR;1;30;;C;J;;;030-0076545\r\n"+
		"ANATR;Ana Trujillo;Mexico;México D.F.;1,00;EUR;1;30;;C;J;;;NULL\r\n")
	if code, out, errOut := e.run("run", "-file", export); code != ExitOK {
		t.Fatalf("run: %d\n%s%s", code, out, errOut)
	}
	c, ok := e.customer("ANATR")
	if !ok || c.Fax != nil && *c.Fax != "" {
		t.Errorf("ANATR's fax in the CRM: %v %q, want empty", ok, *c.Fax)
	}
	if c, _ := e.customer("ALFKI"); c.Fax == nil || *c.Fax != "030-0076545" {
		t.Errorf("ALFKI's fax: %v", c.Fax)
	}
}
