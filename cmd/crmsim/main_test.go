package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRun_Seed(t *testing.T) {
	out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = run(ctx, []string{"-addr", "127.0.0.1:0", "-seed", "../../testdata/crmsim/example-seed.json"}, out)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	got, _ := os.ReadFile(out.Name())
	if !strings.Contains(string(got), "crmsim listening on http://127.0.0.1:") {
		t.Errorf("stdout = %q", got)
	}
}

func TestRun_BadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-fail-rate", "0.8", "-throttle-rate", "0.5"},
		{"-seed", "no-such-file.json"},
		{"-addr", "not an address"},
	} {
		if err := run(context.Background(), args, os.Stdout); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}
