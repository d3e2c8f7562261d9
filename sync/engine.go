package sync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.uber.org/zap"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/apply"
	"erpsync/sync/approve"
	"erpsync/sync/crm"
	"erpsync/sync/history"
	"erpsync/sync/inbox"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/policy"
	"erpsync/sync/plan/reference"
	"erpsync/sync/refresh"
	"erpsync/sync/report"
	"erpsync/sync/runlog"
)

// Mode is what a Job does with its export.
type Mode string

const (
	ModeRun    Mode = "run"    // the nightly sync: refresh, plan, guards, upserts and deletes
	ModeImport Mode = "import" // a one-off migration: upserts only, no refresh, resumable
	ModePlan   Mode = "plan"   // refresh and plan only: nothing is written anywhere
)

// Job is one sync, import or plan of an export: what to read, what to talk
// to, and the settings of the run. The command line builds it; Run does it.
type Job struct {
	Mode   Mode
	File   string // the export
	Source string // where the export came from, as the run history and summary.json name it; File when ""
	DryRun bool   // go through the whole path, send no write, record nothing (Job.wired)

	Mapping *mapping.Mapping
	CRM     CRM
	State   state.Checkpoint
	Log     *zap.Logger

	Settings Settings

	// OnPlan, when set, is shown the plan before it is applied.
	OnPlan func(*plan.Plan)
	// OnResult, when set, is told of every finished action (progress).
	// It is called from the workers, concurrently.
	OnResult func(apply.Result)
	// OnApply, when set, is told how many actions the apply will send,
	// before it starts, and returns what to call when it has ended.
	OnApply func(total int) (ended func())
	// OnStart, when set, is told the run's id once it is recorded (the
	// logger stamps it on every line).
	OnStart func(runID int64)

	// Accept names the guards this run may go through (run -accept);
	// AcceptedBy says who accepted them, for the report ("": user@host).
	Accept     map[string]bool
	AcceptedBy string
	// Approvable builds Outcome.Approval beside the plan, for a config
	// of identity ConfigID; Approved, when set, is the approved plan the
	// run sends, and nothing else (approved.go).
	Approvable bool
	ConfigID   string
	Approved   *approve.Approval

	send apply.CRM // what the apply sends through: CRM, or its dry run (wired)
}

// CRM is what the engine asks of the CRM: what the refresh reads, what
// the apply sends, and the figures of its requests for summary.json.
// crm.Client implements it.
type CRM interface {
	refresh.CRM
	apply.CRM
	Stats() crm.Stats
}

// Settings are the sync: and crm: settings a run follows.
type Settings struct {
	Deletes     policy.DeleteMode
	MaxDelete   plan.Optional // sync.max_delete; unset: off, never stops a run
	Drift       policy.DriftPolicy
	MaxFailures plan.Limit
	Lookback    time.Duration // widens the refresh window for clock skew with the CRM
	FullCheck   time.Duration // sync.full_check: a run walks every customer this often; 0: 168h, < 0: never
	Concurrency int           // bounded errgroup size
	ReportsDir  string
	// DeleteDespiteRowErrors sends the mirror deletes of a run whose export
	// has a row without a usable reference (sync.delete_despite_row_errors).
	DeleteDespiteRowErrors bool
	// References says how the CRM compares references (sync.references).
	References  reference.Mode
	ReportsMode os.FileMode   // of the report files (reports.file_mode); 0: report.DefaultMode
	MaxErrors   int           // row errors and warnings kept whole (reports.max_errors); 0: rowerrors.DefaultMax
	Mode        policy.Mode   // what a run may do (sync.mode); "": sync
	Fields      policy.Fields // who owns each field (sync.fields)
	Guards      plan.Guards   // sync.max_create, max_update, max_blank, max_mapping_change (guards.go)
	ReportsCSV  report.CSV    // the format of the report's CSV files (reports.csv)
	// History is how long a customer's history is kept (state.history);
	// 0: none is recorded.
	History time.Duration
}

// Outcome is what a finished (or stopped) run reports.
type Outcome struct {
	Plan    *plan.Plan
	Summary *apply.Summary
	RunID   int64
	Dir     string // the run's reports
	Status  string // as recorded in the state (state.Status*)
	// Approval is what the plan depends on (Job.Approvable).
	Approval *approve.Approval
}

