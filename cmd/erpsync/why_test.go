package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

// TestE2E_Why_DemoRuns: after the demo's four runs (day 1, day 2, day 2
// again, a hand edit of C-1004's credit limit then day 2), `why C-1004`
// shows, newest first, the repair, the drift found (CRM and pushed
// values) and its create (day 1, line 5); -json says as much; status
// counts the history; a reference never seen is exit 1 saying so.
func TestE2E_Why_DemoRuns(t *testing.T) {
	t.Parallel()
	clock := simtest.Ahead()
	e := newE2E(t, crmsim.Options{Now: clock.Now}, nil)
	for i, day := range []string{day1, day2, day2, day2} {
		if i == 3 {
			clock.Advance(time.Second)
			e.sim.Store.Put("C-1004", map[string]string{"creditLimit": "99999"})
		}
		if code, out, errOut := e.run("run", "-file", day); code != ExitOK {
			t.Fatalf("run %d: exit %d\n%s\n%s", i+1, code, out, errOut)
		}
	}
	code, out, errOut := e.run("why", "C-1004")
	if code != ExitOK {
		t.Fatalf("why: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("why C-1004:\n%s", out)
	iRepair := strings.Index(out, "run 4 updated")
	iDrift := strings.Index(out, "run 4 drift")
	iCreate := strings.Index(out, "run 1 created  ../../testdata/exports/day1.csv line 5")
	if iRepair < 0 || iDrift < iRepair || iCreate < iDrift {
		t.Errorf("why C-1004: want the repair, then the drift, then the create (day 1, line 5):\n%s", out)
	}
	for _, want := range []string{"creditLimit: CRM 99999, pushed 12000", "creditLimit: (empty) → 12000", "creditLimit: 99999 → 12000"} {
		if !strings.Contains(out, want) {
			t.Errorf("why C-1004 lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "run 3") {
		t.Errorf("run 3 changed nothing of C-1004, yet it is in its history:\n%s", out)
	}

	code, out, _ = e.run("why", "C-1004", "-json")
	var doc struct {
		Events []struct {
			Kind string `json:"kind"`
			Run  int64  `json:"run"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != ExitOK || err != nil || len(doc.Events) < 3 || doc.Events[0].Run != 4 {
		t.Errorf("why -json: exit %d, %v\n%s", code, err, out)
	}

	// day 2 mirror-deleted C-1006: its delete, and the CRM's copy kept.
	code, out, _ = e.run("why", "C-1006")
	if code != ExitOK || !strings.Contains(out, "run 2 deleted  ../../testdata/exports/day2.csv") || !strings.Contains(out, "the CRM's copy before the delete") {
		t.Errorf("why C-1006: exit %d, want its delete and its copy\n%s", code, out)
	}
	code, out, errOut = runMain("why", "C-1004", "-config", e.cfg, "-json") // the reference first, as the issue writes it
	if code != ExitOK || !strings.HasPrefix(out, "{") {
		t.Errorf("why C-1004 -config F -json: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = e.run("why", "C-9999")
	if code != ExitRowFails || !strings.Contains(errOut, "C-9999: never seen by erpsync") {
		t.Errorf("why of a reference never seen: exit %d, want 1 saying so\n%s", code, errOut)
	}
	if code, out, _ := e.run("status"); code != ExitOK || !strings.Contains(out, "History: ") {
		t.Errorf("status does not count the history: exit %d\n%s", code, out)
	}
}

// TestE2E_Why_NoCheckpoint: without a checkpoint, why is exit 2 naming
// state.path; a bad state.history is exit 2 naming the key.
func TestE2E_Why_NoCheckpoint(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	code, _, errOut := e.run("why", "C-1004")
	if code != ExitUsage || !strings.Contains(errOut, "state.path") {
		t.Errorf("why without a checkpoint: exit %d, want 2 naming state.path\n%s", code, errOut)
	}
	if _, err := os.Stat(e.state); err == nil {
		t.Errorf("why created the checkpoint")
	}
	bad := newE2E(t, crmsim.Options{}, func(cfg string) string {
		return strings.Replace(cfg, "state:\n", "state:\n  history: forever\n", 1)
	})
	code, _, errOut = bad.run("why", "C-1004")
	if code != ExitUsage || !strings.Contains(errOut, "state.history") {
		t.Errorf("state.history: forever: exit %d, want 2 naming the key\n%s", code, errOut)
	}
	_ = filepath.Join
}
