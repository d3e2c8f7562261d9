// Package serve is the scheduled worker of `erpsync serve`: on each cron
// tick it takes the next export from the inbox (sync/inbox), has it synced,
// and archives, rejects or holds it as the run's end says (sync.Classify);
// it answers /healthz and /metrics. The command (cmd/erpsync) opens the
// job, the source and the spool, and hands them over.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	gosync "sync"
	"time"
	_ "time/tzdata" // CRON_TZ= names a zone even on a host without tzdata

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"
	"go.uber.org/zap"

	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/inbox"
	"erpsync/sync/report"
	"erpsync/sync/source"
)

// Options are the settings of Serve.
type Options struct {
	Schedule        cron.Schedule // ParseSchedule's
	Spec            string        // the schedule as configured, for the log
	ShutdownTimeout time.Duration // serve.shutdown_timeout: how long a run in progress may finish
	Inbox, Archive  string        // source.path and source.archive_dir, for the log
	// Ready, when set, is told the address /healthz listens on (tests).
	Ready func(addr string)
	// Routes, when set, adds its handlers (serve's page, GET /) to the mux.
	Routes func(mux *http.ServeMux)
	// Collectors are registered in /metrics besides the worker's own.
	Collectors []prometheus.Collector
}

// Serve runs the worker on its schedule and answers /healthz and
// /metrics on ln until ctx is cancelled (SIGINT, SIGTERM): then the
// scheduler stops, a running sync may finish within ShutdownTimeout, or
// is cancelled cleanly, and it returns nil.
func (w *Worker) Serve(ctx context.Context, ln net.Listener, o Options) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", w.health)
	if o.Routes != nil {
		o.Routes(mux)
	}
	w.Metrics.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	w.Metrics.reg.MustRegister(o.Collectors...)
	mux.Handle("GET /metrics", promhttp.HandlerFor(w.Metrics.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}

	// Jobs run under their own context: a signal stops the scheduler, and
	// the sync in progress gets serve.shutdown_timeout to finish.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	log := w.Log
	cl := cronLogger{log.Sugar()}
	sched := cron.New(cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)), cron.WithLogger(cl))
	sched.Schedule(o.Schedule, cron.FuncJob(func() { w.tick(jobCtx) }))
	sched.Start()
	log.Info("serving", zap.String("schedule", o.Spec), zap.String("listen", ln.Addr().String()),
		zap.String("inbox", o.Inbox), zap.String("archive", o.Archive))

	<-ctx.Done()
	log.Info("stopping: no new runs; waiting for the one in progress", zap.Duration("timeout", o.ShutdownTimeout))
	stopped := sched.Stop()
	select {
	case <-stopped.Done():
	case <-time.After(o.ShutdownTimeout):
		log.Warn("shutdown timeout: cancelling the run in progress (its checkpoint is flushed)")
		cancelJobs()
		<-stopped.Done()
	}
	log.Info("stopped")
	return nil
}

// ParseSchedule reads a cron schedule (robfig/cron's standard syntax,
// descriptors too) and names the key in its error. A time zone alone
// ("CRON_TZ=UTC", "TZ=…" with no schedule after a space) makes the
// library panic: it is refused here, and any other panic of the parser
// is turned into an error, so that none reaches the user.
func ParseSchedule(spec string) (s cron.Schedule, err error) {
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		zone, rest, ok := strings.Cut(spec, " ")
		if !ok || strings.TrimSpace(rest) == "" {
			return nil, fmt.Errorf("schedule %q: %s names a time zone but no schedule follows it after a space, e.g. \"%s 0 2 * * *\"", spec, zone, zone)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("schedule %q: not a schedule the cron parser can read (%v)", spec, r)
		}
	}()
	if s, err = cron.ParseStandard(spec); err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return s, nil
}

// cronLogger adapts zap to cron.Logger.
type cronLogger struct{ s *zap.SugaredLogger }

