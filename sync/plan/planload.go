package plan

// The checkpoint's hashes stream in while the export is read (issue 14
// §2): reading a million (reference, hash) from SQLite took 0.5-0.7 s
// before the first row could be planned. Most exports are sorted by
// reference, as the checkpoint streams: a row then waits only until the
// loader has passed its reference, and the two overlap on both cores. A
// row of an unsorted export waits, at worst, for the whole checkpoint, as
// every row did before.

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	gosync "sync"
	"sync/atomic"

	"erpsync/sync/plan/refindex"
)

// loader fills a refindex.Index from the checkpoint on its own goroutine, in the
// checkpoint's order (by reference), and tells the planner how far it got.
type loader struct {
	mu   gosync.Mutex
	cond *gosync.Cond
	// Under mu: the entries and fences published so far (tell, every
	// loadStep entries), the reference of the last entry published, and
	// the end.
	count  int
	fences []string
	last   string
	done   bool
	err    error

	// Written by the loader only: entries past count, fences past fences.
	keys, vals, sums []uint64 // len n, Count's answer: refindex.Index's keys, vals and sums
	fenceArr         []string // the references of every refindex.FenceEvery-th entry
	// Entries past n (the checkpoint grew meanwhile): keys, hashes, sums.
	overKeys, overVals, overSums []uint64
}

// loadStep is how many entries the loader fills before it tells.
const loadStep = 1024

// startLoading counts the checkpoint and starts streaming its hashes into
// the planner's index; the planner waits for what it needs with
// pl.lookup. The returned stop ends the loader and waits for it. A
// checkpoint that cannot promise its order (no HashesBetween) is read
// whole first.
func (pl *planner) startLoading(ctx context.Context, cp Checkpoint) (stop func(), err error) {
	if p := pl.opt.Preload; p != nil && pl.opt.keyOf == nil && p.take() {
		if p.err != nil {
			p.stop()
			return nil, p.err
		}
		pl.seed = p.seed // the keys the loader made
		pl.useLoader(ctx, cp, p.ld, p.n)
		return p.stop, nil
	}
	n, err := cp.Count(ctx)
	if err != nil {
		return nil, err
	}
	resolve := func(from string) ([]string, error) { return readStretch(ctx, cp, from) }
	if _, ordered := cp.(rangeReader); !ordered {
		pl.refs = refindex.New(n)
		pl.refs.Resolve = resolve
		prev := ""
		err := cp.Hashes(ctx, func(ref, hash string) error {
			if ref <= prev && pl.refs.Len() > 0 {
				pl.refs.Unordered() // stretches mean nothing: keys alone
			}
			prev = ref
			pl.refs.Add(ref, pl.key(ref), hashPrefix(hash))
			return nil
		})
		pl.refs.Seal()
		pl.plan.Managed = pl.refs.Len()
		return func() {}, err
	}
	ld, stop := startLoader(ctx, cp, n, pl.key)
	pl.useLoader(ctx, cp, ld, n)
	return stop, nil
}

// startLoader starts a loader of the n records of an ordered checkpoint,
// keyed by key, on its own goroutine; stop ends it and waits for it (as
// often as called).
func startLoader(ctx context.Context, cp Checkpoint, n int, key func(string) uint64) (ld *loader, stop func()) {
	ld = &loader{keys: make([]uint64, n), vals: make([]uint64, n), sums: make([]uint64, n), fenceArr: make([]string, 0, n/refindex.FenceEvery+1)}
	ld.cond = gosync.NewCond(&ld.mu)
	ctx, cancel := context.WithCancel(ctx)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		ld.run(ctx, cp, key)
	}()
	return ld, func() { cancel(); <-ended }
}

// useLoader makes the planner's index wait for ld, a loader of cp's n
// records.
func (pl *planner) useLoader(ctx context.Context, cp Checkpoint, ld *loader, n int) {
	pl.load = ld
	pl.refs = refindex.New(0)
	pl.refs.Expect(n)
	pl.refs.Resolve = func(from string) ([]string, error) { return readStretch(ctx, cp, from) }
}

