package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"erpsync/state/sqlite"
	"erpsync/sync"
	"erpsync/sync/adopt"

	"go.uber.org/zap"
)

// InitCommand creates the checkpoint (state.path). With -adopt it fills it
// from the CRM: every customer the CRM holds whose reference the export
// lists becomes managed, so that the next run updates only what differs
// and mirror-deletes what the ERP dropped.
type InitCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync init -config FILE [-adopt] [-file EXPORT]`.
func (c *InitCommand) Run(ctx context.Context, args []string) error {
	fs := newJobFlags("init", c.Stderr)
	adoptCRM := fs.Bool("adopt", false, "take as managed every CRM customer whose reference the export lists")
	file := fs.String("file", "", "with -adopt: the export (default: the newest match of source.path)")
	j, done, err := fs.open(ctx, args, jobOptions{crm: true})
	if err != nil {
		return err
	}
	defer done()
	path := j.cfg.State.Path
	if exists, err := sqlite.Exists(path); err != nil || exists {
		if err == nil {
			err = usage(fmt.Errorf("a checkpoint already exists at %s: init only creates a new one", path))
		}
		return err
	}
	export := ""
	if *adoptCRM {
		if export, err = j.exportPath(ctx, *file); err != nil {
			return err
		}
	}
	if err := j.openState(ctx, stateCreate); err != nil {
		return err
	}
	if err := j.db.Verify(ctx); err != nil { // init writes outside sync.Run: check the pages now
		return sync.WithClass(sync.ClassFatal, err)
	}
	if !*adoptCRM {
		fmt.Fprintf(c.Stdout, "created the checkpoint %s (empty: the next run or import fills it)\n", path)
		return nil
	}
	res, err := adopt.Adopt(ctx, j.engine(sync.ModeRun, export))
	if err != nil {
		// A half-adopted checkpoint would let the next run re-create what
		// it missed and never mirror-delete: remove it, so init can run again.
		return removeCheckpoint(j, err)
	}
	fmt.Fprintf(c.Stdout, "created the checkpoint %s: the CRM holds %d customers, the export %d valid rows; "+
		"%d adopted as managed (%d already equal to the export)\n", path, res.Listed, res.Rows, res.Adopted, res.Equal)
	return nil
}

// removeCheckpoint closes and removes the checkpoint init was filling,
// and passes the init's error on.
func removeCheckpoint(j *job, initErr error) error {
	if err := j.db.Close(); err != nil {
		j.log.Warn("close checkpoint", zap.Error(err))
	}
	j.db = nil
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(j.cfg.State.Path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w (and the unfinished checkpoint could not be removed: %v)", initErr, err)
		}
	}
	return fmt.Errorf("%w (nothing was kept: run init again)", initErr)
}
