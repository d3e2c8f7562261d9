// Package cores spreads indexed work over the machine's cores: the plan
// reads its few thousand checkpoint records after the export this way.
package cores

import (
	"context"
	"runtime"

	"golang.org/x/sync/errgroup"
)

// Each calls fn for 0..n-1 on one goroutine per core, each taking
// every workers-th index, and returns the first error (which cancels
// ctx for the others). The plan reads its few thousand checkpoint
// records after the export this way (a record read, most of the time on
// its own, takes tens of microseconds).
func Each(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	g, ctx := errgroup.WithContext(ctx)
	workers := max(1, min(runtime.GOMAXPROCS(0), n))
	for w := range workers {
		g.Go(func() error {
			for i := w; i < n; i += workers {
				if err := fn(ctx, i); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}
