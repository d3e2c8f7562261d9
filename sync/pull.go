package sync

import (
	"context"
	"fmt"
	gosync "sync"
	"time"

	"golang.org/x/sync/errgroup"

	"erpsync/sync/crm"
)

// Lister is the part of the CRM client that a refresh needs.
type Lister interface {
	ListPage(ctx context.Context, q crm.ListQuery) (*crm.Page, error)
}

// PullOptions tune a refresh.
type PullOptions struct {
	// Since is the watermark: customers changed at or after Since-Lookback
	// are fetched. Zero fetches every customer.
	Since    time.Time
	Lookback time.Duration // allowance for clock skew between us and the CRM
	PageSize int           // default 500
	// Keep, when set, says which customers the result holds; the others are
	// only counted. A refresh keeps those that may have drifted, so that
	// the pull of a million customers just written by an import stays small.
	Keep func(crm.Customer) (bool, error)
	// Concurrency is how many timestamps are read again at once at the
	// end (the walk itself goes page after page); default 1.
	Concurrency int
}

// PullResult is what a refresh saw.
type PullResult struct {
	// Customers changed since the watermark, one per id, each at the newest
	// lastUpdated seen (only those that PullOptions.Keep keeps).
	Customers map[int64]crm.Customer
	Seen      int // customers seen, kept or not
	Pages     int
	// Newest is the greatest lastUpdated seen; zero when nothing changed.
	Newest time.Time
}

// Pull fetches the customers changed since the watermark, paging on
// lastUpdated itself (keyset) rather than on a plain offset, so that
// records changing while it pages are neither skipped nor counted twice:
//
//   - each page asks lastUpdated_gte=T sorted by lastUpdated ascending, T
//     being the newest timestamp of the previous page, and skips as many
//     records of T as it has already seen;
//   - a record that changes meanwhile moves to a later timestamp, where the
//     walk meets it again; the copy with the newest lastUpdated wins;
//   - a timestamp whose records spanned a page boundary is read once more
//     at the end (lastUpdated_gte=T&lastUpdated_lte=T), since a record
//     leaving it mid-walk shifts the others under the offset.
func Pull(ctx context.Context, api Lister, opt PullOptions) (*PullResult, error) {
	if opt.PageSize <= 0 {
		opt.PageSize = 500
	}
	res := &PullResult{Customers: map[int64]crm.Customer{}}
	var from time.Time
	if !opt.Since.IsZero() {
		from = opt.Since.Add(-opt.Lookback).UTC().Truncate(time.Second)
	}
	latest := map[int64]time.Time{} // newest lastUpdated seen per id: 16 bytes each
	var keepErr error
	keep := func(c crm.Customer) {
		if t, ok := latest[c.ID]; ok && !c.LastUpdated.After(t) {
			return
		}
		latest[c.ID] = c.LastUpdated.Time
		if c.LastUpdated.After(res.Newest) {
			res.Newest = c.LastUpdated.Time
		}
		if opt.Keep != nil {
			ok, err := opt.Keep(c)
			if err != nil && keepErr == nil {
				keepErr = err
			}
			if !ok {
				delete(res.Customers, c.ID) // an older copy kept before
				return
			}
		}
		res.Customers[c.ID] = c
	}
	spanned := map[time.Time]bool{}
	t, skip := from, 0
	for {
		q := crm.ListQuery{Sort: "lastUpdated", Order: "asc", Max: opt.PageSize, Offset: skip, LastUpdatedGte: t}
		page, err := api.ListPage(ctx, q)
		if err != nil {
			since := "the start"
			if !t.IsZero() {
				since = t.Format(crm.TimeLayout)
			}
			return nil, fmt.Errorf("refresh from the CRM, page %d (changes since %s): %w", res.Pages+1, since, err)
		}
		res.Pages++
		for _, c := range page.Data {
			keep(c)
		}
		if keepErr != nil {
			return nil, keepErr
		}
		if len(page.Data) < opt.PageSize {
			break
		}
		last := page.Data[len(page.Data)-1].LastUpdated.Time
		if last.Equal(t) {
			skip += len(page.Data)
		} else {
			t, skip = last, 0
			for _, c := range page.Data {
				if c.LastUpdated.Equal(last) {
					skip++
				}
			}
		}
		spanned[t] = true
	}
	// The timestamps read again are independent of one another: after a
	// large import there are thousands, each of many pages.
	var mu gosync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(opt.Concurrency, 1))
	for ts := range spanned {
		g.Go(func() error {
			return pullGroup(gctx, api, ts, opt.PageSize, func(page []crm.Customer) error {
				mu.Lock()
				defer mu.Unlock()
				res.Pages++
				for _, c := range page {
					keep(c)
				}
				return keepErr // stops the other rechecks too
			})
		})
	}
	if err := g.Wait(); err != nil { // a Keep error among them
		return nil, err
	}
	res.Seen = len(latest)
	return res, nil
}

// pullGroup reads every record whose lastUpdated is exactly ts, and gives
// each page to take; an error of take stops it and is returned.
func pullGroup(ctx context.Context, api Lister, ts time.Time, size int, take func([]crm.Customer) error) error {
	for off := 0; ; off += size {
		q := crm.ListQuery{Sort: "lastUpdated", Order: "asc", Max: size, Offset: off, LastUpdatedGte: ts, LastUpdatedLte: ts}
		page, err := api.ListPage(ctx, q)
		if err != nil {
			return fmt.Errorf("refresh recheck of %s: %w", ts.Format(crm.TimeLayout), err)
		}
		if err := take(page.Data); err != nil {
			return err
		}
		if len(page.Data) < size {
			return nil
		}
	}
}