// Run does a Job from start to end. Its error carries its class (Classify):
// the exit code and serve's health follow from it. The story of a run:
func Run(ctx context.Context, j Job) (*Outcome, error) {
	if err := CheckExport(j.File); err != nil { // a pipe or a device would hang every read
		return nil, j.approvedGone(err)
	}
	j = j.wired() // a dry run's checkpoint drops every write: the one choke point, with its CRM's
	if j.Mode == ModePlan {
		return planOnly(ctx, j) // writes nothing: the page check cannot change its outcome
	}
	verified, stopVerify := verifyBeside(ctx, j.State) // the checkpoint's page check, beside the plan
	defer stopVerify()
	lock, err := acquire(ctx, j) // one run at a time holds the state file
	if err != nil {
		return nil, err
	}
	defer func() {
		if !damaged(verified) { // a damaged file is written no more: the next run takes the lock of a process gone
			release(ctx, j, lock)
		}
	}()
	ctx, stop := stopWhenLost(ctx, lock) // a lock taken from us stops the run at once
	defer stop()
	sha, err := j.checkApproved(ctx) // an approved plan whose export, mapping or checkpoint moved
	if err != nil {
		return nil, err
	}
	r, err := begin(ctx, j, sha) // the run's record in the state, its report folder
	r.verified = verified
	if err != nil {
		return r.outcome(), r.end(ctx, err)
	}
	p, err := r.plan(ctx) // refresh the CRM side, diff the export, guards
	if err != nil {
		r.notSent(p, err) // a guard stops before any write: its plan is listed, not sent
		return r.outcome(), r.end(ctx, err)
	}
	err = r.apply(ctx, p)      // upserts by wave, deletes last; outcomes flushed even if interrupted
	err = r.remember(ctx, err) // the watermark moves only when the run has finished
	return r.outcome(), r.end(ctx, err)
}

// planOnly refreshes (reading only) and plans; nothing is written. It
// leaves out the checkpoint's page check (quick_check, a read of every
// page: 0.9 GB at a million customers): the check guards writes, and a
// plan makes none. The pages a plan reads are checked by SQLite as it
// reads them (a damaged one is an error of the plan); damage elsewhere
// (the deleted customers' copies, the history) changes no action of the
// plan, and the run that would write stops on it before any write.
//
// The checkpoint's hashes start streaming in before the refresh (Preload),
// which mostly waits for the CRM's answers: the plan's read then finds
// them loaded (issue 25 §3).
func planOnly(ctx context.Context, j Job) (*Outcome, error) {
	r := newRun(j)
	r.verified = func() error { return nil }
	r.preload = plan.Load(ctx, j.State)
	defer r.preload.Stop()
	_, err := r.plan(ctx)
	return r.out, j.named(err)
}

// damaged says whether the checkpoint's page check found the file
// damaged (it waits for the answer). Before that answer, a run writes the
// lock's row and its own (small tables); never a record, and after a
// finding nothing at all.
func damaged(verified func() error) bool {
	if verified == nil {
		return false
	}
	var ue *state.UnusableError
	return errors.As(verified(), &ue)
}

// verifyBeside runs the checkpoint's check (Verify; of sqlite.DB: SQLite's
// quick_check, a read of the whole file, left out of Open with
// DeferCheck) on its own goroutine, beside the refresh and the plan.
// verified returns its answer; r.plan asks it before the plan is used, so
// that no record is written to a damaged file. stop ends the check and
// waits for it.
func verifyBeside(ctx context.Context, db state.Keeper) (verified func() error, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	answer := beside(func() (struct{}, error) { return struct{}{}, db.Verify(ctx) })
	verified = func() error {
		_, err := answer()
		return err
	}
	return verified, func() { cancel(); verified() }
}

// beside runs fn on its own goroutine; the returned function waits for
// its answer, as often as asked.
func beside[T any](fn func() (T, error)) func() (T, error) {
	done := make(chan struct{})
	var v T
	var err error
	go func() {
		defer close(done)
		v, err = fn()
	}()
	return func() (T, error) {
		<-done
		return v, err
	}
}

// CheckExport refuses, before anything opens it, an export that is not a
// regular file: opening a FIFO blocks until a writer comes, a device or
// a directory never ends or never reads (issue 16 §6). The error is of
// ClassUnusable.
func CheckExport(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return WithClass(ClassUnusable, fmt.Errorf("export: %w", err))
	}
	if !st.Mode().IsRegular() {
		return WithClass(ClassUnusable, fmt.Errorf("export %s is not a regular file (%s): only files are read", path, fileKind(st.Mode())))
	}
	return nil
}

