package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pair is one raw rate and one import, each into a fresh crmsim.
type pair struct {
	rawFirst  bool
	raw       float64 // upserts a second, as genexport -raw measured them
	rawRun    measure
	rawSimCPU time.Duration
	rawSimGC  gcTime // of rawSimCPU
	imp       measure
	impRate   float64 // rows a second: day 1's rows over the import's wall time
	impSimCPU time.Duration
	impSimGC  gcTime // of impSimCPU
	// impPlan and impApply are the import's phases, as its summary.json
	// times them; the rest of its wall time is the process's start, the
	// checkpoint's open and the run's end.
	impPlan, impApply time.Duration
	// rawReqs and impReqs are the requests each crmsim counted, by kind.
	rawReqs, impReqs map[string]int64
	load             string // at the pair's end
}

// importPairs measures the pairs, the order alternating (raw first in the
// first pair). The last import's crmsim and config are kept for the plan.
func (b *bench) importPairs(ctx context.Context) ([]pair, error) {
	var pairs []pair
	for i := range b.o.pairs {
		p := pair{rawFirst: i%2 == 0}
		steps := []func(context.Context, int, *pair) error{b.raw, b.importInto}
		if !p.rawFirst {
			slices.Reverse(steps)
		}
		for _, step := range steps {
			if err := step(ctx, i, &p); err != nil {
				return pairs, err
			}
		}
		p.load = loadAverage()
		pairs = append(pairs, p)
	}
	return pairs, nil
}

// raw measures the raw rate of day 1's rows into a fresh crmsim.
func (b *bench) raw(ctx context.Context, i int, p *pair) (err error) {
	s, err := startSim(b.o.bin, b.log(fmt.Sprintf("crmsim-raw-%d", i)), b.o.simGOGC)
	if err != nil {
		return err
	}
	defer func() {
		p.rawSimCPU = s.stop()
		if gc, gcErr := s.gcSoFar(); gcErr == nil {
			p.rawSimGC = gc
		} else if err == nil {
			err = gcErr
		}
	}()
	p.rawRun, err = runChild(ctx, b.log(fmt.Sprintf("raw-%d", i)), b.binary("genexport"), "-raw", s.URL,
		"-file", b.o.day1, "-rows", strconv.Itoa(b.rows), "-concurrency", strconv.Itoa(b.o.concurrency))
	if err != nil {
		return err
	}
	if p.rawReqs, err = s.requests(ctx); err != nil {
		return err
	}
	p.raw, err = rawRate(p.rawRun.out)
	return err
}

// importInto imports day 1 into a fresh crmsim and a new checkpoint. The
// crmsim and the folder of the import before are removed: only the last
// is kept (a 1M checkpoint and its WAL take some 600 MB).
func (b *bench) importInto(ctx context.Context, i int, p *pair) error {
	b.sim.stop()
	b.sim = nil
	if b.config != "" {
		if err := os.RemoveAll(filepath.Dir(b.config)); err != nil {
			return err
		}
	}
	s, err := startSim(b.o.bin, b.log(fmt.Sprintf("crmsim-import-%d", i)), b.o.simGOGC)
	if err != nil {
		return err
	}
	b.sim = s
	cfg, err := writeConfig(filepath.Join(b.o.dir, fmt.Sprintf("import-%d", i)), s.URL, b.o.concurrency)
	if err != nil {
		return err
	}
	b.config = cfg
	p.imp, err = runChild(ctx, b.log(fmt.Sprintf("import-%d", i)), b.binary("erpsync"), "import", "-config", cfg, "-file", b.o.day1)
	if err != nil {
		return err
	}
	p.impRate = float64(b.rows) / p.imp.wall.Seconds()
	if p.impSimCPU, err = s.cpuSoFar(); err != nil {
		return err
	}
	if p.impSimGC, err = s.gcSoFar(); err != nil {
		return err
	}
	if p.impReqs, err = s.requests(ctx); err != nil {
		return err
	}
	if p.impPlan, p.impApply, err = phases(filepath.Join(filepath.Dir(cfg), "reports")); err != nil {
		return err
	}
	if i < b.o.pairs-1 {
		b.sim.stop()
		b.sim = nil
	}
	return nil
}

