package sync_test

// Reconcile's memory through the binary (issue 25 §5: ≤ 500 MiB at
// 4,000,000 managed customers): `erpsync reconcile` as a process of its
// own, against crmsim as another, seeded with day 1, beside a checkpoint
// of day 1 built directly (as BenchmarkCurve's); the peak RSS is the
// erpsync process's alone (its rusage).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
)

// reconcileSizes are the sizes of BenchmarkReconcileBinary: benchRows
// (1M by default), and 4M with BENCH_RECONCILE_4M=1 (crmsim then holds
// four million customers: some 11 GB, and the seed file 1.9 GB).
func reconcileSizes() []int {
	sizes := []int{benchRows()}
	if os.Getenv("BENCH_RECONCILE_4M") != "" {
		sizes = append(sizes, 4_000_000)
	}
	return sizes
}

// BenchmarkReconcileBinary runs `erpsync reconcile` of day 2 at each of
// reconcileSizes and reports, per size, its peak RSS (rss-MiB@N, the
// child's Maxrss), its wall and CPU time.
func BenchmarkReconcileBinary(b *testing.B) {
	if testing.Short() {
		b.Skip("-short")
	}
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(b.TempDir(), "erpsync")
	if out, err := exec.Command("go", "build", "-o", bin, "erpsync/cmd/erpsync").CombinedOutput(); err != nil {
		b.Fatalf("build erpsync: %v\n%s", err, out)
	}
	for _, n := range reconcileSizes() {
		day1, day2, db := curveCheckpoint(b, m, n)
		db.Close() // the child reads it
		checkpoint, err := filepath.Abs(filepath.Join(filepath.Dir(day1), "day1.db"))
		if err != nil {
			b.Fatal(err)
		}
		if day2, err = filepath.Abs(day2); err != nil {
			b.Fatal(err)
		}
		base := startCRMSim(b, "-seed", writeSeed(b, m, day1))
		time.Sleep(3 * time.Second) // as BenchmarkReconcile1M: the seed's writes are not "changed meanwhile"
		tag := fmt.Sprintf("@%dk", n/1000)
		for range b.N {
			rss, wall, cpu := reconcileProcess(b, bin, base, checkpoint, day2)
			b.ReportMetric(rss/(1<<20), "rss-MiB"+tag)
			b.ReportMetric(wall.Seconds(), "s"+tag)
			b.ReportMetric(cpu.Seconds(), "cpu-s"+tag)
		}
	}
}

// reconcileProcess runs `erpsync reconcile` once and returns its peak RSS
// in bytes, its wall time and its CPU time.
func reconcileProcess(b *testing.B, bin, base, checkpoint, export string) (float64, time.Duration, time.Duration) {
	dir := b.TempDir()
	config := filepath.Join(dir, "erpsync.yaml")
	if err := os.WriteFile(config, []byte(reconcileConfig(base, checkpoint, dir)), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "reconcile", "-config", config, "-file", export, "-out", filepath.Join(dir, "out"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) { // 1: they differ, as day 2 does
		b.Fatalf("erpsync reconcile: %v\n%s", err, out.String())
	}
	// BENCH_RECONCILE_OUT: a file the child's output is written to (run
	// with GODEBUG=gctrace=1, it says what the heap held at each
	// collection).
	if path := os.Getenv("BENCH_RECONCILE_OUT"); path != "" {
		if err := os.WriteFile(path, []byte(out.String()), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatal("no rusage")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return float64(ru.Maxrss) * 1024, wall, cpu
}

// reconcileConfig is erpsync's config for genexport's files (its
// mapping, genexport.Config) against crmsim at base.
func reconcileConfig(base, checkpoint, dir string) string {
	return `crm:
  base_url: ` + base + `
  auth: none
  concurrency: 8
source:
  path: unused.csv
  decimal: ","
  columns: {reference: KUNNR, name: NAME1, billingCountry: LAND1, billingCity: ORT01, creditLimit: KLIMK,
    currency: WAERS, dueDateConfigType: ZTERM_TYPE, dueDateConfigNumber: ZTERM_DAYS, parentCustomer: PARENT,
    paymentTypes: ZAHLW, categoryId: KATEGORIE, onHold: SPERR, billingAddress: STRAS, billingPostalCode: PSTLZ,
    phone: TELF1, email: SMTP, taxNumber: STCEG}
  values:
    categoryId: {J: jewelry, R: retail, W: wholesale}
    paymentTypes: {C: "7", S: "8", T: "9"}
  list_separator: ","
  true_values: ["X", "true", "1", "yes"]
  false_values: ["false", "0", "no", "-"]
  delete_flag: {column: LOEVM, values: ["X"]}
state:
  path: ` + checkpoint + `
reports:
  dir: ` + filepath.Join(dir, "reports") + `
`
}