// fileKind names a file mode's type for a message.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// acquire takes the state lock.
func acquire(ctx context.Context, j Job) (*state.Lock, error) {
	lock, err := j.State.Acquire(ctx, string(j.Mode))
	if err != nil {
		return nil, WithClass(ClassFatal, err)
	}
	if old := lock.TookOver; old != nil {
		j.Log.Warn("took over a stale state lock: its process is gone",
			zap.Int("pid", old.PID), zap.String("kind", old.Kind), zap.Time("since", old.Since))
	}
	return lock, nil
}

// release frees the state lock, and says so when it was taken meanwhile.
func release(ctx context.Context, j Job, lock *state.Lock) {
	if err := lock.Release(context.WithoutCancel(ctx)); err != nil {
		j.Log.Warn("release state lock", zap.Error(err))
	}
	if lock.Lost() {
		j.Log.Error("the state lock was taken from this run while it ran (erpsync unlock -force, or another host after a long silence): check that no other run wrote at the same time")
	}
}

// ErrLockLost stops a run whose state lock was taken over meanwhile
// (erpsync unlock -force, or another host after a long silence): two runs
// writing at once would each send what the other sends.
var ErrLockLost = errors.New("the state lock was taken from this run while it ran: stopped scheduling; check that no other run writes to the same CRM")

// stopWhenLost returns a context cancelled, with ErrLockLost as its cause,
// as soon as the lock is lost.
func stopWhenLost(ctx context.Context, lock *state.Lock) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-lock.LostC():
			cancel(ErrLockLost)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// wired is the job as it runs, the dry run's one choke point: its
// checkpoint wrapped in apply.DryRunCheckpoint (no step records anything) and
// the CRM the apply sends through in apply.DryRun (no write is sent).
// Nothing past it asks whether the run is a dry one, only the report,
// which says so.
func (j Job) wired() Job {
	j.send = j.CRM
	if j.DryRun {
		j.State, j.send = apply.DryRunCheckpoint(j.State), apply.DryRun{CRM: j.CRM}
	}
	return j
}

// run is one run in progress.
type run struct {
	j         Job
	out       *Outcome
	started   time.Time
	report    *report.Run
	summary   report.Summary
	refreshed *refresh.Result        // nil for an import
	verified  func() error           // the checkpoint's page check (verifyBeside)
	sha       func() (string, error) // the export's sha256 (hashBeside)
	history   *history.Recorder      // the run's events, for the customers' history, from its apply on; nil: none
	preload   *plan.Preload          // the checkpoint's hashes streaming in since before the refresh; nil: none
}

// hashBeside hashes an export (FileSHA256) on its own goroutine, beside
// the run: 0.15 s of reading for 200 MB, off the path to the first row.
// The returned function waits for the answer.
func hashBeside(path string) func() (string, error) {
	return beside(func() (string, error) { return fileSHA256(path) })
}

var fileSHA256 = inbox.FileSHA256 // an export's sha256, never through a link (a test counts its calls)

// source names the export in the run history: where it came from (an
// SFTP or S3 URL), not the spool copy that is read.
func (j Job) source() string {
	if j.Source != "" {
		return j.Source
	}
	return j.File
}

// named makes an unusable export's error name where it came from (an
// SFTP or S3 URL), not the spool copy that was read.
func (j Job) named(err error) error {
	var fe *mapping.FileError
	if j.Source != "" && errors.As(err, &fe) && fe.File == j.File {
		fe.File = j.Source
	}
	return err
}

func newRun(j Job) *run {
	r := &run{j: j, out: &Outcome{}, started: time.Now()}
	r.summary = report.Summary{Kind: string(j.Mode), File: j.source(), Started: r.started.UTC(),
		DryRun: j.DryRun, Durations: map[string]float64{}}
	return r
}

