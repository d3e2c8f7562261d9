package main

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"erpsync/cmd/internal/testbin"
)

// Guarantee: one benchbin run measures every figure of issue 25 §3
// through the binaries: raw rate and import pair by pair (alternating,
// each into a fresh crmsim, the import's peak RSS read from its rusage),
// the first run after the import, and plan rounds against the floor and
// csvdiff.
func TestRun_EveryFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs the binaries")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// The binaries of the build cache (linked once), linked into -bin.
	paths, err := testbin.Paths(t.Context(), dir, "erpsync/cmd/erpsync", "erpsync/cmd/crmsim", "erpsync/cmd/genexport")
	if err != nil {
		t.Fatal(err)
	}
	for pkg, exe := range paths {
		if err := os.Symlink(exe, filepath.Join(bin, path.Base(pkg))); err != nil {
			t.Fatal(err)
		}
	}
	// A csvdiff stand-in: it reads the two files.
	fake := filepath.Join(dir, "csvdiff")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\ncat \"$1\" \"$2\" >/dev/null\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	o := options{rows: 100, dir: filepath.Join(dir, "work"), bin: bin, pairs: 2, plans: 2, concurrency: 4, csvdiff: fake,
		before: filepath.Join(bin, "erpsync")} // the same binary, as the code before a change
	if err := run(context.Background(), o, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`benchbin: 100 rows, concurrency 4`),
		regexp.MustCompile(`\| 1 \| raw, import \| [1-9]\d* \| [1-9]\d* \| \d+\.\d% \|.* \| [1-9]\d* MiB \|`),
		regexp.MustCompile(`\| 2 \| import, raw \| [1-9]\d* \| [1-9]\d* \|`),
		// The import's phases (its summary.json) and how busy each pair kept the cores.
		regexp.MustCompile(`\| 1 \| raw, import \|.* \| \d+\.\d\d s, \d+\.\d\d s, \d+\.\d\d s \| \d+\.\d\d / \d+\.\d\d \|`),
		regexp.MustCompile(`import ÷ raw: median \d+\.\d%`),
		regexp.MustCompile("first `run` of day 1 after the last import: "),
		regexp.MustCompile(`\| 2 \| \d+\.\d\d s \| \d+\.\d\d s \| \d+\.\d\d s \| \d+\.\d\d× \| \d+\.\d\d× \|`),
		regexp.MustCompile(`plan ÷ floor: median \d+\.\d\d×.*; plan ÷ csvdiff: median \d+\.\d\d×`),
		// -before: the other binary's plan in each round, beside this one's.
		regexp.MustCompile(`\| 2 \| \d+\.\d\d s \| \d+\.\d\d s \| \d+\.\d\d× \| \d+\.\d\d× \| \d+\.\d\d× \|`),
		regexp.MustCompile(`plan ÷ plan before: median \d+\.\d\d×; before ÷ floor: median \d+\.\d\d×; before ÷ csvdiff: median \d+\.\d\d×`),
	} {
		if !want.MatchString(text) {
			t.Errorf("no %s in:\n%s", want, text)
		}
	}
}
