package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// TestServe_ApproveWaitsForApply (issue 23 §4): with serve.approve, an
// export whose plan trips a guard is not sent: its plan is written to
// the run's report folder, and erpsync apply of that file sends it (the
// held export, where serve set it aside).
func TestServe_ApproveWaitsForApply(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "  approve: true\n")
	f.setConfig("max_delete: 30%", "max_delete: 1") // day 2 deletes 2
	f.drop("../../testdata/exports/day1.csv", "a-day1.csv", 3*time.Minute)
	var logs lockedBuffer
	_, stop := f.serve(&logs)
	waitFor(t, 20*time.Second, "day 1 synced", func() bool { return len(archived(t, f.archive)) == 1 })
	f.drop("../../testdata/exports/day2.csv", "b-day2.csv", 2*time.Minute)
	var plans []string
	waitFor(t, 20*time.Second, "day 2's plan in its report folder", func() bool {
		plans, _ = filepath.Glob(filepath.Join(f.dir, "reports", "*", "plan.json"))
		return len(plans) == 1
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "erpsync apply") {
		t.Errorf("the log does not say how to approve:\n%s", logs.String())
	}
	before := f.sim.Stats()[crm.OpDeleteByReference]
	var out, errOut lockedBuffer
	if code := NewMain(&out, &errOut).Run(context.Background(), []string{"apply", "-config", f.cfgPath, plans[0]}); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if del := f.sim.Stats()[crm.OpDeleteByReference] - before; del != 2 {
		t.Errorf("apply sent %d deletes, want day 2's 2", del)
	}
}