// begin records the run's start and opens its report; sha, when set, is
// the export's sha256 already read (apply's check), recorded as it is.
func begin(ctx context.Context, j Job, sha func() (string, error)) (*run, error) {
	r := newRun(j)
	var err error
	if r.out.RunID, err = j.State.StartRun(ctx, string(j.Mode), j.source(), ""); err != nil {
		return r, WithClass(ClassFatal, err)
	}
	if j.OnStart != nil {
		j.OnStart(r.out.RunID)
	}
	// Report folders are named by the run's start and id: two configs
	// sharing reports.dir never write into one folder. A run recorded
	// nowhere (a dry run: id 0) has no sha256 to note.
	name := r.started.UTC().Format("20060102T150405.000Z") + "-dry-run"
	if r.out.RunID != 0 {
		if r.sha = sha; sha == nil {
			r.sha = hashBeside(j.File)
		}
		name = r.started.UTC().Format("20060102T150405.000Z") + "-" + strconv.FormatInt(r.out.RunID, 10)
	}
	r.summary.RunID = r.out.RunID
	if r.report, err = report.New(j.Settings.ReportsDir, name, j.Settings.ReportsMode, j.Settings.ReportsCSV); err != nil {
		return r, WithClass(ClassFatal, err)
	}
	r.report.DryRun = j.DryRun
	r.out.Dir = r.report.Dir
	return r, nil
}

// plan refreshes the CRM side (not for an import) and builds the plan; a
// guard that trips returns the plan with a *guard.Error.
func (r *run) plan(ctx context.Context) (*plan.Plan, error) {
	j := r.j
	start := time.Now()
	defer func() { r.summary.Durations["plan"] = time.Since(start).Seconds() }()
	// An unusable file stops here, before the CRM is asked anything.
	if _, err := j.Mapping.Check(j.File); err != nil {
		return nil, WithClass(ClassUnusable, err)
	}
	opt, err := r.planOptions(ctx)
	if err != nil {
		return nil, err
	}
	if j.Mode != ModeImport {
		if r.refreshed, err = r.refresh(ctx); err != nil {
			return nil, err
		}
		opt.Drift = r.refreshed.Drift
		r.noteUnreadable(r.refreshed.Unreadable)
	}
	p, err := plan.Build(ctx, PlanRows(ctx, j.Mapping, j.File), j.State, opt)
	var aerr error
	if err == nil {
		err = r.guard(p) // before the first write, with the plan listed
	}
	if p != nil && j.Approvable && (Classify(err) == ClassGuard && guard.Acceptable(err) || err == nil && j.Mode == ModePlan) { // a run's, only to wait for approval; not of a guard apply cannot pass
		if r.out.Approval, aerr = r.approval(ctx, p); aerr != nil {
			return p, aerr
		}
	}
	if verr := r.verified(); verr != nil {
		return p, WithClass(ClassFatal, verr)
	}
	if err == nil && j.Approved != nil {
		err = r.onlyApproved(ctx, p) // the approved actions alone, of customers unchanged in the CRM since
	}
	r.out.Plan = p
	if p != nil {
		r.noteRowErrors(p)
		if j.OnPlan != nil {
			j.OnPlan(p)
		}
	}
	return p, err
}

// planOptions are the plan's settings for this job and checkpoint.
func (r *run) planOptions(ctx context.Context) (plan.Options, error) {
	j := r.j
	fingerprint, err := j.State.Fingerprint(ctx)
	if err != nil {
		return plan.Options{}, WithClass(ClassFatal, err)
	}
	count, err := j.State.Count(ctx)
	if err != nil {
		return plan.Options{}, WithClass(ClassFatal, err)
	}
	retry, err := pendingFailures(ctx, j.State)
	if err != nil {
		return plan.Options{}, WithClass(ClassFatal, err)
	}
	importOnly := j.Mode == ModeImport
	return plan.Options{
		Retry:                  retry,
		File:                   j.File,
		Deletes:                j.Settings.Deletes,
		MaxDelete:              j.maxDelete(false), // off when accepted: the guard step says whether it tripped
		DeleteDespiteRowErrors: j.Settings.DeleteDespiteRowErrors,
		References:             j.Settings.References,
		DriftPolicy:            j.Settings.Drift,
		ImportOnly:             importOnly,
		Lean:                   importOnly, // an import may be millions of creates: the apply reads them again
		MappingChanged:         count > 0 && fingerprint != "" && fingerprint != j.Mapping.Fingerprint(),
		ParentInCRM:            parentInCRM(ctx, j.CRM),
		MaxErrors:              j.Settings.MaxErrors,
		Mode:                   j.Settings.Mode,
		Fields:                 j.Settings.Fields,
		Deactivated:            j.deactivated(), // a returning row is a reactivation (sync/reactivate.go)
		Preload:                r.preload,
	}, nil
}

