package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"erpsync/cmd/internal/testbin"
	"erpsync/mapping"
	"erpsync/mapping/genexport"
	"erpsync/sync/crm"
	"erpsync/sync/refresh"
)

// bins holds the erpsync and crmsim binaries, found (or linked) once for
// the package while the tests that need no process run: waitBins waits
// for them.
var bins struct {
	erpsync, crmsim, dir string
	built                chan struct{} // closed when the build has ended
	err                  error         // the build's error, once built is closed
}

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "erpsync-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		bins.dir = dir
		bins.built = make(chan struct{})
		parallelByDefault(testParallel)
		ctx, cancel := context.WithCancel(context.Background())
		// Both linked at once unless the build cache holds them (testbin),
		// stopped when no test needed them.
		go func() {
			defer close(bins.built)
			paths, err := testbin.Paths(ctx, dir, "erpsync/cmd/erpsync", "erpsync/cmd/crmsim")
			if err != nil {
				bins.err = fmt.Errorf("build erpsync and crmsim: %w", err)
				return
			}
			bins.erpsync, bins.crmsim = paths["erpsync/cmd/erpsync"], paths["erpsync/cmd/crmsim"]
		}()
		code := m.Run()
		cancel()
		<-bins.built
		return code
	}()
	os.Exit(code)
}

// testParallel is how many tests run at once unless -parallel says: most
// wait on serve's ticks, subprocesses and loopback, not on the CPU, so
// the default (GOMAXPROCS, 2 here) left the package mostly idle.
const testParallel = 8

// parallelByDefault sets -test.parallel to n unless the command line set it.
func parallelByDefault(n int) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", strconv.Itoa(n))
	}
}

// waitBins waits for the binaries of TestMain's build.
func waitBins(t *testing.T) {
	t.Helper()
	<-bins.built
	if bins.err != nil {
		t.Fatal(bins.err)
	}
}

// crmsimProcess starts the crmsim binary on a free loopback port.
func crmsimProcess(t *testing.T, args ...string) string {
	t.Helper()
	waitBins(t)
	cmd := exec.Command(bins.crmsim, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("crmsim: %v", err)
	}
	// "crmsim listening on http://127.0.0.1:PORT/api/v1.0/customers ..."
	url := strings.Fields(line)[3]
	return strings.TrimSuffix(url, "/api/v1.0/customers")
}

func simStats(t *testing.T, base string) map[string]int64 {
	t.Helper()
	resp, err := http.Get(base + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Requests map[string]int64 }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v.Requests
}

