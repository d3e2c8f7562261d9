package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
	"erpsync/sync/reconcile"
	"erpsync/sync/serve"
)

// bigExport writes n rows in the demo's SAP-like format.
func bigExport(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("KUNNR;NAME1;LAND1;ORT01;KLIMK;WAERS;ZTERM_TYPE;ZTERM_DAYS;PARENT;ZAHLW;KATEGORIE;SPERR;LOEVM\n")
	for i := range n {
		cur, cat := []string{"EUR", "USD"}[i%2], []string{"J", "R", "W"}[i%3]
		fmt.Fprintf(&b, "G-%05d;Customer %d;FR;Lyon;%d.%03d,50;%s;1;30;;C,T;%s;;\n", i, i, 1+i%9, i%1000, cur, cat)
	}
	path := filepath.Join(dir, "big.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSession_Acceptance is issue 12's first acceptance: run with the
// session login against crmsim (2 s sessions, 20 ms latency, pages capped
// at 37, millisecond dates) over 2,000 rows: every customer once, the
// re-logins counted and logged.
func TestSession_Acceptance(t *testing.T) {
	t.Parallel()
	const rows = 2000
	clock := simtest.Stepping(time.Now().UTC(), time.Millisecond)
	e := newE2E(t, crmsim.Options{User: testUser, Password: testPassword, SessionTTL: 2 * time.Second,
		Now: clock.Now, Latency: 20 * time.Millisecond, MaxPageSize: 37, TimePrecision: "ms"},
		func(cfg string) string {
			return strings.Replace(sessionAuth(cfg), "concurrency: 8", "concurrency: 32", 1)
		})
	export := bigExport(t, e.dir, rows)

	code, out, errOut := e.run("run", "-file", export)
	if code != ExitOK || !strings.Contains(out, fmt.Sprintf("created %d, updated 0", rows)) {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := e.sim.Store.Len(); n != rows {
		t.Errorf("crmsim holds %d customers, want %d", n, rows)
	}
	for i := range rows {
		if _, ok := e.customer(fmt.Sprintf("G-%05d", i)); !ok {
			t.Fatalf("G-%05d is missing", i)
		}
	}
	logins := e.sim.Logins()
	relogins := strings.Count(errOut, "logged in again")
	if logins < 2 || int64(relogins+1) != logins {
		t.Errorf("crmsim counted %d logins, the log %d re-logins: want at least one re-login, each logged", logins, relogins)
	}
	// crmsim counts a call refused for an ended session too: each was
	// repeated once, so the upserts exceed the rows by at most the calls in
	// flight (32) per re-login.
	if up, _ := e.writes(); up < rows || up > rows+32*int64(relogins) {
		t.Errorf("%d upserts for %d rows and %d re-logins", up, rows, relogins)
	}
	if strings.Contains(out+errOut, testPassword) {
		t.Error("the password is in the output")
	}
	t.Logf("%d logins, %d re-logins", logins, relogins)
}

// TestE2E_PageCapAndMilliseconds is issue 12's second acceptance: against
// crmsim capping pages at 37 with millisecond dates, a hand edit made
// between runs is found by the next run's refresh, and reconcile lists
// every customer.
func TestE2E_PageCapAndMilliseconds(t *testing.T) {
	t.Parallel()
	const rows = 2000
	clock := simtest.Stepping(time.Now().UTC(), time.Millisecond)
	e := newE2E(t, crmsim.Options{Now: clock.Now, MaxPageSize: 37, TimePrecision: "ms"}, nil)
	export := bigExport(t, e.dir, rows)
	if code, out, errOut := e.run("run", "-file", export); code != ExitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	e.writes()

	if _, err := e.sim.Store.Put("G-00042", map[string]string{"creditLimit": "1"}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := e.run("run", "-file", export)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if up, del := e.writes(); up != 1 || del != 0 {
		t.Errorf("second run wrote %d upserts, %d deletes; want the drifted one repaired", up, del)
	}
	if c, _ := e.customer("G-00042"); c.CreditLimit == nil || *c.CreditLimit == 1 {
		t.Errorf("G-00042 credit = %v, the hand edit stayed", c.CreditLimit)
	}

	dir := filepath.Join(e.dir, "reconcile")
	code, out, errOut = e.run("reconcile", "-file", export, "-out", dir)
	if code != ExitOK || !strings.Contains(out, fmt.Sprintf("matched %d ·", rows)) {
		t.Fatalf("reconcile: exit %d\n%s\n%s", code, out, errOut)
	}
	var r reconcile.Reconciliation
	data, _ := os.ReadFile(filepath.Join(dir, "reconciliation.json"))
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Summary.Matched != rows || r.Summary.OnlyInCRM != 0 || r.Summary.OnlyInERP != 0 || r.Summary.Different != 0 {
		t.Errorf("summary = %+v", r.Summary)
	}
}

// TestSession_UnsetVariable: a credential variable unset or empty stops
// run and check with exit 2 naming it, before any request.
func TestSession_UnsetVariable(t *testing.T) {
	e := newE2E(t, crmsim.Options{User: testUser, Password: testPassword}, sessionAuth)
	for _, tc := range []struct{ user, password, missing string }{
		{"", testPassword, testUserEnv},
		{testUser, "", testPasswordEnv},
	} {
		setCredentials(t, tc.user, tc.password)
		if tc.user == "" {
			os.Unsetenv(testUserEnv) // unset, not only empty
		}
		for _, cmd := range []string{"run", "check"} {
			code, out, errOut := e.run(cmd, "-file", day1)
			if cmd == "check" {
				code, out, errOut = e.run(cmd)
			}
			if code != ExitUsage || !strings.Contains(errOut, "environment variable "+tc.missing+" is unset or empty") {
				t.Errorf("%s without %s: exit %d, want 2 naming it\n%s\n%s", cmd, tc.missing, code, out, errOut)
			}
		}
	}
	t.Run("bearer token", func(t *testing.T) {
		e := newE2E(t, crmsim.Options{Token: "tok"}, func(cfg string) string {
			cfg = strings.Replace(cfg, "auth: none", "auth: bearer", 1)
			return strings.Replace(cfg, "token_env: CRM_TOKEN", "token_env: ERPSYNC_TEST_UNSET_TOKEN", 1)
		})
		code, _, errOut := e.run("check")
		if code != ExitUsage || !strings.Contains(errOut, "ERPSYNC_TEST_UNSET_TOKEN") {
			t.Errorf("exit %d, want 2 naming the variable\n%s", code, errOut)
		}
		if n := requests(e.sim); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	})
	if n := requests(e.sim); n != 0 {
		t.Errorf("%d requests sent: %v", n, e.sim.Stats())
	}
}

// TestSession_WrongPassword: run exits 4 after at most 2 requests; the
// password is in no output and no file.
func TestSession_WrongPassword(t *testing.T) {
	const wrong = "Wrong-pw-3c9a71d2"
	e := newE2E(t, crmsim.Options{User: testUser, Password: testPassword}, sessionAuth)
	setCredentials(t, testUser, wrong)
	code, out, errOut := e.run("run", "-file", day1)
	if code != ExitFatal || !strings.Contains(errOut, "credentials refused") {
		t.Fatalf("exit %d, want 4 saying the credentials were refused\n%s\n%s", code, out, errOut)
	}
	if n := requests(e.sim); n > 2 {
		t.Errorf("%d requests: %v", n, e.sim.Stats())
	}
	if strings.Contains(out+errOut, wrong) {
		t.Error("the password is in the output")
	}
	_ = filepath.Walk(e.dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if data, _ := os.ReadFile(path); bytes.Contains(data, []byte(wrong)) {
				t.Errorf("the password is in %s", path)
			}
		}
		return nil
	})
}

// TestMetrics_Logins: the client's logins reach /metrics' counters.
func TestMetrics_Logins(t *testing.T) {
	t.Parallel()
	m := serve.NewMetrics()
	now := simtest.NewClock(time.Now().UTC())
	ts := simtest.Start(t, crmsim.Options{User: testUser, Password: testPassword, SessionTTL: time.Second, Now: now.Now})
	client, err := newClient(CRMConfig{BaseURL: ts.URL, APIVersion: "v1.0", Auth: crm.AuthSession,
		UsernameEnv: testUserEnv, PasswordEnv: testPasswordEnv, Concurrency: 2, Timeout: 5 * time.Second, Retries: 1},
		zap.NewNop(), m.ObserveCRM)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for i := range 2 {
		if _, err := client.ListPage(t.Context(), crm.ListQuery{}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			now.Advance(2 * time.Second) // the session ends
		}
	}
	if l, r := counterValue(t, m.Gatherer(), "erpsync_crm_logins_total"), counterValue(t, m.Gatherer(), "erpsync_crm_relogins_total"); l != 2 || r != 1 {
		t.Errorf("metrics: %v logins, %v re-logins; want 2 and 1", l, r)
	}
}

// counterValue is the value of the counter name that g gathers.
func counterValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}
