package plan

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/parents"
	"erpsync/sync/plan/policy"
	"erpsync/sync/plan/reference"
	"erpsync/sync/plan/refindex"
	"erpsync/sync/plan/rowerrors"
)

// Op is what an action does in the CRM.
type Op string

const (
	OpCreate Op = "create" // upsert of a reference erpsync never pushed
	OpUpdate Op = "update" // upsert of a managed reference whose values changed
	OpDelete Op = "delete" // delete by reference
)

// Why an action is planned.
const (
	ReasonNew            = "new"
	ReasonChanged        = "changed"
	ReasonMappingChanged = "mapping changed"
	ReasonDrift          = "edited in the CRM"
	ReasonDeletedByHand  = "deleted by hand in the CRM"
	ReasonFlagged        = "flagged for deletion"
	ReasonRetry          = "its last push failed"
	ReasonAbsent         = "absent from the export"
	// ReasonReactivated is the update of a customer erpsync deactivated
	// whose row came back: sent with isActive=true.
	ReasonReactivated = "back in the export: reactivated (sync.deletes: deactivate)"
	// ReasonAbsentDeactivate is a mirror delete under sync.deletes:
	// deactivate: the plan files say what is sent.
	ReasonAbsentDeactivate = ReasonAbsent + deactivateNote
	// ReasonAbsentHeld is a mirror delete held: the export has a row whose
	// reference is missing or unusable, which may be this customer's
	// (Plan.DeletesHeld says which lines).
	ReasonAbsentHeld = "absent from the export; held: a row of the export has no usable reference and may be this customer's"
)

// deactivateNote ends the reason of a delete sent as isActive=false.
const deactivateNote = "; sent as isActive=false (sync.deletes: deactivate)"

// Action is one planned request.
type Action struct {
	Op        Op
	Reference string
	Line      int               // export line; 0 for a delete of an absent reference
	Customer  *mapping.Customer // what to upsert; nil for a delete, and in a lean plan (see Options.Lean)
	Changes   []Change          // an update's fields, old → new; see FieldChanges
	Reason    string
	Parent    string // the parent's reference, for ordering

	// end holds the row's hash (prefix) with its lowest bit cleared: a
	// lean plan's row, read again, must match it; that bit is set once
	// the apply has told Done of the action's end (sent, failed, or not
	// sent). One word instead of two keeps an Action in the 112-byte
	// size class: a run after a mapping change plans one a customer (a
	// lean plan's row keeps its own end: see leanRow.settleFrom, and
	// makes no Action of a create with no parent: draftRow).
	end atomic.Uint64
}

// rowHash is the hash (prefix) of the row the action was planned from,
// lowest bit cleared; 0 for a delete of an absent reference.
func (a *Action) rowHash() uint64 { return a.end.Load() &^ 1 }

// Settle marks the action's end as told; it reports whether it already
// was.
func (a *Action) Settle() (already bool) { return a.end.Or(1)&1 == 1 }

// Settled reports whether the action's end was told (Settle).
func (a *Action) Settled() bool { return a.end.Load()&1 == 1 }

// FieldChanges returns the action's changes field by field: an update's
// as planned; a create's, every mapped field from empty, built when asked
// (an import of a million creates does not hold a million lists).
func (a *Action) FieldChanges() []Change {
	if a.Op != OpCreate || a.Customer == nil || a.Changes != nil {
		return a.Changes
	}
	names := a.Customer.FieldNames()
	out := make([]Change, len(names))
	for i, f := range names {
		out[i] = Change{Field: f, New: a.Customer.Field(f)}
	}
	return out
}

// Drift is a managed customer whose CRM copy differs from what erpsync
// last pushed.
type Drift struct {
	Reference string   `json:"reference"`
	CRMID     int64    `json:"crm_id,omitempty"`
	Changes   []Change `json:"changes,omitempty"` // Old: the CRM's value, New: what erpsync pushed
	Deleted   bool     `json:"deleted,omitempty"` // deleted by hand in the CRM: erp_wins re-creates it
}

