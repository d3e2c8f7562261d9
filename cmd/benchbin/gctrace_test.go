package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Lines as crmsim's runtime wrote them (go1.25, 2 P), between its own.
const gcTraceLog = `crmsim listening on http://127.0.0.1:40615/api/v1.0/customers
gc 1 @0.783s 0%: 0.23+1.9+0.028 ms clock, 0.47+0.29/0.71/0+0.056 ms cpu, 3->4->0 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P
gc 82 @98.521s 46%: 0.10+1250+0.022 ms clock, 0.20+2.5/1020/1409+0.045 ms cpu, 2210->2282->1153 MB, 2306 MB goal, 0 MB stacks, 0 MB globals, 2 P
gc 83 @99.100s 46%: 0.10+10+0.02 ms clock, 0.2+0/5/0+0.05 ms cpu, 10->10->5 MB, 20 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)
2026/12/07 15:17:00 crmsim: interrupted
`

func TestParseGCTrace_SumsCPU(t *testing.T) {
	g, err := parseGCTrace(strings.NewReader(gcTraceLog))
	if err != nil {
		t.Fatal(err)
	}
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	want := gcTime{cycles: 3,
		total: ms(0.47+0.29+0.71+0+0.056) + ms(0.20+2.5+1020+1409+0.045) + ms(0.2+0+5+0+0.05),
		idle:  ms(1409)}
	if g.cycles != want.cycles || (g.total-want.total).Abs() > time.Microsecond || g.idle != want.idle {
		t.Errorf("parseGCTrace = %+v, want %+v", g, want)
	}
}

// A line cut by other output is counted unread, not summed, and the
// lines after it are read.
func TestParseGCTrace_CountsOddLinesUnread(t *testing.T) {
	odd := []string{
		"gc 5 @1.0s 0%: 0.1+1+0.1 ms clock, 0.2+0.3/0.4+0.5 ms cpu, 3->4->0 MB",
		"gc 5 @1.0s 0%: 0.1+1+0.1 ms clock, 0.2+x/0.4/0+0.5 ms cpu, 3->4->0 MB",
		"gc 5 @1.0s 0%: 0.1+1+0.1 ms clock, 0.2+0.3/0.4crmsim: interrupted",
		"gc 5 @1.0s 0%: 0.1+1+0.1 ms clock, 0.2+0.3/-4/0+0.5 ms cpu, 3->4->0 MB",
	}
	g, err := parseGCTrace(strings.NewReader(strings.Join(odd, "\n") + "\n" + gcTraceLog))
	if err != nil {
		t.Fatal(err)
	}
	if g.unread != len(odd) || g.cycles != 3 || g.idle != 1409*time.Millisecond {
		t.Errorf("parseGCTrace = %+v, want %d unread, 3 cycles, 1.409 s idle", g, len(odd))
	}
	if s := g.String(); !strings.HasSuffix(s, ", 4 lines unread") {
		t.Errorf("String() = %q, want the unread lines told", s)
	}
}

func TestWithGCTrace_KeepsGODEBUG(t *testing.T) {
	for _, c := range []struct{ env, want []string }{
		{[]string{"PATH=/bin"}, []string{"PATH=/bin", "GODEBUG=gctrace=1"}},
		{[]string{"GODEBUG=madvdontneed=1", "HOME=/h"}, []string{"HOME=/h", "GODEBUG=madvdontneed=1,gctrace=1"}},
		{[]string{"GODEBUG="}, []string{"GODEBUG=gctrace=1"}},
	} {
		if got := withGCTrace(c.env); !slices.Equal(got, c.want) {
			t.Errorf("withGCTrace(%q) = %q, want %q", c.env, got, c.want)
		}
	}
}

// A running crmsim's last line, not yet ended, is left for the next read,
// not counted unread.
func TestReadGCTrace_LeavesAnUnendedLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crmsim.log")
	partial := "gc 84 @99.2s 46%: 0.1+10+0.02 ms clock, 0.2+0/5"
	if err := os.WriteFile(path, []byte(gcTraceLog+partial), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := readGCTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.cycles != 3 || g.unread != 0 {
		t.Errorf("readGCTrace = %+v, want 3 cycles and none unread", g)
	}
}
