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

// runUntil runs crmsim with args until its output holds want (10 s at
// most), stops it, and returns its output and run's error: the tests
// waited 300 ms before stopping it.
func runUntil(t *testing.T, want string, args ...string) (string, error) {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), out) }()
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if got, _ = os.ReadFile(out.Name()); strings.Contains(string(got), want) {
			break
		}
		select {
		case err := <-done: // ended by itself
			cancel()
			got, _ = os.ReadFile(out.Name())
			return string(got), err
		default:
		}
	}
	cancel()
	err = <-done
	got, _ = os.ReadFile(out.Name())
	return string(got), err
}

func TestRun_Seed(t *testing.T) {
	t.Parallel()
	got, err := runUntil(t, "crmsim listening on", "-seed", "../../testdata/crmsim/example-seed.json")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(got, "crmsim listening on http://127.0.0.1:") {
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
	got, err := runUntil(t, "session login:", "-user", "erp", "-password", "pw", "-session-ttl", "2s",
		"-max-page-size", "37", "-time-precision", "ms", "-versions", "v2.1, v3.0")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(got, "session login: POST http://127.0.0.1:") || strings.Contains(got, "pw") {
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
	profile := filepath.Join(dir, "cpu.prof")
	if _, err := runUntil(t, "crmsim listening on", "-cpuprofile", profile); err != nil {
		t.Fatalf("run: %v", err)
	}
	if fi, err := os.Stat(profile); err != nil || fi.Size() == 0 {
		t.Errorf("profile: %v, %v", fi, err)
	}
	if err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-cpuprofile", filepath.Join(dir, "no", "such", "dir")}, nil); err == nil {
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