// printPairs prints the pairs' table and the import's figures against
// issue 25 §3's targets (≥ 90% of the raw rate, ≤ 250 MiB).
func printPairs(w io.Writer, pairs []pair) {
	fmt.Fprintln(w, "\n| pair | order | raw upserts/s | import rows/s | import ÷ raw | import wall | import CPU | import peak RSS | raw CPU (its forms read too) | crmsim CPU (raw / import) | import plan, apply, rest | cores busy (raw / import) | load after |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	var ratios []float64
	var peak int64
	for i, p := range pairs {
		order := "import, raw"
		if p.rawFirst {
			order = "raw, import"
		}
		ratio := p.impRate / p.raw
		ratios, peak = append(ratios, ratio), max(peak, p.imp.maxRSS)
		rest := p.imp.wall - p.impPlan - p.impApply
		fmt.Fprintf(w, "| %d | %s | %.0f | %.0f | %.1f%% | %s | %s | %s | %s | %s / %s | %s, %s, %s | %s / %s | %s |\n", i+1, order, p.raw, p.impRate,
			100*ratio, seconds(p.imp.wall), seconds(p.imp.cpu), mib(p.imp.maxRSS), seconds(p.rawRun.cpu), seconds(p.rawSimCPU), seconds(p.impSimCPU),
			seconds(p.impPlan), seconds(p.impApply), seconds(rest), busy(p.rawRun, p.rawSimCPU), busy(p.imp, p.impSimCPU), p.load)
	}
	if len(ratios) == 0 {
		return
	}
	printRequests(w, pairs)
	fmt.Fprintf(w, "\nimport ÷ raw: median %.1f%% (target ≥ 90%%); import peak RSS: %s at most (target ≤ 250 MiB)\n",
		100*median(ratios), mib(peak))
}

// printRequests prints the requests each crmsim of the pairs counted, by
// kind, and its CPU a request, with and without its collector's:
// whether the import's requests cost the CRM more than the raw client's,
// or are more, or its collector took more.
func printRequests(w io.Writer, pairs []pair) {
	fmt.Fprintln(w, "\n| pair | client | requests by kind | requests | crmsim CPU a request | crmsim's collector: cycles, CPU (of it idle marking) | crmsim CPU a request, its collector's left out |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for i, p := range pairs {
		for _, c := range []struct {
			name string
			reqs map[string]int64
			cpu  time.Duration
			gc   gcTime
		}{{"raw", p.rawReqs, p.rawSimCPU, p.rawSimGC}, {"import", p.impReqs, p.impSimCPU, p.impSimGC}} {
			var kinds []string
			var n int64
			for _, k := range slices.Sorted(maps.Keys(c.reqs)) {
				kinds = append(kinds, fmt.Sprintf("%s %d", k, c.reqs[k]))
				n += c.reqs[k]
			}
			perReq, noGC := "-", "-"
			if n > 0 {
				perReq = fmt.Sprintf("%.0f µs", float64(c.cpu.Microseconds())/float64(n))
				noGC = fmt.Sprintf("%.0f µs", float64((c.cpu-c.gc.total).Microseconds())/float64(n))
			}
			fmt.Fprintf(w, "| %d | %s | %s | %d | %s | %s | %s |\n", i+1, c.name, strings.Join(kinds, ", "), n, perReq, c.gc, noGC)
		}
	}
}

// busy is how many cores a client and its crmsim kept busy on average
// over the client's wall time (the raw client's forms read included): 2
// on the 2-core machine when neither ever waits. "-" when the crmsim's
// CPU is not known.
func busy(client measure, sim time.Duration) string {
	if sim == 0 || client.wall <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", (client.cpu+sim).Seconds()/client.wall.Seconds())
}

// phases reads the plan's and the apply's durations from the
// summary.json of the one run in the reports folder dir.
func phases(dir string) (plan, apply time.Duration, err error) {
	files, err := filepath.Glob(filepath.Join(dir, "*", "summary.json"))
	if err != nil || len(files) != 1 {
		return 0, 0, fmt.Errorf("the import's summary.json in %s: %d found (%v)", dir, len(files), err)
	}
	text, err := os.ReadFile(files[0])
	if err != nil {
		return 0, 0, err
	}
	var s struct {
		Durations map[string]float64 `json:"durations_seconds"`
	}
	if err := json.Unmarshal(text, &s); err != nil {
		return 0, 0, fmt.Errorf("read %s: %w", files[0], err)
	}
	d := func(k string) time.Duration { return time.Duration(s.Durations[k] * float64(time.Second)) }
	return d("plan"), d("apply"), nil
}

// median of xs (not empty).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