// Plan is everything a run would do, in order. Len, All, Count and
// UpsertWave read it whole, lean or not.
type Plan struct {
	// Upserts in waves: every parent is in an earlier wave than its
	// sub-customers. Nil in a lean plan (Options.Lean), whose
	// upserts are compact rows: see UpsertWave.
	Upserts [][]*Action
	// Deletes in waves, after every upsert: every sub-customer is in an
	// earlier wave than its parent.
	Deletes   [][]*Action
	Unchanged int
	// RowErrors are the first row errors, up to Options.MaxErrors;
	// RowErrorsOmitted counts the others, and RowErrorKinds every one by
	// kind, with a few lines of each (RowErrorCount: all of them).
	RowErrors        []*mapping.RowError
	RowErrorsOmitted int
	RowErrorKinds    []rowerrors.Kind
	// Drift found by the refresh; with erp_wins the unchanged ones among
	// them are also in Upserts.
	Drift []Drift
	Rows  int // data rows read
	// Every row read is one of: an action's row, unchanged, invalid (the
	// lines of RowErrors), merged into an identical earlier row, or
	// ignored (flagged for deletion but never in the CRM).
	InvalidRows    int
	Merged         []Merged
	Conflicts      []Merged // references met with differing values: every line is invalid (one row error for them all)
	Ignored        int
	Managed        int // references in the checkpoint before the run
	MappingChanged bool
	// MappingUpdates counts, when the mapping changed, the updates whose
	// mapped values differ from those last pushed (reason "mapping
	// changed"); the other customers are compared by value, not sent.
	MappingUpdates int
	// Warnings are values read but looking wrong (an email without @):
	// their rows are sent as they are; the warnings are shown and reported.
	// Bounded as RowErrors are: WarningCount counts them all.
	Warnings        []*mapping.RowError
	WarningsOmitted int
	WarningKinds    []rowerrors.Kind
	// RowSums are the row sums of unchanged records the checkpoint holds
	// without (planrowsum.go): a run saves them once its outcomes are
	// recorded, unless it was cancelled (sqlite.DB.SaveRowSums: a record
	// whose hash changed meanwhile is left alone); a dry run does not.
	RowSums []state.RowSum
	// Rehashed are the records whose values are those last pushed but
	// whose hash differs (the mapping changed): not sent, counted
	// unchanged; a run saves their new hashes and row sums once its
	// outcomes are recorded (sqlite.DB.SaveHashes); a dry run does not.
	Rehashed []state.Rehash
	// SameBySum counts the unchanged rows known by their row sum alone,
	// never mapped (planrowsum.go).
	SameBySum int
	// DeletesHeld, when set, says why the mirror deletes of this plan are
	// held (listed, never sent): a row whose reference is missing or
	// unusable may be any customer absent from the export.
	DeletesHeld string
	// NotDeleted counts the managed references absent from a mirror
	// export that reference.Check refuses (a/b, recorded before the
	// check): never deleted by their path, each a row error that is no
	// row (not in InvalidRows), yet a row failure of the run.
	NotDeleted int
	// Skipped are the rows sync.mode does not send (update_only: new
	// customers; create_only: changed ones), the first MaxErrors of them;
	// SkippedCount counts them all.
	Skipped      []policy.Skipped
	SkippedCount int
	// Deactivate says that the deletes are sent as isActive=false
	// (sync.deletes: deactivate): the CRM keeps the customer.
	Deactivate bool

	lean     *leanPlan           // a lean plan's upserts; nil otherwise
	withheld map[string][]string // an update's fields not sent under sync.fields (WithheldOf)
}

// Merged is a reference whose rows were identical: they are one customer,
// and the lines after the first are merged into it (a warning). Lines
// are the first maxDupLines of its Rows.
type Merged struct {
	Reference string
	Lines     []int
	Rows      int // rows of the reference, merged into one; 0: len(Lines)
}

// RowCount counts the reference's rows.
func (m Merged) RowCount() int { return max(m.Rows, len(m.Lines)) }

// MergedRows counts the rows merged into an identical earlier row.
func (p *Plan) MergedRows() int {
	n := 0
	for _, m := range p.Merged {
		n += m.RowCount() - 1
	}
	return n
}

// RowErrorCount counts the row errors, kept in RowErrors or not.
func (p *Plan) RowErrorCount() int { return len(p.RowErrors) + p.RowErrorsOmitted }

// WarningCount counts the warnings, kept in Warnings or not.
func (p *Plan) WarningCount() int { return len(p.Warnings) + p.WarningsOmitted }

// Count returns the number of actions of an operation.
func (p *Plan) Count(op Op) int {
	n := 0
	if p.lean != nil {
		n = p.lean.count(op)
	}
	for _, waves := range [][][]*Action{p.Upserts, p.Deletes} {
		for _, w := range waves {
			for _, a := range w {
				if a.Op == op {
					n++
				}
			}
		}
	}
	return n
}

// Len returns the number of actions.
func (p *Plan) Len() int {
	n := 0
	if p.lean != nil {
		n = len(p.lean.rows)
	}
	for _, waves := range [][][]*Action{p.Upserts, p.Deletes} {
		for _, w := range waves {
			n += len(w)
		}
	}
	return n
}

// UpsertWaves returns the number of upsert waves.
func (p *Plan) UpsertWaves() int {
	if p.lean != nil {
		return len(p.lean.waves)
	}
	return len(p.Upserts)
}

// UpsertWave yields the upserts of wave i, in order. A lean plan's are
// made as they are yielded: each is a new Action, held by no one else.
func (p *Plan) UpsertWave(i int) iter.Seq[*Action] {
	return func(yield func(*Action) bool) {
		if lp := p.lean; lp != nil {
			start, end := lp.wave(i)
			for j := start; j < end; j++ {
				if !yield(lp.action(j)) {
					return
				}
			}
			return
		}
		for _, a := range p.Upserts[i] {
			if !yield(a) {
				return
			}
		}
	}
}

