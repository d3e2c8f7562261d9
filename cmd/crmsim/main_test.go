package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
)

func TestRun_Seed(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	for _, args := range [][]string{
		{"-fail-rate", "0.8", "-throttle-rate", "0.5"},
		{"-seed", "no-such-file.json"},
		{"-addr", "not an address"},
		{"-user", "erp"},
		{"-password", "pw"},
		{"-time-precision", "us"},
		{"-versions", "v1.0,,v2.1"},
		{"-max-page-size", "-1"},
		{"-session-ttl", "-1s"},
		{"-retry-after", "soon"},
		{"-retry-after", "-1"},
	} {
		if err := run(context.Background(), args, os.Stdout); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}

func TestRun_SessionFlags(t *testing.T) {
	t.Parallel()
	out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = run(ctx, []string{"-addr", "127.0.0.1:0", "-user", "erp", "-password", "pw", "-session-ttl", "2s",
		"-max-page-size", "37", "-time-precision", "ms", "-versions", "v2.1, v3.0"}, out)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	got, _ := os.ReadFile(out.Name())
	if !strings.Contains(string(got), "session login: POST http://127.0.0.1:") || strings.Contains(string(got), "pw") {
		t.Errorf("stdout = %q", got)
	}
}

func TestSimFlags(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("crmsim", flag.ContinueOnError)
	opts, finish := simFlags(fs)
	err := fs.Parse([]string{"-user", "erp", "-password", "pw", "-session-ttl", "2s", "-token", "tk",
		"-max-page-size", "37", "-time-precision", "ms", "-versions", "v2.1, v3.0",
		"-session-requests", "10", "-references", "ci", "-parent-digits", "id", "-parent-shape", "id",
		"-due-type-names", "daysAfterInvoiceDate, endOfMonth", "-deprecated-versions", "v1.0", "-retry-after", "0"})
	if err != nil {
		t.Fatal(err)
	}
	finish()
	want := crmsim.Options{User: "erp", Password: "pw", SessionTTL: 2 * time.Second, Token: "tk",
		MaxPageSize: 37, TimePrecision: "ms", Versions: []string{"v2.1", "v3.0"}, RetryAfter: "0",
		Quirks: crmsim.Quirks{SessionRequests: 10, References: "ci", ParentDigits: "id", ParentShape: "id",
			DueTypeNames: []string{"daysAfterInvoiceDate", "endOfMonth"}, DeprecatedVersions: []string{"v1.0"}}}
	if !reflect.DeepEqual(*opts, want) || opts.Validate() != nil {
		t.Errorf("options\n got %+v\nwant %+v (%v)", *opts, want, opts.Validate())
	}
	if got, want := describeQuirks(opts.Quirks), "sessions of 10 requests; references ignoring case and accents; "+
		"digits-only parents read as ids; parentCustomer answered as an id; due types named daysAfterInvoiceDate, "+
		"endOfMonth; deprecated v1.0"; got != want {
		t.Errorf("quirks line\n got %q\nwant %q", got, want)
	}
	fs = flag.NewFlagSet("crmsim", flag.ContinueOnError)
	opts, finish = simFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	finish()
	want = crmsim.Options{TimePrecision: "s", Versions: crmsim.DefaultVersions, RetryAfter: "1",
		Quirks: crmsim.Quirks{References: "exact", ParentDigits: "reference", ParentShape: "object",
			DueTypeNames: crmsim.DefaultDueTypeNames}}
	if !reflect.DeepEqual(*opts, want) || opts.Validate() != nil {
		t.Errorf("defaults\n got %+v\nwant %+v", *opts, want)
	}
}

func TestRun_CPUProfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	profile := filepath.Join(dir, "cpu.prof")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := run(ctx, []string{"-addr", "127.0.0.1:0", "-cpuprofile", profile}, out); err != nil {
		t.Fatalf("run: %v", err)
	}
	if fi, err := os.Stat(profile); err != nil || fi.Size() == 0 {
		t.Errorf("profile: %v, %v", fi, err)
	}
	if err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-cpuprofile", filepath.Join(dir, "no", "such", "dir")}, out); err == nil {
		t.Error("run with an unwritable profile: no error")
	}
}

// TestQuirkFlagsRefused: a quirk flag with a value it does not know stops
// crmsim before it listens.
func TestQuirkFlagsRefused(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-references", "loose"}, {"-parent-digits", "guess"}, {"-parent-shape", "text"},
		{"-session-requests", "-1"}, {"-due-type-names", "one"}, {"-due-type-names", "a,A"},
		{"-deprecated-versions", "v1/0"},
	} {
		if err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, args...), nil); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
