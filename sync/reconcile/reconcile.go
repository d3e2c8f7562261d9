package reconcile

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/plan"
	"erpsync/sync/plan/policy"
	"erpsync/sync/plan/rowerrors"
	"erpsync/sync/refresh"
)

// Statuses of a reference in a reconciliation.
const (
	StatusMatched   = "matched"
	StatusOnlyInERP = "only_in_erp"
	StatusOnlyInCRM = "only_in_crm"
	StatusDifferent = "different"
	// StatusRefused is a reference whose last push the CRM refused (or
	// that never got an answer): erpsync could not send it. An export
	// row erpsync itself refused is StatusInvalid.
	StatusRefused = "refused"
	// StatusCRMOwned is a reference that matches but for values the CRM
	// owns under sync.fields (Item.CRMOwned): counted matched.
	StatusCRMOwned = "crm_owned"
	// StatusDeactivated is a customer erpsync deactivated (sync.deletes:
	// deactivate): absent from the export, kept inactive in the CRM, as
	// erpsync left it. Listed, no difference, out of the totals.
	StatusDeactivated = "deactivated"
)

// Verdicts of a reconciliation (Reconciliation.Verdict).
const (
	VerdictAgree  = "agree"
	VerdictExcept = "agree except rows erpsync could not send"
	VerdictDiffer = "differ"
)

// Tolerance is how far two numbers may be apart and still agree: within
// Absolute, or within Relative of the larger.
type Tolerance struct {
	Absolute float64 `yaml:"absolute"`
	Relative float64 `yaml:"relative"`
}

// DefaultTolerance is exact to the cent.
var DefaultTolerance = Tolerance{Absolute: 0.005}

// Options are the settings of a reconciliation.
type Options struct {
	Concurrency int // pages fetched at once; default 8
	PageSize    int // the max asked for; 0: the client's page size
	// Tolerance per numeric field; DefaultTolerance when absent.
	Tolerance map[string]Tolerance
	// CountryCode canonicalises countries on the CRM side.
	CountryCode func(string) (string, bool)
	// MaxErrors is how many invalid rows are kept whole (RowErrors and
	// their items), as a plan's (reports.max_errors); the others are
	// counted (RowErrorsOmitted). 0: rowerrors.DefaultMax.
	MaxErrors int
	// Fields are the fields' policies (sync.fields): a value the CRM owns
	// under them is no difference (Item.CRMOwned).
	Fields policy.Fields
	// SpillDir is where the copies of the CRM's records that differ are
	// spilled while the CRM is listed (a temporary file, 0600, removed
	// before Run returns); "": os.TempDir.
	SpillDir string
	// Sized, when set, is told how many references the export holds once
	// it is read (customers 0), then again with how many customers the
	// CRM holds once its listing knows.
	Sized func(refs, customers int)
	// Limit, when set, is told the Go memory the reconciliation aims to
	// stay within (MemoryLimitOf what it holds) once the export is read,
	// again once the listing knows the CRM's count, and again once the
	// listing is compared and its entries let go: the command sets it as
	// its soft memory limit.
	Limit func(bytes int64)
}

// Size is what a reconciliation holds at once, as MemoryLimitOf counts
// it.
type Size struct {
	// Index is the bytes of the export's index: an entry of 32 bytes a
	// reference, its bytes, where they end, and its slot in the table
	// (some 55 bytes a reference of 9 characters).
	Index int64
	// Customers is how many customers the CRM holds while it is listed
	// and compared: an entry of 24 bytes each (16 more for a record that
	// differs: where its copy was spilled).
	Customers int
	// Items is the report's items once the listing is compared: those
	// made and those to make of the records still to compare (their
	// fields compared one by one).
	Items int
}

// MemoryLimitOf is the Go memory a reconciliation holding s aims to stay
// within: what it holds, pointer-free memory that the collector marks
// without scanning, and 40 MiB above that for the pages being decoded,
// the export's rows being mapped and the collector's room. An item takes
// some 800 bytes (its differences, the values compared).
func MemoryLimitOf(s Size) int64 {
	return 40<<20 + s.Index + 25*int64(s.Customers) + 800*int64(s.Items)
}