// All yields every action in the order of execution; a lean plan's
// upserts are made as they are yielded (UpsertWave).
func (p *Plan) All() iter.Seq[*Action] {
	return func(yield func(*Action) bool) {
		for i := range p.UpsertWaves() {
			for a := range p.UpsertWave(i) {
				if !yield(a) {
					return
				}
			}
		}
		for _, w := range p.Deletes {
			for _, a := range w {
				if !yield(a) {
					return
				}
			}
		}
	}
}

// Actions returns every action in the order of execution, all at once:
// for a small plan. A large one is read with All, Len and Count.
func (p *Plan) Actions() []*Action { return slices.Collect(p.All()) }

// Checkpoint is what planning reads of the checkpoint.
type Checkpoint interface {
	// Count returns the number of managed references.
	Count(ctx context.Context) (int, error)
	// Hashes streams every managed (reference, hash).
	Hashes(ctx context.Context, fn func(ref, hash string) error) error
	// Get returns a managed record, or nil.
	Get(ctx context.Context, ref string) (*state.Record, error)
}

// Options are the settings of a plan.
type Options struct {
	File      string // export name, for row errors
	Deletes   policy.DeleteMode
	MaxDelete guard.Optional // unset: off, every delete planned is allowed
	Drift     []Drift
	policy.DriftPolicy
	// ImportOnly plans upserts only: no deletes of any kind, no drift.
	ImportOnly bool
	// MappingChanged says the mapping's fingerprint differs from the one
	// of the checkpoint (every hash then differs too).
	MappingChanged bool
	// ParentInCRM reports whether a reference that is neither in the export
	// nor managed exists in the CRM. Nil means it does not.
	ParentInCRM func(ref string) (bool, error)
	// Retry names the references whose last push failed: an unchanged row
	// of one is sent again (the failure kept its record's last good state,
	// which may be the row's own).
	Retry map[string]bool
	// References says how the CRM compares references: unless exactly,
	// references of the export equal ignoring case, accents and trailing
	// spaces are row errors (planrefs.go).
	References reference.Mode
	// DeleteDespiteRowErrors plans the mirror deletes even when a row's
	// reference is missing or unusable (sync.delete_despite_row_errors);
	// otherwise they are held (Plan.DeletesHeld).
	DeleteDespiteRowErrors bool
	// Lean keeps no customer in the plan, only where its rows are: the apply
	// reads them again from the export (apply.Options.Rows), wave by wave.
	// The upserts are compact rows with no pointer (32 bytes and their
	// reference's), made into Actions one at a time when asked (All,
	// UpsertWave); its creates with no parent are compact from the read
	// of their rows on (draftRow). An import of a million rows then
	// holds some 45 bytes per row instead of its whole content, at the
	// cost of a second read and of the updates' field-by-field changes.
	Lean bool
	// MaxErrors is how many row errors, and how many warnings, the plan
	// keeps whole (reports.max_errors); the others are counted by kind.
	// 0: rowerrors.DefaultMax.
	MaxErrors int
	// Fields holds the fields' policies (sync.fields): who owns each.
	Fields policy.Fields
	// Mode says what the run may do (sync.mode); "": sync.
	Mode policy.Mode
	// Deactivated, when set, says whether a reference the checkpoint does
	// not manage is a customer erpsync deactivated (sync.deletes:
	// deactivate), and what the CRM holds of it: its row coming back is a
	// reactivation of a customer the CRM still holds, planned as an update
	// under the fields' policies (ReasonReactivated), not a create.
	Deactivated func(ctx context.Context, ref string) (crm map[string]string, ok bool, err error)

	// Preload, when set, is the checkpoint's hashes already streaming in
	// (Load, of the same checkpoint); Build takes it and stops it.
	Preload *Preload

	// keyOf, when set (by tests: export_test.go), is the 64-bit hash of a
	// reference the index keys it by, instead of maphash: a test makes
	// references collide with it.
	keyOf func(ref string) uint64
}

// Rows streams an export: it calls fn for each row and returns fn's error.
type Rows func(fn func(mapping.Row) error) error

// dupRows are the lines of a reference met more than once: the first
// maxDupLines of them, and how many there are.
type dupRows struct {
	lines  []int
	rows   int
	differ bool
}

// maxDupLines bounds the lines kept of a reference's repeated rows: a .gz
// of millions of identical rows keeps ten.
const maxDupLines = 10

// add counts one more line of the reference.
func (d *dupRows) add(line int) {
	d.rows++
	if len(d.lines) < maxDupLines {
		d.lines = append(d.lines, line)
	}
}

