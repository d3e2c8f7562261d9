package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"erpsync/mapping"
	"erpsync/mapping/customer"
	"erpsync/state"
	"erpsync/sync/crm"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/refresh"
)

// CRM is the part of the CRM client that applying a plan needs.
type CRM interface {
	Upsert(ctx context.Context, ref string, f *crm.Form) (*crm.Customer, error)
	ShowByReference(ctx context.Context, ref string) (*crm.Customer, error)
	DeleteByReferenceStatus(ctx context.Context, ref string) (int, error)
}

// Recorder takes each outcome; the checkpoint's writer batches them.
type Recorder interface {
	Put(ctx context.Context, o state.Outcome) error
}

// Options are the settings of an apply.
type Options struct {
	RunID       int64
	Concurrency int        // bounded errgroup size; default 8
	MaxFailures plan.Limit // stop scheduling when more rows than this fail
	// CountryCode canonicalises countries in what the CRM answers.
	CountryCode func(string) (string, bool)
	// Done, when set, is told of every finished action (for reports and
	// progress). It is called from the workers, concurrently.
	Done func(Result)
	// Rows reads the export again: a lean plan's upserts (plan.Options.Lean)
	// take their customers from it, wave by wave.
	Rows plan.Rows
	// Lines, when set, reads the export again mapping only the rows of
	// the lines keep accepts: what a lean wave reads instead of Rows
	// (Plan.WaveLines), its other rows not mapped at all.
	Lines func(keep func(line int) bool) plan.Rows
	// History, when set, makes the customers' history events of an
	// answered write: its outcome carries them to the recorder
	// (state.Outcome.History), saved in the same transaction.
	History func(Result) []state.Event
}

// Result is the outcome of one action: sent and confirmed (Err nil),
// failed (Err), or not sent at all (NotSent says why; Err is nil).
type Result struct {
	Action  *plan.Action
	Err     error  // nil on success
	NotSent string // why the action was not sent, or got no answer; "" when it was answered
	Status  int    // the HTTP status of a refusal, when there was one
	Code    string
	// Message is the API's error_description or the error's text.
	Message string
}

// Summary counts what an apply did.
type Summary struct {
	OK     map[plan.Op]int
	Failed map[plan.Op]int
	// Skipped counts actions not sent, or sent with no answer (in flight
	// when the run stopped): after the failure budget ran out, after a
	// fatal error or an interruption, or deletes held back because an
	// upsert failed. Each is also told to Done with Result.NotSent.
	Skipped int
	// Stopped says why the apply stopped early, if it did.
	Stopped string
}

// Run sends a plan's actions, wave by wave, each wave through a bounded
// errgroup: upserts (parents first), then deletes (sub-customers first). A
// failing row does not stop the others: it becomes a recorded failure and
// keeps its last good checkpoint entry. A fatal error (auth refused, CRM
// unreachable, checkpoint unusable) cancels the group and is returned. When
// failures pass MaxFailures it stops scheduling, lets the requests in
// flight finish and returns a *guard.Error. Deletes are not sent at all when
// an upsert failed in the run: they wait for a clean run.
func Run(ctx context.Context, p *plan.Plan, api CRM, rec Recorder, opt Options) (*Summary, error) {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 8
	}
	if opt.CountryCode == nil {
		opt.CountryCode = func(string) (string, bool) { return "", false }
	}
	a := &applier{api: api, rec: rec, opt: opt, plan: p,
		sum:     &Summary{OK: map[plan.Op]int{}, Failed: map[plan.Op]int{}},
		allowed: opt.MaxFailures.Of(p.Len()),
	}
	err := a.waves(ctx, p)
	a.settleRest(p, notSentReason(ctx, err, a.sum.Stopped))
	return a.summary(), err
}

