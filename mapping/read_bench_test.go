package mapping_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
)

// largeExports returns the 1,000,000-row, 25-column day-1 and day-2
// exports (about 200 MB each), generated once into testdata/large (git
// ignores it).
func largeExports(tb testing.TB) (string, string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: the 1,000,000-row exports take 15 s to write")
	}
	d1, d2, err := genexport.Ensure(filepath.Join("..", "testdata", "large"), genexport.LargeOptions)
	if err != nil {
		tb.Fatal(err)
	}
	return d1, d2
}

// resetPeakRSS makes the kernel start VmHWM again from the current RSS.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns VmHWM in bytes.
func peakRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) * 1024
		}
	}
	return 0
}

// BenchmarkRead1M reads, maps and hashes the 1,000,000-row export, and in
// the same run reads it bare with encoding/csv (ReuseRecord): the ratio of
// the two and the peak RSS of the mapped read are reported.
func BenchmarkRead1M(b *testing.B) {
	day1, _ := largeExports(b)
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	var bare, mapped time.Duration
	var peak float64
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		rows := bareRead(b, day1)
		bare += time.Since(start)

		runtime.GC()
		resetPeakRSS()
		start = time.Now()
		n := 0
		st, err := m.Read(context.Background(), day1, func(r mapping.Row) error {
			if r.Customer != nil {
				n++
			}
			return nil
		})
		mapped += time.Since(start)
		peak = max(peak, peakRSS())
		if err != nil || st.RowErrors != 0 || n != rows-1 {
			b.Fatalf("read: %v, %d customers of %d rows, %d row errors", err, n, rows-1, st.RowErrors)
		}
	}
	b.ReportMetric(float64(bare.Nanoseconds())/float64(b.N), "csv-ns/op")
	b.ReportMetric(float64(mapped.Nanoseconds())/float64(b.N), "mapped-ns/op")
	b.ReportMetric(float64(mapped)/float64(bare), "ratio")
	b.ReportMetric(peak/(1<<20), "peak-MB")
}

// bareRead is genexport.FloorRead, failing the benchmark on error.
func bareRead(b *testing.B, path string) int {
	n, err := genexport.FloorRead(path)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkReadLargeCells reads an export holding a 20 MB cell (a row
// error) among 100 rows whose comments are just under the 1 MiB limit:
// the peak RSS is reported (target: under 256 MB).
func BenchmarkReadLargeCells(b *testing.B) {
	path := filepath.Join(b.TempDir(), "large-cells.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("reference,name,comment\n")
	w.WriteString("HUGE,Huge,\"" + strings.Repeat("x", 20<<20) + "\"\n")
	for i := range 100 {
		w.WriteString("R" + strconv.Itoa(i) + ",Name," + strings.Repeat("y", mapping.MaxField-10) + "\n")
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	m, err := mapping.New(autoConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	var peak float64
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		resetPeakRSS()
		customers, rowErrors := 0, 0
		if _, err := m.Read(context.Background(), path, func(r mapping.Row) error {
			if r.Err != nil {
				rowErrors++
			} else {
				customers++
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, peakRSS())
		if customers != 100 || rowErrors != 1 {
			b.Fatalf("%d customers, %d row errors; want 100 and 1", customers, rowErrors)
		}
	}
	b.ReportMetric(peak/(1<<20), "peak-MB")
}

// BenchmarkReadLazy1M reads the 1,000,000-row export lazily, as a plan of
// a day with 1% of its rows changed does: every 100th row is mapped (Map),
// the others are known by their sum.
func BenchmarkReadLazy1M(b *testing.B) {
	day1, _ := largeExports(b)
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		n, mapped := 0, 0
		_, err := m.ReadLazy(context.Background(), day1, func(r mapping.Row) error {
			if n++; n%100 == 0 && r.Map().Customer != nil {
				mapped++
			}
			return nil
		})
		if err != nil || mapped != n/100 {
			b.Fatalf("read: %v, %d of %d rows mapped", err, mapped, n/100)
		}
	}
}
