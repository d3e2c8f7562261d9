package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"erpsync/state/sqlite"
	"erpsync/sync"
	"erpsync/sync/crm"
)

// stateUse is how a subcommand treats the checkpoint (state.path). A
// missing or zero-byte checkpoint is never silently started over: a run
// that did so would re-create every customer of the CRM as new and never
// mirror-delete the ones the ERP dropped.
type stateUse int

const (
	noState       stateUse = iota
	stateExisting          // status, unlock, why: a missing checkpoint is an error; none is created
	stateRun               // run, serve: created only when the CRM holds no customer at all
	stateCreate            // import, init, the demo: created when missing
	stateRead              // plan: a missing checkpoint reads as empty, and none is created
)

// openState opens the checkpoint as use says; j.client is open already
// when use needs it.
func (j *job) openState(ctx context.Context, use stateUse) error {
	path := j.cfg.State.Path
	exists, err := sqlite.Exists(path)
	if err != nil {
		return sync.WithClass(sync.ClassFatal, err)
	}
	if !exists {
		switch use {
		case stateExisting:
			return usage(missingState(path, "nothing to show"))
		case stateRun:
			if err := crmHoldsNone(ctx, j.client, path); err != nil {
				return err
			}
		case stateRead:
			if path, err = scratchState(); err != nil {
				return err
			}
			j.scratch = filepath.Dir(path)
		}
	}
	j.db = sqlite.NewDB(path)
	// sync.Run checks the file's pages beside its plan, before it writes a
	// record (0.4-0.6 s for a million records, saved from every run's
	// start); status and unlock check them at the open.
	j.db.DeferCheck = use != stateExisting
	if j.log != nil {
		j.db.Log = func(msg string) { j.log.Warn(msg) } // migration 008's copy started again
	}
	if err := j.db.Open(ctx); err != nil {
		j.db = nil
		return sync.WithClass(sync.ClassFatal, err)
	}
	return nil
}

// missingState says that no checkpoint is at path, and how to make one.
func missingState(path, what string) error {
	return fmt.Errorf("no checkpoint at %s (state.path; missing or empty): %s; create it with `erpsync init -config FILE` "+
		"(-adopt takes the CRM's customers that the export lists as managed) or with `erpsync import`", path, what)
}

// crmHoldsNone allows a run to start a new checkpoint only when the CRM
// holds no customer at all: one request, max=1, read paging.total.
func crmHoldsNone(ctx context.Context, api *crm.Client, path string) error {
	page, err := api.ListPage(ctx, crm.ListQuery{Max: 1})
	if err != nil {
		return sync.WithClass(sync.ClassFatal, fmt.Errorf("count the CRM's customers before starting a checkpoint: %w", err))
	}
	if n := max(page.Paging.Total, len(page.Data)); n > 0 {
		return usage(missingState(path, fmt.Sprintf("the CRM already holds %d customers, which a new checkpoint would re-create and never delete", n)))
	}
	return nil
}

// scratchState returns the path of a checkpoint in a new temporary
// folder: an empty checkpoint for a plan that must write nothing where
// state.path points.
func scratchState() (string, error) {
	dir, err := os.MkdirTemp("", "erpsync-plan-")
	if err != nil {
		return "", sync.WithClass(sync.ClassFatal, err)
	}
	return filepath.Join(dir, "empty.db"), nil
}
