package sync

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/crm"
)

// Statuses of a reference in a reconciliation.
const (
	StatusMatched   = "matched"
	StatusOnlyInERP = "only_in_erp"
	StatusOnlyInCRM = "only_in_crm"
	StatusDifferent = "different"
)

// Tolerance is how far two numbers may be apart and still agree: within
// Absolute, or within Relative of the larger.
type Tolerance struct {
	Absolute float64 `yaml:"absolute"`
	Relative float64 `yaml:"relative"`
}

// DefaultTolerance is exact to the cent.
var DefaultTolerance = Tolerance{Absolute: 0.005}

// ReconcileOptions are the settings of a reconciliation.
type ReconcileOptions struct {
	Concurrency int // pages fetched at once; default 8
	PageSize    int // default 500
	// Tolerance per numeric field; DefaultTolerance when absent.
	Tolerance map[string]Tolerance
	// CountryCode canonicalises countries on the CRM side.
	CountryCode func(string) (string, bool)
}

// ReconcileCheckpoint is what a reconciliation reads of the checkpoint to
// explain differences; it may be nil.
type ReconcileCheckpoint interface {
	Get(ctx context.Context, ref string) (*state.Record, error)
	Failures(ctx context.Context) ([]state.Failure, error)
}

// Reconciliation is the comparison of an export with the CRM.
type Reconciliation struct {
	Summary ReconcileSummary         `json:"summary"`
	Fields  map[string]int           `json:"fields"` // differences per field
	Totals  map[string]CurrencyTotal `json:"totals"` // per currency
	Items   []ReconcileItem          `json:"items"`  // every reference that does not match
	// RowErrors are export rows that could not be read (not compared).
	RowErrors []string `json:"row_errors,omitempty"`
	Listing   Listing  `json:"listing"`
}

// ReconcileSummary counts references by status.
type ReconcileSummary struct {
	Matched   int `json:"matched"`
	OnlyInERP int `json:"only_in_erp"`
	OnlyInCRM int `json:"only_in_crm"`
	Different int `json:"different"`
}

// CurrencyTotal is the count and credit limits of one currency on each side.
type CurrencyTotal struct {
	ERPCount       int     `json:"erp_count"`
	CRMCount       int     `json:"crm_count"`
	ERPCreditLimit float64 `json:"erp_credit_limit"`
	CRMCreditLimit float64 `json:"crm_credit_limit"`
	Difference     float64 `json:"difference"` // ERP minus CRM
}

// ReconcileItem is a reference that does not match.
type ReconcileItem struct {
	Reference   string      `json:"reference"`
	Status      string      `json:"status"`
	Line        int         `json:"line,omitempty"`
	Managed     bool        `json:"managed"` // erpsync pushed it
	Differences []FieldDiff `json:"differences,omitempty"`
	Explanation string      `json:"explanation"`
}

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

// Reconcile compares an export with everything the CRM holds. It writes
// nothing anywhere.
func Reconcile(ctx context.Context, rows Rows, api Lister, cp ReconcileCheckpoint, opt ReconcileOptions) (*Reconciliation, error) {
	if opt.CountryCode == nil {
		opt.CountryCode = func(string) (string, bool) { return "", false }
	}
	res := &Reconciliation{Fields: map[string]int{}, Totals: map[string]CurrencyTotal{}}
	erp, err := res.readERP(rows)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	crmAll, listing, err := ListAll(ctx, api, opt.Concurrency, opt.PageSize)
	if err != nil {
		return nil, err
	}
	listing.Seconds = time.Since(start).Seconds()
	res.Listing = listing
	byRef := make(map[string]*crm.Customer, len(crmAll))
	for _, c := range crmAll {
		byRef[c.Reference] = c
	}
	failures, err := failuresByRef(ctx, cp)
	if err != nil {
		return nil, err
	}
	for _, ref := range unionSorted(erp, byRef) {
		var rec *state.Record
		if cp != nil {
			if rec, err = cp.Get(ctx, ref); err != nil {
				return nil, fmt.Errorf("read checkpoint of %s: %w", ref, err)
			}
		}
		e, c := erp[ref], byRef[ref]
		res.total(e, c)
		item := compare(ref, e, c, rec, opt)
		if f, failed := failures[ref]; failed && item != nil {
			item.Explanation = fmt.Sprintf("the last push failed: %d %s %s", f.Status, f.Code, f.Message)
		}
		res.count(item)
	}
	res.roundTotals()
	return res, nil
}

// readERP reads the export: its customers by reference, its invalid rows
// into the result.
func (r *Reconciliation) readERP(rows Rows) (map[string]*erpSide, error) {
	erp := map[string]*erpSide{}
	err := rows(func(row mapping.Row) error {
		if row.Err != nil {
			r.RowErrors = append(r.RowErrors, row.Err.Error())
			return nil
		}
		c := row.Customer
		erp[c.Reference] = &erpSide{line: c.Line, fields: c.Fields(), flagged: c.Delete}
		return nil
	})
	return erp, err
}

