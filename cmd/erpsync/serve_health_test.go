package main

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
)

// Issue 26 §2: /healthz carries a reason, not data. A zip of 300,000
// members made it 31.8 MB on every probe (the error listed them all).
// It stays within 1 KiB, and no cell of the export reaches it.
func TestServe_HealthzBounded(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "")
	cfg, err := os.ReadFile(f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(cfg), f.inbox+"/*.csv\n", f.inbox+"/*\n", 1)
	if err := os.WriteFile(f.cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	// 3,000 members: about 100 KB of names in the error.
	many := filepath.Join(f.inbox, "many.zip")
	fh, err := os.Create(many)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(fh)
	for i := range 3000 {
		if _, err := zw.Create(fmt.Sprintf("customers-part-%05d-of-a-long-export-name.csv", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	old := time.Now().Add(-time.Minute)
	os.Chtimes(many, old, old)

	var logs lockedBuffer
	addr, stop := f.serve(&logs)
	defer stop()
	rejected := filepath.Join(f.archive, "rejected")
	probe := func(what string) string {
		t.Helper()
		var body string
		waitFor(t, 20*time.Second, what, func() bool {
			code, b := healthz(addr)
			body = b
			return code == 503 && strings.Contains(b, what)
		})
		if len(body) > 1024 {
			t.Errorf("/healthz is %d bytes, want at most 1 KiB: %.300s…", len(body), body)
		}
		return body
	}
	body := probe("many.zip")
	if !strings.Contains(body, "zip holds 3000 files") {
		t.Errorf("/healthz does not say why: %s", body)
	}
	waitFor(t, 10*time.Second, "the zip rejected", func() bool { return len(archived(t, rejected)) == 2 })

	// A header that lacks the mapped columns: the error lists the
	// header's cells; /healthz says what is missing, not what is there.
	header := "ZZCELL-" + strings.Repeat("x", 40)
	wide := filepath.Join(f.inbox, "wide.csv")
	if err := os.WriteFile(wide, []byte(header+";OTHER\n1;2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(wide, old, old)
	body = probe("wide.csv")
	if !strings.Contains(body, "NAME1") || strings.Contains(body, "ZZCELL") {
		t.Errorf("/healthz = %s, want the missing column NAME1 and no cell of the export", body)
	}
}
