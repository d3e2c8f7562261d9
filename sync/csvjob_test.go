package sync_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan/policy"
)

// csvJob is a sync.Job over small CSV exports written by the test
// (reference;name;parentCustomer;email columns by default), crmsim on
// loopback (front, when set, sees every request first) and a checkpoint
// (on disk unless told). It syncs in mirror mode with every delete and failure allowed.
type csvJob struct {
	job   sync.Job
	store *crmsim.Store
	sim   *crmsim.Server
	dir   string
	n     int
}

func newCSVJob(t *testing.T, cfg mapping.Config, front func(next http.Handler) http.Handler) *csvJob {
	t.Helper()
	return newCSVJobOn(t, cfg, crmsim.Options{}, front)
}

// newCSVJobOn is newCSVJob on a crmsim of these options (its Quirks).
func newCSVJobOn(t *testing.T, cfg mapping.Config, opts crmsim.Options, front func(next http.Handler) http.Handler) *csvJob {
	t.Helper()
	return newCSVJobWith(t, testrig.SQLite, cfg, opts, front)
}

// newCSVJobWith is newCSVJobOn on a checkpoint of impl.
func newCSVJobWith(t *testing.T, impl testrig.Impl, cfg mapping.Config, opts crmsim.Options, front func(next http.Handler) http.Handler) *csvJob {
	t.Helper()
	dir := t.TempDir()
	m, err := mapping.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := crmsim.NewStore(crmsim.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	sim := crmsim.New(store, opts)
	var h http.Handler = sim
	if front != nil {
		h = front(sim)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	db := testrig.NewCheckpoint(t, impl, nil, 10*time.Millisecond)
	job := sync.Job{Mode: sync.ModeRun, Mapping: m, CRM: client, State: db, Log: zap.NewNop(),
		Settings: sync.Settings{Concurrency: 2, Deletes: policy.DeletesMirror, MaxDelete: testrig.EveryDelete,
			MaxFailures: testrig.EveryFailure, ReportsDir: filepath.Join(dir, "reports")}}
	return &csvJob{job: job, store: store, sim: sim, dir: dir}
}

// csvConfig maps reference, name, parentCustomer and email columns of a
// ;-separated export.
func csvConfig() mapping.Config {
	cfg := mapping.DefaultConfig()
	cfg.Delimiter = ";"
	cfg.Columns = mapping.ColumnMap{"reference": "reference", "name": "name", "parentCustomer": "parent", "email": "email"}
	return cfg
}

// run writes the export's lines (header first) and runs the job on it.
func (c *csvJob) run(t *testing.T, lines ...string) (*sync.Outcome, error) {
	t.Helper()
	c.n++
	path := filepath.Join(c.dir, "export-"+string(rune('a'+c.n))+".csv")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	j := c.job
	j.File = path
	return sync.Run(context.Background(), j)
}

// reportLines returns a report CSV of a run (errors.csv, success.csv),
// its header left out.
func reportLines(t *testing.T, out *sync.Outcome, name string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(out.Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[1:]
}

// inCRM reports whether crmsim holds a customer of that reference.
func (c *csvJob) inCRM(ref string) bool {
	_, err := c.job.CRM.ShowByReference(context.Background(), ref)
	return err == nil
}

// failuresOf returns the failures the checkpoint keeps for the next run.
func failuresOf(t *testing.T, c *csvJob) []state.Failure {
	t.Helper()
	fs, err := c.job.State.Failures(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return fs
}
