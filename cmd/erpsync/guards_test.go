package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
)

// guardConfig is a config of 20 customers' exports (REF, NAME, EMAIL,
// CITY, LIMIT, CUR) over a crmsim on loopback, with the sync: keys given.
func newGuardE2E(t *testing.T, sync string, values string) *e2e {
	t.Helper()
	return newGuardE2EOn(t, crmsim.Options{}, sync, values)
}

// newGuardE2EOn is newGuardE2E over a crmsim of these options.
func newGuardE2EOn(t *testing.T, opts crmsim.Options, sync string, values string) *e2e {
	t.Helper()
	return newE2E(t, opts, func(demo string) string {
		url := regexp.MustCompile(`base_url: (\S+)`).FindStringSubmatch(demo)[1]
		state := regexp.MustCompile(`(?m)^  path: (\S+erpsync\.db)`).FindStringSubmatch(demo)[1]
		reports := regexp.MustCompile(`(?m)^  dir: (\S+)`).FindStringSubmatch(demo)[1]
		return guardConfigText(url, state, reports, sync, values)
	})
}

func guardConfigText(url, state, reports, sync, values string) string {
	return fmt.Sprintf(`crm:
  base_url: %s
  auth: none
source:
  delimiter: ","
  columns: {reference: REF, name: NAME, email: EMAIL, billingCity: CITY, creditLimit: LIMIT, currency: CUR}
  values: {%s}
state:
  path: %s
sync:
  deletes: mirror
%s
reports:
  dir: %s
`, url, values, state, sync, reports)
}

// guardExport is 20 customers; edit may change customer i's cells.
func guardExport(edit func(i int, cells []string)) string {
	var b strings.Builder
	b.WriteString("REF,NAME,EMAIL,CITY,LIMIT,CUR\n")
	for i := range 20 {
		city := "Lyon"
		if i%10 < 3 {
			city = "PAR" // 30%: a code a values alias may turn into Paris
		}
		cells := []string{fmt.Sprintf("G%02d", i), fmt.Sprintf("Customer %02d", i), fmt.Sprintf("c%02d@x.example", i),
			city, fmt.Sprintf("%d", 1000+i), "EUR"}
		if edit != nil {
			edit(i, cells)
		}
		b.WriteString(strings.Join(cells, ",") + "\n")
	}
	return b.String()
}

