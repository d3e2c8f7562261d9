package sync_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"erpsync/mapping/genexport"
	"erpsync/sync"
	"erpsync/sync/approve"
)

// TestApply_HashesExportOnce: an apply (a run of an approved plan)
// hashes its export once: the hash that checks the plan against the
// export is the one its run records, not read again beside the run.
func TestApply_HashesExportOnce(t *testing.T) {
	ctx := context.Background()
	j, _ := engineJob(t, 40, 0)
	j.ConfigID = "cfg"
	if _, err := sync.Run(ctx, j); err != nil { // day 1
		t.Fatal(err)
	}
	day2, err := filepath.Abs(filepath.Join(filepath.Dir(j.File), "day2.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := genexport.WriteFiles(filepath.Dir(j.File), genexport.Options{Rows: 40, Seed: 1, Changed: 0.1}); err != nil {
		t.Fatal(err)
	}
	pj := j
	pj.Mode, pj.File, pj.Approvable = sync.ModePlan, day2, true
	out, err := sync.Run(ctx, pj)
	if err != nil || out.Approval == nil || len(out.Approval.Actions) == 0 {
		t.Fatalf("plan of day 2: %v; want an approval with actions", err)
	}
	planFile := filepath.Join(t.TempDir(), "plan.json")
	f, err := os.Create(planFile)
	if err != nil {
		t.Fatal(err)
	}
	s := approve.NewSealer(f)
	if _, err := s.Write([]byte("{\n  \"plan\": null\n}\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.Seal(out.Approval); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	approved, err := approve.Read(planFile)
	if err != nil {
		t.Fatal(err)
	}

	hashes := sync.CountExportHashes(t)
	aj := j
	aj.File, aj.Approved = day2, approved
	if _, err := sync.Run(ctx, aj); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if n := hashes(day2); n != 1 {
		t.Errorf("the apply hashed its export %d times, want once", n)
	}
	runs, err := j.State.Runs(ctx, 1)
	if err != nil || len(runs) != 1 || runs[0].FileSHA256 != approved.ExportSHA {
		t.Errorf("the apply's run record %+v, %v: want the export's sha256 %s", runs, err, approved.ExportSHA)
	}
}