// MemoryLimit is MemoryLimitOf a listing of customers against an export
// of refs references of some 9 characters each: 56 bytes a reference and
// 25 a customer. At 4,000,000 of each: 348 MiB, for a process that must
// stay within 500 MiB.
func MemoryLimit(refs, customers int) int64 {
	return MemoryLimitOf(Size{Index: 56 * int64(refs), Customers: customers})
}

// Checkpoint is what a reconciliation reads of the checkpoint to
// explain differences; it may be nil.
type Checkpoint interface {
	Get(ctx context.Context, ref string) (*state.Record, error)
	Failures(ctx context.Context) ([]state.Failure, error)
}

// Reconciliation is the comparison of an export with the CRM.
type Reconciliation struct {
	Summary Summary                  `json:"summary"`
	Fields  map[string]int           `json:"fields"` // differences per field
	Totals  map[string]CurrencyTotal `json:"totals"` // per currency
	Items   []Item                   `json:"items"`  // every reference that does not match
	// RowErrors are export rows that could not be read (not compared):
	// the first Options.MaxErrors of them.
	RowErrors []string `json:"row_errors,omitempty"`
	// RowErrorsOmitted counts the invalid rows past MaxErrors: neither in
	// RowErrors nor in Items, but in Summary.CouldNotSend.
	RowErrorsOmitted int             `json:"row_errors_omitted,omitempty"`
	Listing          refresh.Listing `json:"listing"`
	// ListedAt is when the listing of the CRM started.
	ListedAt time.Time `json:"listed_at"`
	// CreditMapped says whether the mapping reads creditLimit: when it
	// does not, the totals hold counts only, no credit limits to differ.
	CreditMapped bool `json:"-"`
}

// Summary counts references by status.
type Summary struct {
	Matched   int `json:"matched"`
	OnlyInERP int `json:"only_in_erp"`
	OnlyInCRM int `json:"only_in_crm"`
	Different int `json:"different"`
	// CouldNotSend counts the export's rows that erpsync could not send:
	// invalid rows (both lines of a conflicting duplicate pair among
	// them) and rows whose last push the CRM refused.
	CouldNotSend int `json:"could_not_send"`
	// Deactivated counts the customers erpsync deactivated, inactive in
	// the CRM and absent from the export: as expected, no difference.
	Deactivated int `json:"deactivated"`
}

// CurrencyTotal is the count and credit limits of one currency on each side.
type CurrencyTotal struct {
	ERPCount       int     `json:"erp_count"`
	CRMCount       int     `json:"crm_count"`
	ERPCreditLimit float64 `json:"erp_credit_limit"`
	CRMCreditLimit float64 `json:"crm_credit_limit"`
	Difference     float64 `json:"difference"` // ERP minus CRM
	// Matched and Differing count the customers of this currency that
	// match, and those that do not (on one side only, different, or
	// could not send).
	Matched   int `json:"matched"`
	Differing int `json:"differing"`

	creditUnmapped bool // the mapping does not read creditLimit: counts only
}

// MarshalJSON writes the counts alone when the mapping does not read
// creditLimit: the CRM's credit limits are then no difference.
func (t CurrencyTotal) MarshalJSON() ([]byte, error) {
	if t.creditUnmapped {
		return json.Marshal(struct {
			ERPCount  int `json:"erp_count"`
			CRMCount  int `json:"crm_count"`
			Matched   int `json:"matched"`
			Differing int `json:"differing"`
		}{t.ERPCount, t.CRMCount, t.Matched, t.Differing})
	}
	type plain CurrencyTotal
	return json.Marshal(plain(t))
}

// Item is a reference that does not match.
type Item struct {
	Reference   string      `json:"reference"`
	Status      string      `json:"status"`
	Line        int         `json:"line,omitempty"`
	Lines       []int       `json:"lines,omitempty"` // a conflicting duplicate's first lines, every one refused (Explanation counts the others)
	Managed     bool        `json:"managed"`         // erpsync pushed it
	Differences []FieldDiff `json:"differences,omitempty"`
	// CRMOwned are the fields that differ where the CRM's value stands
	// under sync.fields (crm; fill once filled; keep of an empty cell):
	// shown, not counted as differences.
	CRMOwned    []FieldDiff `json:"crm_owned,omitempty"`
	Explanation string      `json:"explanation"`
	// Reason is the explanation's code, for machines (manifest.json):
	// one of the Reason* constants.
	Reason string `json:"reason"`
}