// waves sends the upsert waves, then the delete waves unless an upsert
// failed. Lean or not, the plan gives each wave's actions the same way.
func (a *applier) waves(ctx context.Context, p *plan.Plan) error {
	changed := func(act *plan.Action) error {
		return a.record(ctx, act, a.outcome(act), 0, plan.ErrExportChanged)
	}
	for i := range p.UpsertWaves() {
		rows := a.opt.Rows
		if a.opt.Lines != nil {
			if keep := p.WaveLines(i); keep != nil {
				rows = a.opt.Lines(keep)
			}
		}
		err := a.sendWave(ctx, func(send plan.Send) error {
			return p.SendUpserts(ctx, i, rows, send, changed)
		})
		if err != nil {
			return err
		}
	}
	held := a.holdDeletes(p)
	if a.failed.Load() > 0 {
		if n := p.Count(plan.OpDelete) - held; n > 0 && a.sum.Stopped == "" {
			a.sum.Stopped = fmt.Sprintf("%d deletes held back: an upsert failed in this run", n)
		}
		return nil
	}
	for i := range p.Deletes {
		err := a.sendWave(ctx, func(send plan.Send) error {
			p.SendDeletes(i, send)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// holdDeletes tells Done of each mirror delete the plan holds
// (Plan.DeletesHeld) as not sent, with why; waves then skips them. It
// returns how many.
func (a *applier) holdDeletes(p *plan.Plan) int {
	if p.DeletesHeld == "" {
		return 0
	}
	n := 0
	for _, w := range p.Deletes {
		for _, act := range w {
			if act.Reason == plan.ReasonAbsentHeld {
				a.notSent(act, "not sent: held: "+p.DeletesHeld)
				n++
			}
		}
	}
	return n
}

// stoppedReason says why an action that was sent has no recorded outcome.
func stoppedReason(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "in flight when the run stopped, no answer; the next run re-checks it"
	}
	return "sent, answered with an error that stops the run (" + err.Error() + "); the next run re-checks it"
}

// notSentReason says why the actions left unsent were not sent.
func notSentReason(ctx context.Context, err error, stopped string) string {
	switch {
	case ctx.Err() != nil:
		return fmt.Sprintf("not sent: the run was interrupted (%v); the next run takes it", context.Cause(ctx))
	case err != nil && stopped == "":
		return "not sent: the run stopped on a fatal error; the next run takes it"
	case stopped != "":
		return "not sent: " + stopped + "; the next run takes it"
	}
	return "not sent: its row was not met again in the export; the next run takes it"
}

// settleRest tells Done of every action the apply did not send.
func (a *applier) settleRest(p *plan.Plan, reason string) {
	for act := range p.Unsettled() {
		a.notSent(act, reason)
	}
}

// notSent counts an action as not sent, once, and tells Done why.
func (a *applier) notSent(act *plan.Action, reason string) {
	if act.Settle() {
		return
	}
	a.skipped.Add(1)
	if a.opt.Done != nil {
		a.opt.Done(Result{Action: act, NotSent: reason})
	}
}

type applier struct {
	api     CRM
	rec     Recorder
	opt     Options
	sum     *Summary
	allowed int // failures allowed
	plan    *plan.Plan

	answers fieldAnswers // of the fields last read back (readBack)

	failed  atomic.Int64
	skipped atomic.Int64
	ok      [3]atomic.Int64 // by op: create, update, delete
	bad     [3]atomic.Int64
}

var opIndex = map[plan.Op]int{plan.OpCreate: 0, plan.OpUpdate: 1, plan.OpDelete: 2}

func (a *applier) summary() *Summary {
	for op, i := range opIndex {
		if n := a.ok[i].Load(); n > 0 {
			a.sum.OK[op] = int(n)
		}
		if n := a.bad[i].Load(); n > 0 {
			a.sum.Failed[op] = int(n)
		}
	}
	a.sum.Skipped = int(a.skipped.Load())
	return a.sum
}

// overBudget reports whether failures passed max_failures.
func (a *applier) overBudget() bool {
	return int(a.failed.Load()) > a.allowed
}

// sendWave sends what schedule gives its send function through
// Concurrency workers, and waits for them; schedule's error is the wave's
// after the requests in flight. Cancelling ctx (a signal) stops the
// scheduling but lets the requests in flight finish, so that what the
// CRM acknowledged is recorded; the first error of a request (fatal)
// cancels the others and is the wave's.
//
// The workers live for the wave: a goroutine per action grew its stack
// again through the HTTP client each time (4% of an import's CPU). The
// schedule runs up to readAhead actions a worker ahead of them: with a
// queue of no room, a worker whose answer came waited for the reader to
// read and map the next row (8% of an import's sending time). An action
// taken from the queue after the run stopped is not sent (settleRest).
func (a *applier) sendWave(ctx context.Context, schedule func(send plan.Send) error) error {
	gctx, fail := context.WithCancelCause(context.WithoutCancel(ctx))
	defer fail(nil)
	type sending struct {
		act  *plan.Action
		done plan.Ender
	}
	queue := make(chan sending, readAhead*a.opt.Concurrency)
	var workers errgroup.Group
	for range a.opt.Concurrency {
		workers.Go(func() error {
			for s := range queue {
				// The budget is checked again once a worker is free:
				// failures may have passed it while this action waited
				// for one. An interruption (or a lost lock) while it
				// waited stops it too.
				if a.overBudget() || ctx.Err() != nil || gctx.Err() != nil {
					continue // not sent: settled at the end
				}
				if err := a.do(gctx, s.act); err != nil {
					fail(err) // the first one is the cause
				}
				s.done.Ended(s.act)
			}
			return nil
		})
	}
	send := func(act *plan.Action, done plan.Ender) bool {
		if a.overBudget() || ctx.Err() != nil || gctx.Err() != nil {
			return false
		}
		queue <- sending{act, done}
		return true
	}
	readErr := schedule(send)
	close(queue)
	workers.Wait()
	if gctx.Err() != nil {
		return context.Cause(gctx)
	}
	if readErr != nil {
		return readErr
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if a.overBudget() {
		a.sum.Stopped = fmt.Sprintf("%d rows failed, more than max_failures (%s = %d)", a.failed.Load(), a.opt.MaxFailures, a.allowed)
		return &guard.Error{Guard: "max_failures", Detail: a.sum.Stopped}
	}
	return nil
}

// readAhead is how many actions a worker the schedule may make ready
// before workers take them: a few customers each, against the reader's
// pauses (a batch of rows mapped, a goroutine scheduled late).
const readAhead = 4

// outcome starts the outcome of an action.
func (a *applier) outcome(act *plan.Action) state.Outcome {
	out := state.Outcome{RunID: a.opt.RunID, Reference: act.Reference, Line: act.Line, Op: "upsert"}
	if act.Op == plan.OpDelete {
		out.Op = "delete"
	}
	return out
}

// do sends one action and records its outcome. It returns an error only
// for what must stop the run.
func (a *applier) do(ctx context.Context, act *plan.Action) error {
	out := a.outcome(act)
	var status int
	var err error
	switch {
	case act.Op == plan.OpDelete && a.plan != nil && a.plan.Deactivate:
		status, err = a.deactivate(ctx, act, &out)
	case act.Op == plan.OpDelete:
		status, err = a.delete(ctx, act, &out)
	default:
		status, err = a.upsert(ctx, act, &out)
	}
	if err != nil && (crm.IsFatal(err) || crm.IsUnreachable(err) || ctx.Err() != nil) {
		// Nothing is recorded: the row keeps its last good state and the
		// next run plans it again. Whether the CRM applied it is unknown.
		a.notSent(act, stoppedReason(ctx, err))
		return fmt.Errorf("%s customer %s: %w", act.Op, act.Reference, err)
	}
	return a.record(ctx, act, out, status, err)
}

// record counts an action's outcome, gives it to the recorder and tells
// Done; status is the CRM's answer's, err the row's failure (nil on
// success).
func (a *applier) record(ctx context.Context, act *plan.Action, out state.Outcome, status int, err error) error {
	res := Result{Action: act, Err: err, Status: status}
	if err != nil {
		res.Status, res.Code, res.Message = describe(err)
		out.Failure = &state.Failure{RunID: a.opt.RunID, Op: out.Op, Reference: act.Reference, Line: act.Line,
			Status: res.Status, Code: res.Code, Message: res.Message}
	}
	if a.opt.History != nil {
		out.History = a.opt.History(res)
	}
	if rerr := a.rec.Put(ctx, out); rerr != nil {
		// The CRM answered, the checkpoint did not take it: the next run
		// plans the row again.
		a.notSent(act, "answered by the CRM but not recorded in the checkpoint; the next run re-checks it")
		return fmt.Errorf("record %s of %s: %w", act.Op, act.Reference, rerr)
	}
	act.Settle()
	i := opIndex[act.Op]
	if err != nil {
		a.failed.Add(1)
		a.bad[i].Add(1)
	} else {
		a.ok[i].Add(1)
	}
	if a.opt.Done != nil {
		a.opt.Done(res)
	}
	return nil
}

func (a *applier) upsert(ctx context.Context, act *plan.Action, out *state.Outcome) (int, error) {
	c := act.Customer
	withheld := a.withheld(act)
	got, err := a.api.Upsert(ctx, act.Reference, a.form(act, withheld))
	if err != nil {
		return 0, err
	}
	out.Hash, out.RowSum = c.Hash, c.RowSum
	out.CRMID, out.CRMLastUpdated = got.ID, got.LastUpdated.Time
	var sent, stored map[string]string // compared: what was sent, what the CRM holds
	if names, _ := c.Sorted(); withheld == nil && len(names) > 0 {
		out.Pushed, sent = readBack(got, c, a.opt.CountryCode, &a.answers)
		if len(sent) > 0 {
			_, stored = out.Maps()
		}
	} else {
		out.Values = c.Fields()
		out.CRMValues = refresh.CRMValues(got, c.FieldNames(), a.opt.CountryCode)
		sent = recordWithheld(out.Values, out.CRMValues, withheld)
		stored = out.CRMValues
	}
	if diffs := a.storedDiffs(sent, stored); len(diffs) > 0 {
		// Stored otherwise than sent (a digits-only parent read as an id):
		// a row failure, the record kept as it was, the next run retries.
		return got.AnswerStatus, &StoredDiffError{Status: got.AnswerStatus, Diffs: diffs}
	}
	return got.AnswerStatus, nil
}

// readBack returns c's values as pushed and the CRM's as its answer got
// holds them (refresh.CRMValues: a field the answer does not hold is
// Absent), and the values sent that it holds in other text and not as
// their equal (refresh.EqualValue: an empty onHold held as false is): only
// those can differ (Differences); nil when none. No map is made for the
// outcome (an import's million upserts made two million: some 5% of its
// CPU), and none compared when the CRM holds every value as the very
// text sent (most upserts).
func readBack(got *crm.Customer, c *customer.Customer,
	countryCode func(string) (string, bool), known *fieldAnswers) (p state.Pushed, other map[string]string) {
	r := refresh.ReadingOf(got, countryCode)
	p.Names, p.Vals = c.Sorted()
	last := known.Load()
	same := last != nil
	for i, f := range p.Names {
		var ans *refresh.Answer
		if same = same && i < len(last.names) && last.names[i] == f; same {
			ans = last.answers[i]
		} else {
			ans = refresh.AnswerOf(f)
		}
		if ans == nil {
			p.Held = append(p.Held, state.Held{At: i, Absent: true}) // not given back: not compared
			continue
		}
		v, held := p.Vals[i], r.Value(ans)
		if held == v {
			continue
		}
		p.Held = append(p.Held, state.Held{At: i, Value: held})
		if refresh.EqualValue(f, v, held) {
			continue // Differences would pass it: cleared, held as cleared
		}
		if other == nil {
			other = map[string]string{}
		}
		other[f] = v
	}
	if !same || len(p.Names) != len(last.names) {
		known.learn(c)
	}
	return p, other
}

// fieldAnswers are the answers (refresh.AnswerOf) of the field names of
// the last customer read back, in its order: every customer of a read
// shares its names, so readBack takes each field's answer by its place,
// the names compared (equal strings of one array), not searched (0.8% of
// an import's CPU).
type fieldAnswers struct{ atomic.Pointer[namedAnswers] }

type namedAnswers struct {
	names   []string
	answers []*refresh.Answer
}

// learn keeps the answers of c's fields.
func (k *fieldAnswers) learn(c *customer.Customer) {
	n := &namedAnswers{names: c.FieldNames()}
	for _, f := range n.names {
		n.answers = append(n.answers, refresh.AnswerOf(f))
	}
	k.Store(n)
}

// unstored is a CRM whose upsert answers are not what it stored (DryRun
// sends nothing): they are not compared with what was sent.
type unstored interface{ answersUnstored() }

// storedDiffs compares what an upsert sent with what the CRM answered it
// stored, canonically (Differences). A value the CRM names in a way erpsync
// cannot read back (a dueDateConfigType name or a country it does not
// know) cannot be compared and is left out: drift handles it (driftChanges).
func (a *applier) storedDiffs(sent, stored map[string]string) []plan.Change {
	if _, ok := a.api.(unstored); ok || len(sent) == 0 {
		return nil
	}
	diffs := refresh.Differences(sent, stored)
	return slices.DeleteFunc(diffs, func(d plan.Change) bool {
		f, ok := customer.Lookup(d.Field)
		if !ok || d.Old == "" {
			return false
		}
		switch f.Kind {
		case customer.KindDueType:
			_, known := customer.DueType(d.Old)
			return !known
		case customer.KindCountry:
			_, known := a.opt.CountryCode(d.Old)
			return !known
		}
		return false
	})
}

// StoredDiffError is an upsert the CRM answered with values other than
// those sent, compared in canonical form (Differences): a row failure.
type StoredDiffError struct {
	Status int           // the answer's HTTP status
	Diffs  []plan.Change // Old: what the CRM stored; New: what was sent
}

// CodeStoredDiffers is the error code of a StoredDiffError in the reports.
const CodeStoredDiffers = "stored_differs"

// maxDiffsShown bounds the differences a StoredDiffError's text lists
// (errors.csv, the failures table): the others are counted.
const maxDiffsShown = 5

func (e *StoredDiffError) Error() string {
	n := min(len(e.Diffs), maxDiffsShown)
	parts := make([]string, n, n+1)
	for i, d := range e.Diffs[:n] {
		parts[i] = fmt.Sprintf("the CRM stored %s for field %s, sent %s", mapping.Excerpt(d.Old), d.Field, mapping.Excerpt(d.New))
	}
	if len(e.Diffs) > n {
		parts = append(parts, fmt.Sprintf("and %d more fields differ", len(e.Diffs)-n))
	}
	return strings.Join(parts, "; ")
}

// keepCopy is the first step of a delete and of a deactivation: the
// CRM's last copy of the customer (an audit trail to restore from) kept
// in out, with its id; inactive keeps it as a deactivation leaves it
// (isActive=false, what tells a deactivated customer from a deleted one
// when its row comes back). A customer the CRM no longer holds is done,
// with nothing to send: status 404. A status or an error ends the
// removal; 0 and nil let it send its write.
func (a *applier) keepCopy(ctx context.Context, act *plan.Action, out *state.Outcome, inactive bool) (int, error) {
	cur, err := a.api.ShowByReference(ctx, act.Reference)
	switch {
	case crm.IsNotFound(err):
		return http.StatusNotFound, nil
	case err != nil:
		return 0, err
	}
	if inactive {
		cur.IsActive = false
	}
	if out.DeletedCopy, err = json.Marshal(cur); err != nil {
		return 0, fmt.Errorf("keep copy: %w", err)
	}
	out.CRMID = cur.ID
	return 0, nil
}

// delete keeps the CRM's last copy (keepCopy), then deletes. A customer
// already gone counts as deleted (status 404).
func (a *applier) delete(ctx context.Context, act *plan.Action, out *state.Outcome) (int, error) {
	if status, err := a.keepCopy(ctx, act, out, false); status != 0 || err != nil {
		return status, err
	}
	status, err := a.api.DeleteByReferenceStatus(ctx, act.Reference)
	switch {
	case crm.IsNotFound(err):
		return http.StatusNotFound, nil
	case err != nil:
		return 0, err
	}
	return status, nil
}

// describe splits an error into the API's status, code and message.
func describe(err error) (int, string, string) {
	var diff *StoredDiffError
	if errors.As(err, &diff) {
		return diff.Status, CodeStoredDiffers, diff.Error()
	}
	var apiErr *crm.APIError
	if errors.As(err, &apiErr) {
		msg := apiErr.Description
		if msg == "" {
			msg = err.Error()
		}
		return apiErr.Status, apiErr.Code, msg
	}
	return 0, "", err.Error()
}
