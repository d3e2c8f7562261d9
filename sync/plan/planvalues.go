package plan

// The values last pushed of a plan's updates (their changes, old → new)
// and deletes (their parents) are read after the export, many references
// a statement when the checkpoint can (sqlite.DB's ValuesOf): day 2 of a
// million rows has some 10,000 updates and 5,000 deletes, and a
// statement each took 0.55 CPU s, on the wall clock's path.

import (
	"context"
	"fmt"

	"erpsync/sync/plan/cores"
)

// valuesBatch is how many references one statement reads the values of.
const valuesBatch = 256

// manyValuesReader reads the values last pushed of many references in one
// statement (sqlite.DB does): fn once for each managed one, in any order.
type manyValuesReader interface {
	ValuesOf(ctx context.Context, refs []string, fn func(ref string, vals map[string]string) error) error
}

// eachPushed calls fn once for each index of refs with the values last
// pushed of refs[i] (nil: not managed), on every core, possibly at once:
// by batches of valuesBatch when cp reads many at once, else one by one.
// The first error stops it.
func eachPushed(ctx context.Context, cp Checkpoint, refs []string, fn func(i int, old map[string]string) error) error {
	if ac, ok := cp.(absentCheckpoint); ok {
		cp = ac.Checkpoint // a view for planDeletes' Hashes only: the values are the checkpoint's
	}
	mr, ok := cp.(manyValuesReader)
	if !ok {
		return cores.Each(ctx, len(refs), func(ctx context.Context, i int) error {
			old, err := lastPushed(ctx, cp, refs[i])
			if err != nil {
				return fmt.Errorf("read checkpoint of %s: %w", refs[i], err)
			}
			return fn(i, old)
		})
	}
	batches := (len(refs) + valuesBatch - 1) / valuesBatch
	return cores.Each(ctx, batches, func(ctx context.Context, b int) error {
		lo, hi := b*valuesBatch, min((b+1)*valuesBatch, len(refs))
		return pushedBatch(ctx, mr, cp, refs[lo:hi], func(i int, old map[string]string) error { return fn(lo+i, old) })
	})
}

// pushedBatch reads the values of refs in one statement and calls fn for
// each index of refs; a reference the statement did not give (not
// managed, or given twice in refs) is read on its own.
func pushedBatch(ctx context.Context, mr manyValuesReader, cp Checkpoint, refs []string, fn func(i int, old map[string]string) error) error {
	at := make(map[string]int, len(refs))
	for i, ref := range refs {
		at[ref] = i
	}
	given := make([]bool, len(refs))
	err := mr.ValuesOf(ctx, refs, func(ref string, vals map[string]string) error {
		i, ok := at[ref]
		if !ok || given[i] {
			return nil
		}
		given[i] = true
		return fn(i, vals)
	})
	if err != nil {
		return fmt.Errorf("read checkpoint of %d references from %s: %w", len(refs), refs[0], err)
	}
	for i, ref := range refs {
		if given[i] {
			continue
		}
		old, err := lastPushed(ctx, cp, ref)
		if err != nil {
			return fmt.Errorf("read checkpoint of %s: %w", ref, err)
		}
		if err := fn(i, old); err != nil {
			return err
		}
	}
	return nil
}
