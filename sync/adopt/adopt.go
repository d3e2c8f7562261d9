// Package adopt is `erpsync init -adopt`: a new checkpoint filled from
// what the CRM already holds, every customer whose reference the export
// lists taken as managed (Adopt), under the state lock and recorded as a
// run of kind init, as sync.Run would.
package adopt

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/refresh"
)

// Adopted counts what Adopt took over.
type Adopted struct {
	Listed  int // customers the CRM holds
	Rows    int // valid rows of the export
	Adopted int // customers of the CRM that the export lists: now managed
	Equal   int // of those, the ones whose mapped fields already agree
}

// Adopt fills a new checkpoint from what the CRM already holds: every CRM
// customer whose reference the export lists becomes managed, as if
// erpsync had pushed it. One whose mapped fields already agree with the
// export is recorded with the row's hash (the next run leaves it alone);
// the others with a hash no row has, so that the next run updates them.
// Customers the export does not list stay unmanaged: never touched.
func Adopt(ctx context.Context, j sync.Job) (*Adopted, error) {
	if err := sync.CheckExport(j.File); err != nil {
		return nil, err
	}
	done, err := sync.HoldLock(ctx, j)
	if err != nil {
		return nil, err
	}
	defer done()
	runID, err := j.State.StartRun(ctx, "init", j.File, "")
	if err != nil {
		return nil, sync.WithClass(sync.ClassFatal, err)
	}
	res, err := adopt(ctx, j, runID)
	status := sync.Status(err, ctx.Err() != nil)
	ErrText := ""
	if err != nil {
		ErrText = err.Error()
	}
	counts := map[string]int{}
	if res != nil {
		counts = map[string]int{"listed": res.Listed, "rows": res.Rows, "adopted": res.Adopted, "unchanged": res.Equal}
	}
	if ferr := j.State.FinishRun(context.WithoutCancel(ctx), runID, status, counts, ErrText); ferr != nil {
		j.Log.Error("record run end", zap.Error(ferr))
	}
	return res, err
}

// adopt lists the CRM, reads the export and records the matches.
func adopt(ctx context.Context, j sync.Job, runID int64) (*Adopted, error) {
	if _, err := j.Mapping.Check(j.File); err != nil {
		return nil, sync.WithClass(sync.ClassUnusable, err)
	}
	started := j.State.Clock() // the checkpoint's clock, as every watermark
	all, _, err := refresh.ListAll(ctx, j.CRM, j.Settings.Concurrency, 0)
	if err != nil {
		return nil, sync.WithClass(sync.ClassFatal, fmt.Errorf("list the CRM's customers: %w", err))
	}
	byRef := make(map[string]*crm.Customer, len(all))
	for _, c := range all {
		byRef[c.Reference] = c
	}
	res := &Adopted{Listed: len(all)}
	w := j.State.NewWriter(sync.RunBatch, sync.WriterEvery)
	err = sync.ExportRows(ctx, j.Mapping, j.File)(func(r mapping.Row) error {
		if r.Customer == nil {
			return nil
		}
		res.Rows++
		c, ok := byRef[r.Customer.Reference]
		if !ok {
			return nil
		}
		out := adoptedOutcome(runID, r.Customer, c)
		res.Adopted++
		if out.Hash == r.Customer.Hash {
			res.Equal++
		}
		return w.Put(ctx, out)
	})
	if werr := w.Close(); werr != nil && err == nil {
		err = sync.WithClass(sync.ClassFatal, fmt.Errorf("record adopted customers: %w", werr))
	}
	if err != nil {
		return res, err
	}
	// The next run's refresh asks only for what changed since the listing.
	if err := j.State.SetWatermark(ctx, started); err != nil {
		return res, sync.WithClass(sync.ClassFatal, err)
	}
	return res, sync.WithClass(sync.ClassFatal, j.State.SetFingerprint(ctx, j.Mapping.Fingerprint()))
}

// adoptedHash is recorded for an adopted customer that differs from its
// row: no row hashes to it, so the next run plans an update.
const adoptedHash = "adopted"

// adoptedOutcome records a CRM customer as pushed from its export row.
func adoptedOutcome(runID int64, row *mapping.Customer, c *crm.Customer) state.Outcome {
	values := row.Fields()
	fields := make([]string, 0, len(values))
	for f := range values {
		fields = append(fields, f)
	}
	got := refresh.CRMValues(c, fields, mapping.CountryCode)
	hash := row.Hash
	if len(refresh.Differences(values, got)) > 0 {
		// Recorded as if erpsync had pushed what the CRM holds: the next
		// plan's update names each field that differs with the CRM's
		// value as the old one.
		hash, values = adoptedHash, got
	}
	return state.Outcome{RunID: runID, Op: state.OpUpsert, Reference: row.Reference, Line: row.Line,
		Hash: hash, Values: values, CRMID: c.ID, CRMLastUpdated: c.LastUpdated.Time, CRMValues: got}
}
