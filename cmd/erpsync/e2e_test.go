package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/state/sqlite"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
	"erpsync/sync/report"
)

// e2e is a config over a crmsim on loopback and a state file in a
// temporary folder, with the demo's mapping.
type e2e struct {
	t     *testing.T
	dir   string
	cfg   string
	sim   *crmsim.Server
	state string
}

func newE2E(t *testing.T, opts crmsim.Options, edit func(cfg string) string) *e2e {
	t.Helper()
	return newE2EWith(t, simtest.Setup{Options: opts}, edit)
}

// newE2EWith is newE2E over the crmsim that setup says (a front, a seed).
func newE2EWith(t *testing.T, setup simtest.Setup, edit func(cfg string) string) *e2e {
	t.Helper()
	e := &e2e{t: t, dir: t.TempDir()}
	ts := simtest.Serve(t, setup)
	e.sim = ts.Server
	demo, err := os.ReadFile("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e.state = filepath.Join(e.dir, "erpsync.db")
	cfg := strings.Replace(string(demo), "base_url: http://127.0.0.1:8085", "base_url: "+ts.URL, 1)
	cfg = strings.Replace(cfg, "path: erpsync.db", "path: "+e.state, 1)
	cfg = strings.Replace(cfg, "dir: reports", "dir: "+filepath.Join(e.dir, "reports"), 1)
	if edit != nil {
		cfg = edit(cfg)
	}
	e.cfg = filepath.Join(e.dir, "erpsync.yaml")
	if err := os.WriteFile(e.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// run runs erpsync with -config added after the command.
func (e *e2e) run(args ...string) (int, string, string) {
	e.t.Helper()
	var out, errOut bytes.Buffer
	full := append([]string{args[0], "-config", e.cfg}, args[1:]...)
	code := NewMain(&out, &errOut).Run(context.Background(), full)
	return code, out.String(), errOut.String()
}

// writes returns the upserts and deletes the CRM received since the last call.
func (e *e2e) writes() (upserts, deletes int64) {
	st := e.sim.Stats()
	e.sim.ResetStats()
	return st[crm.OpUpsert], st[crm.OpDeleteByReference]
}

// file writes an export into the test's folder.
func (e *e2e) file(name, content string) string {
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *e2e) customer(ref string) (crm.Customer, bool) { return e.sim.Store.ByReference(ref) }

const (
	day1 = "../../testdata/exports/day1.csv"
	day2 = "../../testdata/exports/day2.csv"
)

func TestE2E_Days(t *testing.T) {
	t.Parallel()
	clock := simtest.Ahead()
	e := newE2E(t, crmsim.Options{Now: clock.Now}, nil)

	code, out, errOut := e.run("run", "-file", day1)
	if code != ExitOK {
		t.Fatalf("day 1: exit %d\n%s\n%s", code, out, errOut)
	}
	if up, del := e.writes(); up != 10 || del != 0 {
		t.Errorf("day 1 wrote %d upserts, %d deletes", up, del)
	}
	child, _ := e.customer("C-1002")
	if child.ParentCustomer == nil || child.ParentCustomer.Reference != "C-1001" || !child.IsSubCustomer {
		t.Errorf("C-1002 (listed before its parent) = %+v", child.ParentCustomer)
	}
	if c, _ := e.customer("C-1007"); c.CreditLimit == nil || *c.CreditLimit != -133.55 || !c.OnHold {
		t.Errorf("C-1007 credit %v onHold %v", c.CreditLimit, c.OnHold)
	}

	t.Run("unchanged rerun writes nothing", func(t *testing.T) {
		if code, out, _ := e.run("run", "-file", day1); code != ExitOK || !strings.Contains(out, "unchanged 10") {
			t.Fatalf("exit %d\n%s", code, out)
		}
		if up, del := e.writes(); up+del != 0 {
			t.Errorf("rerun wrote %d upserts, %d deletes", up, del)
		}
	})

	t.Run("day 2 mirrors removals and flagged deletes", func(t *testing.T) {
		code, out, errOut := e.run("run", "-file", day2)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		if up, del := e.writes(); up != 3 || del != 2 {
			t.Errorf("day 2 wrote %d upserts, %d deletes; want 3 and 2", up, del)
		}
		for ref, present := range map[string]bool{"C-1006": false, "C-1008": false, "C-1011": true} {
			if _, ok := e.customer(ref); ok != present {
				t.Errorf("%s present = %v", ref, ok)
			}
		}
		if c, _ := e.customer("C-1001"); *c.CreditLimit != 7500 {
			t.Errorf("C-1001 credit = %v", *c.CreditLimit)
		}
	})

	t.Run("drift is repaired with one upsert", func(t *testing.T) {
		clock.Advance(time.Second)
		if _, err := e.sim.Store.Put("C-1004", map[string]string{"creditLimit": "1"}); err != nil {
			t.Fatal(err)
		}
		e.writes()
		code, out, _ := e.run("run", "-file", day2)
		if code != ExitOK || !strings.Contains(out, "drift  C-1004: creditLimit CRM \"1\", pushed \"12000\"") {
			t.Fatalf("exit %d\n%s", code, out)
		}
		if up, del := e.writes(); up != 1 || del != 0 {
			t.Errorf("drift repair wrote %d upserts, %d deletes", up, del)
		}
		if c, _ := e.customer("C-1004"); *c.CreditLimit != 12000 {
			t.Errorf("C-1004 credit = %v", *c.CreditLimit)
		}
	})

	t.Run("dry run sends and records nothing", func(t *testing.T) {
		code, out, _ := e.run("run", "-file", day1, "-dry-run")
		if code != ExitOK || !strings.Contains(out, "create 2") {
			t.Fatalf("exit %d\n%s", code, out)
		}
		if up, del := e.writes(); up+del != 0 {
			t.Errorf("dry run wrote %d upserts, %d deletes", up, del)
		}
		code, out, _ = e.run("plan", "-file", day1)
		if code != ExitOK || !strings.Contains(out, "create 2 · update 2 · delete 1") {
			t.Errorf("after the dry run the plan is still the same: exit %d\n%s", code, out)
		}
	})

	t.Run("status", func(t *testing.T) {
		code, out, _ := e.run("status")
		if code != ExitOK || !strings.Contains(out, "9 managed customers") || !strings.Contains(out, "#4 run") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
}

func TestE2E_DriftReport(t *testing.T) {
	t.Parallel()
	clock := simtest.Ahead()
	e := newE2E(t, crmsim.Options{Now: clock.Now}, func(c string) string { return strings.Replace(c, "drift: erp_wins", "drift: report", 1) })
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatal(errOut)
	}
	clock.Advance(time.Second)
	e.sim.Store.Put("C-1004", map[string]string{"creditLimit": "1"})
	e.writes()
	code, out, _ := e.run("run", "-file", day1)
	if code != ExitOK || !strings.Contains(out, "drift  C-1004") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if up, _ := e.writes(); up != 0 {
		t.Errorf("report mode wrote %d upserts", up)
	}
}

func TestE2E_GuardStopsBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, func(c string) string { return strings.Replace(c, "max_delete: 30%", "max_delete: 1", 1) })
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatal(errOut)
	}
	e.writes()
	code, _, errOut := e.run("run", "-file", day2)
	if code != ExitGuard || !strings.Contains(errOut, "max_delete") || !strings.Contains(errOut, "deletes 2 of 10") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("a tripped guard wrote %d upserts, %d deletes", up, del)
	}
}