// Reason codes of an Item (its explanation, for machines).
const (
	ReasonInvalidRow      = "invalid_row"          // an export row erpsync could not read
	ReasonConflict        = "conflicting_rows"     // a reference met with differing values
	ReasonLastPushFailed  = "last_push_failed"     // the CRM refused erpsync's last push
	ReasonFlaggedNotGone  = "flagged_not_deleted"  // flagged for deletion, still in the CRM
	ReasonNotManaged      = "not_managed"          // in the CRM only, never erpsync's
	ReasonRemovedInERP    = "removed_in_erp"       // erpsync's, absent from the export
	ReasonNewInERP        = "new_not_synced"       // new in the ERP, not yet synced
	ReasonDeletedByHand   = "deleted_by_hand"      // erpsync's, deleted in the CRM by hand
	ReasonERPChanged      = "erp_changed"          // the ERP changed it, not yet synced
	ReasonEditedByHand    = "edited_by_hand"       // edited in the CRM by hand
	ReasonDiffersFromPush = "differs_from_pushed"  // the CRM holds other than erpsync pushed
	ReasonNeverPushed     = "differs_never_pushed" // differs, and erpsync never pushed it
	ReasonCRMOwned        = "crm_owned"            // matches but for values the CRM owns (sync.fields)
	ReasonDeactivated     = "deactivated"          // erpsync deactivated it: inactive in the CRM, absent from the export
)

// FieldDiff is one field that differs.
type FieldDiff struct {
	Field       string `json:"field"`
	ERP         string `json:"erp"`
	CRM         string `json:"crm"`
	Delta       string `json:"delta,omitempty"` // ERP minus CRM, for numbers
	Explanation string `json:"explanation,omitempty"`
}

// erpSide is what the export says of one reference.
type erpSide struct {
	line    int
	fields  map[string]string
	flagged bool
}

// Run compares an export with everything the CRM holds. It writes
// nothing anywhere. Its memory is bounded by the size of a compact index
// of the export (reconcile_index.go), not by the customers' fields: the
// CRM's pages are compared with the index as they come, and the export is
// read a second time for the rows that are not equal at a glance, so rows
// must be readable twice.
func Run(ctx context.Context, rows plan.Rows, api refresh.Lister, cp Checkpoint, opt Options) (*Reconciliation, error) {
	if opt.CountryCode == nil {
		opt.CountryCode = func(string) (string, bool) { return "", false }
	}
	res := &Reconciliation{Fields: map[string]int{}, Totals: map[string]CurrencyTotal{}}
	x, refused, err := res.readERP(rows, opt.MaxErrors)
	if err != nil {
		return nil, err
	}
	if opt.Sized != nil {
		opt.Sized(x.len(), 0)
	}
	limit(opt, Size{Index: x.bytes()})
	res.CreditMapped = x.creditMapped
	start := time.Now()
	res.ListedAt = start.UTC().Truncate(time.Second)
	side := newCRMSide(x, opt.CountryCode)
	side.dir = opt.SpillDir
	side.sized = func(customers int) {
		if opt.Sized != nil {
			opt.Sized(x.len(), customers)
		}
		limit(opt, Size{Index: x.bytes(), Customers: customers})
	}
	defer side.close()
	listing, err := refresh.ListInto(ctx, api, opt.Concurrency, opt.PageSize, side)
	if err == nil {
		err = cmp.Or(side.err, x.err) // x.err: the CRM's currencies, interned beside the export's
	}
	if err != nil {
		return nil, err
	}
	listing.Seconds = time.Since(start).Seconds()
	res.Listing = listing
	failures, err := failuresByRef(ctx, cp)
	if err != nil {
		return nil, err
	}
	j := &judge{res: res, x: x, side: side, cp: cp, failures: failures, opt: opt, refused: refused}
	pending, err := j.classify(ctx)
	if err != nil {
		return nil, err
	}
	side.release() // what is left to compare is in pending
	limit(opt, Size{Index: x.bytes(), Items: len(res.Items) + pending.left})
	if err := j.detail(ctx, rows, pending); err != nil {
		return nil, err
	}
	if err := side.close(); err != nil {
		return nil, err
	}
	slices.SortFunc(res.Items, func(a, b Item) int { return cmp.Compare(a.Reference, b.Reference) })
	res.roundTotals()
	return res, nil
}

