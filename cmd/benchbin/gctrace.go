package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// gcTime is the CPU a Go process's collector took, as its gctrace lines
// (GODEBUG=gctrace=1) tell it: crmsim holding a million customers spends
// about half its CPU collecting, and how much of it varies from one
// crmsim to the next with the same requests (idle marking, on the cores
// its own requests leave idle, varies most). A pair's two crmsims are
// compared with and without it.
type gcTime struct {
	cycles      int
	total, idle time.Duration // idle: the marking of the idle workers, in total
}

// withGCTrace returns the environment with gctrace=1 added to GODEBUG.
func withGCTrace(env []string) []string {
	out := make([]string, 0, len(env)+1)
	debug := "gctrace=1"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			if v != "" {
				debug = v + "," + debug
			}
			continue
		}
		out = append(out, kv)
	}
	return append(out, "GODEBUG="+debug)
}

// readGCTrace sums the gctrace lines of the log at path.
func readGCTrace(path string) (gcTime, error) {
	f, err := os.Open(path)
	if err != nil {
		return gcTime{}, err
	}
	defer f.Close()
	g, err := parseGCTrace(f)
	if err != nil {
		return g, fmt.Errorf("read %s: %w", path, err)
	}
	return g, nil
}

// parseGCTrace sums the CPU of gctrace lines: in "gc 7 @1.2s 3%: ...
// clock, A+B/C/D+E ms cpu, ..." the five figures are the milliseconds of
// CPU of the sweep's end, the marking's assists, its background workers,
// its idle workers and the marking's end. Other lines are skipped.
func parseGCTrace(r io.Reader) (gcTime, error) {
	var g gcTime
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "gc ") {
			continue
		}
		before, _, ok := strings.Cut(line, " ms cpu,")
		if !ok {
			continue
		}
		figures := before[strings.LastIndexByte(before, ' ')+1:]
		parts := strings.FieldsFunc(figures, func(c rune) bool { return c == '+' || c == '/' })
		if len(parts) != 5 {
			return g, fmt.Errorf("gctrace line %q: %d CPU figures, want 5", excerpt(line), len(parts))
		}
		for i, p := range parts {
			ms, err := strconv.ParseFloat(p, 64)
			if err != nil {
				return g, fmt.Errorf("gctrace line %q: %w", excerpt(line), err)
			}
			d := time.Duration(ms * float64(time.Millisecond))
			g.total += d
			if i == 3 {
				g.idle += d
			}
		}
		g.cycles++
	}
	return g, sc.Err()
}

// excerpt is the start of a line, for an error.
func excerpt(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
