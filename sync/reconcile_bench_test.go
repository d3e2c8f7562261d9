package sync_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/reconcile"
	"erpsync/sync/refresh"
)

// BenchmarkListAll100k lists 100,000 customers from crmsim (a process of
// its own, 20 ms latency, pages of 100) concurrently, and in the same run
// sequentially: the concurrent listing must take at most 1.2 times the
// sequential time divided by the concurrency, and at most 1.2 times its
// own requests' ideal time, pages × latency / concurrency (listing/ideal).
func BenchmarkListAll100k(b *testing.B) {
	if testing.Short() {
		b.Skip("-short")
	}
	const n, conc, page = 100_000, 8, 100
	dir := b.TempDir()
	seed := crmsim.DefaultSeed()
	for i := range n {
		seed.Customers = append(seed.Customers, map[string]string{
			"reference": fmt.Sprintf("R%06d", i), "name": fmt.Sprintf("Customer %d", i), "creditLimit": "1000", "billingCity": "Paris"})
	}
	data, _ := json.Marshal(seed)
	seedFile := filepath.Join(dir, "seed.json")
	os.WriteFile(seedFile, data, 0o644)
	bin := filepath.Join(dir, "crmsim")
	if out, err := exec.Command("go", "build", "-o", bin, "erpsync/cmd/crmsim").CombinedOutput(); err != nil {
		b.Fatalf("build crmsim: %v\n%s", err, out)
	}
	latency := "20ms"
	if v := os.Getenv("BENCH_LATENCY"); v != "" {
		latency = v
	}
	args := []string{"-addr", "127.0.0.1:0", "-seed", seedFile, "-latency", latency, "-fault-seed", "1"}
	// BENCH_CRMSIM_CPUPROFILE: crmsim's own CPU profile of the listings,
	// written when it is interrupted at the end.
	profile := os.Getenv("BENCH_CRMSIM_CPUPROFILE")
	if profile != "" {
		args = append(args, "-cpuprofile", profile)
	}
	cmd := exec.Command(bin, args...)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		if profile != "" {
			cmd.Process.Signal(os.Interrupt)
		} else {
			cmd.Process.Kill()
		}
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	base := strings.TrimSuffix(strings.Fields(line)[3], "/api/v1.0/customers")
	client, err := crm.NewClient(crm.Config{BaseURL: base, Concurrency: conc})
	if err != nil {
		b.Fatal(err)
	}
	lat, err := time.ParseDuration(latency)
	if err != nil {
		b.Fatal(err)
	}
	var seq, par time.Duration
	var ideal float64
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		count := 0
		for _, err := range client.List(context.Background(), crm.ListQuery{Sort: "id", Order: "asc", Max: page}) {
			if err != nil {
				b.Fatal(err)
			}
			count++
		}
		seq += time.Since(start)
		start = time.Now()
		all, listing, err := refresh.ListAll(context.Background(), client, conc, page)
		par += time.Since(start)
		ideal += float64(listing.Pages) * lat.Seconds() / conc
		if err != nil || len(all) != n || count != n {
			b.Fatalf("listed %d and %d of %d: %v (%+v)", count, len(all), n, err, listing)
		}
	}
	b.ReportMetric(seq.Seconds()/float64(b.N), "sequential-s")
	b.ReportMetric(par.Seconds()/float64(b.N), "concurrent-s")
	b.ReportMetric(par.Seconds()/(seq.Seconds()/conc), "ratio-to-ideal")
	if ideal > 0 {
		// ideal: the listing's own requests, pages × latency / concurrency.
		b.ReportMetric(par.Seconds()/ideal, "listing/ideal")
	}
}