// planner holds the state of one Build.
type planner struct {
	opt  Options
	seed maphash.Seed
	refs refindex.Index
	// parentOf holds, for rows with a parent, the parent's reference (both
	// as hashes: 16 bytes a row, whatever the length of the references).
	parentOf parents.Index
	// list holds the actions planned from rows, in the order of their
	// lines; one is found by its reference through refs (its first valid
	// row's line), with no map of references (issue 14 §3: a million
	// creates). Actions taken back (rejected rows) are in dropped.
	list    []*Action
	slab    []Action  // where the next actions are allocated (newAction)
	text    textArena // a lean plan's copies of references
	dropped map[*Action]bool
	// drafts are a lean plan's creates with no parent, in the order of
	// their lines, as compact rows (draftRow): not in list. draftText holds
	// their references and codes; draftsTaken counts those taken back.
	drafts      []draftRow
	draftText   *leanStrings
	draftsTaken int
	drifted     map[string]string // reference → reason
	dups        map[string]*dupRows
	errs        *rowerrors.Set  // row errors: the first MaxErrors kept, all counted
	warns       *rowerrors.Set  // warnings, as errs
	ignored     map[string]bool // flagged for deletion, never in the CRM
	inCRM       map[string]bool // parents asked of the CRM (ParentInCRM), and its answers
	plan        *Plan
	load        *loader // the checkpoint streaming in; nil once sealed
	// Lazy rows (planrowsum.go): how many came in the current window,
	// and how many of them had to be mapped after all.
	lazyRows, lazyMapped int
	// unknown are the first maxUnknownLines lines of the rows whose
	// reference is missing or unusable (rows arrive in line order), and
	// unknownRows counts them: any managed customer may be theirs
	// (planDeletes).
	unknown []int
	held    int // mirror deletes held for them
	// folds holds the references met that fold to another text (planrefs.go).
	folds map[string][]string

	unknownRows int // rows without a usable reference (unknown: their first lines)
	// crmNow holds what the refresh saw the CRM hold of the fields whose
	// policy is not erp, where it differs from what was pushed.
	crmNow map[string]map[string]string

	// A lean plan's updates keep their customers only while fewer than
	// leanBatch wait (pending): their values are then compared with those
	// last pushed (flushLean), and the customers let go; sameLean keeps
	// what the plan needs of those whose values are the same. ctx and cp
	// are BuildPlan's, for that comparison during the read.
	pending  []*Action
	sameLean map[*Action]state.Rehash
	keeps    []map[string]bool // the sets of mapped fields the Rehashed share (keepOf)
	ctx      context.Context
	cp       Checkpoint
}

// Build compares an export with the checkpoint and returns what must
// change in the CRM, and nothing more. It reads the checkpoint and the
// rows; it writes nowhere. A guard that trips returns the plan and a
// *guard.Error.
func Build(ctx context.Context, rows Rows, cp Checkpoint, opt Options) (*Plan, error) {
	pl := &planner{
		opt:       opt,
		seed:      maphash.MakeSeed(),
		dropped:   map[*Action]bool{},
		drifted:   map[string]string{},
		dups:      map[string]*dupRows{},
		ignored:   map[string]bool{},
		inCRM:     map[string]bool{},
		plan:      &Plan{MappingChanged: opt.MappingChanged, Deactivate: opt.Deletes == policy.DeletesDeactivate},
		crmNow:    map[string]map[string]string{},
		sameLean:  map[*Action]state.Rehash{},
		draftText: &leanStrings{},
		ctx:       ctx,
		cp:        cp,
	}
	stopLoading, err := pl.startLoading(ctx, cp)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	defer stopLoading()
	pl.opt.Drift = pl.driftByPolicy(opt.Drift)
	for _, d := range pl.opt.Drift {
		pl.drifted[d.Reference] = ReasonDrift
		if d.Deleted {
			pl.drifted[d.Reference] = ReasonDeletedByHand
		}
	}
	if err := rows(pl.row); err != nil {
		return nil, err
	}
	if err := cmp.Or(pl.waitLoaded(), pl.refs.Err()); err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	pl.refs.DropSums() // the rows are read: 8 MB a million records
	pl.sortList()
	pl.rejectDuplicates()
	pl.rejectFolded()
	if !opt.ImportOnly {
		pl.applyDrift()
	}
	if err := pl.checkParents(); err != nil {
		return nil, err
	}
	if err := pl.describeChanges(ctx, cp); err != nil {
		return nil, err
	}
	pl.plan.Upserts = pl.upsertWaves()
	if opt.Lean {
		pl.plan.lean, pl.plan.Upserts = newLeanPlan(pl.plan.Upserts, pl.drafts, pl.draftText), nil
		pl.drafts, pl.draftText = nil, nil
	}
	if !opt.ImportOnly {
		if err := pl.planDeletes(ctx, pl.absentOnly(cp)); err != nil {
			return nil, err
		}
	}
	if pl.refs.Err() != nil { // a stretch read again to tell two references apart (refindex)
		return nil, fmt.Errorf("read checkpoint: %w", pl.refs.Err())
	}
	pl.sealErrors()
	slices.SortFunc(pl.plan.RowErrors, func(a, b *mapping.RowError) int { return a.Line - b.Line })
	return pl.plan, pl.guard()
}