// notSent lists every action of a plan that stopped before the apply as
// not sent, with the reason.
func (r *run) notSent(p *plan.Plan, why error) {
	if p == nil || r.report == nil {
		return
	}
	for act := range p.All() {
		r.report.Add(apply.Result{Action: act, NotSent: "not sent: " + why.Error()})
	}
}

// pendingFailures are the references whose last push failed.
func pendingFailures(ctx context.Context, db state.RunLog) (map[string]bool, error) {
	fs, err := db.Failures(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(fs))
	for _, f := range fs {
		if f.Op != state.OpDelete {
			out[f.Reference] = true
		}
	}
	return out, nil
}

// noteUnreadable reports the CRM's records that could not be read: one
// line each in errors.csv and in the log (id, reference, what was wrong,
// never the record's values), counted in summary.json.
func (r *run) noteUnreadable(bad []*crm.RecordError) {
	r.summary.UnreadableCRM = len(bad)
	for _, e := range bad {
		r.j.Log.Warn("a CRM record could not be read: its drift is not checked", zap.Int64("id", e.ID),
			zap.String("reference", e.Reference), zap.Error(e.Err))
		if r.report != nil {
			r.report.AddUnreadable(e)
		}
	}
}

// noteRowErrors puts the plan's figures and invalid rows in the report.
func (r *run) noteRowErrors(p *plan.Plan) {
	if r.report == nil {
		return
	}
	r.report.Expect(p) // merged and conflicting lines, before any outcome
	r.summary.Unchanged, r.summary.RowErrors, r.summary.Drift = p.Unchanged, p.RowErrorCount(), len(p.Drift)
	r.summary.MappingNew = p.MappingChanged
	for _, e := range p.RowErrors {
		r.report.AddRowError(e)
	}
	r.report.AddOmitted(p.RowErrorKinds)
	r.summary.RowErrorKinds, r.summary.WarningKinds = p.RowErrorKinds, p.WarningKinds
	r.summary.Warnings = p.WarningCount()
	if err := r.report.WriteWarnings(p.Warnings, p.WarningKinds); err != nil {
		r.j.Log.Error("write reports", zap.Error(err))
	}
	if err := r.report.WriteSkipped(p); err != nil {
		r.j.Log.Error("write reports", zap.Error(err))
	}
	runlog.Merged(r.j.Log, p)
	runlog.Kinds(r.j.Log, "invalid rows", p.RowErrorKinds)
	runlog.Kinds(r.j.Log, "warnings", p.WarningKinds)
}

// importBatch is when an import commits its outcomes to the checkpoint:
// every importBatch of them, or every WriterEvery as any run. At a real CRM's
// pace (tens a second) the time decides; at crmsim's (10,000 upserts a
// second) the count does: 2,000 made a 1M import's checkpoint 4 times
// fewer commits, each writing the index pages it touched to the WAL
// (import CPU 70.4 and 70.6 s before, 68.9 and 67.2 s after, alternating,
// 2026-12-07 09:56-10:05). A kill loses what is not committed (at most
// the queue, state.Writer's bound, and the batch being written): an
// import's are upserts, sent again by the next import or run, by
// reference. Other runs keep batches of 500: a delete's audit copy lost
// there is not taken again (the customer is gone).
const importBatch = 2000

// RunBatch and WriterEvery are when any other run, and any other writer
// of the checkpoint (an approved plan's pending failures, init -adopt),
// commits its outcomes: every RunBatch of them, or every WriterEvery.
const (
	RunBatch    = 500
	WriterEvery = 250 * time.Millisecond
)