// BenchmarkReconcile1M reconciles the day-2 export (BENCH_ROWS, default
// 1M) against a crmsim process seeded with day 1 (BENCH_LATENCY, default
// none; 8 pages at once, of BENCH_PAGE customers, default 100: the
// client's page size, what `erpsync reconcile` asks for): its peak RSS
// (issue 14 §4: ≤ 500 MiB) and the listing's time against the ideal,
// pages × latency / concurrency (≤ 1.2 at 20 ms).
func BenchmarkReconcile1M(b *testing.B) {
	if testing.Short() {
		b.Skip("-short")
	}
	const conc = 8
	page := crm.DefaultPageSize
	if v, err := strconv.Atoi(os.Getenv("BENCH_PAGE")); err == nil && v > 0 {
		page = v
	}
	n := benchRows()
	day1, day2 := benchExports(b, n)
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	seed := writeSeed(b, m, day1)
	latency, _ := time.ParseDuration(os.Getenv("BENCH_LATENCY"))
	client, err := crm.NewClient(crm.Config{BaseURL: startCRMSim(b, "-seed", seed, "-latency", latency.String()), Concurrency: conc})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	// The seed's customers were written just now: a listing's pull of
	// what changed since it began (2 s of allowance) would read them again.
	time.Sleep(3 * time.Second)
	// crmsim sorts its million customers by id on the first listing of
	// that order, and by lastUpdated on the first window of that date
	// (the listing's pull of what changed meanwhile): half a second or
	// more each, all requests waiting, where a CRM reads an index. Both
	// are asked once before, as of a warm CRM.
	for _, q := range []crm.ListQuery{
		{Sort: "id", Order: "asc", Max: 1},
		{Sort: "lastUpdated", Order: "asc", LastUpdatedGte: time.Now(), Max: 1},
	} {
		if _, err := client.ListPage(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
	var peak, listing, ideal, cpu float64
	for range b.N {
		debug.FreeOSMemory()
		resetPeakRSS()
		base := peakRSS()
		cpu0 := cpuTime()
		res, err := reconcile.Run(context.Background(), mappingRows(m, day2), client, nil, reconcile.Options{Concurrency: conc, PageSize: page})
		cpu += (cpuTime() - cpu0).Seconds()
		peak = max(peak, peakRSS())
		if err != nil {
			b.Fatal(err)
		}
		if res.Listing.Customers != n || res.Summary.Matched < n*9/10 {
			b.Fatalf("listed %d of %d; %+v", res.Listing.Customers, n, res.Summary)
		}
		listing += res.Listing.Seconds
		ideal += float64(res.Listing.Pages) * latency.Seconds() / conc
		b.ReportMetric(float64(res.Summary.Different+res.Summary.OnlyInERP+res.Summary.OnlyInCRM), "items")
		b.ReportMetric(base/(1<<20), "base-MiB")
	}
	b.ReportMetric(peak/(1<<20), "peak-MiB")
	b.ReportMetric(listing/float64(b.N), "listing-s")
	b.ReportMetric(cpu/float64(b.N), "cpu-s")
	b.ReportMetric(float64(page), "page")
	if ideal > 0 {
		b.ReportMetric(listing/ideal, "listing/ideal")
	}
}

// benchExports returns the day-1 and day-2 exports of n rows: the large
// ones for 1M, else ones written into a temporary folder.
func benchExports(b *testing.B, n int) (string, string) {
	dir, opt := filepath.Join("..", "testdata", "large"), genexport.LargeOptions
	if n != opt.Rows {
		dir, opt.Rows = b.TempDir(), n
	}
	d1, d2, err := genexport.Ensure(dir, opt)
	if err != nil {
		b.Fatal(err)
	}
	return d1, d2
}

// writeSeed writes a crmsim seed holding the export's customers, as
// their upserts would leave them; it returns its path.
func writeSeed(b *testing.B, m *mapping.Mapping, export string) string {
	path := filepath.Join(b.TempDir(), "seed.json")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	head, _ := json.Marshal(crmsim.DefaultSeed())
	w.Write(head[:len(head)-1]) // without its closing brace
	w.WriteString(`,"customers":[`)
	enc := json.NewEncoder(w)
	first := true
	_, err = m.Read(context.Background(), export, func(r mapping.Row) error {
		if r.Customer == nil {
			return nil
		}
		values := map[string]string{"reference": r.Customer.Reference}
		for k, v := range crm.UpsertForm(r.Customer).Values {
			values[k] = v[0]
		}
		if !first {
			w.WriteByte(',')
		}
		first = false
		return enc.Encode(values)
	})
	if err != nil {
		b.Fatal(err)
	}
	w.WriteString("]}")
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	return path
}