// row takes one export row.
func (pl *planner) row(r mapping.Row) error {
	if r.Lazy() {
		done, err := pl.sameRow(r)
		if done || err != nil {
			return err
		}
		r = r.Map()
	}
	pl.plan.Rows++
	for _, w := range r.Warnings {
		pl.warning(w)
	}
	if r.Err == nil {
		if err := reference.Check(r.Customer.Reference); err != nil {
			// The row is present: its reference keeps its last good state
			// and is never taken as absent (a mirror delete).
			r.Err = &mapping.RowError{File: pl.opt.File, Line: r.Customer.Line, Column: "reference",
				Reference: r.Customer.Reference, Err: err}
		}
	}
	if r.Err != nil {
		return pl.invalid(r.Err)
	}
	c := r.Customer
	parent := c.Field("parentCustomer")
	pl.noteReference(c.Reference, c.Line, parent)
	k := pl.key(c.Reference)
	e, at, err := pl.lookupAt(c.Reference, k)
	if err != nil {
		return err
	}
	rowHash := uint32(hashPrefix(c.Hash)>>32) &^ 1
	if e.Line > 0 {
		pl.duplicate(c, e, rowHash)
		return nil
	}
	e.Line, e.Row = int32(c.Line), rowHash
	managed := e.CP != 0
	switch {
	case c.Delete && managed && !pl.opt.Mode.Deletes():
		pl.skip(c, "flagged for deletion, not deleted: sync.mode is "+string(pl.opt.Mode))
	case c.Delete:
		if managed { // a flagged reference never created costs no request
			a := pl.newAction()
			a.Op, a.Reference, a.Line, a.Reason = OpDelete, c.Reference, c.Line, pl.flaggedReason()
			pl.list = append(pl.list, a)
		} else {
			pl.plan.Ignored++
			pl.ignored[c.Reference] = true
		}
	case !managed:
		if err := pl.createOrReactivate(c); err != nil {
			return err
		}
	case e.CP != hashPrefix(c.Hash):
		reason := ReasonChanged
		if pl.opt.MappingChanged {
			reason = ReasonMappingChanged
		}
		pl.upsertIf(OpUpdate, c, reason)
	case pl.opt.Retry[c.Reference] && pl.opt.Mode != policy.ModeCreateOnly:
		// Unchanged in the export, but its last push failed: a repair of
		// a hand edit, say, whose drift the next refresh no longer sees.
		pl.upsert(OpUpdate, c, ReasonRetry)
	default:
		e.Row |= 1 // counted unchanged
		pl.plan.Unchanged++
		pl.keepRowSum(c, at)
		// With erp_wins, an unchanged customer edited in the CRM goes back.
		pl.unchanged(c)
	}
	pl.refs.SetAt(at, k, e)
	if parent != "" && !c.Delete {
		pl.parentOf.Set(k, pl.key(parent))
	}
	if len(pl.pending) >= leanBatch {
		return pl.flushLean(pl.ctx)
	}
	return nil
}

// duplicate takes a row of a reference met before (e): identical rows
// are one customer, differing ones are all rejected once the export is
// read (rejectDuplicates).
func (pl *planner) duplicate(c *mapping.Customer, e refindex.Entry, rowHash uint32) {
	d := pl.dups[c.Reference]
	if d == nil {
		d = &dupRows{}
		d.add(int(e.Line))
		pl.dups[strings.Clone(c.Reference)] = d
	}
	d.add(c.Line)
	d.differ = d.differ || rowHash != e.Row&^1
}

// invalid takes an invalid row. A reference whose row is present but
// invalid keeps its last good state: it is neither updated nor deleted.
func (pl *planner) invalid(rowErr *mapping.RowError) error {
	pl.rowError(rowErr)
	pl.plan.InvalidRows++
	ref := rowErr.Reference
	if ref == "" || reference.Check(ref) != nil {
		pl.unknownRows++
		if len(pl.unknown) < maxUnknownLines {
			pl.unknown = append(pl.unknown, rowErr.Line)
		}
	}
	if ref == "" {
		return nil
	}
	pl.noteReference(ref, rowErr.Line, "")
	k := pl.key(ref)
	e, at, err := pl.lookupAt(ref, k)
	if err != nil {
		return err
	}
	if e.Line == 0 {
		e.Line = -1
		pl.refs.SetAt(at, k, e)
	}
	return nil
}

// maxUnknownLines bounds the lines kept of rows without a usable
// reference: a .gz of millions of them keeps five, and counts them.
const maxUnknownLines = 5

// upsert plans a create or an update of c. A lean plan keeps copies of
// the few strings it needs, so that the row's text can go; its creates
// with no parent are drafts, not Actions.
func (pl *planner) upsert(op Op, c *mapping.Customer, reason string) {
	parent := c.Field("parentCustomer")
	if pl.opt.Lean && op == OpCreate && parent == "" {
		pl.drafts = append(pl.drafts, draftRow{end: hashPrefix(c.Hash) &^ 1, ref: pl.draftText.put(c.Reference),
			line: int32(c.Line), reason: pl.draftText.code(reason)})
		return
	}
	a := pl.newAction()
	a.Op, a.Reference, a.Line, a.Customer, a.Reason = op, c.Reference, c.Line, c, reason
	a.Parent = parent
	a.end.Store(hashPrefix(c.Hash) &^ 1)
	if pl.opt.Lean {
		a.Reference, a.Parent = pl.text.clone(a.Reference), pl.text.clone(a.Parent)
		if op != OpUpdate { // an update's values are compared first (flushLean)
			a.Customer = nil
		} else {
			pl.pending = append(pl.pending, a)
		}
	}
	pl.list = append(pl.list, a)
}