// failuresByRef reads the checkpoint's pending failures, when there is a
// checkpoint.
func failuresByRef(ctx context.Context, cp ReconcileCheckpoint) (map[string]state.Failure, error) {
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

// unionSorted returns the references of both sides, sorted.
func unionSorted(erp map[string]*erpSide, byRef map[string]*crm.Customer) []string {
	refs := slices.Collect(maps.Keys(erp))
	for ref := range byRef {
		if _, ok := erp[ref]; !ok {
			refs = append(refs, ref)
		}
	}
	slices.Sort(refs)
	return refs
}

// count adds a comparison's item (nil: the two sides match) to the summary.
func (r *Reconciliation) count(item *ReconcileItem) {
	if item == nil {
		r.Summary.Matched++
		return
	}
	switch item.Status {
	case StatusOnlyInERP:
		r.Summary.OnlyInERP++
	case StatusOnlyInCRM:
		r.Summary.OnlyInCRM++
	case StatusDifferent:
		r.Summary.Different++
		for _, d := range item.Differences {
			r.Fields[d.Field]++
		}
	}
	r.Items = append(r.Items, *item)
}

// roundTotals rounds the totals to cents and computes their differences.
func (r *Reconciliation) roundTotals() {
	for cur, t := range r.Totals {
		t.Difference = round2(t.ERPCreditLimit - t.CRMCreditLimit)
		t.ERPCreditLimit, t.CRMCreditLimit = round2(t.ERPCreditLimit), round2(t.CRMCreditLimit)
		r.Totals[cur] = t
	}
}

// Agree reports whether the ERP and the CRM agree on everything.
func (r *Reconciliation) Agree() bool {
	return r.Summary.OnlyInERP+r.Summary.OnlyInCRM+r.Summary.Different == 0
}

// total adds a reference to the totals per currency.
func (r *Reconciliation) total(e *erpSide, c *crm.Customer) {
	if e != nil && !e.flagged {
		cur := e.fields["currency"]
		if cur == "" && c != nil {
			cur = c.Currency // the export does not say: the CRM's default applied
		}
		if cur == "" {
			cur = "?"
		}
		t := r.Totals[cur]
		t.ERPCount++
		if v, err := strconv.ParseFloat(e.fields["creditLimit"], 64); err == nil {
			t.ERPCreditLimit += v
		}
		r.Totals[cur] = t
	}
	if c != nil {
		t := r.Totals[c.Currency]
		t.CRMCount++
		if c.CreditLimit != nil {
			t.CRMCreditLimit += *c.CreditLimit
		}
		r.Totals[c.Currency] = t
	}
}

// compare classifies one reference; nil when it matches.
func compare(ref string, e *erpSide, c *crm.Customer, rec *state.Record, opt ReconcileOptions) *ReconcileItem {
	managed := rec != nil
	switch {
	case e != nil && e.flagged && c == nil:
		return nil // flagged for deletion and gone: as expected
	case e != nil && e.flagged:
		return &ReconcileItem{Reference: ref, Status: StatusOnlyInCRM, Line: e.line, Managed: managed,
			Explanation: "flagged for deletion in the export, still in the CRM (not yet synced)"}
	case e == nil:
		why := "not managed by erpsync (created in the CRM)"
		if managed {
			why = "managed by erpsync, absent from the export (removed in the ERP; deletes are not mirrored yet)"
		}
		return &ReconcileItem{Reference: ref, Status: StatusOnlyInCRM, Managed: managed, Explanation: why}
	case c == nil:
		why := "new in the ERP, not yet synced"
		if managed {
			why = "deleted in the CRM by hand since the last sync"
		}
		return &ReconcileItem{Reference: ref, Status: StatusOnlyInERP, Line: e.line, Managed: managed, Explanation: why}
	}
	fields := slices.Sorted(maps.Keys(e.fields))
	crmVals := CRMValues(c, fields, opt.CountryCode)
	var diffs []FieldDiff
	for _, f := range fields {
		want, got := e.fields[f], crmVals[f]
		if _, compared := crmVals[f]; !compared || equalValue(f, want, got) || withinTolerance(f, want, got, opt.Tolerance) {
			continue
		}
		d := FieldDiff{Field: f, ERP: want, CRM: got, Delta: delta(want, got)}
		switch {
		case rec == nil:
		case rec.Values[f] != want:
			d.Explanation = "the ERP changed it, not yet synced"
		case !c.LastUpdated.Equal(rec.CRMLastUpdated):
			d.Explanation = "edited in the CRM by hand since the last sync"
		}
		diffs = append(diffs, d)
	}
	if len(diffs) == 0 {
		return nil
	}
	why := "differs, and erpsync never pushed it"
	if managed {
		why = diffs[0].Explanation
		if why == "" {
			why = "differs from what erpsync pushed"
		}
	}
	return &ReconcileItem{Reference: ref, Status: StatusDifferent, Line: e.line, Managed: managed, Differences: diffs, Explanation: why}
}

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
