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
	"fmt"
	"slices"
	"strings"
	gosync "sync"
)

// loader fills a refIndex from the checkpoint on its own goroutine, in the
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
	arr      []keyed  // len n, Count's answer
	sums     []uint64 // the entries' row sums, beside arr
	fenceArr []string // the references of every fenceEvery-th entry
	overflow []keyed  // entries past n (the checkpoint grew meanwhile)
	overSums []uint64 // their row sums
}

// loadStep is how many entries the loader fills before it tells.
const loadStep = 1024

// startLoading counts the checkpoint and starts streaming its hashes into
// the planner's index; the planner waits for what it needs with
// pl.lookup. The returned stop ends the loader and waits for it. A
// checkpoint that cannot promise its order (no HashesBetween) is read
// whole first.
func (pl *planner) startLoading(ctx context.Context, cp Checkpoint) (stop func(), err error) {
	n, err := cp.Count(ctx)
	if err != nil {
		return nil, err
	}
	if _, ordered := cp.(rangeReader); !ordered {
		pl.refs = newRefIndex(n)
		err := cp.Hashes(ctx, func(ref, hash string) error {
			pl.refs.add(ref, pl.key(ref), hashPrefix(hash))
			return nil
		})
		pl.refs.seal()
		pl.plan.Managed = len(pl.refs.managed)
		return func() {}, err
	}
	ld := &loader{arr: make([]keyed, n), sums: make([]uint64, n), fenceArr: make([]string, 0, n/fenceEvery+1)}
	ld.cond = gosync.NewCond(&ld.mu)
	pl.load = ld
	pl.refs = newRefIndex(0)
	ctx, cancel := context.WithCancel(ctx)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		ld.run(ctx, cp, pl.key)
	}()
	return func() { cancel(); <-ended }, nil
}

// run streams the checkpoint and ends the load, with its error if any.
func (ld *loader) run(ctx context.Context, cp Checkpoint, key func(string) uint64) {
	filled, prev := 0, ""
	err := streamHashSums(ctx, cp, func(ref, hash string, sum uint64) error {
		if ref < prev {
			// A row planned meanwhile may have been taken as new.
			return fmt.Errorf("the checkpoint streamed %q after %q: not in reference order", ref, prev)
		}
		prev = ref
		if filled%fenceEvery == 0 {
			ld.fenceArr = append(ld.fenceArr, strings.Clone(ref))
		}
		e := keyed{key: key(ref), entry: entry{cp: hashPrefix(hash)}}
		if filled >= len(ld.arr) {
			ld.overflow, ld.overSums = append(ld.overflow, e), append(ld.overSums, sum)
			filled++
			return nil
		}
		ld.arr[filled], ld.sums[filled] = e, sum
		if filled++; filled%loadStep == 0 {
			ld.tell(filled, strings.Clone(ref))
		}
		return ctx.Err()
	})
	ld.mu.Lock()
	ld.count, ld.fences = min(filled, len(ld.arr)), ld.fenceArr
	ld.done, ld.err = true, err
	ld.mu.Unlock()
	ld.cond.Broadcast()
}

// streamHashSums streams the checkpoint's (reference, hash, row sum):
// with the sums when it keeps them, else with 0 (no sum).
func streamHashSums(ctx context.Context, cp Checkpoint, fn func(ref, hash string, sum uint64) error) error {
	if sr, ok := cp.(sumReader); ok {
		return sr.HashSumsBetween(ctx, "", "", fn)
	}
	return cp.Hashes(ctx, func(ref, hash string) error { return fn(ref, hash, 0) })
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
func (pl *planner) lookup(ref string, k uint64) (entry, error) {
	e, _, err := pl.lookupAt(ref, k)
	return e, err
}

// lookupAt is lookup, with the entry's position among the managed ones
// (-1: not managed), where its row sum is (refIndex.sumAt).
func (pl *planner) lookupAt(ref string, k uint64) (entry, int, error) {
	if pl.load == nil {
		e, i := pl.refs.getAt(k)
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
		return entry{}, -1, fmt.Errorf("read checkpoint: %w", err)
	}
	if done {
		pl.finishLoading()
		e, i := pl.refs.getAt(k)
		return e, i, nil
	}
	pl.refs.managed, pl.refs.sums, pl.refs.fences = ld.arr[:count], ld.sums[:count], fences
	if i := pl.refs.locate(ref, k); i >= 0 {
		return pl.refs.managed[i].entry, i, nil
	}
	return pl.refs.get(k), -1, nil // not managed: its entry, if met, is in extra
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
	pl.refs.managed = append(ld.arr[:ld.count], ld.overflow...)
	pl.refs.sums = append(ld.sums[:ld.count], ld.overSums...)
	pl.refs.fences = ld.fences
	pl.refs.seal()
	pl.plan.Managed = len(pl.refs.managed)
}

// locate finds a managed reference among the entries loaded so far, before
// the index is sealed: the few after the last one found (a sorted export),
// else the fenceEvery entries after the last fence at or before ref. It
// returns the position, and remembers it for put; -1 when ref is not
// managed (every reference up to ref is loaded).
func (ix *refIndex) locate(ref string, k uint64) int {
	for i := max(ix.last, 0); i < min(ix.last+ahead, len(ix.managed)); i++ {
		if ix.managed[i].key == k {
			ix.last = i
			return i
		}
	}
	f, found := slices.BinarySearch(ix.fences, ref)
	if !found {
		f--
	}
	if f < 0 {
		return -1
	}
	for i := f * fenceEvery; i < min((f+1)*fenceEvery, len(ix.managed)); i++ {
		if ix.managed[i].key == k {
			ix.last = i
			return i
		}
	}
	return -1
}
