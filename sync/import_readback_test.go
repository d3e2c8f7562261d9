package sync_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"erpsync/mapping"
	"erpsync/sync"
	"erpsync/sync/internal/testrig"
	"erpsync/sync/refresh"
)

// Guarantee: an import records of every customer the values it sent and
// what the CRM holds of them as a later read of the CRM gives them
// (refresh.CRMValues): an empty onHold held as false, or any value the
// CRM keeps in other text, is kept as held, the rest as sent (an
// import's outcomes carry them in order: state.Pushed). The run after it
// finds no drift. Both checkpoints, a crmsim in process.
func TestImport_RecordsWhatTheCRMHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testrig.Each(t, func(t *testing.T, impl testrig.Impl) {
		job, _ := engineJobOn(t, impl, 120, 0)
		job.Mode = sync.ModeImport
		if _, err := sync.Run(ctx, job); err != nil {
			t.Fatalf("import: %v", err)
		}
		sent := map[string]map[string]string{}
		if _, err := job.Mapping.Read(ctx, job.File, func(r mapping.Row) error {
			if r.Customer != nil {
				sent[r.Customer.Reference] = r.Customer.Fields()
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		all, _, err := refresh.ListAll(ctx, job.CRM, 2, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(sent) || len(all) == 0 {
			t.Fatalf("the CRM holds %d customers, the export maps %d", len(all), len(sent))
		}
		heldOtherwise := 0
		for _, c := range all {
			rec, err := job.State.Get(ctx, c.Reference)
			if err != nil || rec == nil {
				t.Fatalf("record of %s: %v, %v", c.Reference, rec, err)
			}
			if !maps.Equal(rec.Values, sent[c.Reference]) {
				t.Errorf("%s: values recorded %v, sent %v", c.Reference, rec.Values, sent[c.Reference])
			}
			names := slices.Collect(maps.Keys(rec.Values))
			if now := refresh.CRMValues(c, names, mapping.CountryCode); !maps.Equal(rec.CRMValues, now) {
				t.Errorf("%s: the CRM's values recorded %v, the CRM holds %v", c.Reference, rec.CRMValues, now)
			}
			if !maps.Equal(rec.CRMValues, rec.Values) {
				heldOtherwise++
			}
		}
		if heldOtherwise == 0 {
			t.Error("no customer held otherwise than sent: the export no longer tests what is held")
		}
		job.Mode = sync.ModeRun
		out, err := sync.Run(ctx, job)
		if err != nil || len(out.Plan.Drift) != 0 || out.Plan.Len() != 0 {
			t.Errorf("the run after: %v, drift %v, %d actions; want none", err, out.Plan.Drift, out.Plan.Len())
		}
		t.Logf("%d customers, %d held otherwise than sent", len(all), heldOtherwise)
	})
}