// Preload is a checkpoint's hashes streaming in before the Build that
// takes them (Options.Preload): a run reads the CRM's side meanwhile (the
// refresh: 0.3-1.2 s mostly waiting for the CRM's answers at a million
// customers, issue 25 §3), and the plan's read then finds most of the
// index loaded. It changes no plan: the same loader, started earlier.
type Preload struct {
	seed  maphash.Seed
	n     int
	ld    *loader // nil: nothing streams (not an ordered checkpoint, or err)
	err   error   // Count's
	stop  func()
	taken atomic.Bool
}

// Load starts streaming cp's hashes for a Build of the same checkpoint,
// which must not be written meanwhile. Stop ends it when no Build takes
// it (and is harmless after one did). A checkpoint that cannot stream in
// order is read by Build itself, as without a Preload.
func Load(ctx context.Context, cp Checkpoint) *Preload {
	p := &Preload{seed: maphash.MakeSeed(), stop: func() {}}
	if _, ordered := cp.(rangeReader); !ordered {
		p.taken.Store(true) // Build loads as it would without it
		return p
	}
	if p.n, p.err = cp.Count(ctx); p.err != nil {
		return p
	}
	p.ld, p.stop = startLoader(ctx, cp, p.n, func(ref string) uint64 { return maphash.String(p.seed, ref) })
	return p
}

// take reports whether a Build may take the preload: once only.
func (p *Preload) take() bool { return p.taken.CompareAndSwap(false, true) }

// Stop ends the stream and waits for it.
func (p *Preload) Stop() {
	if p != nil {
		p.stop()
	}
}

// run streams the checkpoint and ends the load, with its error if any.
func (ld *loader) run(ctx context.Context, cp Checkpoint, key func(string) uint64) {
	filled, prev := 0, ""
	err := streamHeads(ctx, cp, func(ref string, cp, sum uint64) error {
		if ref < prev {
			// A row planned meanwhile may have been taken as new.
			return fmt.Errorf("the checkpoint streamed %q after %q: not in reference order", ref, prev)
		}
		prev = ref
		if filled%refindex.FenceEvery == 0 {
			ld.fenceArr = append(ld.fenceArr, strings.Clone(ref))
		}
		k := key(ref)
		if filled >= len(ld.keys) {
			ld.overKeys, ld.overVals, ld.overSums = append(ld.overKeys, k), append(ld.overVals, cp), append(ld.overSums, sum)
			filled++
			return nil
		}
		ld.keys[filled], ld.vals[filled], ld.sums[filled] = k, cp, sum
		if filled++; filled%loadStep == 0 {
			ld.tell(filled, strings.Clone(ref))
		}
		return ctx.Err()
	})
	ld.mu.Lock()
	ld.count, ld.fences = min(filled, len(ld.keys)), ld.fenceArr
	ld.done, ld.err = true, err
	ld.mu.Unlock()
	ld.cond.Broadcast()
}

// headReader reads the checkpoint's hashes as their heads, with their
// row sums (sqlite.DB does): the first 8 bytes when raw, else the text's
// first 16 characters.
type headReader interface {
	HashHeads(ctx context.Context, fn func(ref string, head []byte, raw bool, sum uint64) error) error
}

// streamHeads streams the checkpoint's (reference, hash prefix, row sum)
// in the checkpoint's order: from the hashes' heads when it reads them,
// else with the sums when it keeps them, else with 0 (no sum).
func streamHeads(ctx context.Context, cp Checkpoint, fn func(ref string, prefix, sum uint64) error) error {
	if hr, ok := cp.(headReader); ok {
		return hr.HashHeads(ctx, func(ref string, head []byte, raw bool, sum uint64) error {
			if raw {
				return fn(ref, bytesPrefix(head), sum)
			}
			return fn(ref, hashPrefix(string(head)), sum)
		})
	}
	if sr, ok := cp.(sumReader); ok {
		return sr.HashSumsBetween(ctx, "", "", func(ref, hash string, sum uint64) error { return fn(ref, hashPrefix(hash), sum) })
	}
	return cp.Hashes(ctx, func(ref, hash string) error { return fn(ref, hashPrefix(hash), 0) })
}

