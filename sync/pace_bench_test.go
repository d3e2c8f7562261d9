package sync_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan/policy"
)

// paceRows is the size of BenchmarkImportAtRateLimit's import:
// PACE_ROWS, else 3,000 (a minute at 50 requests a second).
func paceRows() int {
	if n, err := strconv.Atoi(os.Getenv("PACE_ROWS")); err == nil && n > 0 {
		return n
	}
	return 3000
}

// BenchmarkImportAtRateLimit (issue 25 §2): an import into crmsim behind
// a real CRM's rate limit (-latency 40ms -rate 50), with erpsync's
// crm.rate_limit set to the same 50 and concurrency 4 (enough for 100 a
// second at that latency): the import's rate as a share of the limit
// (%limit, target ≥ 95), and the requests the CRM refused (429s).
func BenchmarkImportAtRateLimit(b *testing.B) {
	const rate = 50
	rows := paceRows()
	dir := b.TempDir()
	day1, _, err := genexport.WriteFiles(dir, genexport.Options{Rows: rows, Seed: 5})
	if err != nil {
		b.Fatal(err)
	}
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		store, err := crmsim.NewStore(crmsim.DefaultSeed())
		if err != nil {
			b.Fatal(err)
		}
		sim := crmsim.New(store, crmsim.Options{Latency: 40 * time.Millisecond})
		ts := httptest.NewServer(crmsim.RateLimit(sim, rate, nil))
		client, err := crm.NewClient(crm.Config{BaseURL: ts.URL, RateLimit: rate, Concurrency: 4})
		if err != nil {
			b.Fatal(err)
		}
		job := sync.Job{Mode: sync.ModeImport, File: day1, Mapping: m, CRM: client,
			State: testrig.NewCheckpoint(b, testrig.SQLite, nil, 0), Log: zap.NewNop(),
			Settings: sync.Settings{Concurrency: 4, MaxFailures: testrig.EveryFailure, MaxDelete: testrig.EveryDelete,
				Drift: policy.DriftReport, Lookback: time.Minute, ReportsDir: filepath.Join(b.TempDir(), "reports")}}
		start := time.Now()
		if _, err := sync.Run(context.Background(), job); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		st := sim.Stats()
		posts := st[crm.OpUpsert]
		b.ReportMetric(100*float64(posts)/took.Seconds()/rate, "%limit")
		b.ReportMetric(float64(st[crmsim.OpThrottled]), "429s")
		b.ReportMetric(float64(posts), "upserts")
		client.Close()
		ts.Close()
	}
}
