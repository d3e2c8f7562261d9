package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	gosync "sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"
	"go.uber.org/zap"

	"erpsync/sync"
	"erpsync/sync/source"
)

// ServeCommand is the scheduled worker: on each cron tick it takes the
// next export from the inbox and syncs it; it serves /healthz and /metrics.
type ServeCommand struct {
	Stdout, Stderr io.Writer
	// ready, when set, is told the address /healthz listens on (tests).
	ready func(addr string)
}

// Run runs `erpsync serve -config FILE` until ctx is cancelled (SIGINT,
// SIGTERM): then the scheduler stops, a running sync may finish within
// serve.shutdown_timeout, or is cancelled cleanly, and it exits 0.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	m := newMetrics()
	j, done, err := newJobFlags("serve", c.Stderr).open(ctx, args, jobOptions{state: stateRun, crm: true, observe: m.observeCRM})
	if err != nil {
		return err
	}
	defer done()
	log := j.log
	schedule, err := cron.ParseStandard(j.cfg.Schedule)
	if err != nil {
		return usage(fmt.Errorf("schedule %q: %w", j.cfg.Schedule, err))
	}
	store, err := source.Open(ctx, j.cfg.Source.Path, j.cfg.Source, source.Options{Log: log})
	if err != nil {
		return err
	}
	defer store.Close()
	spool, err := source.NewSpool(filepath.Dir(j.cfg.State.Path))
	if err != nil {
		return err
	}
	defer spool.Clean()
	w := &worker{job: j, log: log, m: m, stdout: c.Stdout, stderr: c.Stderr, inbox: &sync.Inbox{
		Store: store, Spool: spool, Settle: j.cfg.Source.Settle,
		SyncedLast: j.db.SyncedLast,
	}}

	ln, err := net.Listen("tcp", j.cfg.Serve.Listen)
	if err != nil {
		return usage(fmt.Errorf("serve.listen %s: %w", j.cfg.Serve.Listen, err))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", w.health)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if c.ready != nil {
		c.ready(ln.Addr().String())
	}

	// Jobs run under their own context: a signal stops the scheduler, and
	// the sync in progress gets serve.shutdown_timeout to finish.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	cl := cronLogger{log.Sugar()}
	sched := cron.New(cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)), cron.WithLogger(cl))
	sched.Schedule(schedule, cron.FuncJob(func() { w.tick(jobCtx) }))
	sched.Start()
	log.Info("serving", zap.String("schedule", j.cfg.Schedule), zap.String("listen", ln.Addr().String()),
		zap.String("inbox", j.cfg.Source.Path), zap.String("archive", j.cfg.Source.ArchiveDir))

	<-ctx.Done()
	log.Info("stopping: no new runs; waiting for the one in progress", zap.Duration("timeout", j.cfg.Serve.ShutdownTimeout))
	stopped := sched.Stop()
	select {
	case <-stopped.Done():
	case <-time.After(j.cfg.Serve.ShutdownTimeout):
		log.Warn("shutdown timeout: cancelling the run in progress (its checkpoint is flushed)")
		cancelJobs()
		<-stopped.Done()
	}
	log.Info("stopped")
	return nil
}

// cronLogger adapts zap to cron.Logger.
type cronLogger struct{ s *zap.SugaredLogger }

