package approve_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/approve"
	"erpsync/sync/plan"
)

// sealed writes a small plan document sealed with a.
func sealed(t *testing.T, a *approve.Approval) []byte {
	t.Helper()
	var buf bytes.Buffer
	s := approve.NewSealer(&buf)
	if _, err := s.Write([]byte("{\n  \"actions\": []\n}\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.Seal(a); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRead_Sealed: a sealed plan reads back; one byte changed anywhere
// before its sha256 is refused as edited (a usage error); Moved names
// what moved.
func TestRead_Sealed(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 123e6, time.UTC)
	a := &approve.Approval{Depends: approve.Depends{Config: "c", Export: "/x/day2.csv", ExportSHA: "aa", Mapping: "m", LastRun: 6},
		Actions: []approve.Action{{Op: plan.OpUpdate, Reference: "G02", Hash: "h2", CRMLastUpdated: &at}, {Op: plan.OpDelete, Reference: "G19"}}}
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	data := sealed(t, a)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := approve.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if x := got.Index()(plan.OpUpdate, "G02", "h2"); x == nil || !x.CRMLastUpdated.Equal(at) {
		t.Errorf("G02's approved update: %+v", x)
	}
	if got.Index()(plan.OpUpdate, "G02", "other") != nil || got.Index()(plan.OpCreate, "G19", "") != nil {
		t.Error("an action of other content, or another op, is approved")
	}
	if err := got.Moved(a.Depends); err != nil {
		t.Errorf("nothing moved: %v", err)
	}
	now := a.Depends
	now.ExportSHA, now.LastRun = "bb", 7
	var moved *approve.MovedError
	if err := got.Moved(now); !errors.As(err, &moved) || len(moved.Moved) != 2 || !strings.Contains(err.Error(), "export") {
		t.Errorf("moved: %v", err)
	}
	edited := bytes.Replace(data, []byte(`"G02"`), []byte(`"G03"`), 1)
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	var bad *approve.BadPlanError
	if _, err := approve.Read(path); !errors.As(err, &bad) || !bad.Unusable() || !strings.Contains(err.Error(), "edited") {
		t.Errorf("an edited plan: %v", err)
	}
	if err := os.WriteFile(path, []byte("{\"actions\": []}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := approve.Read(path); !errors.As(err, &bad) {
		t.Errorf("a plan with no approval: %v", err)
	}
}

// TestMoved_DeletesAndMode: a plan made under sync.deletes: deactivate
// and sync.mode: sync no longer holds under mirror or upsert; Moved
// names each key (a deactivation is never applied as a DELETE).
func TestMoved_DeletesAndMode(t *testing.T) {
	a := &approve.Approval{Depends: approve.Depends{Config: "c", ExportSHA: "aa", Mapping: "m", Deletes: "deactivate", Mode: "sync"}}
	if err := a.Moved(a.Depends); err != nil {
		t.Fatalf("nothing moved: %v", err)
	}
	now := a.Depends
	now.Deletes, now.Mode = "mirror", "upsert"
	err := a.Moved(now)
	var moved *approve.MovedError
	if !errors.As(err, &moved) || len(moved.Moved) != 2 || !strings.Contains(err.Error(), `sync.deletes changed ("deactivate" then, "mirror" now)`) ||
		!strings.Contains(err.Error(), `sync.mode changed ("sync" then, "upsert" now)`) {
		t.Errorf("Moved: %v; want sync.deletes and sync.mode named", err)
	}
}
