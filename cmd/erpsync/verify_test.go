package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
	"erpsync/sync/reconcile"
)

// TestE2E_ReconcilePack_Verify: reconcile -out writes manifest.json
// (version, config fingerprint, export sha256, listing, control totals,
// exceptions with reason codes, each file's sha256); verify passes on the
// fresh pack and fails naming reconciliation.csv once one byte of it is
// changed.
func TestE2E_ReconcilePack_Verify(t *testing.T) {
	t.Parallel()
	clock := simtest.Ahead()
	e := newE2E(t, crmsim.Options{Now: clock.Now}, nil)
	if code, out, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatalf("day 1: exit %d\n%s\n%s", code, out, errOut)
	}
	clock.Advance(time.Second)
	e.sim.Store.Put("C-1004", map[string]string{"creditLimit": "12500"})
	pack := filepath.Join(e.dir, "pack")
	if code, out, errOut := e.run("reconcile", "-file", day1, "-out", pack); code != ExitRowFails {
		t.Fatalf("reconcile: exit %d\n%s\n%s", code, out, errOut)
	}
	var m reconcile.Manifest
	data, _ := os.ReadFile(filepath.Join(pack, "manifest.json"))
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	exp, _ := os.ReadFile(day1)
	sum := sha256.Sum256(exp)
	if m.Version == "" || len(m.ConfigFingerprint) != 64 || m.Export.SHA256 != hex.EncodeToString(sum[:]) ||
		m.CRM.Customers != 10 || m.CRM.ListedAt.IsZero() || len(m.Files) != 3 {
		t.Errorf("manifest = %s", data)
	}
	if strings.Contains(string(data), "token") {
		t.Errorf("manifest mentions a token: %s", data)
	}
	if len(m.Exceptions) != 1 || m.Exceptions[0].Reference != "C-1004" || m.Exceptions[0].Reason != reconcile.ReasonEditedByHand {
		t.Errorf("exceptions = %+v", m.Exceptions)
	}
	var matched, differing int
	for _, cur := range m.Totals.Currencies {
		matched, differing = matched+cur.Matched, differing+cur.Differing
	}
	if matched != 9 || differing != 1 {
		t.Errorf("control totals: matched %d, differing %d; want 9, 1: %+v", matched, differing, m.Totals.Currencies)
	}

	code, out, errOut := runMain("verify", pack)
	if code != ExitOK {
		t.Fatalf("verify of a fresh pack: exit %d\n%s\n%s", code, out, errOut)
	}
	csvPath := filepath.Join(pack, "reconciliation.csv")
	b, _ := os.ReadFile(csvPath)
	b[len(b)-2] ^= 0x01
	os.WriteFile(csvPath, b, 0o600)
	code, out, errOut = runMain("verify", pack)
	if code != ExitRowFails || !strings.Contains(errOut, "reconciliation.csv: changed") {
		t.Errorf("verify after one byte changed: exit %d, want 1 naming reconciliation.csv\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runMain("verify", e.dir); code != ExitUsage || !strings.Contains(errOut, "manifest.json") {
		t.Errorf("verify of a folder without manifest: exit %d\n%s", code, errOut)
	}
}

// runMain runs erpsync with args as given.
func runMain(args ...string) (int, string, string) {
	var out, errOut strings.Builder
	code := NewMain(&out, &errOut).Run(context.Background(), args)
	return code, out.String(), errOut.String()
}