func (l cronLogger) Info(msg string, kv ...any) { l.s.Infow("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.s.Errorw("cron: "+msg, append(kv, "error", err)...)
}

// worker runs the ticks of serve.
type worker struct {
	job    *job
	log    *zap.Logger
	m      *metrics
	inbox  *sync.Inbox
	stdout io.Writer
	stderr io.Writer

	mu    gosync.Mutex
	last  *lastRun
	stuck string // why the inbox cannot move on (it cannot be read, an export cannot be archived); "" when it can
}

// lastRun is what /healthz tells of the last run.
type lastRun struct {
	Status   string    `json:"status"`
	File     string    `json:"file"`
	Finished time.Time `json:"finished"`
	Error    string    `json:"error,omitempty"`
	ok       bool      // the run went through to its end
}

// settle archives or rejects a run's export as its end says, and returns
// the status to count: an unusable export is rejected, a finished one is
// archived, any other stays in the inbox for the next tick. An export
// that cannot be moved makes the worker stuck (/healthz 503); the inbox
// passes it over from then on, and the exports after it go on.
func (w *worker) settle(exp *sync.Export, err error, interrupted bool) string {
	switch {
	case sync.Classify(err) == sync.ClassUnusable:
		if dest, rerr := w.inbox.Reject(exp.Path, err, time.Now()); errors.Is(rerr, source.ErrChanged) {
			w.log.Warn("export changed since it was taken: left in the inbox; the next tick takes it", zap.String("file", exp.Source))
		} else if rerr != nil {
			w.log.Error("reject export: it cannot be moved to rejected/; the next exports go on", zap.String("file", exp.Source), zap.Error(rerr))
			w.setStuck("reject " + exp.Source + ": " + rerr.Error())
		} else {
			w.log.Warn("export rejected: unusable as a whole, nothing changed", zap.String("file", exp.Source), zap.String("moved_to", dest), zap.Error(err))
		}
		return sync.StatusRejected
	case sync.Finished(err):
		w.m.lastSuccess.SetToCurrentTime()
		if dest, aerr := w.inbox.Archive(exp.Path, time.Now()); errors.Is(aerr, source.ErrChanged) {
			w.log.Warn("export changed since it was synced: left in the inbox; the next tick takes it", zap.String("file", exp.Source))
		} else if aerr != nil {
			w.log.Error("archive export: synced, but it cannot be archived; the next exports go on", zap.String("file", exp.Source), zap.Error(aerr))
			w.setStuck("archive " + exp.Source + ": " + aerr.Error())
		} else if dest != exp.Path {
			w.log.Info("export archived", zap.String("moved_to", dest))
		}
	case interrupted:
	case sync.Classify(err) == sync.ClassGuard:
		w.log.Error("run aborted by a guard; the export stays in the inbox", zap.Error(err))
	default:
		w.log.Error("run failed; the export stays in the inbox for the next tick", zap.Error(err))
	}
	return sync.Status(err, interrupted)
}

// tick takes the oldest complete export and syncs it.
func (w *worker) tick(ctx context.Context) {
	exp, skipped, err := w.inbox.Next(ctx)
	stuck := w.passedOver(skipped)
	if err != nil {
		w.log.Error("inbox", zap.Error(err))
		w.setStuck("inbox: " + err.Error())
		return
	}
	w.setStuck(stuck)
	if exp == nil {
		w.log.Debug("no export to take")
		return
	}
	if st, err := os.Stat(exp.Path); err == nil {
		w.m.lastExportTime.Set(float64(st.ModTime().Unix()))
	}
	w.log.Info("run starts", zap.String("file", exp.Source), zap.String("sha256", exp.SHA256))
	w.job.nameExport(exp.Path, exp.Source)
	defer w.job.forgetExport(exp.Path) // a long-lived worker keeps no name per tick
	before := w.job.client.Stats()
	start := time.Now()
	res, err := w.job.sync(ctx, syncOptions{mode: sync.ModeRun, file: exp.Path, stdout: w.stdout, stderr: w.stderr, quiet: true})
	after := w.job.client.Stats()
	w.m.retries.Add(float64(after.Retries - before.Retries))
	w.m.throttles.Add(float64(after.Throttled - before.Throttled))
	status := w.settle(exp, err, ctx.Err() != nil)
	w.m.observeRun(status, time.Since(start), res)
	w.m.observeExport(exp.Kind, status)
	if fails, ferr := w.job.db.Failures(context.WithoutCancel(ctx)); ferr == nil {
		w.m.pendingFails.Set(float64(len(fails)))
	}
	lr := &lastRun{Status: status, File: exp.Source, Finished: time.Now().UTC(), ok: sync.Finished(err)}
	if err != nil {
		lr.Error = err.Error()
	}
	w.mu.Lock()
	w.last = lr
	w.mu.Unlock()
}

// passedOver logs the files the inbox passed over, counts those already
// synced, and returns why the inbox is stuck: a file that was handled
// but cannot be moved away ("" when none).
func (w *worker) passedOver(skipped []sync.Skipped) string {
	stuck := ""
	for _, s := range skipped {
		if s.Err != nil {
			w.log.Error("export left in the inbox", zap.String("file", s.Path), zap.String("reason", s.Reason), zap.Error(s.Err))
			stuck = s.Path + ": " + s.Reason + ": " + s.Err.Error()
			continue
		}
		w.log.Info("export skipped", zap.String("file", s.Path), zap.String("reason", s.Reason))
		if s.Synced {
			w.m.observeExport(w.inbox.Store.Kind(), exportSkipped)
		}
	}
	return stuck
}

// setStuck records why the inbox cannot move on ("" when it can).
func (w *worker) setStuck(reason string) {
	w.mu.Lock()
	w.stuck = reason
	w.mu.Unlock()
}

// health answers 200 while the worker does its job, and 503 with the
// reason when the last run did not go through or the inbox is stuck: a
// probe or an alert then sees a failing sync, not a live process.
func (w *worker) health(rw http.ResponseWriter, _ *http.Request) {
	w.mu.Lock()
	body := map[string]any{"status": "ok", "last_run": w.last}
	code := http.StatusOK
	switch {
	case w.stuck != "":
		code, body["status"], body["reason"] = http.StatusServiceUnavailable, "failing", w.stuck
	case w.inbox.Spool != nil && w.inbox.Spool.Stalled(): // a copy cut for source.stall_timeout, retrying
		code, body["status"], body["reason"] = http.StatusServiceUnavailable, "stalled",
			"a copy from the source moved no byte for source.stall_timeout: cut, and tried again"
	case w.last != nil && !w.last.ok:
		code, body["status"], body["reason"] = http.StatusServiceUnavailable, "failing",
			"the last run ended "+w.last.Status+": "+w.last.Error
	}
	w.mu.Unlock()
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(code)
	_ = json.NewEncoder(rw).Encode(body)
}
