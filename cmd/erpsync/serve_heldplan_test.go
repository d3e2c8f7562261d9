package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
)

// TestServe_PageLinksHeldPlan: with serve.approve, the page's held
// export links the plan.json that waits in its run's report folder, and
// serves it.
func TestServe_PageLinksHeldPlan(t *testing.T) {
	t.Parallel()
	f := newServeFixture(t, crmsim.Options{}, "  approve: true\n")
	f.setConfig("max_delete: 30%", "max_delete: 1") // day 2 deletes 2
	f.drop("../../testdata/exports/day1.csv", "a-day1.csv", 3*time.Minute)
	var logs lockedBuffer
	addr, stop := f.serve(&logs)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	waitFor(t, 20*time.Second, "day 1 synced", func() bool { return len(archived(t, f.archive)) == 1 })
	f.drop("../../testdata/exports/day2.csv", "b-day2.csv", 2*time.Minute)
	var plans []string
	waitFor(t, 20*time.Second, "day 2's plan in its report folder", func() bool {
		plans, _ = filepath.Glob(filepath.Join(f.dir, "reports", "*", "plan.json"))
		return len(plans) == 1
	})
	link := "reports/" + filepath.Base(filepath.Dir(plans[0])) + "/plan.json"
	var held string
	waitFor(t, 20*time.Second, "the held export on the page", func() bool {
		_, body := pageGet(addr, "/")
		i := strings.Index(body, `id="held"`)
		if i < 0 {
			return false
		}
		held = body[i:]
		held = held[:strings.Index(held, "</table>")]
		return strings.Contains(held, "b-day2.csv")
	})
	if !strings.Contains(held, `href="`+link+`"`) {
		t.Errorf("the held export does not link %s:\n%s", link, held)
	}
	if code, body := pageGet(addr, "/"+link); code != 200 || !strings.Contains(body, `"approval"`) {
		t.Errorf("GET /%s: %d %.200s", link, code, body)
	}
}