// newAction returns a new, empty action. Actions are allocated in
// chunks of up to slabMax: an Action is 112 bytes either way, but an
// import of a million makes a thousand allocations instead of a million.
func (pl *planner) newAction() *Action {
	if len(pl.slab) == 0 {
		pl.slab = make([]Action, min(max(2*len(pl.list), 16), slabMax))
	}
	a := &pl.slab[0]
	pl.slab = pl.slab[1:]
	return a
}

// slabMax is the largest chunk of actions allocated at once.
const slabMax = 1024

// textArena copies short strings into shared chunks: a lean plan's
// million references take their bytes (9 for K00000001), not a 16-byte
// object each. A chunk is only appended to, so the strings cut from it
// never change.
type textArena struct{ b strings.Builder }

// arenaChunk is the size of a textArena's chunks.
const arenaChunk = 64 << 10

func (t *textArena) clone(s string) string {
	if s == "" || len(s) > arenaChunk/16 {
		return strings.Clone(s)
	}
	if t.b.Cap()-t.b.Len() < len(s) {
		t.b = strings.Builder{} // the last chunk stays with its strings
		t.b.Grow(arenaChunk)
	}
	start := t.b.Len()
	t.b.WriteString(s)
	return t.b.String()[start:]
}

// unchanged remembers an unchanged customer only when drift may need it.
func (pl *planner) unchanged(c *mapping.Customer) {
	reason := pl.drifted[c.Reference]
	if pl.opt.ImportOnly || pl.opt.DriftPolicy != policy.DriftERPWins || reason == "" || !pl.allowed(OpUpdate, c) {
		return
	}
	pl.upsert(OpUpdate, c, reason)
	pl.plan.Unchanged--
}

// rejectDuplicates turns every row of a reference met with differing
// values into a row error naming all its lines.
func (pl *planner) rejectDuplicates() {
	for _, ref := range slices.Sorted(maps.Keys(pl.dups)) {
		d := pl.dups[ref]
		if !d.differ {
			pl.plan.Merged = append(pl.plan.Merged, Merged{Reference: ref, Lines: d.lines, Rows: d.rows})
			continue
		}
		switch {
		case pl.takeBack(ref): // its action, or draft
		case pl.entryOf(ref).Unchanged():
			pl.plan.Unchanged--
		case pl.ignored[ref]:
			pl.plan.Ignored--
		}
		pl.parentOf.Drop(pl.key(ref))
		pl.rowError(mapping.DuplicateErrorOf(pl.opt.File, ref, d.lines, d.rows))
		pl.plan.Conflicts = append(pl.plan.Conflicts, Merged{Reference: ref, Lines: d.lines, Rows: d.rows}) // the first lines (bounded)
		pl.plan.InvalidRows += d.rows
	}
}

// applyDrift records the drift; with erp_wins, drifted references already
// planned for an update keep their action, and unchanged ones were added by
// row().
func (pl *planner) applyDrift() {
	pl.plan.Drift = pl.opt.Drift
}

func (pl *planner) reject(a *Action, column string, err error) {
	pl.dropped[a] = true
	pl.plan.InvalidRows++
	pl.rowError(&mapping.RowError{File: pl.opt.File, Line: a.Line, Column: column, Reference: a.Reference, Err: err})
}

// rowError takes a row error: kept whole while fewer than MaxErrors are,
// counted by kind in any case.
func (pl *planner) rowError(e *mapping.RowError) {
	if pl.errs == nil {
		pl.errs = rowerrors.New(pl.opt.MaxErrors)
	}
	pl.errs.Add(e)
}

// warning takes a warning, as rowError takes a row error.
func (pl *planner) warning(w *mapping.RowError) {
	if pl.warns == nil {
		pl.warns = rowerrors.New(pl.opt.MaxErrors)
	}
	pl.warns.Add(w)
}

// sealErrors puts the row errors and warnings kept, and their counts by
// kind, in the plan.
func (pl *planner) sealErrors() {
	if s := pl.errs; s != nil {
		pl.plan.RowErrors, pl.plan.RowErrorKinds, pl.plan.RowErrorsOmitted = s.Kept(), s.Kinds(), s.Omitted()
	}
	if s := pl.warns; s != nil {
		pl.plan.Warnings, pl.plan.WarningKinds, pl.plan.WarningsOmitted = s.Kept(), s.Kinds(), s.Omitted()
	}
}