// processConfig writes a config over base for the generated exports.
func processConfig(t *testing.T, dir, base, extra string) string {
	t.Helper()
	demo, err := os.ReadFile("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(demo), "base_url: http://127.0.0.1:8085", "base_url: "+base, 1)
	cfg = strings.Replace(cfg, "path: erpsync.db", "path: "+filepath.Join(dir, "erpsync.db"), 1)
	cfg = strings.Replace(cfg, "dir: reports", "dir: "+filepath.Join(dir, "reports"), 1)
	for _, kv := range strings.Split(extra, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			cfg = strings.Replace(cfg, k, v, 1)
		}
	}
	path := filepath.Join(dir, "erpsync.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// erpsyncProcess runs the erpsync binary and returns its exit code and output.
func erpsyncProcess(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	waitBins(t)
	cmd := exec.Command(bins.erpsync, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String()
}

// export400 writes a generated export of 400 rows (sub-customers included).
func export400(t *testing.T, dir string) string {
	t.Helper()
	day1, _, err := genexport.WriteFiles(dir, genexport.Options{Rows: 400, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	return day1
}

// assertCRMMatches lists the CRM and checks that it holds every customer of
// the export exactly once, with the export's values.
func assertCRMMatches(t *testing.T, base, export string) {
	t.Helper()
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*mapping.Customer{}
	if _, err := m.Read(context.Background(), export, func(r mapping.Row) error {
		if r.Customer != nil {
			want[r.Customer.Reference] = r.Customer
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	client, err := crm.NewClient(crm.Config{BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for c, err := range client.List(context.Background(), crm.ListQuery{Max: 500}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[c.Reference] {
			t.Errorf("%s is in the CRM twice", c.Reference)
		}
		seen[c.Reference] = true
		w, ok := want[c.Reference]
		if !ok {
			t.Errorf("%s is in the CRM but not in the export", c.Reference)
			continue
		}
		got := refresh.CRMValues(&c, []string{"name", "creditLimit", "billingCity", "parentCustomer"}, mapping.CountryCode)
		for _, f := range []string{"name", "creditLimit", "billingCity", "parentCustomer"} {
			if got[f] != w.Field(f) {
				t.Errorf("%s %s = %q in the CRM, %q in the export", c.Reference, f, got[f], w.Field(f))
			}
		}
	}
	if len(seen) != len(want) {
		t.Errorf("the CRM holds %d customers, the export %d", len(seen), len(want))
	}
}

// waitUpserts waits (30 s at most) until crmsim has taken n upserts from
// the running cmd.
func waitUpserts(t *testing.T, base string, cmd *exec.Cmd, n int64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); simStats(t, base)[crm.OpUpsert] < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the run never got going")
		}
	}
}

// TestProcess_KilledRunResumes kills a run, and an import (whose rows are
// read again as they are sent), with SIGKILL mid-way; the next one
// finishes the work without duplicates and sends less than a full one.
func TestProcess_KilledRunResumes(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"run", "import"} {
		t.Run(kind, func(t *testing.T) { killedResumes(t, kind) })
	}
}

func killedResumes(t *testing.T, kind string) {
	dir := t.TempDir()
	base := crmsimProcess(t, "-latency", "20ms")
	export := export400(t, dir)
	cfg := processConfig(t, dir, base, "concurrency: 8=concurrency: 4")

	cmd := exec.Command(bins.erpsync, kind, "-config", cfg, "-file", export)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUpserts(t, base, cmd, 60)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	first := simStats(t, base)[crm.OpUpsert]
	if first >= 400 {
		t.Fatalf("the run had finished (%d upserts) before the kill", first)
	}
	// A line cut as a power loss (or an older erpsync) leaves it: the
	// run that resumes truncates it.
	killed, _ := filepath.Glob(filepath.Join(dir, "reports", "*", "success.csv"))
	if len(killed) != 1 {
		t.Fatalf("reports of the killed run: %v", killed)
	}
	if f, err := os.OpenFile(killed[0], os.O_APPEND|os.O_WRONLY, 0); err == nil {
		f.WriteString("create,CUT-1,9")
		f.Close()
	}

	code, out := erpsyncProcess(t, nil, kind, "-config", cfg, "-file", export)
	if code != ExitOK {
		t.Fatalf("rerun exit %d\n%s", code, out)
	}
	second := simStats(t, base)[crm.OpUpsert] - first
	if second >= 400 {
		t.Errorf("the rerun sent %d upserts: it redid recorded work", second)
	}
	t.Logf("killed after %d upserts; the rerun sent %d", first, second)
	assertCRMMatches(t, base, export)
	checkResumedReports(t, filepath.Join(dir, "reports"))
}

// checkResumedReports checks the reports of a killed run and of the run
// that resumed it: no line of either is cut, and every row of the export
// is in exactly one line of the resumed run's files, those finished
// before the kill as "done earlier, run 1".
func checkResumedReports(t *testing.T, reports string) {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(reports, "*"))
	if len(dirs) != 2 {
		t.Fatalf("report folders: %v", dirs)
	}
	reportLines(t, dirs[0]) // the killed run's: no cut line
	byLine := checkEveryRow(t, dirs[1], 401)
	earlier := 0
	for _, got := range byLine {
		if len(got) == 1 && strings.HasSuffix(got[0], "done earlier, run 1") {
			earlier++
		}
	}
	if earlier == 0 {
		t.Error("the resumed run lists no row as done earlier, run 1")
	}
	t.Logf("the resumed run lists %d rows as done earlier", earlier)
}

// TestProcess_FaultsConverge runs against a CRM that fails and throttles
// a fifth of the requests each: the run still ends clean, and a rerun
// writes nothing.
func TestProcess_FaultsConverge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Throttled answers ask for no wait (Retry-After: 0): with crmsim's
	// default of 1 s, each throttled request idled its worker a second,
	// 10-15 s of this test's time. 100 rows (5 parents, 15 sub-customers).
	base := crmsimProcess(t, "-fail-rate", "0.2", "-throttle-rate", "0.2", "-retry-after", "0", "-fault-seed", "5")
	export, _, err := genexport.WriteFiles(dir, genexport.Options{Rows: 100, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	cfg := processConfig(t, dir, base, "concurrency: 8=concurrency: 16\n  retries: 10")
	code, out := erpsyncProcess(t, nil, "run", "-config", cfg, "-file", export)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	before := simStats(t, base)
	code, out = erpsyncProcess(t, nil, "run", "-config", cfg, "-file", export)
	if code != ExitOK {
		t.Fatalf("rerun exit %d\n%s", code, out)
	}
	after := simStats(t, base)
	if after[crm.OpUpsert] != before[crm.OpUpsert] || after[crm.OpDeleteByReference] != before[crm.OpDeleteByReference] {
		t.Errorf("the rerun wrote: %v → %v", before, after)
	}
	assertCRMMatches(t, base, export)
}

// TestProcess_WrongToken exits 4 after a handful of requests, and the
// token is written nowhere.
func TestProcess_WrongToken(t *testing.T) {
	t.Parallel()
	const token = "wrong-secret-token-7f3a9c"
	dir := t.TempDir()
	base := crmsimProcess(t, "-token", "the-right-token")
	export := export400(t, dir)
	cfg := processConfig(t, dir, base, "auth: none=auth: bearer")
	code, out := erpsyncProcess(t, []string{"CRM_TOKEN=" + token}, "run", "-config", cfg, "-file", export, "-v")
	if code != ExitFatal || !strings.Contains(out, "401 invalid_token") {
		t.Fatalf("exit %d, want 4\n%s", code, out)
	}
	var total int64
	for _, n := range simStats(t, base) {
		total += n
	}
	if total > 5 {
		t.Errorf("%d requests with a refused token: a retry storm", total)
	}
	if strings.Contains(out, token) {
		t.Errorf("the token is in the output:\n%s", out)
	}
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if data, _ := os.ReadFile(path); bytes.Contains(data, []byte(token)) {
				t.Errorf("the token is in %s", path)
			}
		}
		return nil
	})
}

// TestProcess_Interrupted sends SIGINT mid-run (and mid-import): scheduling stops, the
// requests in flight finish and are recorded, the reports are written, and
// the exit code says the run did not finish.
func TestProcess_Interrupted(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"run", "import"} {
		t.Run(kind, func(t *testing.T) { interrupted(t, kind) })
	}
}

func interrupted(t *testing.T, kind string) {
	dir := t.TempDir()
	base := crmsimProcess(t, "-latency", "200ms")
	export := export400(t, dir)
	cfg := processConfig(t, dir, base, "concurrency: 8=concurrency: 2")
	cmd := exec.Command(bins.erpsync, kind, "-config", cfg, "-file", export)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUpserts(t, base, cmd, 6)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != ExitFatal {
		t.Fatalf("exit %v, want %d\n%s", err, ExitFatal, out.String())
	}
	sent := simStats(t, base)[crm.OpUpsert]
	if sent >= 400 {
		t.Fatalf("the run went on to the end (%d upserts)", sent)
	}
	code, status := erpsyncProcess(t, nil, "status", "-config", cfg)
	if code != 0 || !strings.Contains(status, fmt.Sprintf("%d managed customers", sent)) || !strings.Contains(status, "interrupted") {
		t.Errorf("after %d acknowledged upserts, status says:\n%s", sent, status)
	}
	summaries, _ := filepath.Glob(filepath.Join(dir, "reports", "*", "summary.json"))
	if len(summaries) != 1 {
		t.Fatalf("reports: %v", summaries)
	}
	data, _ := os.ReadFile(summaries[0])
	if !strings.Contains(string(data), `"status": "interrupted"`) {
		t.Errorf("summary.json = %s", data)
	}
}