func TestE2E_BadRowsGoOn(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatal(errOut)
	}
	e.writes()
	data, _ := os.ReadFile(day1)
	text := string(data)
	// C-1003 becomes invalid (a bad number), C-1009 changes, a new customer
	// is named like a formula.
	text = strings.Replace(text, "C-1003;Boutique Lumière;FR;Lyon;2.250,50", "C-1003;Boutique Lumière;FR;Lyon;2,250,50", 1)
	text = strings.Replace(text, "C-1009;Silver Line;IT;Milano;4.100,00", "C-1009;Silver Line;IT;Milano;4.200,00", 1)
	text += "=SUM(1);Formula;FR;Paris;1,00;EUR;1;30;;C;J;;\r\n"
	bad := e.file("bad.csv", text)
	code, out, _ := e.run("run", "-file", bad)
	if code != ExitRowFails {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	if !strings.Contains(out, "bad.csv line 4 column KLIMK: bad number \"2,250,50\"") {
		t.Errorf("the row error is not named:\n%s", out)
	}
	if up, del := e.writes(); up != 2 || del != 0 {
		t.Errorf("wrote %d upserts, %d deletes; want 2 (C-1009 and the new one) and no delete of C-1003", up, del)
	}
	if c, ok := e.customer("C-1003"); !ok || *c.CreditLimit != 2250.5 {
		t.Errorf("the invalid row's customer changed: %v %+v", ok, c.CreditLimit)
	}

	// Reports: the row error and the inert formula.
	dirs, _ := filepath.Glob(filepath.Join(e.dir, "reports", "*"))
	last := dirs[len(dirs)-1]
	for _, name := range []string{"success.csv", "errors.csv", "summary.json"} {
		if _, err := os.Stat(filepath.Join(last, name)); err != nil {
			t.Errorf("report %s: %v", name, err)
		}
	}
	rows := readRows[report.OutcomeLine](t, filepath.Join(last, "success.csv"))
	found := false
	for _, r := range rows {
		if r.Reference == "'=SUM(1)" {
			found = true
		}
		if strings.HasPrefix(r.Reference, "=") {
			t.Errorf("a live formula in success.csv: %q", r)
		}
	}
	if !found {
		t.Errorf("the formula-named customer is not in success.csv (inert): %q", rows)
	}
	errs := readRows[report.OutcomeLine](t, filepath.Join(last, "errors.csv"))
	if len(errs) != 1 || errs[0].Reference != "C-1003" || errs[0].Line != "4" {
		t.Errorf("errors.csv = %+v", errs)
	}
	var summary map[string]any
	data, _ = os.ReadFile(filepath.Join(last, "summary.json"))
	if err := json.Unmarshal(data, &summary); err != nil || summary["row_errors"] != 1.0 || summary["status"] != "done with failures" {
		t.Errorf("summary.json = %s", data)
	}
}

