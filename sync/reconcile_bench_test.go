package sync_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// BenchmarkListAll100k lists 100,000 customers from crmsim (a process of
// its own, 20 ms latency, pages of 100) concurrently, and in the same run
// sequentially: the concurrent listing must take at most 1.2 times the
// sequential time divided by the concurrency.
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
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-seed", seedFile, "-latency", latency, "-fault-seed", "1")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	base := strings.TrimSuffix(strings.Fields(line)[3], "/api/v1.0/customers")
	client, err := crm.NewClient(crm.Config{BaseURL: base, Concurrency: conc})
	if err != nil {
		b.Fatal(err)
	}
	var seq, par time.Duration
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
		all, listing, err := sync.ListAll(context.Background(), client, conc, page)
		par += time.Since(start)
		if err != nil || len(all) != n || count != n {
			b.Fatalf("listed %d and %d of %d: %v (%+v)", count, len(all), n, err, listing)
		}
	}
	b.ReportMetric(seq.Seconds()/float64(b.N), "sequential-s")
	b.ReportMetric(par.Seconds()/float64(b.N), "concurrent-s")
	b.ReportMetric(par.Seconds()/(seq.Seconds()/conc), "ratio-to-ideal")
}
