package main

import (
	"encoding/json"
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
)

// TestLog_JSONWithRunID: log.format json writes every line as one JSON
// object, and each line written while the run is under way (the engine's,
// the progress, the notifications') carries its id.
func TestLog_JSONWithRunID(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, func(c string) string {
		// No retry of the refused heartbeat: a retry waited 0.25 s a run.
		return c + "\nlog:\n  format: json\nnotify:\n  retries: 0\n  heartbeat_url: http://127.0.0.1:1/refused\n"
	})
	if code, _, stderr := e.run("run", "-file", day1); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	code, _, stderr := e.run("run", "-v", "-file", day2)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	stamped, lines := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(line, "erpsync:") || !strings.HasPrefix(line, "{") && !strings.Contains(line, "\tDEBUG\t") && !strings.Contains(line, "\tINFO\t") {
			continue // the progress line, the command's own messages
		}
		lines++
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		if id, ok := m["run_id"].(float64); ok && id >= 1 {
			stamped++
		} else if stamped > 0 {
			t.Errorf("a line after the run started has no run_id: %s", line)
		}
	}
	if stamped < 2 || !strings.Contains(stderr, "notify: delivery failed") {
		t.Fatalf("%d lines of %d carry run_id; want the progress and the failed heartbeat's among them:\n%s", stamped, lines, stderr)
	}
}