// readCSV reads every cell of a CSV file, header included: for checks
// that look at each cell alike (no live formula anywhere). A check of one
// column reads the file by its columns' names: readRows.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestE2E_ImportTwice(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	code, out, errOut := e.run("import", "-file", day2)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if up, del := e.writes(); up != 9 || del != 0 {
		t.Errorf("import wrote %d upserts, %d deletes; want 9 (flagged rows are not deletes in an import)", up, del)
	}
	if code, _, _ := e.run("import", "-file", day2); code != ExitOK {
		t.Fatal("second import failed")
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("second import wrote %d upserts, %d deletes", up, del)
	}
	if code, _, errOut := e.run("import"); code != ExitUsage || !strings.Contains(errOut, "-file") {
		t.Errorf("import without -file: exit %d %s", code, errOut)
	}
}

func TestE2E_PlanBadInputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		code int
		want string
	}{
		{"empty.csv", ExitUsage, "empty.csv: the file is empty"},
		{"no-reference.csv", ExitUsage, "no-reference.csv line 1: the header lacks the column \"KUNNR\" (for reference)"},
		{"ragged.csv", ExitRowFails, "ragged.csv line 3: 4 fields where the header has 13"},
		{"nul.csv", ExitRowFails, "nul.csv line 3 column NAME1: a NUL byte"},
		{"quote.csv", ExitRowFails, "quote.csv line 3: unterminated or misplaced quote"},
		{"boolean.csv", ExitRowFails, "boolean.csv line 3 column SPERR: \"perhaps\" is neither a true value nor a false value"},
		{"number.csv", ExitRowFails, "number.csv line 3 column KLIMK: bad number \"12,3,4\""},
		{"country.csv", ExitRowFails, "country.csv line 3 column LAND1: unknown country \"Atlantis\""},
		{"duetype.csv", ExitRowFails, "duetype.csv line 3 column ZTERM_TYPE: bad dueDateConfigType \"9\""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel() // each on a crmsim and a checkpoint of its own
			e := newE2E(t, crmsim.Options{}, nil)
			code, out, errOut := e.run("plan", "-file", "../../testdata/badexports/"+tc.file)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s\n%s", code, tc.code, tc.want, out, errOut)
			}
			e.assertNothingWritten()
		})
	}
	t.Run("image outside images_dir", func(t *testing.T) {
		t.Parallel()
		images := t.TempDir()
		e := newE2E(t, crmsim.Options{}, nil)
		cfg, _ := os.ReadFile(e.cfg)
		base := strings.SplitN(string(cfg), "source:", 2)[0]
		after := "\nstate:" + strings.SplitN(string(cfg), "\nstate:", 2)[1]
		source := "source:\n  columns: {reference: KUNNR, name: NAME1, imageFile: LOGO}\n  images_dir: " + images + "\n"
		os.WriteFile(e.cfg, []byte(base+source+after), 0o600)
		code, out, errOut := e.run("plan", "-file", "../../testdata/badexports/image.csv")
		if code != ExitRowFails || !strings.Contains(out, "image.csv line 3 column LOGO: image path \"../../etc/passwd\" leaves images_dir") {
			t.Errorf("exit %d\n%s\n%s", code, out, errOut)
		}
		e.assertNothingWritten()
	})
	t.Run("plan -out lists every operation", func(t *testing.T) {
		t.Parallel()
		e := newE2E(t, crmsim.Options{}, nil)
		out := filepath.Join(e.dir, "plan.csv")
		if code, stdout, errOut := e.run("plan", "-file", day1, "-out", out); code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, errOut)
		}
		rows := readRows[report.PlanLine](t, out) // the header: PlanLine's columns
		if len(rows) < 10 {
			t.Errorf("plan.csv = %+v", rows)
		}
		e.assertNothingWritten()
	})
}