// apply sends the plan through the CRM (in a dry run, apply.DryRun) and
// flushes the outcomes to the checkpoint (in a dry run, nowhere).
func (r *run) apply(ctx context.Context, p *plan.Plan) error {
	j := r.j
	batch := RunBatch
	if j.Mode == ModeImport {
		batch = importBatch
	}
	writer := j.State.NewWriter(batch, WriterEvery)
	events := r.startHistory(ctx, writer, p) // the run's drift and refused rows, first
	ended := func() {}
	if j.OnApply != nil {
		ended = j.OnApply(p.Len())
	}
	start := time.Now()
	sum, err := apply.Run(ctx, p, j.send, writer, apply.Options{
		RunID: r.out.RunID, Concurrency: j.Settings.Concurrency, MaxFailures: j.Settings.MaxFailures,
		CountryCode: mapping.CountryCode, Rows: exportRows(ctx, j), Lines: exportLines(ctx, j), History: events,
		Done: func(res apply.Result) {
			r.report.Add(res)
			if j.OnResult != nil {
				j.OnResult(res)
			}
		},
	})
	ended()
	r.summary.Durations["apply"] = time.Since(start).Seconds()
	r.out.Summary = sum
	// Flush even when interrupted: what was acknowledged is recorded.
	if werr := writer.Close(); werr != nil && err == nil {
		err = WithClass(ClassFatal, fmt.Errorf("record outcomes: %w", werr))
	}
	r.saveRowSums(ctx, p)
	r.saveRehashed(ctx, p)
	if ctx.Err() != nil && (err == nil || errors.Is(context.Cause(ctx), ErrLockLost)) {
		err = WithClass(ClassFatal, context.Cause(ctx))
	}
	if n := rowFailures(p, sum) + r.summary.UnreadableCRM; err == nil && n > 0 {
		err = WithClass(ClassRowFailures, fmt.Errorf("%d rows failed or were invalid, or CRM records unreadable; see %s",
			n, filepath.Join(r.out.Dir, "errors.csv")))
	}
	return err
}

// saveRowSums fills in the row sums of the unchanged records the
// checkpoint held without (planrowsum.go). Only time is lost when it
// fails: the next plan maps those rows again.
func (r *run) saveRowSums(ctx context.Context, p *plan.Plan) {
	if len(p.RowSums) == 0 || ctx.Err() != nil {
		return
	}
	if err := r.j.State.SaveRowSums(ctx, p.RowSums); err != nil {
		r.j.Log.Warn("row sums not saved: the next plan maps those rows again", zap.Error(err))
		return
	}
	r.j.Log.Debug("row sums saved", zap.Int("records", len(p.RowSums)))
}

// saveRehashed records the new hashes of the customers found unchanged
// by value (Plan.Rehashed). Only time is lost when it fails: the next
// plan compares their values again.
func (r *run) saveRehashed(ctx context.Context, p *plan.Plan) {
	if len(p.Rehashed) == 0 || ctx.Err() != nil {
		return
	}
	if err := r.j.State.SaveHashes(ctx, p.Rehashed); err != nil {
		r.j.Log.Warn("hashes not saved: the next plan compares those customers' values again", zap.Error(err))
		return
	}
	r.j.Log.Debug("hashes saved", zap.Int("records", len(p.Rehashed)))
}

// rowFailures counts the invalid rows, the managed references not
// deleted for their unsafe path (Plan.NotDeleted) and the failed actions.
func rowFailures(p *plan.Plan, s *apply.Summary) int {
	return p.InvalidRows + p.NotDeleted + s.Failed[plan.OpCreate] + s.Failed[plan.OpUpdate] + s.Failed[plan.OpDelete]
}

// end records how the run ended: the report's summary, the run's record
// and its status. It passes err on.
func (r *run) end(ctx context.Context, err error) error {
	err = r.j.named(err)
	r.out.Status = Status(err, ctx.Err() != nil)
	if r.report != nil {
		if lerr := r.report.ListRepeated(ctx, PlanRows(ctx, r.j.Mapping, r.j.File), r.j.Settings.MaxErrors); lerr != nil {
			r.j.Log.Warn("list the repeated rows past the plan's lines", zap.Error(lerr))
		}
		if lerr := r.report.ListDoneEarlier(ctx, r.j.State, PlanRows(ctx, r.j.Mapping, r.j.File), r.out.RunID, r.out.Plan); lerr != nil {
			r.j.Log.Warn("list the rows done by the run this one resumed", zap.Error(lerr))
		}
		r.closeReport(err)
	}
	if r.out.RunID == 0 || damaged(r.verified) {
		return err
	}
	ErrText := ""
	if err != nil {
		ErrText = err.Error()
	}
	r.saveHistory(ctx)
	// The export's sha256 goes with the run's end: SyncedLast reads it of
	// finished runs only. Unread, the run can never be the one synced last.
	if sha, herr := r.sha(); herr != nil {
		r.j.Log.Warn("hash the export", zap.Error(herr))
	} else if serr := r.j.State.NoteRunSHA(context.WithoutCancel(ctx), r.out.RunID, sha); serr != nil {
		r.j.Log.Error("record run end", zap.Error(serr))
	}
	if ferr := r.j.State.FinishRun(context.WithoutCancel(ctx), r.out.RunID, r.out.Status, RunCounts(r.out), ErrText); ferr != nil {
		r.j.Log.Error("record run end", zap.Error(ferr))
	}
	return err
}

