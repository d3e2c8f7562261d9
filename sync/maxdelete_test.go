package sync_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"erpsync/sync"
)

// TestRun_MaxDeleteOffOrALimit: sync.max_delete unset (the zero value)
// is off: it never stops a run, whatever it deletes. Set, it is what
// ARCHITECTURE.md says: a count or a share of the managed customers,
// a plan deleting more stops before any write (exit 3); 0 and 0% allow
// no delete. Accepted (run -accept max_delete), a limit the plan passes
// lets the run go on, and says so.
func TestRun_MaxDeleteOffOrALimit(t *testing.T) {
	t.Parallel() // shares nothing: its own crmsim, checkpoint and folder
	export := []string{"reference;name;parent;email", "K;Keep;;", "D1;Drop;;", "D2;Drop;;", "D3;Drop;;"}
	var unset sync.Settings
	for _, tc := range []struct {
		limit  string // "": unset
		accept bool
		stops  bool
	}{
		{limit: ""}, {limit: "0%", stops: true}, {limit: "0", stops: true}, {limit: "2", stops: true}, {limit: "3"},
		{limit: "50%", stops: true}, {limit: "75%"}, {limit: "100%"}, {limit: "0%", accept: true},
	} {
		name := tc.limit
		if name == "" {
			name = "unset"
		}
		if tc.accept {
			name += " accepted"
		}
		t.Run(name, func(t *testing.T) {
			c := newCSVJob(t, csvConfig())
			c.job.Settings.MaxDelete = unset.MaxDelete
			if _, err := c.run(t, export...); err != nil { // 4 managed
				t.Fatalf("run 1: %v", err)
			}
			if tc.limit != "" {
				if err := c.job.Settings.MaxDelete.UnmarshalText([]byte(tc.limit)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.accept {
				c.job.Accept = map[string]bool{"max_delete": true}
			}
			out, err := c.run(t, export[:2]...) // deletes 3 of 4
			deleted := 4 - c.store.Len()
			if stopped := sync.Classify(err) == sync.ClassGuard; stopped != tc.stops || tc.stops && deleted != 0 || !tc.stops && deleted != 3 {
				t.Errorf("max_delete %s: %v (class %d), %d deleted; want stopped %v", name, err, sync.Classify(err), deleted, tc.stops)
			}
			if tc.accept {
				raw, rerr := os.ReadFile(filepath.Join(out.Dir, "summary.json"))
				var sum struct {
					Accepted []struct{ Guard string } `json:"accepted"`
				}
				if rerr != nil || json.Unmarshal(raw, &sum) != nil || len(sum.Accepted) != 1 || sum.Accepted[0].Guard != "max_delete" {
					t.Errorf("max_delete accepted: summary.json says %s (%v)", raw, rerr)
				}
			}
		})
	}
}
