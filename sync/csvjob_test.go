package sync_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocarina/gocsv"
	"go.uber.org/zap"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/plan/policy"
	"erpsync/sync/report"
)

// csvJob is a sync.Job over small CSV exports written by the test
// (reference;name;parentCustomer;email columns by default), crmsim called
// in-process (crmmem) and a checkpoint (in memory unless told). It syncs in
// mirror mode with every delete and failure allowed.
type csvJob struct {
	job   sync.Job
	store *crmsim.Store
	sim   *crmsim.Server
	dir   string
	n     int
}

func newCSVJob(t *testing.T, cfg mapping.Config) *csvJob {
	t.Helper()
	return newCSVJobOn(t, cfg, crmsim.Options{})
}

// newCSVJobOn is newCSVJob on a crmsim of these options (its Quirks), on
// a checkpoint in memory.
func newCSVJobOn(t *testing.T, cfg mapping.Config, opts crmsim.Options) *csvJob {
	t.Helper()
	return newCSVJobWith(t, testrig.Memory, cfg, opts)
}

// newCSVJobWith is newCSVJobOn on a checkpoint of impl.
func newCSVJobWith(t *testing.T, impl testrig.Impl, cfg mapping.Config, opts crmsim.Options) *csvJob {
	t.Helper()
	dir := t.TempDir()
	m, err := mapping.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	client, sim := testrig.NewFake(t, opts)
	db := testrig.NewCheckpoint(t, impl, nil, 10*time.Millisecond)
	job := sync.Job{Mode: sync.ModeRun, Mapping: m, CRM: client, State: db, Log: zap.NewNop(),
		Settings: sync.Settings{Concurrency: 2, Deletes: policy.DeletesMirror, MaxDelete: testrig.EveryDelete,
			MaxFailures: testrig.EveryFailure, ReportsDir: filepath.Join(dir, "reports")}}
	return &csvJob{job: job, store: sim.Store, sim: sim, dir: dir}
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

// reportRows reads a report file of a run's folder (errors.csv,
// success.csv: report.OutcomeLine; skipped.csv: report.SkippedLine) with
// gocsv into its declared rows.
func reportRows[T any](t *testing.T, dir, name string) []T {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []T
	if err := gocsv.UnmarshalFile(f, &rows); err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return rows
}

// outcomeLines are the lines of a run's errors.csv or success.csv.
func outcomeLines(t *testing.T, out *sync.Outcome, name string) []report.OutcomeLine {
	t.Helper()
	return reportRows[report.OutcomeLine](t, out.Dir, name)
}

// lineText is an outcome line's cells, space-separated.
func lineText(l report.OutcomeLine) string {
	return strings.Join([]string{l.Operation, l.Reference, l.Line, l.HTTPStatus, l.Error, l.Message}, " ")
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