// closeReport writes summary.json.
func (r *run) closeReport(err error) {
	s := &r.summary
	s.Status, s.Finished = r.out.Status, time.Now().UTC()
	if err != nil {
		s.Error = state.ClipRunError(err.Error())
	}
	if sum := r.out.Summary; sum != nil {
		s.Counts, s.Stopped = nestedCounts(sum), sum.Stopped
	}
	if p := r.out.Plan; p != nil {
		r.report.Account(s, p)
	}
	st := r.j.CRM.Stats()
	s.Requests, s.Retries, s.Throttled = st.Requests, st.Retries, st.Throttled
	s.Logins, s.Relogins = st.Logins, st.Relogins
	if cerr := r.report.Close(*s); cerr != nil {
		r.j.Log.Error("write reports", zap.Error(cerr))
	}
}

// outcome is what the run reports so far.
func (r *run) outcome() *Outcome {
	if r == nil {
		return nil
	}
	return r.out
}

// nestedCounts are summary.json's counts: operation → outcome → n.
func nestedCounts(s *apply.Summary) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, op := range []plan.Op{plan.OpCreate, plan.OpUpdate, plan.OpDelete} {
		out[string(op)] = map[string]int{"ok": s.OK[op], "failed": s.Failed[op]}
	}
	out["skipped"] = map[string]int{"not sent": s.Skipped}
	return out
}

// RunCounts are the counts a run records (create, create_failed, …,
// unchanged, row_errors, not_deleted): what status and notifications show.
func RunCounts(o *Outcome) map[string]int {
	if o.Summary == nil && o.Plan == nil {
		return nil
	}
	out := map[string]int{}
	if s := o.Summary; s != nil {
		out["skipped"] = s.Skipped
		for _, op := range []plan.Op{plan.OpCreate, plan.OpUpdate, plan.OpDelete} {
			out[string(op)] = s.OK[op]
			out[string(op)+"_failed"] = s.Failed[op]
		}
	}
	if p := o.Plan; p != nil {
		out["unchanged"], out["row_errors"], out["not_deleted"] = p.Unchanged, p.InvalidRows, p.NotDeleted
	}
	return out
}

// exportRows streams the job's export through the mapping.
func exportRows(ctx context.Context, j Job) plan.Rows { return ExportRows(ctx, j.Mapping, j.File) }

// exportLines streams the job's export, mapping only the rows of the
// lines keep accepts (a lean wave's: apply.Options.Lines).
func exportLines(ctx context.Context, j Job) func(keep func(int) bool) plan.Rows {
	return func(keep func(int) bool) plan.Rows {
		return func(fn func(mapping.Row) error) error {
			_, err := j.Mapping.ReadLines(ctx, j.File, keep, fn)
			return err
		}
	}
}

// ExportRows streams an export through a mapping.
func ExportRows(ctx context.Context, m *mapping.Mapping, path string) plan.Rows {
	return func(fn func(mapping.Row) error) error {
		_, err := m.Read(ctx, path, fn)
		return err
	}
}

// PlanRows streams an export for plan.Build: lazily (mapping.ReadLazy),
// the plan mapping only the rows whose sums it does not know.
func PlanRows(ctx context.Context, m *mapping.Mapping, path string) plan.Rows {
	return func(fn func(mapping.Row) error) error {
		_, err := m.ReadLazy(ctx, path, fn)
		return err
	}
}

// parentInCRM asks the CRM whether a reference exists, for parents that
// are neither in the export nor managed: only "not found" is a no; any
// other error is the question's.
func parentInCRM(ctx context.Context, api apply.CRM) func(string) (bool, error) {
	return func(ref string) (bool, error) {
		_, err := api.ShowByReference(ctx, ref)
		if crm.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}
}