// describeChanges fills each update's field changes, old → new, from the
// values last pushed (a create's are built when asked: FieldChanges).
func (pl *planner) describeChanges(ctx context.Context, cp Checkpoint) error {
	if err := pl.flushLean(ctx); err != nil {
		return err
	}
	var updates []*Action
	for a := range pl.actions() {
		if a.Customer == nil || a.Op == OpCreate {
			continue
		}
		if a.Op != OpUpdate {
			a.Changes = fieldChanges(a.Customer, nil)
			continue
		}
		updates = append(updates, a)
	}
	same, err := pl.sameAsPushed(ctx, cp, updates)
	if err != nil {
		return err
	}
	pl.byValue(updates, same)
	pl.byValueLean()
	return nil
}

// sameAsPushed fills each update's changes from the values last pushed,
// under the fields' policies, and says how its values compare with them.
// The records are read many a statement, on every core (eachPushed: a
// day-2 plan of a million rows has 10,000 updates).
func (pl *planner) sameAsPushed(ctx context.Context, cp Checkpoint, updates []*Action) ([]sameness, error) {
	same := make([]sameness, len(updates))
	withheld := make([][]string, len(updates))
	refs := make([]string, len(updates))
	for i, a := range updates {
		refs[i] = a.Reference
	}
	err := eachPushed(ctx, cp, refs, func(i int, old map[string]string) error {
		a := updates[i]
		a.Changes, withheld[i] = pl.policyChanges(a.Customer, old)
		if old != nil && a.Changes == nil {
			same[i] = sameValues
			if len(old) != fieldCount(a.Customer) {
				same[i] = sameFewerFields
			}
		}
		return nil
	})
	for i, w := range withheld {
		if w != nil {
			if pl.plan.withheld == nil {
				pl.plan.withheld = map[string][]string{}
			}
			pl.plan.withheld[updates[i].Reference] = w
		}
	}
	return same, err
}

// leanBatch is how many updates of a lean plan wait with their customers
// for flushLean: at most some 1,024 customers held, not every update of
// an import after a mapping change.
const leanBatch = 1024

// flushLean compares the pending updates of a lean plan with the values
// last pushed, keeps what byValueLean needs of those whose values are the
// same, and lets their customers go (Apply reads the rows again).
func (pl *planner) flushLean(ctx context.Context) error {
	if len(pl.pending) == 0 {
		return nil
	}
	same, err := pl.sameAsPushed(ctx, pl.cp, pl.pending)
	if err != nil {
		return err
	}
	for i, a := range pl.pending {
		c := a.Customer
		if same[i] != differ && c.Image == nil && (a.Reason == ReasonChanged || a.Reason == ReasonMappingChanged) {
			r := state.Rehash{Reference: a.Reference, Hash: strings.Clone(c.Hash), Sum: c.RowSum}
			if same[i] == sameFewerFields {
				r.Keep = pl.keepOf(c)
			}
			pl.sameLean[a] = r
		}
		a.Customer, a.Changes = nil, nil
	}
	clear(pl.pending)
	pl.pending = pl.pending[:0]
	return nil
}

// byValueLean is byValue for a lean plan's updates, compared by
// flushLean while the export was read.
func (pl *planner) byValueLean() {
	if !pl.opt.Lean {
		return
	}
	for a := range pl.actions() {
		if a.Op != OpUpdate {
			continue
		}
		if r, ok := pl.sameLean[a]; ok {
			if why := pl.stillDue(a.Reference); why != "" {
				a.Reason = why
			} else {
				pl.plan.Rehashed = append(pl.plan.Rehashed, r)
				pl.dropped[a] = true
				pl.plan.Unchanged++
				continue
			}
		}
		if a.Reason == ReasonMappingChanged {
			pl.plan.MappingUpdates++
		}
	}
	pl.sameLean = nil
}

// maxKeeps bounds the sets of mapped field names keepOf shares: the rows
// of one read share one; past it, a set is made for each customer.
const maxKeeps = 16

// keepOf returns the names of c's mapped fields, as a set that the
// checkpoint keeps the values of (state.Rehash.Keep) when fields pushed
// then are no longer mapped: one set shared by the customers that map
// the same fields, not a map of values each (a lean plan of 50,000 such
// updates held 17 MiB of them).
func (pl *planner) keepOf(c *mapping.Customer) map[string]bool {
	n := fieldCount(c)
	for _, k := range pl.keeps {
		if len(k) == n && keepsAll(k, c) {
			return k
		}
	}
	k := make(map[string]bool, n)
	for f := range c.All() {
		k[f] = true
	}
	if len(pl.keeps) < maxKeeps {
		pl.keeps = append(pl.keeps, k)
	}
	return k
}

// keepsAll reports whether every mapped field of c is in k.
func keepsAll(k map[string]bool, c *mapping.Customer) bool {
	for f := range c.All() {
		if !k[f] {
			return false
		}
	}
	return true
}

// fieldCount is the number of mapped fields of c.
func fieldCount(c *mapping.Customer) int {
	n := 0
	for range c.All() {
		n++
	}
	return n
}

// sameness is how an update's values compare with those last pushed.
type sameness uint8

const (
	differ          sameness = iota
	sameValues               // every field as last pushed
	sameFewerFields          // as last pushed, but fields pushed then are no longer mapped
)