// limit tells opt.Limit the memory limit of a reconciliation holding s.
func limit(opt Options, s Size) {
	if opt.Limit != nil {
		opt.Limit(MemoryLimitOf(s))
	}
}

// readERP indexes the export. Its invalid rows go into the result, as
// items erpsync could not send (the first maxErrors whole, the others
// counted); so do, once the CRM is listed, the rows of a reference met
// with differing values, which a sync refuses alike.
func (r *Reconciliation) readERP(rows plan.Rows, maxErrors int) (*erpIndex, *erpRefusals, error) {
	if maxErrors <= 0 {
		maxErrors = rowerrors.DefaultMax
	}
	x := newERPIndex()
	f := &erpRefusals{invalid: map[string]bool{}, repeated: map[string]*repeatedRef{}}
	err := rows(func(row mapping.Row) error {
		if e := row.Err; e != nil {
			f.invalid[e.Reference] = true
			if len(r.RowErrors) >= maxErrors {
				r.RowErrorsOmitted++
				r.Summary.CouldNotSend++
				return nil
			}
			r.RowErrors = append(r.RowErrors, e.Error())
			r.count(&Item{Reference: e.Reference, Status: StatusInvalid, Line: e.Line, Explanation: e.Error(), Reason: ReasonInvalidRow})
			return nil
		}
		f.note(x, row.Customer)
		return x.add(row.Customer)
	})
	return x, f, err
}

// erpRefusals are the export's rows that erpsync could not send, known
// from the export alone.
type erpRefusals struct {
	invalid  map[string]bool         // references of invalid rows
	repeated map[string]*repeatedRef // references met more than once
}

// repeatedRef is a reference met on more than one line: its first
// maxRepeatLines lines, and how many rows it has.
type repeatedRef struct {
	lines  []int
	rows   int
	differ bool // some of its rows differ in the compared fields: all are refused
}

// maxRepeatLines bounds the lines kept of a repeated reference, as a
// plan's maxDupLines: a reference on a million rows keeps ten.
const maxRepeatLines = 10

// add counts one more line of the reference.
func (rr *repeatedRef) add(line int) {
	rr.rows++
	if len(rr.lines) < maxRepeatLines {
		rr.lines = append(rr.lines, line)
	}
}

// note remembers a row whose reference the index holds already, before
// the row replaces the index's entry.
func (f *erpRefusals) note(x *erpIndex, c *mapping.Customer) {
	i, ok := x.refs.lookup(c.Reference)
	if !ok {
		return
	}
	e := x.entry(i)
	rr := f.repeated[c.Reference]
	if rr == nil {
		rr = &repeatedRef{}
		rr.add(int(e.line))
		f.repeated[c.Reference] = rr
	}
	rr.add(c.Line)
	if _, h, _ := x.hashRow(c); h != e.hash || c.Delete != e.flagged() {
		rr.differ = true
	}
}

// conflict returns a reference met with differing values, nil for any
// other.
func (f *erpRefusals) conflict(ref string) *repeatedRef {
	if rr := f.repeated[ref]; rr != nil && rr.differ {
		return rr
	}
	return nil
}

// failuresByRef reads the checkpoint's pending failures, when there is a
// checkpoint.
func failuresByRef(ctx context.Context, cp Checkpoint) (map[string]state.Failure, error) {
	failures := map[string]state.Failure{}
	if cp == nil {
		return failures, nil
	}
	fs, err := cp.Failures(ctx)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	for _, f := range fs {
		failures[f.Reference] = f
	}
	return failures, nil
}

