package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"erpsync/cmd/internal/testbin"
)

// Guarantee: one benchbin run measures every figure of issue 25 §3
// through the binaries: raw rate and import pair by pair (alternating,
// each into a fresh crmsim, the import's peak RSS read from its rusage),
// the first run after the import, and plan rounds against the floor and
// csvdiff.
func TestRun_EveryFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs the binaries")
	}
	t.Parallel()
	dir, bin, fake := linkBinaries(t)
	var out strings.Builder
	o := options{rows: 1000, // crmsim's CPU for 100 upserts can be under a clock tick (/proc): cores busy "-"
		dir: filepath.Join(dir, "work"), bin: bin, pairs: 2, plans: 2, concurrency: 4, csvdiff: fake, simGOGC: "400",
		before: filepath.Join(bin, "erpsync")} // the same binary, as the code before a change
	if err := run(context.Background(), o, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`benchbin: 1000 rows, concurrency 4, crmsim's GOGC 400,`),
		regexp.MustCompile(`\| 1 \| raw, import \| [1-9]\d* \| [1-9]\d* \| \d+\.\d% \|.* \| [1-9]\d* MiB \|`),
		regexp.MustCompile(`\| 2 \| import, raw \| [1-9]\d* \| [1-9]\d* \|`),
		// The import's phases (its summary.json) and how busy each pair kept the cores.
		regexp.MustCompile(`\| 1 \| raw, import \|.* \| \d+\.\d\d s, \d+\.\d\d s, \d+\.\d\d s \| \d+\.\d\d / \d+\.\d\d \|`),
		// The last import's crmsim is kept for the plan: its CPU is read
		// while it runs, so that pair's cores busy are known too.
		regexp.MustCompile(`\| 2 \| import, raw \|.* \| \d+\.\d\d / \d+\.\d\d \|`),
		// The requests each crmsim counted, by kind, and its CPU a request.
		regexp.MustCompile(`\| 1 \| raw \| POST /customers/reference/\{id\} [1-9]\d* \| [1-9]\d* \| \d+ µs \|`),
		regexp.MustCompile(`\| 2 \| import \| .*POST /customers/reference/\{id\} [1-9]\d*.* \| [1-9]\d* \| \d+ µs \|`),
		// crmsim's collector, as its gctrace lines told it, and its CPU a
		// request without it.
		regexp.MustCompile(`\| 1 \| raw \| .* \| \d+ µs \| \d+, \d+\.\d\d s \(\d+\.\d\d s\) \| \d+ µs \|`),
		regexp.MustCompile(`\| 2 \| import \| .* \| \d+ µs \| \d+, \d+\.\d\d s \(\d+\.\d\d s\) \| \d+ µs \|`),
		regexp.MustCompile(`import ÷ raw: median \d+\.\d%`),
		regexp.MustCompile("first `run` of day 1 after the last import: .*, [1-9]\\d* requests; "),
		// A second run past the first's lookback, on whose checkpoint the plans run.
		regexp.MustCompile("second `run` of day 1 \\(2s later: .*\\): .*, [1-9]\\d* requests; "),
		regexp.MustCompile(`requests a plan sent: [1-9]\d*, [1-9]\d*; a plan before: [1-9]\d*, [1-9]\d*\n`),
		regexp.MustCompile(`\| 2 \| \d+\.\d\d s \| \d+\.\d\d s \| \d+\.\d\d s \| \d+\.\d\d× \| \d+\.\d\d× \|`),
		regexp.MustCompile(`plan ÷ floor: median \d+\.\d\d×.*; plan ÷ csvdiff: median \d+\.\d\d×`),
		// -before: the other binary's plan in each round, beside this one's.
		regexp.MustCompile(`\| 2 \| \d+\.\d\d s \| \d+\.\d\d s \| \d+\.\d\d× \| \d+\.\d\d× \| \d+\.\d\d× \|`),
		regexp.MustCompile(`plan ÷ plan before: median \d+\.\d\d×; before ÷ floor: median \d+\.\d\d×; before ÷ csvdiff: median \d+\.\d\d×`),
	} {
		if !want.MatchString(text) {
			t.Errorf("no %s in:\n%s", want, text)
		}
	}
}

// commands finds (or links) erpsync, crmsim and genexport once for the
// package's tests: each lookup is a go command that loads the module,
// and both tests looked them up.
var commands = sync.OnceValues(func() (map[string]string, error) {
	return testbin.Paths(context.Background(), "erpsync/cmd/erpsync", "erpsync/cmd/crmsim", "erpsync/cmd/genexport")
})

