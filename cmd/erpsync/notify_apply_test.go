package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/notify"
)

// TestNotify_ApplyTold: an apply is told as a run: after a failed run
// and a run a guard stopped, the apply of the approved plan sends
// recovered and pings the heartbeat (issue 24 §1, the reviewer's seam).
func TestNotify_ApplyTold(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, false)
	e := newGuardE2EOn(t, crmsim.Options{}, "  max_delete: 10%\n  max_update: 1", "")
	cfg, err := os.ReadFile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg = append(cfg, "notify:\n  heartbeat_url: "+rc.srv.URL+"/hb\n  webhooks:\n  - url: "+rc.srv.URL+
		"/hook\n    events: [failed, partial, guard, drift, held, recovered]\n"...)
	if err := os.WriteFile(e.cfg, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	step := func(name string, wantCode int, wantEvents []string, wantBeat string, args ...string) {
		t.Helper()
		code, out, errOut := e.run(args...)
		if code != wantCode {
			t.Fatalf("%s: exit %d, want %d\n%s%s", name, code, wantCode, out, errOut)
		}
		hooks, beats := splitReceived(rc.take())
		var events []string
		for _, h := range hooks {
			var m notify.Message
			if err := json.Unmarshal(h.body, &m); err != nil {
				t.Fatalf("%s: body %s: %v", name, h.body, err)
			}
			events = append(events, m.Event)
		}
		if len(events) != len(wantEvents) || (len(events) > 0 && events[0] != wantEvents[0]) || len(beats) != 1 || beats[0].path != wantBeat {
			t.Errorf("%s: events %v, heartbeats %v; want %v and %s", name, events, paths(beats), wantEvents, wantBeat)
		}
	}
	step("day 1", ExitOK, nil, "/hb", "run", "-file", e.file("day1.csv", guardExport(nil)))
	step("an export without its columns", ExitUsage, []string{notify.EventFailed}, "/hb/fail", "run", "-file", e.file("bad.csv", "X,Y\n1,2\n"))
	day2 := e.file("day2.csv", approveDay2())
	step("day 2 over max_update", ExitGuard, []string{notify.EventGuard}, "/hb/fail", "run", "-file", day2)
	planFile := filepath.Join(e.dir, "plan.json")
	if code, out, errOut := e.run("plan", "-file", day2, "-out", planFile); code != ExitOK && code != ExitGuard {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	if got := rc.take(); len(got) != 0 {
		t.Errorf("plan told %v", paths(got))
	}
	step("apply", ExitOK, []string{notify.EventRecovered}, "/hb", "apply", planFile)
}