// byValue takes back the updates whose mapped values are those last
// pushed (issue 21 §3): their hash differs only by the mapping's salt (a
// mapping change: a values alias, null_values), or the checkpoint kept an
// older hash. They are counted unchanged, and their new hashes kept for
// the checkpoint (Plan.Rehashed). One with an image is sent (the image is
// compared by its hash only), and so is one drifted or whose last push
// failed, with that reason. It counts the updates left under a mapping
// change; a lean plan's updates let their customers go.
func (pl *planner) byValue(updates []*Action, same []sameness) {
	for i, a := range updates {
		c := a.Customer
		byValue := same[i] != differ && c.Image == nil && (a.Reason == ReasonChanged || a.Reason == ReasonMappingChanged)
		if byValue {
			if why := pl.stillDue(a.Reference); why != "" {
				a.Reason = why
			} else {
				r := state.Rehash{Reference: a.Reference, Hash: c.Hash, Sum: c.RowSum}
				if same[i] == sameFewerFields {
					r.Keep = pl.keepOf(c)
				}
				pl.plan.Rehashed = append(pl.plan.Rehashed, r)
				pl.dropped[a] = true
				pl.plan.Unchanged++
			}
		}
		if a.Reason == ReasonMappingChanged && !pl.dropped[a] {
			pl.plan.MappingUpdates++
		}
		if pl.opt.Lean {
			a.Customer, a.Changes = nil, nil // read again by the apply
		}
	}
}

// stillDue says why a customer whose values are those last pushed is sent
// all the same: edited in the CRM (with erp_wins), or its last push
// failed; "" when it is not.
func (pl *planner) stillDue(ref string) string {
	if why := pl.drifted[ref]; why != "" && !pl.opt.ImportOnly && pl.opt.DriftPolicy == policy.DriftERPWins {
		return why
	}
	if pl.opt.Retry[ref] {
		return ReasonRetry
	}
	return ""
}

// valuesReader reads a record's values alone (sqlite.DB does).
type valuesReader interface {
	Values(ctx context.Context, ref string) (map[string]string, error)
}

// lastPushed returns the values last pushed of a managed reference, nil
// for one not managed.
func lastPushed(ctx context.Context, cp Checkpoint, ref string) (map[string]string, error) {
	if vr, ok := cp.(valuesReader); ok {
		return vr.Values(ctx, ref)
	}
	rec, err := cp.Get(ctx, ref)
	if rec == nil || err != nil {
		return nil, err
	}
	return rec.Values, nil
}

// fieldChanges lists the fields of c that differ from old; every field
// when old is nil. A field old does not hold (mapped since, even empty)
// is a change: it was never pushed.
func fieldChanges(c *mapping.Customer, old map[string]string) []Change {
	n := 0 // counted first: 10,000 updates keep their lists to the end of a run
	for f, v := range c.All() {
		if o, ok := old[f]; !ok || o != v {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]Change, 0, n)
	for f, v := range c.All() {
		if o, ok := old[f]; !ok || o != v {
			out = append(out, Change{Field: f, Old: o, New: v})
		}
	}
	return out
}

// guard checks the delete budget and the size of the export.
func (pl *planner) guard() error {
	if pl.opt.ImportOnly {
		return nil
	}
	deletes := pl.plan.Count(OpDelete) - pl.held // a held delete is not sent
	allowed := pl.opt.MaxDelete.Of(pl.plan.Managed)
	if pl.opt.MaxDelete.Set && deletes > allowed {
		return &guard.Error{Guard: "max_delete", Detail: fmt.Sprintf(
			"the plan deletes %d of %d managed customers, more than max_delete allows (%s = %d); nothing was written",
			deletes, pl.plan.Managed, pl.opt.MaxDelete, allowed)}
	}
	if pl.opt.Deletes.Mirrors() && pl.opt.Mode.Deletes() && pl.plan.Rows == 0 && pl.plan.Managed > 0 {
		return &guard.Error{Guard: "empty export", Detail: fmt.Sprintf(
			"the export has no rows while %d customers are managed; nothing was written", pl.plan.Managed)}
	}
	return nil
}

// MemoryLimit is the Go memory a plan against a checkpoint of
// records managed references aims to stay within (the process sets it
// as its soft limit, GOMEMLIMIT, for a run): the plan's index takes about
// 24 bytes a reference for the whole plan, its row sums 8 while the
// export is read, its parents 16 a sub-customer, its batches and actions
// a few tens of MB: at 1,000,000 records, 52 MB live at most (68 before
// issue 25's index). Within the limit, GOGC=50 decides; near it, the
// collector runs more often and the runtime gives its free pages back to
// the system at once, where it would keep them for a while. At 1,000,000
// records: 98 MiB (117 before, for 68 MB live). A run that plans more
// than 100,000 actions (a mapping change: every customer updated) drops
// the limit once planned (cmd/erpsync/memory.go).
func MemoryLimit(records int) int64 {
	return 56<<20 + 44*int64(records)
}

// Change is one field's old and new canonical value.
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}