// judge classifies the references of both sides once the CRM is listed.
type judge struct {
	res      *Reconciliation
	x        *erpIndex
	side     *crmSide
	cp       Checkpoint
	failures map[string]state.Failure
	opt      Options
	refused  *erpRefusals
	// defaultCur is the organisation's default currency, learnt once
	// (learnt: whether it was looked for).
	defaultCur string
	learnt     bool
	// cur is the currency of the reference being counted (tally).
	cur string
}

// tally counts a comparison's item (nil: a match) in the summary and in
// the totals of j.cur.
func (j *judge) tally(item *Item) {
	j.res.count(item)
	cur := cmp.Or(j.cur, "?")
	t := j.res.Totals[cur]
	if item == nil {
		t.Matched++
	} else {
		t.Differing++
	}
	j.res.Totals[cur] = t
}

// classify counts the totals and every reference whose status the
// entries tell; it returns the references whose fields must be compared
// one by one: where the spill file holds their CRM copies, by export
// entry.
func (j *judge) classify(ctx context.Context) (*pendingRows, error) {
	seen := make([]uint64, (j.x.len()+63)/64) // bit i: export entry i was listed
	pending := &pendingRows{}
	for k := range j.side.entries {
		c := &j.side.entries[k]
		if c.exp < 0 {
			if err := j.onlyInCRM(ctx, c); err != nil {
				return nil, err
			}
			continue
		}
		j.res.totalCRM(j.x.curs[c.cur], c)
		seen[c.exp/64] |= 1 << (c.exp % 64)
		e := j.x.entry(c.exp)
		cur := cmp.Or(e.cur, c.cur)
		j.cur = j.x.curs[cur]
		j.res.totalERP(e, j.cur)
		off, kept := j.side.keptOff(c)
		switch {
		case j.conflict(j.x.refs.ref(c.exp), kept):
		case e.flagged():
			copyCRM, err := j.side.copyOf(c)
			if err != nil {
				return nil, err
			}
			if err := j.item(ctx, j.x.refs.ref(c.exp), &erpSide{line: int(e.line), flagged: true}, copyCRM); err != nil {
				return nil, err
			}
		case c.match():
			j.tally(nil)
		case !kept:
			return nil, fmt.Errorf("reconcile %s: the CRM's copy was not kept", j.x.refs.ref(c.exp))
		default:
			pending.add(c.exp, cur, off)
		}
	}
	for i := range int32(j.x.len()) {
		if seen[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		if err := j.onlyInERP(ctx, i); err != nil {
			return nil, err
		}
	}
	pending.seal()
	return pending, nil
}

// onlyInCRM classifies a record of the CRM that is not in the export.
func (j *judge) onlyInCRM(ctx context.Context, c *crmEntry) error {
	kept, err := j.side.copyOf(c)
	if err == nil && kept == nil {
		err = fmt.Errorf("reconcile customer %d: the CRM's copy was not kept", c.id)
	}
	if err != nil {
		return err
	}
	if !kept.IsActive {
		if done, err := j.deactivated(ctx, kept.Reference); err != nil || done {
			return err // done: out of the totals
		}
	}
	j.res.totalCRM(j.x.curs[c.cur], c)
	j.cur = j.x.curs[c.cur]
	return j.item(ctx, kept.Reference, nil, kept)
}

// onlyInERP classifies export entry i, which the CRM did not list.
func (j *judge) onlyInERP(ctx context.Context, i int32) error {
	e := j.x.entry(i)
	if j.conflict(j.x.refs.ref(i), false) {
		return nil
	}
	j.cur = j.x.curs[e.cur]
	if e.flagged() {
		j.tally(nil) // flagged for deletion and gone: as expected
		return nil
	}
	cur := j.x.curs[e.cur]
	if cur == "" {
		var err error
		if cur, err = j.defaultCurrency(ctx); err != nil {
			return err
		}
	}
	j.res.totalERP(e, cur)
	j.cur = cur
	return j.item(ctx, j.x.refs.ref(i), &erpSide{line: int(e.line)}, nil)
}

// maxCurrencyProbes bounds the checkpoint look-ups that learn the
// organisation's default currency.
const maxCurrencyProbes = 1000

// defaultCurrency is the currency that the CRM gave a managed customer
// whose export row has none: the organisation's default. "" when no such
// customer is found.
func (j *judge) defaultCurrency(ctx context.Context) (string, error) {
	if j.learnt || j.cp == nil {
		return j.defaultCur, nil
	}
	j.learnt = true
	probes := 0
	for k := range j.side.entries {
		c := &j.side.entries[k]
		if c.exp < 0 || c.cur == 0 || j.x.entry(c.exp).cur != 0 || j.x.entry(c.exp).flagged() {
			continue
		}
		ref := j.x.refs.ref(c.exp)
		rec, err := j.cp.Get(ctx, ref)
		if err != nil {
			return "", fmt.Errorf("read checkpoint of %s: %w", ref, err)
		}
		if rec != nil {
			j.defaultCur = j.x.curs[c.cur]
			break
		}
		if probes++; probes == maxCurrencyProbes {
			break
		}
	}
	return j.defaultCur, nil
}

// detail reads the export again and compares, field by field, the rows
// that were not equal at a glance.
func (j *judge) detail(ctx context.Context, rows plan.Rows, pending *pendingRows) error {
	if pending.left == 0 {
		return nil
	}
	err := rows(func(row mapping.Row) error {
		if row.Err != nil {
			return nil
		}
		c := row.Customer
		i, ok := j.x.refs.lookup(c.Reference)
		if !ok {
			return nil
		}
		p := pending.find(i)
		if p == nil || int(j.x.entry(i).line) != c.Line {
			return nil
		}
		if _, h, _ := j.x.hashRow(c); h != j.x.entry(i).hash {
			return fmt.Errorf("the export changed while it was reconciled: line %d (%s)", c.Line, c.Reference)
		}
		pending.markDone(p)
		copyCRM, err := j.side.copyAt(p.off)
		if err != nil {
			return fmt.Errorf("reconcile %s: %w", c.Reference, err)
		}
		j.cur = j.x.curs[p.cur]
		return j.item(ctx, c.Reference, &erpSide{line: c.Line, fields: c.Fields()}, copyCRM)
	})
	if err == nil && pending.left > 0 {
		err = fmt.Errorf("the export changed while it was reconciled: %d rows not found again", pending.left)
	}
	return err
}

// item compares one reference with its checkpoint entry at hand and
// counts the result.
func (j *judge) item(ctx context.Context, ref string, e *erpSide, c *crmCopy) error {
	var rec *state.Record
	if j.cp != nil {
		var err error
		if rec, err = j.cp.Get(ctx, ref); err != nil {
			return fmt.Errorf("read checkpoint of %s: %w", ref, err)
		}
	}
	if e == nil && j.refused.invalid[ref] {
		return nil // the CRM's copy of an invalid row: listed with the row
	}
	item := compare(ref, e, c, rec, j.opt)
	if f, failed := j.failures[ref]; failed && item != nil {
		item.Explanation = fmt.Sprintf("the last push failed: %d %s %s", f.Status, f.Code, f.Message)
		item.Reason = ReasonLastPushFailed
		if e != nil && !e.flagged {
			item.Status = StatusRefused // a row of the export that erpsync could not send
		}
	}
	j.tally(item)
	return nil
}

// conflict counts, when ref was met with differing values, its rows as
// refused (a sync sends none of them), and reports whether it was.
func (j *judge) conflict(ref string, inCRM bool) bool {
	rr := j.refused.conflict(ref)
	if rr == nil {
		return false
	}
	why := mapping.DuplicateErrorOf("", ref, rr.lines, rr.rows).Err.Error() + ": refused, none of them is sent"
	if inCRM {
		why += " (the CRM keeps its copy)"
	}
	j.tally(&Item{Reference: ref, Status: StatusInvalid, Line: rr.lines[0], Lines: rr.lines, Explanation: why, Reason: ReasonConflict})
	j.res.Summary.CouldNotSend += rr.rows - len(rr.lines) // its rows past the lines listed
	return true
}

// count adds a comparison's item (nil: the two sides match) to the summary.
func (r *Reconciliation) count(item *Item) {
	if item == nil {
		r.Summary.Matched++
		return
	}
	switch item.Status {
	case StatusCRMOwned:
		r.Summary.Matched++
	case StatusDeactivated:
		r.Summary.Deactivated++
	case StatusOnlyInERP:
		r.Summary.OnlyInERP++
	case StatusOnlyInCRM:
		r.Summary.OnlyInCRM++
	case StatusDifferent:
		r.Summary.Different++
		for _, d := range item.Differences {
			r.Fields[d.Field]++
		}
	case StatusInvalid, StatusRefused:
		r.Summary.CouldNotSend += max(1, len(item.Lines))
	}
	r.Items = append(r.Items, *item)
}

// roundTotals rounds the totals to cents and computes their differences.
func (r *Reconciliation) roundTotals() {
	for cur, t := range r.Totals {
		t.Difference = round2(t.ERPCreditLimit - t.CRMCreditLimit)
		t.ERPCreditLimit, t.CRMCreditLimit = round2(t.ERPCreditLimit), round2(t.CRMCreditLimit)
		t.creditUnmapped = !r.CreditMapped
		r.Totals[cur] = t
	}
}

// Agree reports whether the ERP and the CRM agree on everything, every
// row of the export sent.
func (r *Reconciliation) Agree() bool { return r.Verdict() == VerdictAgree }

// Verdict is VerdictDiffer when a customer differs (or is on one side
// only) for any other reason than a row erpsync could not send;
// VerdictExcept when only such rows keep the two apart; else
// VerdictAgree.
func (r *Reconciliation) Verdict() string {
	switch s := r.Summary; {
	case s.OnlyInERP+s.OnlyInCRM+s.Different > 0:
		return VerdictDiffer
	case s.CouldNotSend > 0:
		return VerdictExcept
	}
	return VerdictAgree
}

// Differences counts the customers that keep the ERP and the CRM apart:
// on one side only, different, or rows erpsync could not send.
func (r *Reconciliation) Differences() int {
	s := r.Summary
	return s.OnlyInERP + s.OnlyInCRM + s.Different + s.CouldNotSend
}

// Compared counts the customers compared, on either side: the total a
// share of -fail-over is taken of.
func (r *Reconciliation) Compared() int {
	s := r.Summary
	return s.Matched + s.OnlyInERP + s.OnlyInCRM + s.Different + s.CouldNotSend
}

// Over reports whether the differences pass failOver (reconcile
// -fail-over: a count, or a share of Compared); the zero limit is passed
// by any difference.
func (r *Reconciliation) Over(failOver plan.Limit) bool {
	return r.Differences() > failOver.Of(r.Compared())
}

// VerdictText says the verdict in a sentence, for the console and the
// HTML report.
func (r *Reconciliation) VerdictText() string {
	s := r.Summary
	switch r.Verdict() {
	case VerdictDiffer:
		return "The ERP and the CRM differ."
	case VerdictExcept:
		return fmt.Sprintf("The ERP and the CRM agree except %d rows erpsync could not send.", s.CouldNotSend)
	}
	return "The ERP and the CRM agree."
}

// totalERP adds an export row to the totals of its currency: the
// export's, else the CRM's copy's, else the organisation's default; "?"
// when nobody says.
func (r *Reconciliation) totalERP(e *erpEntry, cur string) {
	if e.flagged() {
		return
	}
	if cur == "" {
		cur = "?"
	}
	t := r.Totals[cur]
	t.ERPCount++
	if e.hasCredit() {
		t.ERPCreditLimit += e.credit
	}
	r.Totals[cur] = t
}

// totalCRM adds a record of the CRM to the totals of its currency.
func (r *Reconciliation) totalCRM(cur string, c *crmEntry) {
	t := r.Totals[cur]
	t.CRMCount++
	if c.hasCredit() {
		t.CRMCreditLimit += c.credit
	}
	r.Totals[cur] = t
}

// compare classifies one reference; nil when it matches.
func compare(ref string, e *erpSide, c *crmCopy, rec *state.Record, opt Options) *Item {
	managed := rec != nil
	switch {
	case e != nil && e.flagged && c == nil:
		return nil // flagged for deletion and gone: as expected
	case e != nil && e.flagged:
		return &Item{Reference: ref, Status: StatusOnlyInCRM, Line: e.line, Managed: managed,
			Explanation: "flagged for deletion in the export, still in the CRM (not yet synced)", Reason: ReasonFlaggedNotGone}
	case e == nil:
		why, code := "not managed by erpsync (created in the CRM)", ReasonNotManaged
		if managed {
			why, code = "managed by erpsync, absent from the export (removed in the ERP; deletes are not mirrored yet)", ReasonRemovedInERP
		}
		return &Item{Reference: ref, Status: StatusOnlyInCRM, Managed: managed, Explanation: why, Reason: code}
	case c == nil:
		why, code := "new in the ERP, not yet synced", ReasonNewInERP
		if managed {
			why, code = "deleted in the CRM by hand since the last sync", ReasonDeletedByHand
		}
		return &Item{Reference: ref, Status: StatusOnlyInERP, Line: e.line, Managed: managed, Explanation: why, Reason: code}
	}
	fields := slices.Sorted(maps.Keys(e.fields))
	crmVals := c.Values // the compared fields, as refresh.CRMValues read them
	var diffs, owned []FieldDiff
	for _, f := range fields {
		want, got := e.fields[f], crmVals[f]
		if _, compared := crmVals[f]; !compared || refresh.EqualValue(f, want, got) || withinTolerance(f, want, got, opt.Tolerance) {
			continue
		}
		d := FieldDiff{Field: f, ERP: want, CRM: got, Delta: delta(want, got)}
		if opt.Fields.CRMOwns(f, want, got) {
			d.Explanation = fmt.Sprintf("the CRM's value stands (sync.fields: %s)", opt.Fields.Of(f))
			owned = append(owned, d)
			continue
		}
		switch {
		case rec == nil:
		case rec.Values[f] != want:
			d.Explanation = explainERPChanged
		case !c.LastUpdated.Equal(rec.CRMLastUpdated):
			d.Explanation = explainEditedByHand
		}
		diffs = append(diffs, d)
	}
	if len(diffs) == 0 && len(owned) == 0 {
		return nil
	}
	if len(diffs) == 0 {
		return &Item{Reference: ref, Status: StatusCRMOwned, Line: e.line, Managed: managed, CRMOwned: owned,
			Explanation: "matches but for values the CRM owns (sync.fields)", Reason: ReasonCRMOwned}
	}
	why, code := "differs, and erpsync never pushed it", ReasonNeverPushed
	if managed {
		why, code = diffs[0].Explanation, diffReason[diffs[0].Explanation]
		if why == "" {
			why, code = "differs from what erpsync pushed", ReasonDiffersFromPush
		}
	}
	return &Item{Reference: ref, Status: StatusDifferent, Line: e.line, Managed: managed, Differences: diffs, CRMOwned: owned, Explanation: why, Reason: code}
}

// The explanations of a field that differs, and their codes.
const (
	explainERPChanged   = "the ERP changed it, not yet synced"
	explainEditedByHand = "edited in the CRM by hand since the last sync"
)

var diffReason = map[string]string{explainERPChanged: ReasonERPChanged, explainEditedByHand: ReasonEditedByHand}

// withinTolerance compares numbers with the field's tolerance.
func withinTolerance(field, a, b string, tol map[string]Tolerance) bool {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA != nil || errB != nil {
		return false
	}
	t, ok := tol[field]
	if !ok {
		t = DefaultTolerance
	}
	d := math.Abs(x - y)
	return d <= t.Absolute || d <= t.Relative*math.Max(math.Abs(x), math.Abs(y))
}

func delta(a, b string) string {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA != nil || errB != nil {
		return ""
	}
	return strconv.FormatFloat(round2(x-y), 'f', -1, 64)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
