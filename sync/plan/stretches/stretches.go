// Package stretches reads chosen stretches of a checkpoint's hashes, each
// from its fence to the next, in order, a window of stretches at a time
// on every core: the plan's second look at the checkpoint, where the
// managed references the export did not name are (issue 14 §2).
package stretches

import (
	"context"

	"erpsync/sync/plan/cores"
)

// Reader reads a stretch of the checkpoint's hashes, from inclusive, to
// exclusive ("" is the end).
type Reader interface {
	HashesBetween(ctx context.Context, from, to string, fn func(ref, hash string) error) error
}

// window is how many stretches are read at once.
const window = 256

// Stream calls fn with every hash of the stretches chosen (indexes of
// fences, ascending), in order: stretch f runs from fences[f] to
// fences[f+1], the last to the end, whatever the checkpoint holds there
// now.
func Stream(ctx context.Context, r Reader, fences []string, chosen []int, fn func(ref, hash string) error) error {
	read := make([][][2]string, window)
	for len(chosen) > 0 {
		now := chosen[:min(len(chosen), window)]
		chosen = chosen[len(now):]
		err := cores.Each(ctx, len(now), func(ctx context.Context, i int) error {
			f, to := now[i], ""
			if read[i] = read[i][:0]; f+1 < len(fences) {
				to = fences[f+1]
			}
			return r.HashesBetween(ctx, fences[f], to, func(ref, hash string) error {
				read[i] = append(read[i], [2]string{ref, hash})
				return nil
			})
		})
		if err != nil {
			return err
		}
		for _, stretch := range read[:len(now)] {
			for _, h := range stretch {
				if err := fn(h[0], h[1]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