func (l cronLogger) Info(msg string, kv ...any) { l.s.Infow("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.s.Errorw("cron: "+msg, append(kv, "error", err)...)
}

// Worker runs the ticks of serve. Its exported fields are set before
// Serve; the others are its own.
type Worker struct {
	Inbox      *inbox.Inbox
	Metrics    *Metrics
	Log        *zap.Logger
	Checkpoint state.RunLog // the run history, where an export that ended without a run is recorded
	ReportsDir string       // reports.dir and reports.file_mode, for those records' reports
	ReportMode os.FileMode
	ReportsCSV report.CSV // reports.csv: the format of those reports' CSV files
	// Sync runs the engine on an export (its local path), named as where
	// it came from.
	Sync func(ctx context.Context, exp *inbox.Export) (*sync.Outcome, error)
	// CRMStats are the CRM client's counts (retries, throttles).
	CRMStats func() crm.Stats
	// Settled, when set, is told each run's end once its export is
	// settled: held when a guard stopped it and it is held, at heldAt
	// (serve.approve writes the plan that waits there; notify tells it).
	Settled func(ctx context.Context, exp *inbox.Export, res *sync.Outcome, err error, held bool, heldAt string)
	// NoRun, when set, is told an export that ended before its run could
	// start, once it is recorded (notify tells it as a failed run).
	NoRun func(ctx context.Context, src string, out *sync.Outcome, why error)

	mu    gosync.Mutex
	last  *lastRun
	stuck string // why the inbox cannot move on (it cannot be read, an export cannot be archived); "" when it can
	// noRun is the last export ended without a run (a fetch that failed,
	// a poison pill) that was recorded: recorded once, not at every tick.
	noRun string
	// listFail is how the source last failed to be listed, told once
	// while it fails that way; "" once it lists again.
	listFail string
	// heldLast: the run under way ended with its export held; heldAt where.
	heldLast bool
	heldAt   string
}

// lastRun is what /healthz tells of the last run.
type lastRun struct {
	Status   string    `json:"status"`
	File     string    `json:"file"`
	Finished time.Time `json:"finished"`
	Error    string    `json:"-"` // in the log and the run history; /healthz gives a reason
	ok       bool      // the run went through to its end
	held     bool      // its export is held: /healthz follows the ledger (a release or a newer sync ends it)
}

// settle archives or rejects a run's export as its end says, and returns
// the status to count: an unusable export is rejected, a finished one is
// archived (and lets the held ones go), one stopped by a guard is held,
// any other stays in the inbox for the next tick. An export
// that cannot be moved makes the worker stuck (/healthz 503); the inbox
// passes it over from then on, and the exports after it go on.
func (w *Worker) settle(exp *inbox.Export, err error, interrupted bool) string {
	switch {
	case sync.Classify(err) == sync.ClassUnusable:
		if dest, rerr := w.Inbox.Reject(exp.Path, err, time.Now()); errors.Is(rerr, source.ErrChanged) {
			w.Log.Warn("export changed since it was taken: left in the inbox; the next tick takes it", zap.String("file", exp.Source))
		} else if rerr != nil {
			w.Log.Error("reject export: it cannot be moved to rejected/; the next exports go on", zap.String("file", exp.Source), zap.Error(rerr))
			w.setStuck("reject " + exp.Source + ": " + rerr.Error())
		} else {
			w.Log.Warn("export rejected: unusable as a whole, nothing changed", zap.String("file", exp.Source), zap.String("moved_to", dest), zap.Error(err))
		}
		return sync.StatusRejected
	case sync.Finished(err):
		w.Metrics.lastSuccess.SetToCurrentTime()
		if dest, aerr := w.Inbox.Archive(exp.Path, time.Now()); errors.Is(aerr, source.ErrChanged) {
			w.Log.Warn("export changed since it was synced: left in the inbox; the next tick takes it", zap.String("file", exp.Source))
		} else if aerr != nil {
			w.Log.Error("archive export: synced, but it cannot be archived; the next exports go on", zap.String("file", exp.Source), zap.Error(aerr))
			w.setStuck("archive " + exp.Source + ": " + aerr.Error())
		} else if dest != exp.Path {
			w.Log.Info("export archived", zap.String("moved_to", dest))
		}
		w.releaseHeld(exp)
	case interrupted:
	case sync.Classify(err) == sync.ClassGuard:
		w.hold(exp, err)
	default:
		w.Log.Error("run failed; the export stays in the inbox for the next tick", zap.Error(err))
	}
	return sync.Status(err, interrupted)
}

// hold sets aside an export stopped by a guard (sync.Inbox.Hold): it is
// not retried; /healthz is 503 naming it until a newer export syncs or
// `erpsync release` lets it go.
func (w *Worker) hold(exp *inbox.Export, err error) {
	dest, herr := w.Inbox.Hold(exp, err, time.Now())
	switch {
	case errors.Is(herr, source.ErrChanged):
		w.Log.Warn("export changed since it was taken: left in the inbox; the next tick takes it", zap.String("file", exp.Source))
		return
	case errors.Is(herr, inbox.ErrNotHeld): // /healthz: the last run ended aborted
		w.Log.Error("run aborted by a guard; the export cannot be held: left in the inbox, run again at the next tick",
			zap.String("file", exp.Source), zap.Error(herr))
		return
	case herr != nil:
		w.Log.Error("run aborted by a guard; the export is held, but not all of it went well (without a move to held/, it is held in place)",
			zap.String("file", exp.Source), zap.String("held_at", dest), zap.Error(herr))
	default:
		w.Log.Error("run aborted by a guard; the export is held: a newer export that syncs, or `erpsync release`, lets it go",
			zap.String("file", exp.Source), zap.String("moved_to", dest), zap.Error(err))
	}
	w.mu.Lock()
	w.heldLast, w.heldAt = true, dest
	w.mu.Unlock()
}

// releaseHeld lets go of the held exports once a newer export synced.
func (w *Worker) releaseHeld(exp *inbox.Export) {
	released, err := w.Inbox.Ledger.Release(nil)
	if err != nil {
		w.Log.Error("release the held exports", zap.Error(err))
		return
	}
	for _, h := range released {
		w.Log.Info("held export let go: a newer export synced", zap.String("file", h.Source), zap.String("held_at", h.MovedTo),
			zap.String("synced", exp.Source))
	}
}

// tick takes the newest settled export and syncs it.
func (w *Worker) tick(ctx context.Context) {
	exp, skipped, err := w.Inbox.Next(ctx)
	stuck := w.passedOver(ctx, skipped)
	if err != nil {
		w.Log.Error("inbox", zap.Error(err))
		w.setStuck("inbox: " + err.Error())
		w.recordFetchFailure(ctx, err)
		return
	}
	w.listFail = "" // it lists again
	w.setStuck(stuck)
	if exp == nil {
		w.Log.Debug("no export to take")
		return
	}
	if n, err := w.Inbox.Ledger.Unfinished(exp.Source, exp.SHA256); err != nil {
		w.Log.Error("read the attempts of serve's ledger: the export is not run", zap.String("file", exp.Source), zap.Error(err))
		w.setStuck("ledger: " + err.Error())
		return
	} else if n >= 2 {
		w.reject(ctx, exp, poisonError(exp, n))
		return
	}
	// The attempt is on disk before the run starts: a process killed in
	// the middle (out of memory) leaves it, and the next start sees it.
	if _, err := w.Inbox.Ledger.Begin(exp.Source, exp.SHA256); err != nil {
		w.Log.Error("record the attempt in serve's ledger: the export is not run", zap.String("file", exp.Source), zap.Error(err))
		w.setStuck("ledger: " + err.Error())
		return
	}
	w.run(ctx, exp)
	if err := w.Inbox.Ledger.End(); err != nil {
		w.Log.Error("record the end of the attempt in serve's ledger", zap.Error(err))
	}
}

// run syncs an export and settles it.
func (w *Worker) run(ctx context.Context, exp *inbox.Export) {
	if st, err := os.Stat(exp.Path); err == nil {
		w.Metrics.lastExportTime.Set(float64(st.ModTime().Unix()))
	}
	w.Log.Info("run starts", zap.String("file", exp.Source), zap.String("sha256", exp.SHA256))
	w.noRun = "" // ticks run one at a time (SkipIfStillRunning)
	before := w.CRMStats()
	start := time.Now()
	w.mu.Lock()
	w.heldLast, w.heldAt = false, ""
	w.mu.Unlock()
	res, err := w.Sync(ctx, exp)
	after := w.CRMStats()
	w.Metrics.retries.Add(float64(after.Retries - before.Retries))
	w.Metrics.throttles.Add(float64(after.Throttled - before.Throttled))
	status := w.settle(exp, err, ctx.Err() != nil)
	if w.Settled != nil {
		w.mu.Lock()
		held, heldAt := w.heldLast, w.heldAt
		w.mu.Unlock()
		w.Settled(ctx, exp, res, err, held, heldAt)
	}
	if stuck := w.passedOver(ctx, w.Inbox.Passed()); stuck != "" { // the older files, superseded once it went through
		w.setStuck(stuck)
	}
	w.Metrics.observeRun(status, time.Since(start), res)
	w.Metrics.observeExport(exp.Kind, status)
	if fails, ferr := w.Checkpoint.Failures(context.WithoutCancel(ctx)); ferr == nil {
		w.Metrics.pendingFails.Set(float64(len(fails)))
	}
	w.finish(exp, status, err)
}

// finish records what /healthz tells of the last run.
func (w *Worker) finish(exp *inbox.Export, status string, err error) {
	lr := &lastRun{Status: status, File: exp.Source, Finished: time.Now().UTC(), ok: sync.Finished(err)}
	if err != nil {
		lr.Error = err.Error()
	}
	w.mu.Lock()
	lr.held, w.heldLast = w.heldLast, false
	w.last = lr
	w.mu.Unlock()
}

// poisonError is why an export is not run again: n runs of it started
// and never ended (their process was killed: out of memory, a crash).
func poisonError(exp *inbox.Export, n int) error {
	return sync.WithClass(sync.ClassUnusable, fmt.Errorf(
		"export %s did not finish twice: %d runs of it started and ended with their process (killed: out of memory, a crash); rejected without another run, the next exports go on",
		exp.Source, n))
}

// reject rejects an export without a run (a poison pill): it is
// recorded in the run history and a report, and moved to rejected/.
func (w *Worker) reject(ctx context.Context, exp *inbox.Export, why error) {
	w.Log.Error("export rejected without a run", zap.String("file", exp.Source), zap.Error(why))
	w.recordNoRun(ctx, exp.Source, exp.SHA256, why)
	status := w.settle(exp, why, false)
	w.Metrics.observeExport(exp.Kind, status)
	w.finish(exp, status, why)
	if w.Inbox.Store.ArchiveDir() != "" { // moved to rejected/: the same bytes dropped again get their runs
		if err := w.Inbox.Ledger.End(); err != nil {
			w.Log.Error("record the end of the attempt in serve's ledger", zap.Error(err))
		}
	}
}

// recordFetchFailure records an export that could not be fetched (read
// or copied from its source): a failed run in the history, a report. A
// source that cannot be listed at all is a failed tick, recorded and
// told the same way, once while it fails the same way.
func (w *Worker) recordFetchFailure(ctx context.Context, err error) {
	var fe *inbox.FetchError
	if errors.As(err, &fe) {
		w.recordNoRun(ctx, fe.Source, "", err)
		return
	}
	key := failureKey(err)
	if w.listFail == key {
		return
	}
	src := w.Inbox.Pattern
	if st := w.Inbox.Store; st != nil {
		src = st.String() // passwords removed
	}
	w.noRun = "" // a listing failure comes between: the same export failing next is told again
	w.recordNoRun(ctx, src, "", err)
	if w.noRun != "" { // recorded and told
		w.listFail = key
	}
}

// volatile matches the parts of an error that change from one try to
// the next (a store's request and host ids): failureKey drops them.
var volatile = regexp.MustCompile(`[A-Za-z0-9+/=_-]{16,}`)

// failureKey is how an error failed, for telling it once: its text
// without the ids that change at every try.
func failureKey(err error) string {
	return volatile.ReplaceAllString(err.Error(), "…")
}

// recordNoRun records an export that ended before its run could start,
// once while it happens again at every tick (until a run starts).
func (w *Worker) recordNoRun(ctx context.Context, src, sha string, why error) {
	key := src + "\x00" + sha
	if w.noRun == key {
		return
	}
	out, err := sync.RecordNoRun(context.WithoutCancel(ctx), w.Checkpoint, w.ReportsDir, w.ReportMode, w.ReportsCSV, src, sha, why)
	if err != nil {
		w.Log.Error("record the export that did not run", zap.String("file", src), zap.Error(err))
		return
	}
	w.noRun = key
	w.Log.Info("recorded without a run", zap.Int64("run", out.RunID), zap.String("reports", out.Dir))
	if w.NoRun != nil {
		w.NoRun(ctx, src, out, why) // a failed run, once while it fails the same way
	}
}

// passedOver logs the files the inbox passed over, counts those already
// synced, records those rejected because they cannot be copied, and
// returns why the inbox is stuck: a file that was handled but cannot be
// moved away ("" when none).
func (w *Worker) passedOver(ctx context.Context, skipped []inbox.Skipped) string {
	stuck := ""
	for _, s := range skipped {
		if s.Rejected != nil {
			w.rejectedUncopied(ctx, s)
		}
		switch {
		case s.Err != nil:
			w.Log.Error("export left in the inbox", zap.String("file", s.Path), zap.String("reason", s.Reason), zap.Error(s.Err))
			stuck = s.Path + ": " + s.Reason + ": " + s.Err.Error()
		case s.Rejected != nil: // logged as rejected
		default:
			w.Log.Info("export skipped", zap.String("file", s.Path), zap.String("reason", s.Reason))
			if s.Synced {
				w.Metrics.observeExport(w.Inbox.Store.Kind(), exportSkipped)
			}
		}
	}
	return stuck
}

// rejectedUncopied records a file the inbox rejected without a run
// because it cannot be copied (a link, over source.max_bytes, longer than
// its listing): a failed run in the history with a report, counted and
// told by /healthz as a rejected export's run.
func (w *Worker) rejectedUncopied(ctx context.Context, s inbox.Skipped) {
	w.Log.Error("export rejected without a run: it cannot be copied; the next exports go on",
		zap.String("file", s.Path), zap.String("reason", s.Reason), zap.Error(s.Rejected))
	w.recordNoRun(ctx, s.Path, "", s.Rejected)
	exp := &inbox.Export{Source: s.Path, Kind: w.Inbox.Store.Kind()}
	w.Metrics.observeExport(exp.Kind, sync.StatusRejected)
	w.finish(exp, sync.StatusRejected, s.Rejected)
}

// setStuck records why the inbox cannot move on ("" when it can).
func (w *Worker) setStuck(reason string) {
	w.mu.Lock()
	w.stuck = reason
	w.mu.Unlock()
}

// health answers 200 while the worker does its job, and 503 with the
// reason when the last run did not go through or the inbox is stuck: a
// probe or an alert then sees a failing sync, not a live process. The
// answer is a reason, not data: bounded (healthReasonMax), the first
// clause of an error only (what follows lists the export's cells or a
// zip's members), the full text being in the log and the run history.
func (w *Worker) health(rw http.ResponseWriter, _ *http.Request) {
	held, herr := w.Inbox.Ledger.Held() // read at each probe: `erpsync release` changes it
	w.mu.Lock()
	body := healthBody{Status: "ok", Held: len(held)}
	if w.last != nil {
		lr := *w.last
		lr.File = report.Clip(lr.File, healthFileMax)
		body.LastRun = &lr
	}
	switch {
	case w.stuck != "":
		body.Status, body.Reason = "failing", w.stuck
	case w.Inbox.Spool != nil && w.Inbox.Spool.Stalled(): // a copy cut for source.stall_timeout, retrying
		body.Status, body.Reason = "stalled", "a copy from the source moved no byte for source.stall_timeout: cut, and tried again"
	case herr != nil:
		body.Status, body.Reason = "failing", "serve's ledger: "+herr.Error()
	case len(held) > 0:
		h := held[len(held)-1]
		body.Status, body.Reason = "failing", fmt.Sprintf("held (a newer export that syncs or `erpsync release` lets it go): %s: %s",
			report.Clip(h.Source, healthFileMax), h.Reason)
	case w.last != nil && !w.last.ok && !w.last.held:
		body.Status, body.Reason = "failing", "the last run ended "+w.last.Status+": "+w.last.Error
	}
	w.mu.Unlock()
	code := http.StatusOK
	if body.Status != "ok" {
		code, body.Reason = http.StatusServiceUnavailable, healthReason(body.Reason)
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(code)
	enc := json.NewEncoder(rw)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}

// healthBody is /healthz's answer.
type healthBody struct {
	Status  string   `json:"status"` // ok | failing | stalled
	Reason  string   `json:"reason,omitempty"`
	LastRun *lastRun `json:"last_run"`
	Held    int      `json:"held,omitempty"` // exports held by a guard
}

// Bounds of /healthz's texts, in bytes before JSON's escapes (a quote
// or a backslash doubles; control characters are replaced): the whole
// answer stays within 1 KiB.
const (
	healthReasonMax = 256
	healthFileMax   = 160
)

// healthReason is the first clause of a reason (up to its first "; "),
// within healthReasonMax bytes.
func healthReason(s string) string {
	if i := strings.Index(s, "; "); i >= 0 {
		s = s[:i]
	}
	return report.Clip(s, healthReasonMax)
}
