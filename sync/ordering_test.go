package sync_test

import (
	"fmt"
	"slices"
	gosync "sync"
	"testing"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmmem"
)

// writeLog is the order in which crmsim met the writes of a run through
// crmmem: "start POST ref" before it serves one, "answer POST ref" once
// it has answered (before the engine hears of it).
type writeLog struct {
	mu      gosync.Mutex
	entries []string
}

func (l *writeLog) note(when, op, ref string) {
	verb := map[string]string{crm.OpUpsert: "POST", crm.OpDeleteByReference: "DELETE"}[op]
	if verb == "" {
		return
	}
	l.mu.Lock()
	l.entries = append(l.entries, when+" "+verb+" "+ref)
	l.mu.Unlock()
}

func (l *writeLog) index(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Index(l.entries, s)
}

// watch logs the writes of fake.
func (l *writeLog) watch(fake *crmmem.CRM) {
	fake.Before = func(op, ref string) error { l.note("start", op, ref); return nil }
	fake.After = func(op, ref string, _ error) { l.note("answer", op, ref) }
}

// TestRun_ParentsBeforeChildren: a run over 8 workers sends a
// sub-customer only once its parent was answered, whatever the export's
// order (grandchildren first, parents last), and a mirror run deletes
// sub-customers before their parents.
func TestRun_ParentsBeforeChildren(t *testing.T) {
	c := newCSVJob(t, csvConfig())
	c.job.Settings.Concurrency = 8
	log := &writeLog{}
	log.watch(c.job.CRM.(*crmmem.CRM))
	parent := map[string]string{}
	export := []string{"reference;name;parent;email"}
	for i := range 6 {
		ref, p := fmt.Sprintf("G%d", i), fmt.Sprintf("C%d", i%3)
		parent[ref] = p
		export = append(export, ref+";Grandchild;"+p+";")
	}
	for i := range 3 {
		ref, p := fmt.Sprintf("C%d", i), fmt.Sprintf("P%d", i)
		parent[ref] = p
		export = append(export, ref+";Child;"+p+";")
	}
	for i := range 3 {
		export = append(export, fmt.Sprintf("P%d;Parent;;", i))
	}
	if _, err := c.run(t, append(export, "KEEP;Kept;;")...); err != nil {
		t.Fatalf("run 1: %v", err)
	}
	for child, p := range parent {
		answered, sent := log.index("answer POST "+p), log.index("start POST "+child)
		if answered < 0 || sent < 0 || answered > sent {
			t.Errorf("%s was sent (at %d) before its parent %s was answered (at %d)", child, sent, p, answered)
		}
		if cu, ok := c.store.ByReference(child); !ok || cu.ParentCustomer == nil || cu.ParentCustomer.Reference != p {
			t.Errorf("%s in the CRM: parent %+v, want %s", child, cu.ParentCustomer, p)
		}
	}
	if _, err := c.run(t, "reference;name;parent;email", "KEEP;Kept;;"); err != nil {
		t.Fatalf("run 2: %v", err)
	}
	for child, p := range parent {
		answered, sent := log.index("answer DELETE "+child), log.index("start DELETE "+p)
		if answered < 0 || sent < 0 || answered > sent {
			t.Errorf("parent %s was deleted (at %d) before its sub-customer %s was answered (at %d)", p, sent, child, answered)
		}
	}
	if n := c.store.Len(); n != 1 {
		t.Errorf("the CRM holds %d customers, want KEEP alone", n)
	}
}
