package sqlite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/sqlite"
)

// benchDir holds the checkpoint built once for the benchmarks; TestMain
// removes it.
var benchDir string

// customerValues are canonical values of a typical customer.
func customerValues(i int) map[string]string {
	return map[string]string{
		"reference": fmt.Sprintf("C-%07d", i), "name": fmt.Sprintf("Customer %d GmbH", i),
		"email": fmt.Sprintf("billing%d@example.com", i), "phone": "+49 30 1234567",
		"street": "Hauptstraße 1", "postalCode": "10115", "city": "Berlin", "country": "DE",
		"currency": "EUR", "category": "retail", "paymentTerm": "30", "creditLimit": "5000",
	}
}

func hashOf(i int) string { return fmt.Sprintf("%064x", i*7919) }

// BenchmarkWriter: outcomes recorded per second through one writer, put
// by 8 goroutines (crm.concurrency's default), in batches of 500.
func BenchmarkWriter(b *testing.B) {
	db := MustOpenDB(b)
	outs := make([]state.Outcome, 4096)
	for i := range outs {
		v := customerValues(i)
		outs[i] = state.Outcome{RunID: 1, Op: state.OpUpsert, Line: i + 2, Hash: hashOf(i), Values: v,
			CRMID: int64(i), CRMLastUpdated: fixedNow, CRMValues: v}
	}
	w := db.NewWriter(500, 250*time.Millisecond)
	const producers = 8
	b.ReportAllocs()
	b.ResetTimer()
	var wg gosync.WaitGroup
	for g := range producers {
		wg.Go(func() {
			for i := g; i < b.N; i += producers {
				o := outs[i%len(outs)]
				o.Reference = "C-" + strconv.Itoa(i)
				if err := w.Put(ctx, o); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "outcomes/s")
	if n, _ := db.Count(ctx); n != b.N {
		b.Fatalf("count = %d, want %d", n, b.N)
	}
}

var million struct {
	once  gosync.Once
	path  string
	build time.Duration
	err   error
}

// millionDB opens a checkpoint of 1,000,000 records, built through the
// writer once for all the benchmarks that need it.
func millionDB(b *testing.B) *sqlite.DB {
	b.Helper()
	if testing.Short() {
		b.Skip("a checkpoint of 1,000,000 records: not with -short")
	}
	million.once.Do(func() {
		if benchDir, million.err = os.MkdirTemp("", "erpsync-state-bench-"); million.err != nil {
			return
		}
		million.path = filepath.Join(benchDir, "million.db")
		start := time.Now()
		db := sqlite.NewDB(million.path)
		if million.err = db.Open(ctx); million.err != nil {
			return
		}
		defer db.Close()
		w := db.NewWriter(5000, time.Second)
		for i := range 1_000_000 {
			v := customerValues(i)
			o := state.Outcome{RunID: 1, Op: state.OpUpsert, Reference: fmt.Sprintf("C-%07d", i), Hash: hashOf(i),
				Values: v, CRMID: int64(i + 1), CRMLastUpdated: fixedNow, CRMValues: v}
			if million.err = w.Put(ctx, o); million.err != nil {
				return
			}
		}
		million.err = w.Close()
		million.build = time.Since(start)
	})
	if million.err != nil {
		b.Fatal(million.err)
	}
	b.Logf("checkpoint of 1,000,000 records built in %v, %s", million.build.Round(time.Millisecond), fileSize(million.path))
	db := sqlite.NewDB(million.path)
	if err := db.Open(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func fileSize(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d MB", st.Size()>>20)
}

// peakRSS is the process's peak resident set in MB (Linux), 0 elsewhere.
func peakRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}

// BenchmarkHashes streams the (reference, hash) of 1,000,000 records, as
// a plan does; one op is the whole stream.
func BenchmarkHashes(b *testing.B) {
	db := millionDB(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		n, last := 0, ""
		err := db.Hashes(ctx, func(ref, hash string) error {
			if ref <= last || len(hash) != 64 {
				return fmt.Errorf("%q after %q, hash %q", ref, last, hash)
			}
			n, last = n+1, ref
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if n != 1_000_000 {
			b.Fatalf("%d hashes", n)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "hashes/s")
	b.ReportMetric(peakRSS(), "peak-RSS-MB")
}

// BenchmarkOpen opens the checkpoint of 1,000,000 records: inspection
// (quick_check) included.
func BenchmarkOpen(b *testing.B) {
	path := millionDB(b).Path
	b.ResetTimer()
	for range b.N {
		db := sqlite.NewDB(path)
		if err := db.Open(ctx); err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}

// BenchmarkGet reads single records of the 1,000,000, as drift checks do.
func BenchmarkGet(b *testing.B) {
	db := millionDB(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ref := fmt.Sprintf("C-%07d", (i*7919)%1_000_000)
		if r, err := db.Get(ctx, ref); err != nil || r == nil {
			b.Fatalf("Get(%s) = %v, %v", ref, r, err)
		}
	}
}

// BenchmarkKnownByReference is a refresh's question about every customer
// it reads (the first run after an import asks it ~45,000 times).
func BenchmarkKnownByReference(b *testing.B) {
	db := millionDB(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ref := fmt.Sprintf("C-%07d", (i*7919)%1_000_000)
		if _, ok, err := db.KnownByReference(ctx, ref); err != nil || !ok {
			b.Fatalf("KnownByReference(%s) = %v, %v", ref, ok, err)
		}
	}
}
