package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"erpsync/sync"
	"erpsync/sync/inbox"
	"erpsync/sync/serve"
	"erpsync/sync/source"
)

// ServeCommand is the scheduled worker (sync/serve): on each cron tick it
// takes the next export from the inbox and syncs it; it serves /healthz
// and /metrics.
type ServeCommand struct {
	Stdout, Stderr io.Writer
	// ready, when set, is told the address /healthz listens on (tests).
	ready func(addr string)
	// every, when set, ticks this often instead of the config's schedule
	// (tests: cron's "@every" ticks each second at best).
	every time.Duration
	// retryWait, when set, is the spool's pause before a copy's try n
	// (tests: the default waits n-1 seconds).
	retryWait func(n int) time.Duration
	// now, when set, is the inbox's clock, on which source.settle is
	// measured (tests move it instead of waiting for a file to settle).
	now func() time.Time
}

// schedule is the config's schedule spec, read, or every's ticks.
func (c *ServeCommand) schedule(spec string) (cron.Schedule, error) {
	s, err := serve.ParseSchedule(spec)
	if err == nil && c.every > 0 {
		return everySchedule(c.every), nil
	}
	return s, err
}

// everySchedule ticks every so often, sub-second ticks included.
type everySchedule time.Duration

func (e everySchedule) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// Run runs `erpsync serve -config FILE` until ctx is cancelled (SIGINT,
// SIGTERM): then the scheduler stops, a running sync may finish within
// serve.shutdown_timeout, or is cancelled cleanly, and it exits 0.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	m := serve.NewMetrics()
	j, done, err := newJobFlags("serve", c.Stderr).open(ctx, args, jobOptions{state: stateRun, crm: true, observe: m.ObserveCRM, notify: sync.ModeRun})
	if err != nil {
		return err
	}
	defer done()
	if j.cfg.Schedule == "" {
		return usage(errors.New("schedule is empty: serve runs on a cron schedule, e.g. \"CRON_TZ=Europe/Paris 0 2 * * *\""))
	}
	schedule, err := c.schedule(j.cfg.Schedule)
	if err != nil {
		return usage(err)
	}
	store, err := source.Open(ctx, j.cfg.Source.Path, j.cfg.Source.transport(), source.Options{Log: j.log})
	if err != nil {
		return err
	}
	defer store.Close()
	spool, err := source.NewSpool(filepath.Dir(j.cfg.State.Path))
	if err != nil {
		return err
	}
	defer spool.Clean()
	spool.Wait = c.retryWait
	w := &serve.Worker{Metrics: m, Log: j.log, Checkpoint: j.db, CRMStats: j.client.Stats,
		ReportsDir: j.cfg.Reports.Dir, ReportMode: os.FileMode(j.cfg.Reports.FileMode), ReportsCSV: csvFormat(j.cfg),
		Inbox: &inbox.Inbox{
			Store: store, Spool: spool, Settle: j.cfg.Source.Settle,
			SyncedLast: j.db.SyncedLast, Ledger: &inbox.Ledger{Path: inbox.LedgerPath(j.cfg.State.Path)},
			Log: j.log, Now: c.now,
		},
		Sync: func(ctx context.Context, exp *inbox.Export) (*sync.Outcome, error) {
			defer j.forgetExport(exp.Path) // a long-lived worker keeps no name per tick
			j.nameExport(exp.Path, exp.Source)
			return j.sync(ctx, syncOptions{mode: sync.ModeRun, file: exp.Path, stdout: c.Stdout, stderr: c.Stderr, quiet: true,
				approvable: j.cfg.Serve.Approve})
		},
		Settled: func(ctx context.Context, exp *inbox.Export, res *sync.Outcome, err error, held bool, heldAt string) {
			awaitApproval(j, res, err, heldAt)
			j.notifyEnd(ctx, sync.ModeRun, exp.Path, res, err, held)
		},
		NoRun: func(ctx context.Context, src string, out *sync.Outcome, why error) {
			j.notifyEnd(ctx, sync.ModeRun, src, out, why, false)
		},
	}
	ln, err := net.Listen("tcp", j.cfg.Serve.Listen)
	if err != nil {
		return usage(fmt.Errorf("serve.listen %s: %w", j.cfg.Serve.Listen, err))
	}
	return w.Serve(ctx, ln, serve.Options{Schedule: schedule, Spec: j.cfg.Schedule, ShutdownTimeout: j.cfg.Serve.ShutdownTimeout,
		Inbox: j.cfg.Source.Path, Archive: j.cfg.Source.ArchiveDir, Ready: c.ready,
		Routes:     func(mux *http.ServeMux) { j.servePage(mux, schedule, w.Inbox.Ledger) }, // GET /, GET /reports/...
		Collectors: []prometheus.Collector{j.notifier.Collector()}})                         // erpsync_notify_failures_total
}

// parseSchedule is serve.ParseSchedule, for the config's check.
func parseSchedule(spec string) (cron.Schedule, error) { return serve.ParseSchedule(spec) }
