package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

// TestE2E_SameSecondHandEdit: with whole-second timestamps, a hand edit
// in the very second of erpsync's push leaves lastUpdated as erpsync
// recorded it; the next run compares the content too, and repairs it.
func TestE2E_SameSecondHandEdit(t *testing.T) {
	t.Parallel()
	frozen := time.Now().UTC().Truncate(time.Second)
	e := newE2E(t, crmsim.Options{Now: func() time.Time { return frozen }}, nil)
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatalf("day 1: %d %s", code, errOut)
	}
	if _, err := e.sim.Store.Put("C-1004", map[string]string{"creditLimit": "99999"}); err != nil {
		t.Fatal(err)
	}
	e.writes()
	code, out, errOut := e.run("run", "-file", day1)
	c, _ := e.customer("C-1004")
	if up, _ := e.writes(); code != ExitOK || up != 1 || c.CreditLimit == nil || *c.CreditLimit != 12000 {
		t.Errorf("exit %d, %d upserts, C-1004 credit limit %v; want the hand edit repaired\n%s%s", code, up, c.CreditLimit, out, errOut)
	}
}

// renameFront stands for a CRM that names dueDateConfigType 2 otherwise
// than crmsim does (the reference shows only type 1's name).
type renameFront struct{ next http.Handler }

func (f renameFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	f.next.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	w.Write([]byte(strings.ReplaceAll(rec.Body.String(), `"daysAfterEndOfInvoiceMonth"`, `"daysAfterEndOfMonth"`)))
}

// TestE2E_DueDateTypeNamedOtherwise: a CRM answering another name for
// dueDateConfigType 2 does not make its customers drift: what it answered
// right after the push is what it holds.
func TestE2E_DueDateTypeNamedOtherwise(t *testing.T) {
	t.Parallel()
	clock := simtest.NewClock(time.Now().Truncate(time.Second))
	e := newE2EWith(t, simtest.Setup{Options: crmsim.Options{Now: clock.Now},
		Front: func(sim *crmsim.Server) http.Handler { return renameFront{next: sim} }}, nil)
	if code, _, errOut := e.run("run", "-file", day1); code != ExitOK {
		t.Fatalf("day 1: %d %s", code, errOut)
	}
	clock.Advance(2 * time.Second) // a later second in the CRM
	if _, err := e.sim.Store.Put("C-1003", map[string]string{"fax": "+33 4 00 00 00 00"}); err != nil {
		t.Fatal(err)
	}
	e.writes()
	code, out, errOut := e.run("run", "-file", day1)
	if up, _ := e.writes(); code != ExitOK || up != 0 || strings.Contains(out, "dueDateConfigType") {
		t.Errorf("exit %d, %d upserts; want no drift of dueDateConfigType\n%s%s", code, up, out, errOut)
	}
}