// TestGuards_MaxUpdate (issue 23 §3): a day 2 changing 50% of the credit
// limits with max_update: 10% stops (exit 3) with no write; -accept
// max_update sends it, and the report says who accepted it.
func TestGuards_MaxUpdate(t *testing.T) {
	t.Parallel()
	e := newGuardE2E(t, "  max_update: 10%", "")
	if code, _, errOut := e.run("run", "-file", e.file("day1.csv", guardExport(nil))); code != ExitOK {
		t.Fatalf("day 1: exit %d: %s", code, errOut)
	}
	e.writes()
	day2 := e.file("day2.csv", guardExport(func(i int, c []string) {
		if i%2 == 0 {
			c[4] = fmt.Sprintf("%d", 5000+i)
		}
	}))
	code, out, errOut := e.run("run", "-file", day2)
	if code != ExitGuard || !strings.Contains(errOut, "max_update") || !strings.Contains(errOut, "updates 10 of 20") {
		t.Fatalf("exit %d, want 3 naming max_update:\n%s\n%s", code, out, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Fatalf("a tripped guard wrote %d upserts, %d deletes", up, del)
	}
	if code, _, errOut := e.run("run", "-file", day2, "-accept", "max_update"); code != ExitOK {
		t.Fatalf("-accept max_update: exit %d: %s", code, errOut)
	}
	if up, _ := e.writes(); up != 10 {
		t.Errorf("-accept max_update sent %d upserts, want 10", up)
	}
	acc, _ := e.lastSummary()["accepted"].([]any)
	if len(acc) != 1 {
		t.Fatalf("summary.json accepted: %v, want one", e.lastSummary()["accepted"])
	}
	a := acc[0].(map[string]any)
	host, _ := os.Hostname()
	if a["guard"] != "max_update" || !strings.Contains(a["by"].(string), "@"+host) {
		t.Errorf("accepted %v: want max_update by user@%s", a, host)
	}
	if d, _ := a["detail"].(string); strings.Contains(d, "nothing was written") || !strings.Contains(d, "accepted") {
		t.Errorf("accepted detail %q: the run wrote; want it to say the guard was accepted", d)
	}
}

// TestGuards_AcceptUnknown: -accept of a guard that does not exist is a
// usage error (exit 2), nothing sent.
func TestGuards_AcceptUnknown(t *testing.T) {
	t.Parallel()
	e := newGuardE2E(t, "", "")
	code, _, errOut := e.run("run", "-file", e.file("day1.csv", guardExport(nil)), "-accept", "max_updates")
	if code != ExitUsage || !strings.Contains(errOut, "max_updates") {
		t.Fatalf("exit %d, want 2 naming max_updates: %s", code, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("wrote %d upserts, %d deletes", up, del)
	}
}

// TestGuards_MaxBlank: an export whose email column lost its values
// (the header kept, every cell empty) trips max_blank, naming the field.
func TestGuards_MaxBlank(t *testing.T) {
	t.Parallel()
	e := newGuardE2E(t, "  max_blank: 5%", "")
	if code, _, errOut := e.run("run", "-file", e.file("day1.csv", guardExport(nil))); code != ExitOK {
		t.Fatalf("day 1: exit %d: %s", code, errOut)
	}
	e.writes()
	day2 := e.file("day2.csv", guardExport(func(i int, c []string) { c[2] = "" }))
	code, _, errOut := e.run("run", "-file", day2)
	if code != ExitGuard || !strings.Contains(errOut, "max_blank") || !strings.Contains(errOut, "clears email of 20 of 20") {
		t.Fatalf("exit %d, want 3 naming max_blank and email: %s", code, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("a tripped guard wrote %d upserts, %d deletes", up, del)
	}
	if c, _ := e.customer("G03"); c.Email == nil || *c.Email != "c03@x.example" {
		t.Errorf("G03's email: %v", c.Email)
	}
}

// TestGuards_MaxMappingChange: a new values alias (CITY PAR → Paris)
// changing 30% of the customers trips max_mapping_change: 10%.
func TestGuards_MaxMappingChange(t *testing.T) {
	t.Parallel()
	e := newGuardE2E(t, "  max_mapping_change: 10%", "")
	export := e.file("day1.csv", guardExport(nil))
	if code, _, errOut := e.run("run", "-file", export); code != ExitOK {
		t.Fatalf("day 1: exit %d: %s", code, errOut)
	}
	e.writes()
	cfg, _ := os.ReadFile(e.cfg)
	aliased := strings.Replace(string(cfg), "values: {}", "values: {billingCity: {PAR: Paris}}", 1)
	if err := os.WriteFile(e.cfg, []byte(aliased), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := e.run("run", "-file", export)
	if code != ExitGuard || !strings.Contains(errOut, "max_mapping_change") || !strings.Contains(errOut, "6 of 20") {
		t.Fatalf("exit %d, want 3 naming max_mapping_change, 6 of 20: %s", code, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("a tripped guard wrote %d upserts, %d deletes", up, del)
	}
	if code, _, errOut := e.run("run", "-file", export, "-accept", "max_mapping_change"); code != ExitOK {
		t.Fatalf("accepted: exit %d: %s", code, errOut)
	}
	if up, _ := e.writes(); up != 6 {
		t.Errorf("accepted: %d upserts, want 6", up)
	}
}

// TestGuards_AcceptMaxDelete: -accept max_delete lets a run delete more
// than max_delete allows, and the report says it was accepted.
func TestGuards_AcceptMaxDelete(t *testing.T) {
	t.Parallel()
	e := newGuardE2E(t, "  max_delete: 1", "")
	if code, _, errOut := e.run("run", "-file", e.file("day1.csv", guardExport(nil))); code != ExitOK {
		t.Fatalf("day 1: exit %d: %s", code, errOut)
	}
	e.writes()
	text := guardExport(nil)
	for _, ref := range []string{"G15", "G16", "G17"} {
		i := strings.Index(text, ref+",")
		text = text[:i] + text[i+strings.Index(text[i:], "\n")+1:]
	}
	day2 := e.file("day2.csv", text)
	if code, _, errOut := e.run("run", "-file", day2); code != ExitGuard || !strings.Contains(errOut, "max_delete") {
		t.Fatalf("exit %d, want 3 naming max_delete: %s", code, errOut)
	}
	if code, _, errOut := e.run("run", "-file", day2, "-accept", "max_delete"); code != ExitOK {
		t.Fatalf("-accept max_delete: exit %d: %s", code, errOut)
	}
	if _, del := e.writes(); del != 3 {
		t.Errorf("-accept max_delete sent %d deletes, want 3", del)
	}
	acc, _ := e.lastSummary()["accepted"].([]any)
	if len(acc) != 1 || acc[0].(map[string]any)["guard"] != "max_delete" {
		t.Errorf("summary.json accepted: %v, want max_delete", acc)
	}
}
