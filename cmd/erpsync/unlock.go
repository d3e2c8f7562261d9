package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// UnlockCommand frees the state file from a run that is gone without
// releasing it. A holder that is gone by the rules every run applies (no
// such process on this host; not renewed for a while on another host) is
// freed at once; one on another host that may still run is freed only
// with -force, by an operator who knows it has stopped.
type UnlockCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync unlock -config FILE [-force]`.
func (c *UnlockCommand) Run(ctx context.Context, args []string) error {
	fs := newJobFlags("unlock", c.Stderr)
	force := fs.Bool("force", false, "free the file even though its holder, on another host, may still run")
	j, done, err := fs.open(ctx, args, jobOptions{state: stateExisting})
	if err != nil {
		return err
	}
	defer done()
	held, err := j.db.Holder(ctx)
	if err != nil {
		return err
	}
	if held == nil {
		fmt.Fprintf(c.Stdout, "%s is not locked\n", j.cfg.State.Path)
		return nil
	}
	gone := j.db.Gone(held)
	if j.db.Visible(held) && !gone {
		return fmt.Errorf(
			"%s is held by %s, pid %d, running on this host since %s: stop that process first (SIGINT finishes its requests in flight and frees the file)",
			j.cfg.State.Path, held.Kind, held.PID, held.Since.UTC().Format(time.RFC3339))
	}
	if !gone && !*force {
		renewed := "never renewed"
		if !held.Heartbeat.IsZero() {
			renewed = "last renewed " + time.Since(held.Heartbeat).Round(time.Second).String() + " ago"
		}
		return fmt.Errorf(
			"%s is held by %s (pid %d on %s) since %s, %s: it may still run; stop it, or if it is gone for sure, unlock with -force",
			j.cfg.State.Path, held.Kind, held.PID, held.Host, held.Since.UTC().Format(time.RFC3339), renewed)
	}
	freed, err := j.db.Unlock(ctx, held)
	if err != nil {
		return err
	}
	if !freed {
		return errors.New("the lock changed hands meanwhile: run unlock again to see its new holder")
	}
	fmt.Fprintf(c.Stdout, "freed %s, held by %s (pid %d on %s) since %s\n",
		j.cfg.State.Path, held.Kind, held.PID, held.Host, held.Since.UTC().Format(time.RFC3339))
	return nil
}
