package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// gcTime is the time a Go process's collector took, as its gctrace lines
// (GODEBUG=gctrace=1) account it: the marking workers' time running, the
// pauses times the processors, not the kernel's CPU, and without the
// sweeping done as memory is allocated. crmsim holding a million
// customers spends about half its CPU collecting, and how much of it
// varies from one crmsim to the next with the same requests (idle
// marking, on the cores its own requests leave idle, varies most). A
// pair's two crmsims are compared with and without it.
type gcTime struct {
	cycles      int
	total, idle time.Duration // idle: the marking of the idle workers, in total
	// unread counts the gctrace lines whose figures could not be read:
	// the runtime writes a line in pieces, and crmsim's own output in the
	// same log may land among them. Left out of the sums, and told.
	unread int
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

// readGCTrace sums the gctrace lines of the log at path. A last line not
// yet ended is left out: the runtime writes a line in pieces, and a
// running crmsim's log is read as it writes.
func readGCTrace(path string) (gcTime, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return gcTime{}, err
	}
	if end := bytes.LastIndexByte(text, '\n'); end+1 < len(text) {
		text = text[:end+1]
	}
	g, err := parseGCTrace(bytes.NewReader(text))
	if err != nil {
		return g, fmt.Errorf("read %s: %w", path, err)
	}
	return g, nil
}

// String is the collector's cycles, CPU and idle marking, as the pairs'
// table prints them.
func (g gcTime) String() string {
	s := fmt.Sprintf("%d, %s (%s)", g.cycles, seconds(g.total), seconds(g.idle))
	if g.unread > 0 {
		s += fmt.Sprintf(", %d lines unread", g.unread)
	}
	return s
}

// parseGCTrace sums the CPU of gctrace lines: in "gc 7 @1.2s 3%: ...
// clock, A+B/C/D+E ms cpu, ..." the five figures are the milliseconds of
// CPU of the sweep's end, the marking's assists, its background workers,
// its idle workers and the marking's end. Other lines are skipped; a
// line starting "gc " whose figures cannot be read is counted unread.
func parseGCTrace(r io.Reader) (gcTime, error) {
	var g gcTime
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" {
			return g, nil
		}
		if err != nil && err != io.EOF {
			return g, err
		}
		if !strings.HasPrefix(line, "gc ") {
			continue
		}
		total, idle, ok := gcLineCPU(line)
		if !ok {
			g.unread++
			continue
		}
		g.total, g.idle, g.cycles = g.total+total, g.idle+idle, g.cycles+1
	}
}

// gcLineCPU reads the CPU figures of one gctrace line: their sum, and the
// idle workers' among them.
func gcLineCPU(line string) (total, idle time.Duration, ok bool) {
	before, _, ok := strings.Cut(line, " ms cpu,")
	if !ok {
		return 0, 0, false
	}
	figures := before[strings.LastIndexByte(before, ' ')+1:]
	parts := strings.FieldsFunc(figures, func(c rune) bool { return c == '+' || c == '/' })
	if len(parts) != 5 {
		return 0, 0, false
	}
	for i, p := range parts {
		ms, err := strconv.ParseFloat(p, 64)
		if err != nil || ms < 0 {
			return 0, 0, false
		}
		d := time.Duration(ms * float64(time.Millisecond))
		total += d
		if i == 3 {
			idle = d
		}
	}
	return total, idle, true
}
