package sync_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"erpsync/mapping/genexport"
	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/internal/testrig"
)

// snapshot is what a checkpoint holds, as far as a run may change it.
type snapshot struct {
	Records   []state.Record
	Runs      []state.Run
	Failures  []state.Failure
	Marks     [3]time.Time
	Print     string
	Unmanaged int
}

func snap(t *testing.T, cp state.Checkpoint) snapshot {
	t.Helper()
	ctx := context.Background()
	var s snapshot
	var err error
	must := func(e error) {
		if e != nil && err == nil {
			err = e
		}
	}
	must(cp.Records(ctx, func(r state.Record) error { s.Records = append(s.Records, r); return nil }))
	var e error
	s.Runs, e = cp.Runs(ctx, 0)
	must(e)
	s.Failures, e = cp.Failures(ctx)
	must(e)
	s.Marks[0], e = cp.Watermark(ctx)
	must(e)
	s.Marks[1], e = cp.VerifiedUntil(ctx)
	must(e)
	s.Marks[2], e = cp.FullCheck(ctx)
	must(e)
	s.Print, e = cp.Fingerprint(ctx)
	must(e)
	s.Unmanaged, e = inspect(t, cp).UnmanagedCount(ctx)
	must(e)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDryRun_CheckpointKeepsNothing: the dry run's checkpoint reads
// through and drops every write: outcomes, what a run learned, its marks
// and its run record.
func TestDryRun_CheckpointKeepsNothing(t *testing.T) {
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		ctx := context.Background()
		cp := testrig.NewCheckpoint(t, impl, nil, 0)
		w := cp.NewWriter(10, time.Hour)
		if err := w.Put(ctx, state.Outcome{RunID: 1, Op: state.OpUpsert, Reference: "A", Hash: "h", CRMID: 7}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		before := snap(t, cp)

		dry := apply.DryRunCheckpoint(cp)
		at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		id, err := dry.StartRun(ctx, "run", "x.csv", "")
		if err != nil || id != 0 {
			t.Errorf("StartRun = %d, %v; want no run (0)", id, err)
		}
		dw := dry.NewWriter(10, time.Hour)
		for _, ref := range []string{"A", "B"} {
			if err := dw.Put(ctx, state.Outcome{RunID: 2, Op: state.OpDelete, Reference: ref}); err != nil {
				t.Fatal(err)
			}
		}
		for i, err := range []error{dw.Close(),
			dry.NoteRunSHA(ctx, 1, "sha"), dry.FinishRun(ctx, 1, state.StatusDone, nil, ""),
			dry.SaveSeen(ctx, []state.Seen{{Reference: "A", CRMID: 7, CRMLastUpdated: at}}),
			dry.SaveCounted(ctx, state.Counted{At: at, Unmanaged: []state.Known{{Reference: "U", CRMID: 99, LastUpdated: at}}}), dry.SaveRowSums(ctx, []state.RowSum{{Reference: "A", Hash: "h", Sum: 9}}),
			dry.SaveHashes(ctx, []state.Rehash{{Reference: "A", Hash: "h2"}}),
			dry.SetWatermark(ctx, at), dry.SetVerifiedUntil(ctx, at), dry.SetFullCheck(ctx, at),
			dry.SetFingerprint(ctx, "fp")} {
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
		if after := snap(t, cp); !reflect.DeepEqual(after, before) {
			t.Errorf("the checkpoint changed under a dry run:\nbefore %+v\nafter  %+v", before, after)
		}
		// Reads go through.
		if n, err := dry.Count(ctx); err != nil || n != 1 {
			t.Errorf("Count through the dry run = %d, %v; want 1", n, err)
		}
	})
}

// TestRun_DryRunRecordsNothing: a dry run of a day with changes goes the
// whole path (its report lists what it would send) and leaves the
// checkpoint and the CRM as they were; the real run after it sends it all.
func TestRun_DryRunRecordsNothing(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim, checkpoint and folder
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		job, sim := engineJobOn(t, impl, 100, 0)
		day1, day2, err := genexport.WriteFiles(t.TempDir(), genexport.Options{Rows: 100, Seed: 4, Changed: 0.1, Added: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		job.File = day1
		if _, err := sync.Run(ctx, job); err != nil {
			t.Fatalf("day 1: %v", err)
		}
		before := snap(t, job.State)
		sim.ResetStats()
		dry := job
		dry.File, dry.DryRun = day2, true
		out, err := sync.Run(ctx, dry)
		if err != nil || out.Plan.Len() == 0 || out.RunID != 0 || !strings.HasSuffix(out.Dir, "-dry-run") {
			t.Fatalf("dry run: %v, %d actions, run %d, folder %s; want actions, no run, a -dry-run folder", err, out.Plan.Len(), out.RunID, out.Dir)
		}
		if _, err := os.Stat(filepath.Join(out.Dir, "summary.json")); err != nil {
			t.Errorf("dry run's report: %v", err)
		}
		if n := sim.Stats()[crm.OpUpsert] + sim.Stats()[crm.OpDeleteByReference]; n != 0 {
			t.Errorf("a dry run sent %d writes", n)
		}
		if after := snap(t, job.State); !reflect.DeepEqual(after, before) {
			t.Errorf("the checkpoint changed under a dry run:\nbefore %+v\nafter  %+v", before, after)
		}
		job.File = day2
		real, err := sync.Run(ctx, job)
		if err != nil || real.Plan.Len() != out.Plan.Len() {
			t.Errorf("the run after the dry run: %v, %d actions; want the dry run's %d", err, real.Plan.Len(), out.Plan.Len())
		}
	})
}
