package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// options are benchbin's flags.
type options struct {
	rows              int
	day1, day2        string
	dir, bin, csvdiff string
	before            string // another erpsync: its plan too, in each round
	planConfig        string // the plan rounds only, on this config's checkpoint and CRM
	pairs, plans      int
	concurrency       int
	// simGOGC is crmsim's GOGC, "" for the runtime's (100): crmsim holding
	// a million customers spends half its CPU collecting, its idle
	// workers' marking on cores its client could use (README: "crmsim's
	// collector on the client's cores").
	simGOGC string
}

// bench is one benchbin run in progress.
type bench struct {
	o      options
	rows   int    // records of day 1, its header left out
	config string // the last import's config: the plan's
	sim    *sim   // the last import's crmsim, kept for the plan
	w      io.Writer
}

// run measures the pairs, then the plans, and prints the tables.
func run(ctx context.Context, o options, w io.Writer) (err error) {
	if o.pairs < 1 && o.planConfig == "" {
		return fmt.Errorf("-pairs %d: at least one import is needed for the plans (or give -plan-config)", o.pairs)
	}
	if _, err := strconv.ParseInt(o.simGOGC, 10, 32); o.simGOGC != "" && o.simGOGC != "off" && err != nil {
		// The runtime would take it as 100 and say nothing (a negative one
		// is off, as the runtime reads it).
		return fmt.Errorf("-sim-gogc %q: a percentage or off", o.simGOGC)
	}
	b := &bench{o: o, w: w}
	if err := b.prepare(ctx); err != nil {
		return err
	}
	defer func() { b.sim.stop() }()
	o = b.o // with what prepare filled in
	gogc := "crmsim's GOGC the runtime's"
	if o.simGOGC != "" {
		gogc = "crmsim's GOGC " + o.simGOGC
	}
	fmt.Fprintf(w, "benchbin: %d rows, concurrency %d, %s, binaries in %s, work in %s; load average %s\n",
		b.rows, o.concurrency, gogc, o.bin, o.dir, loadAverage())
	if o.planConfig != "" {
		b.config = o.planConfig
	} else if err := b.importAndRun(ctx); err != nil {
		return err
	}
	rounds, err := b.planRounds(ctx)
	if err != nil {
		return err
	}
	printRounds(w, rounds)
	printBefore(w, rounds)
	printPlanRequests(w, rounds)
	return nil
}

// settle is how long benchbin waits after the first run of day 1 before
// a second one: the config's lookback (1 s) and the second its window
// is rounded down to. A run pulls what the CRM changed since the last
// run's start minus the lookback; the second run starts that long after
// the first, so the plans' window (from the second's start) holds none
// of the import's last writes, as on a user's day 2, a night later (at
// crmsim's 11,000 upserts a second, 1 s of them is 110 pages).
const settle = 2 * time.Second

// importAndRun measures the pairs, then the first run of day 1 after
// the last import and a second one (settle later), whose checkpoint and
// crmsim the plan rounds use.
func (b *bench) importAndRun(ctx context.Context) error {
	pairs, err := b.importPairs(ctx)
	if err != nil {
		return err
	}
	printPairs(b.w, pairs)
	for i, r := range []struct{ name, say string }{
		{"run-day1", "first `run` of day 1 after the last import"},
		{"run-second", "second `run` of day 1 (" + settle.String() + " later: the plans' window holds none of the import's writes)"},
	} {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(settle):
			}
		}
		var m measure
		n, err := b.counted(ctx, func() (err error) {
			m, err = runChild(ctx, b.log(r.name), b.binary("erpsync"), "run", "-config", b.config, "-file", b.o.day1)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(b.w, "\n%s: %.2f s, %.2f CPU s, peak RSS %s, %d requests; load average %s\n",
			r.say, m.wall.Seconds(), m.cpu.Seconds(), mib(m.maxRSS), n, loadAverage())
	}
	return nil
}

// sum is the requests of every kind.
func sum(reqs map[string]int64) int64 {
	var n int64
	for _, v := range reqs {
		n += v
	}
	return n
}

// prepare makes the work folder, builds the binaries and writes the
// exports unless given, and counts day 1's rows (a floor read of it,
// which also brings it into the page cache).
func (b *bench) prepare(ctx context.Context) error {
	o := &b.o
	if o.dir == "" {
		d, err := os.MkdirTemp("", "benchbin-")
		if err != nil {
			return err
		}
		o.dir = d
	}
	if err := os.MkdirAll(filepath.Join(o.dir, "logs"), 0o755); err != nil {
		return err
	}
	if o.bin == "" {
		o.bin = filepath.Join(o.dir, "bin")
		build := exec.CommandContext(ctx, "go", "build", "-o", o.bin+"/", "./cmd/erpsync", "./cmd/crmsim", "./cmd/genexport")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build the binaries (run benchbin from the module's folder, or give -bin): %w\n%s", err, out)
		}
	}
	if (o.day1 == "") != (o.day2 == "") {
		return fmt.Errorf("give both -day1 and -day2, or neither")
	}
	if o.day1 == "" {
		out := filepath.Join(o.dir, "exports")
		if _, err := runChild(ctx, b.log("genexport"), b.binary("genexport"), "-rows", strconv.Itoa(o.rows), "-out", out); err != nil {
			return err
		}
		o.day1, o.day2 = filepath.Join(out, "day1.csv"), filepath.Join(out, "day2.csv")
	}
	floor, err := runChild(ctx, b.log("floor"), b.binary("genexport"), "-floor", o.day1)
	if err != nil {
		return err
	}
	n, err := floorRecords(floor.out)
	if err != nil {
		return err
	}
	b.rows = n - 1
	return nil
}

// floorRecords reads the records counted from `genexport -floor`'s line:
// "floor read of FILE: N records in S s".
func floorRecords(out string) (int, error) {
	_, rest, ok := strings.Cut(out, ": ")
	if fields := strings.Fields(rest); ok && len(fields) > 1 && fields[1] == "records" {
		return strconv.Atoi(fields[0])
	}
	return 0, fmt.Errorf("genexport -floor printed %q: no record count", out)
}

// rawRate reads the rate from `genexport -raw`'s line: "... : R upserts/s".
func rawRate(out string) (float64, error) {
	s := strings.TrimSpace(out)
	if before, ok := strings.CutSuffix(s, " upserts/s"); ok {
		if i := strings.LastIndex(before, " "); i >= 0 {
			return strconv.ParseFloat(before[i+1:], 64)
		}
	}
	return 0, fmt.Errorf("genexport -raw printed %q: no rate", out)
}

func (b *bench) binary(name string) string { return filepath.Join(b.o.bin, name) }

func (b *bench) log(name string) string { return filepath.Join(b.o.dir, "logs", name+".log") }

// loadAverage is the machine's load over 1, 5 and 15 minutes.
func loadAverage() string {
	text, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(text)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