// linkBinaries links the build cache's erpsync, crmsim and genexport
// (linked once) into dir/bin, and writes a csvdiff stand-in that reads
// its two files.
func linkBinaries(t *testing.T) (dir, bin, csvdiff string) {
	t.Helper()
	dir = t.TempDir()
	bin = filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	paths, err := commands()
	if err != nil {
		t.Fatal(err)
	}
	for pkg, exe := range paths {
		if err := os.Symlink(exe, filepath.Join(bin, path.Base(pkg))); err != nil {
			t.Fatal(err)
		}
	}
	csvdiff = filepath.Join(dir, "csvdiff")
	if err := os.WriteFile(csvdiff, []byte("#!/bin/sh\ncat \"$1\" \"$2\" >/dev/null\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, bin, csvdiff
}

// startTestSim starts a crmsim of bin at GOGC gogc ("" the runtime's),
// its log in dir, stopped when the test ends.
func startTestSim(t *testing.T, dir, bin, gogc string) *sim {
	t.Helper()
	s, err := startSim(bin, filepath.Join(dir, "crmsim.log"), gogc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop() })
	return s
}

// Guarantee: -plan-config measures the plan rounds alone, on the
// checkpoint and the running CRM of a config: no raw rate, no import.
func TestRun_PlanConfigOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs the binaries")
	}
	t.Parallel()
	dir, bin, fake := linkBinaries(t)
	s := startTestSim(t, dir, bin, "")
	cfg, err := writeConfig(filepath.Join(dir, "planned"), s.URL, 4)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	o := options{rows: 100, dir: filepath.Join(dir, "work"), bin: bin, pairs: 2, plans: 2, csvdiff: fake, planConfig: cfg}
	if err := run(context.Background(), o, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	if strings.Contains(text, "import ÷ raw") || strings.Contains(text, "first `run`") {
		t.Errorf("a raw rate or an import measured with -plan-config:\n%s", text)
	}
	if !regexp.MustCompile(`plan ÷ floor: median \d+\.\d\d×`).MatchString(text) {
		t.Errorf("no plan rounds in:\n%s", text)
	}
	if !strings.Contains(text, "requests of the plans: not counted with -plan-config") {
		t.Errorf("-plan-config's requests not said to be uncounted in:\n%s", text)
	}
}

// Guarantee: without an import (-pairs 0) and without -plan-config there
// is no checkpoint for the plans: an error says so before anything is
// built or run.
func TestRun_NoPairsRefused(t *testing.T) {
	var out strings.Builder
	err := run(context.Background(), options{pairs: 0, plans: 2, dir: t.TempDir()}, &out)
	if err == nil || !strings.Contains(err.Error(), "-plan-config") || out.Len() > 0 {
		t.Errorf("run with -pairs 0: %v, printed %q; want an error naming -plan-config and nothing run", err, out.String())
	}
}

// Guarantee: a -sim-gogc the runtime would read as 100 without a word is
// refused before anything is built or run.
func TestRun_BadSimGOGCRefused(t *testing.T) {
	for _, v := range []string{"x", "400%", "3000000000"} {
		var out strings.Builder
		err := run(context.Background(), options{pairs: 1, plans: 1, dir: t.TempDir(), simGOGC: v}, &out)
		if err == nil || !strings.Contains(err.Error(), "-sim-gogc") || out.Len() > 0 {
			t.Errorf("run with -sim-gogc %q: %v, printed %q; want an error naming -sim-gogc and nothing run", v, err, out.String())
		}
	}
}

// Guarantee: a crmsim runs with gctrace on (its collector's CPU is read
// from its log) and with -sim-gogc's GOGC, whatever benchbin's own
// environment says.
func TestStartSim_Environment(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs the binaries")
	}
	t.Setenv("GOGC", "50")
	t.Setenv("GODEBUG", "madvdontneed=1")
	dir, bin, _ := linkBinaries(t)
	s := startTestSim(t, dir, bin, "400")
	text, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", s.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	env := map[string]string{} // exec.Cmd leaves one of a name; the last, should there be more
	for _, kv := range strings.Split(string(text), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	if env["GOGC"] != "400" || env["GODEBUG"] != "madvdontneed=1,gctrace=1" {
		t.Errorf("crmsim's GOGC %q, GODEBUG %q; want 400 and madvdontneed=1,gctrace=1", env["GOGC"], env["GODEBUG"])
	}
}

// Guarantee: a crmsim's collections are read from its log as it runs
// (gcSoFar): at GOGC=1 a few requests make some, each counted with its
// time.
func TestStartSim_CollectionsRead(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs the binaries")
	}
	t.Parallel()
	dir, bin, _ := linkBinaries(t)
	s := startTestSim(t, dir, bin, "1")
	var g gcTime
	for range 100 { // bounded: some 100 requests and 2 s at most
		if _, err := s.requests(context.Background()); err != nil {
			t.Fatal(err)
		}
		var err error
		if g, err = s.gcSoFar(); err != nil {
			t.Fatal(err)
		}
		if g.cycles > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if g.cycles == 0 || g.total <= 0 || g.unread != 0 {
		t.Errorf("crmsim's collections read from its log: %+v; want at least one, with its time, none unread", g)
	}
}
