package main

import (
	"bytes"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/mapping/genexport"
	"erpsync/sync/crm/crmsim"
)

// Guarantee: genexport -raw sends -rows upserts of the export's first
// -forms customers to the CRM and prints their rate.
func TestRaw_SendsAndPrintsTheRate(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := genexport.WriteFiles(dir, genexport.Options{Rows: 40, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	store, err := crmsim.NewStore(crmsim.DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(crmsim.New(store, crmsim.Options{}))
	t.Cleanup(ts.Close)
	var out bytes.Buffer
	o := rawOptions{url: ts.URL, file: filepath.Join(dir, "day1.csv"), forms: 10, upserts: 25, concurrency: 3}
	if err := o.run(&out); err != nil {
		t.Fatal(err)
	}
	if got := store.Len(); got != 25 {
		t.Errorf("the CRM holds %d customers, want 25", got)
	}
	if s := out.String(); !strings.Contains(s, "25 upserts of the first 10 customers") || !strings.HasSuffix(s, " upserts/s\n") {
		t.Errorf("printed %q", s)
	}
}
