package reconcile_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/reconcile"
)

// writePack writes sampleReconciliation as a pack, with its manifest,
// compared against a small export.
func writePack(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	export := filepath.Join(t.TempDir(), "export.csv")
	os.WriteFile(export, []byte("ref;name\nR1;A\n"), 0o600)
	r := sampleReconciliation()
	r.Totals = map[string]reconcile.CurrencyTotal{"EUR": {ERPCount: 2, CRMCount: 1, ERPCreditLimit: 1000, Matched: 0, Differing: 2}}
	if _, err := reconcile.Write(dir, r, reconcile.Pack{Source: export, At: time.Unix(0, 0),
		Version: "v1.2.3", ConfigFingerprint: "cfg-sha"}); err != nil {
		t.Fatal(err)
	}
	return dir, export
}

// TestManifest_Contents: manifest.json says erpsync's version, the
// config's fingerprint, the export and its sha256, the control totals,
// every exception with its reason code, and each file's sha256.
func TestManifest_Contents(t *testing.T) {
	dir, export := writePack(t)
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m reconcile.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	exp, _ := os.ReadFile(export)
	sum := sha256.Sum256(exp)
	if m.Version != "v1.2.3" || m.ConfigFingerprint != "cfg-sha" || m.Export.Name != export || m.Export.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("manifest head = %+v / %+v", m, m.Export)
	}
	if m.Totals.Currencies["EUR"].ERPCount != 2 || m.Totals.Summary.OnlyInERP != 0 {
		t.Errorf("totals = %+v", m.Totals)
	}
	if len(m.Exceptions) != 3 || m.Exceptions[0].Reference != "R1" || len(m.Exceptions[0].Fields) != 2 || m.Exceptions[2].Count != 3 {
		t.Errorf("exceptions = %+v", m.Exceptions)
	}
	for _, name := range []string{"reconciliation.json", "reconciliation.csv", "reconciliation.html"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		s := sha256.Sum256(b)
		if m.Files[name] != hex.EncodeToString(s[:]) {
			t.Errorf("files[%s] = %q", name, m.Files[name])
		}
	}
}

// TestVerify: a fresh pack verifies; one byte changed in
// reconciliation.csv, or a file removed, is named.
func TestVerify(t *testing.T) {
	dir, _ := writePack(t)
	if bad, err := reconcile.Verify(dir); err != nil || len(bad) != 0 {
		t.Fatalf("fresh pack: %v, %v", bad, err)
	}
	path := filepath.Join(dir, "reconciliation.csv")
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 1
	os.WriteFile(path, b, 0o600)
	bad, err := reconcile.Verify(dir)
	if err != nil || len(bad) != 1 || !strings.Contains(bad[0], "reconciliation.csv") {
		t.Errorf("one byte changed: %v, %v", bad, err)
	}
	os.Remove(filepath.Join(dir, "reconciliation.html"))
	os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("x"), 0o600)
	bad, _ = reconcile.Verify(dir)
	if got := strings.Join(bad, "|"); !strings.Contains(got, "reconciliation.html") || !strings.Contains(got, "extra.txt") {
		t.Errorf("removed and added: %v", bad)
	}
	if _, err := reconcile.Verify(t.TempDir()); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Errorf("no manifest: %v", err)
	}
}