// bytesPrefix is hashPrefix of a hash given as its bytes: the first 8,
// never 0.
func bytesPrefix(b []byte) uint64 {
	var v uint64
	for _, c := range b[:min(len(b), 8)] {
		v = v<<8 | uint64(c)
	}
	return v | 1
}

// tell publishes the entries filled so far, up to the reference last.
func (ld *loader) tell(filled int, last string) {
	ld.mu.Lock()
	ld.count, ld.fences, ld.last = filled, ld.fenceArr, last
	ld.mu.Unlock()
	ld.cond.Broadcast()
}

// lookup returns the index entry of ref (key k), waiting until the loader
// has passed ref; after the last entry it seals the index and reads it as
// it is. An error is the loader's.
func (pl *planner) lookup(ref string, k uint64) (refindex.Entry, error) {
	e, _, err := pl.lookupAt(ref, k)
	return e, err
}

// lookupAt is lookup, with the entry's position among the managed ones
// (-1: not managed), where its row sum is (refindex.Index.SumAt).
func (pl *planner) lookupAt(ref string, k uint64) (refindex.Entry, int, error) {
	if pl.load == nil {
		e, i := pl.refs.GetAt(ref, k)
		return e, i, nil
	}
	ld := pl.load
	ld.mu.Lock()
	for !ld.done && ref > ld.last {
		ld.cond.Wait()
	}
	count, fences, done, err := ld.count, ld.fences, ld.done, ld.err
	ld.mu.Unlock()
	if err != nil {
		return refindex.Entry{}, -1, fmt.Errorf("read checkpoint: %w", err)
	}
	if done {
		pl.finishLoading()
		e, i := pl.refs.GetAt(ref, k)
		return e, i, nil
	}
	ix := &pl.refs
	ix.Load(ld.keys[:count], ld.vals[:count], ld.sums[:count], fences)
	if i := ix.Locate(ref, k); i >= 0 {
		return ix.EntryAt(i), i, nil
	}
	return ix.ExtraOf(k), -1, nil // not managed: its entry, if met, is in extra
}

// waitLoaded waits for the end of the load and seals the index.
func (pl *planner) waitLoaded() error {
	if pl.load == nil {
		return nil
	}
	ld := pl.load
	ld.mu.Lock()
	for !ld.done {
		ld.cond.Wait()
	}
	err := ld.err
	ld.mu.Unlock()
	if err != nil {
		return err
	}
	pl.finishLoading()
	return nil
}

// finishLoading takes the whole index from the ended loader and seals it.
func (pl *planner) finishLoading() {
	ld := pl.load
	pl.load = nil
	ix := &pl.refs
	ix.Load(append(ld.keys[:ld.count], ld.overKeys...), append(ld.vals[:ld.count], ld.overVals...),
		append(ld.sums[:ld.count], ld.overSums...), ld.fences)
	ix.Seal()
	pl.plan.Managed = ix.Len()
}

// errStretchRead ends readStretch's read once it has a stretch.
var errStretchRead = errors.New("stretch read")

// readStretch reads the references of the stretch of the checkpoint that
// starts at from: refindex.FenceEvery of them, or fewer at its end (from the whole
// stream, for a checkpoint that cannot read stretches: rare enough).
func readStretch(ctx context.Context, cp Checkpoint, from string) ([]string, error) {
	var refs []string
	each := func(ref, _ string) error {
		if ref < from {
			return nil
		}
		refs = append(refs, strings.Clone(ref))
		if len(refs) == refindex.FenceEvery {
			return errStretchRead
		}
		return nil
	}
	var err error
	if rr, ok := cp.(rangeReader); ok {
		err = rr.HashesBetween(ctx, from, "", each)
	} else {
		err = cp.Hashes(ctx, each)
	}
	if err != nil && !errors.Is(err, errStretchRead) {
		return nil, fmt.Errorf("read the checkpoint from %q again: %w", from, err)
	}
	return refs, nil
}
