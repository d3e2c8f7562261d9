package page_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/memstate"
	"erpsync/sync/inbox"
	"erpsync/sync/page"
)

const xss = `<img src=x onerror=alert(1)>`

// fixture is a page over a checkpoint in memory, a real ledger and a real
// reports folder, served on loopback.
type fixture struct {
	url, dir, reports, folder string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{dir: t.TempDir()}
	f.reports = filepath.Join(f.dir, "reports")
	db := memstate.New() // the page reads runs, failures and history: the contract suite's, on both checkpoints
	for _, r := range []struct {
		file, status, err string
		counts            map[string]int
	}{
		{"inbox/day1.csv", state.StatusDone, "", map[string]int{"create": 6}},
		{"inbox/day2.csv", state.StatusAborted, "max_delete: the plan deletes 4 customers, over 5% of 6 managed", nil},
	} {
		id, err := db.StartRun(ctx, "run", r.file, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.FinishRun(ctx, id, r.status, r.counts, r.err); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SaveHistory(ctx, []state.Event{{Reference: "C-1004", RunID: 2, At: time.Now(), Kind: state.EventDrift,
		Changes: []state.FieldChange{{Field: "name", Old: xss, New: "Bijoux Martin"}}}}, time.Time{}); err != nil { // found by run 2
		t.Fatal(err)
	}
	f.folder = "20261206T020000.000Z-1"
	mustWrite(t, filepath.Join(f.reports, f.folder, "summary.json"), `{"status":"done"}`)
	mustWrite(t, filepath.Join(f.reports, f.folder, "success.csv"), "operation,reference\n")
	mustWrite(t, filepath.Join(f.dir, "secret.txt"), "TOP-SECRET-OUTSIDE")
	if err := os.Symlink(filepath.Join(f.dir, "secret.txt"), filepath.Join(f.reports, f.folder, "link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(f.reports, f.folder, "success.csv"), filepath.Join(f.reports, f.folder, "inside.csv")); err != nil {
		t.Fatal(err)
	}
	ledger := &inbox.Ledger{Path: inbox.LedgerPath(filepath.Join(f.dir, "erpsync.db"))}
	if err := ledger.Hold(inbox.Held{Source: "inbox/day2.csv", SHA256: "ab", Reason: "max_delete: 4 deletes over 5%", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	p := page.New(page.Source{State: db, Held: ledger.Held, ReportsDir: f.reports,
		Next: func() time.Time { return time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC) }})
	mux := http.NewServeMux()
	p.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestPage_Escapes: the page shows every part, each value escaped, and
// allows no script.
func TestPage_Escapes(t *testing.T) {
	t.Parallel() // its own folder, checkpoint and server; it shares nothing
	f := newFixture(t)
	code, body, h := get(t, f.url+"/")
	if code != http.StatusOK || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("GET /: %d, policy %q", code, h.Get("Content-Security-Policy"))
	}
	for _, want := range []string{"2026-12-07 02:00:00 UTC", "inbox/day2.csv", "max_delete: 4 deletes over 5%", "aborted",
		"create 6", `href="reports/` + f.folder + `/summary.json"`, "C-1004", "&lt;img src=x onerror=alert(1)&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, xss) || strings.Contains(body, "<script") || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Errorf("the page holds a raw value, a script or a link elsewhere:\n%s", body)
	}
}

// TestPage_ReportFiles: a report file is served; nothing outside
// reports.dir is, whatever the path: "..", encoded slashes, links.
func TestPage_ReportFiles(t *testing.T) {
	t.Parallel() // its own folder, checkpoint and server; it shares nothing
	f := newFixture(t)
	if code, body, _ := get(t, f.url+"/reports/"+f.folder+"/summary.json"); code != http.StatusOK || body != `{"status":"done"}` {
		t.Fatalf("summary.json: %d %q", code, body)
	}
	for _, p := range []string{
		"/reports/../secret.txt", "/reports/..%2fsecret.txt", "/reports/..%2F..%2Fsecret.txt",
		"/reports/" + f.folder + "%2F..%2F..%2Fsecret.txt", "/reports/" + f.folder + "/..%2f..%2fsecret.txt",
		"/reports/%2e%2e/secret.txt", "/reports/" + f.folder + "/link.csv", "/reports/" + f.folder + "/inside.csv",
		"/reports/" + f.folder, "/reports/" + f.folder + "/", "/reports/" + f.folder + "/..\\..\\secret.txt",
		"/reports/%252e%252e/secret.txt",
	} {
		code, body, _ := get(t, f.url+p)
		if code == http.StatusOK || strings.Contains(body, "TOP-SECRET") {
			t.Errorf("GET %s: %d %q", p, code, body)
		}
	}
}

// TestPage_Chromium: the page rendered in headless Chromium shows the
// last runs and the held export, and the customer's name as text: no
// element was made of it.
func TestPage_Chromium(t *testing.T) {
	t.Parallel() // its own folder, checkpoint and server; it shares nothing
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no Chromium on this machine (.ci/run installs Debian's chromium): the page was checked as text only (TestPage_Escapes)")
	}
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=2000", "--dump-dom", f.url+"/")
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	got := string(dom)
	for _, want := range []string{`id="runs"`, "inbox/day1.csv", "done", "aborted", `id="held"`, "inbox/day2.csv",
		"max_delete: 4 deletes over 5%", "&lt;img src=x onerror=alert(1)&gt;"} {
		if !strings.Contains(got, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	if strings.Contains(got, "<img") {
		t.Errorf("the customer's name became an element:\n%s", got)
	}
}

// TestPage_HeldPlan: under serve.approve, a held export's plan waits in
// its run's report folder as plan.json: the held table links it, and the
// link serves it read-only; a held export without one has no link.
func TestPage_HeldPlan(t *testing.T) {
	t.Parallel() // its own folder, checkpoint and server; it shares nothing
	f := newFixture(t)
	held := func() string {
		_, body, _ := get(t, f.url+"/")
		start := strings.Index(body, `id="held"`)
		if start < 0 {
			t.Fatalf("no held table:\n%s", body)
		}
		end := strings.Index(body[start:], "</table>")
		return body[start : start+end]
	}
	if table := held(); strings.Contains(table, "plan.json") {
		t.Errorf("a held export without a plan.json links one:\n%s", table)
	}
	folder := "20261206T030000.000Z-2" // run 2: inbox/day2.csv, stopped by max_delete, held
	mustWrite(t, filepath.Join(f.reports, folder, "plan.json"), `{"plan":"waits"}`)
	mustWrite(t, filepath.Join(f.reports, folder, "summary.json"), `{"status":"aborted"}`)
	link := `href="reports/` + folder + `/plan.json"`
	if table := held(); !strings.Contains(table, link) {
		t.Errorf("the held export's row lacks %s:\n%s", link, table)
	}
	if code, body, h := get(t, f.url+"/reports/"+folder+"/plan.json"); code != http.StatusOK || body != `{"plan":"waits"}` ||
		h.Get("Content-Type") != "application/json" {
		t.Errorf("plan.json: %d %q %q", code, body, h.Get("Content-Type"))
	}
}