// assertNothingWritten checks that the CRM got no write and the state
// holds no customer and no run.
func (e *e2e) assertNothingWritten() {
	e.t.Helper()
	if up, del := e.writes(); up+del != 0 {
		e.t.Errorf("the CRM got %d upserts, %d deletes", up, del)
	}
	if _, err := os.Stat(e.state); err != nil {
		return
	}
	db := sqlite.NewDB(e.state)
	if err := db.Open(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	n, _ := db.Count(context.Background())
	runs, _ := db.Runs(context.Background(), 5)
	if n != 0 || len(runs) != 0 {
		e.t.Errorf("the state holds %d customers and %d runs", n, len(runs))
	}
}

func TestE2E_StateHeldOrUnusable(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatal(errOut)
	}
	db := sqlite.NewDB(e.state)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	lock, err := db.Acquire(context.Background(), "import")
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := e.run("run", "-file", day1)
	lock.Release(context.Background())
	db.Close()
	if code != ExitFatal || !strings.Contains(errOut, "held by import (pid ") || !strings.Contains(errOut, " since ") {
		t.Errorf("held state: exit %d %s", code, errOut)
	}

	if err := os.WriteFile(e.state, []byte("not a database, not ours"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = e.run("run", "-file", day1)
	if code != ExitFatal || !strings.Contains(errOut, "is unusable: not a SQLite database") {
		t.Errorf("foreign state: exit %d %s", code, errOut)
	}
	if data, _ := os.ReadFile(e.state); string(data) != "not a database, not ours" {
		t.Error("the foreign state file was changed")
	}
}
