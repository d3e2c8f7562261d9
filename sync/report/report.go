package report

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"github.com/gocarina/gocsv"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/apply"
	"erpsync/sync/crm"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/rowerrors"
)

// SafeCell makes a CSV cell inert in a spreadsheet: a text cell that
// starts with =, +, -, @, a tab or a carriage return is prefixed with a
// quote, so that it is shown as text and never run as a formula. A plain
// number (-5, -133.55, +2e3) is no formula and stays a number.
func SafeCell(s string) string {
	if s == "" || isPlainDecimal(s) {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// isPlainDecimal reports a number written with an optional sign, digits,
// an optional fraction and an optional exponent: nothing a spreadsheet
// could run.
func isPlainDecimal(s string) bool {
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// safeWriter is the gocsv.CSVWriter that the report files' rows are
// marshalled through: it makes every cell inert (SafeCell) and writes the
// line to w. Its Flush does nothing: gocsv flushes after each call, and
// the report's writer flushes once its lines are whole (a batch, a file).
type safeWriter struct{ w *csv.Writer }

// Write writes one row, every cell made inert; it changes cells.
func (s safeWriter) Write(cells []string) error {
	for i, c := range cells {
		cells[i] = SafeCell(c)
	}
	return s.w.Write(cells)
}

func (s safeWriter) Flush() {}

func (s safeWriter) Error() error { return s.w.Error() }

// WriteHeader writes the header of row struct T, its csv tags in order,
// to w (unflushed).
func WriteHeader[T any](w *csv.Writer) error {
	return gocsv.MarshalCSV([]T{}, safeWriter{w})
}

// WriteRows writes rows of a row struct with csv tags to w through gocsv,
// without header, every cell made inert (SafeCell); w is left unflushed
// for its caller to flush when its lines are whole.
func WriteRows[T any](w *csv.Writer, rows ...T) error {
	return gocsv.MarshalCSVWithoutHeaders(rows, safeWriter{w})
}

// PlanLine is one line of a plan's -out CSV: one per changed field of an
// operation, one for a delete (no field), one per row error.
type PlanLine struct {
	Operation string `csv:"operation"` // create, update, delete; error for a row error
	Reference string `csv:"reference"`
	Line      string `csv:"line"` // the export's line; empty for a delete of an absent reference
	Field     string `csv:"field"`
	Old       string `csv:"old"`
	New       string `csv:"new"`
	Reason    string `csv:"reason"` // why the operation, or the row error's text
}

// WritePlan writes every planned operation in format c (reports.csv),
// one line per changed field (PlanLine); a delete has one line with no
// field.
func (c CSV) WritePlan(w io.Writer, p *plan.Plan) error {
	cw, err := c.NewWriter(w)
	if err != nil {
		return err
	}
	if err := WriteHeader[PlanLine](cw); err != nil {
		return err
	}
	var lines []PlanLine
	for a := range p.All() {
		line := ""
		if a.Line > 0 {
			line = strconv.Itoa(a.Line)
		}
		lines = lines[:0]
		for _, ch := range a.FieldChanges() {
			lines = append(lines, PlanLine{string(a.Op), a.Reference, line, ch.Field, ch.Old, ch.New, a.Reason})
		}
		if len(lines) == 0 {
			lines = append(lines, PlanLine{Operation: string(a.Op), Reference: a.Reference, Line: line, Reason: a.Reason})
		}
		if err := WriteRows(cw, lines...); err != nil {
			return err
		}
	}
	lines = lines[:0]
	for _, e := range p.RowErrors {
		lines = append(lines, PlanLine{Operation: "error", Reference: rowerrors.CutCell(e.Reference), Line: strconv.Itoa(e.Line),
			Field: e.Column, Reason: rowerrors.Text(e)})
	}
	for _, k := range p.RowErrorKinds {
		if n := k.Count - k.Listed; n > 0 {
			lines = append(lines, PlanLine{Operation: "error", Reason: omittedText(n, "row errors", k)})
		}
	}
	if err := WriteRows(cw, lines...); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// planJSON is the JSON form of a plan: every operation with its field
// changes, the row errors, the drift and the warnings.
type planJSON struct {
	Rows      int              `json:"rows"`
	Managed   int              `json:"managed"`
	Unchanged int              `json:"unchanged"`
	Actions   []planActionJSON `json:"actions"`
	RowErrors []planIssueJSON  `json:"row_errors"`
	Warnings  []planIssueJSON  `json:"warnings"`
	Drift     []plan.Drift     `json:"drift"`
	// Every row error and warning by kind; past reports.max_errors, only
	// these count them.
	RowErrorKinds []rowerrors.Kind `json:"row_error_kinds,omitempty"`
	WarningKinds  []rowerrors.Kind `json:"warning_kinds,omitempty"`
}

type planActionJSON struct {
	Op        plan.Op       `json:"op"`
	Reference string        `json:"reference"`
	Line      int           `json:"line,omitempty"`
	Reason    string        `json:"reason"`
	Changes   []plan.Change `json:"changes,omitempty"`
}

type planIssueJSON struct {
	Reference string `json:"reference,omitempty"`
	Line      int    `json:"line,omitempty"`
	Column    string `json:"column,omitempty"`
	Message   string `json:"message"`
}

// WritePlanJSON writes the plan as one JSON document.
func WritePlanJSON(w io.Writer, p *plan.Plan) error {
	doc := planJSON{Rows: p.Rows, Managed: p.Managed, Unchanged: p.Unchanged, Drift: p.Drift,
		Actions: []planActionJSON{}, RowErrors: issuesJSON(p.RowErrors), Warnings: issuesJSON(p.Warnings),
		RowErrorKinds: p.RowErrorKinds, WarningKinds: p.WarningKinds}
	for a := range p.All() {
		doc.Actions = append(doc.Actions, planActionJSON{Op: a.Op, Reference: a.Reference, Line: a.Line,
			Reason: a.Reason, Changes: a.FieldChanges()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func issuesJSON(es []*mapping.RowError) []planIssueJSON {
	out := make([]planIssueJSON, 0, len(es))
	for _, e := range es {
		out = append(out, planIssueJSON{Reference: rowerrors.CutCell(e.Reference), Line: e.Line, Column: e.Column, Message: rowerrors.Text(e)})
	}
	return out
}

// Run writes a run's reports/<run-id>/: success.csv and errors.csv as
// outcomes arrive, and summary.json at the end. Every row of the export
// that the run finished is in exactly one line of the two files (rows
// unchanged by an earlier finished run are in that run's); their lines
// are never cut (reportFile). It is safe for concurrent use.
type Run struct {
	Dir    string
	mode   os.FileMode // of its files
	format CSV         // of its CSV files (reports.csv)
	// DryRun: nothing was sent; what a run would send is listed in
	// success.csv as dry_run, and summary.json counts it as would_send.
	DryRun bool

	mu          gosync.Mutex
	success     *reportFile[OutcomeLine]
	errs        *reportFile[OutcomeLine]
	rows        tally            // actions of the export's rows
	absent      tally            // mirror deletes: references absent from the export
	merged      map[string][]int // reference → its lines, the first sent for all (Expect)
	conflicts   map[int][]int    // first line of a reference met with differing values → all its lines
	listed      lineSet          // export lines that have a report line
	doneEarlier int              // rows listed as done by an earlier run (ListDoneEarlier)
	// cut counts, per repeated reference, its rows past the plan's lines
	// (maxDupLines); rest says what they get, once its first line is
	// listed (ListRepeated).
	cut  map[string]int
	rest map[string]*repeatRest
}

// tally counts how actions ended.
type tally struct{ sent, failed, notSent int }

func (t *tally) add(res apply.Result) {
	switch {
	case res.NotSent != "":
		t.notSent++
	case res.Err != nil:
		t.failed++
	default:
		t.sent++
	}
}

// OutcomeLine is one line of success.csv and errors.csv: a row's or an
// action's outcome.
type OutcomeLine struct {
	Operation  string `csv:"operation"`   // create, update, delete; read for a row the export could not give
	Reference  string `csv:"reference"`   // the customer's reference
	Line       string `csv:"line"`        // the export's line; empty for an action with no row
	HTTPStatus string `csv:"http_status"` // the CRM's HTTP status, when it answered
	Error      string `csv:"error"`       // the error code (success.csv: dry_run, merged, done_earlier)
	Message    string `csv:"message"`
}

// WarningLine is one line of warnings.csv: a value read but looking wrong.
type WarningLine struct {
	Reference string `csv:"reference"`
	Line      string `csv:"line"`
	Column    string `csv:"column"` // the export's column
	Warning   string `csv:"warning"`
}

// DefaultMode is the mode of a run's report files, which hold
// customer data: the owner and its group read them, no one else
// (reports.file_mode).
const DefaultMode os.FileMode = 0o640

// DirMode is the mode of a folder of files of mode m: searchable by whom
// may read them.
func DirMode(m os.FileMode) os.FileMode { return m | (m&0o444)>>2 }

// New creates a new folder for a run's reports in parent, named
// name or, when that is taken (two configs sharing reports.dir), name-2,
// name-3 …: a report never overwrites another. It creates its two CSV
// files, of mode mode (0: DefaultMode; the umask may narrow it), in
// format (reports.csv), as every CSV file of the run.
func New(parent, name string, mode os.FileMode, format CSV) (*Run, error) {
	if mode == 0 {
		mode = DefaultMode
	}
	if err := os.MkdirAll(parent, DirMode(mode)); err != nil {
		return nil, fmt.Errorf("create report dir: %w", err)
	}
	dir, err := newDir(parent, name, DirMode(mode))
	if err != nil {
		return nil, err
	}
	r := &Run{Dir: dir, mode: mode, format: format}
	if r.success, err = createReportFile[OutcomeLine](filepath.Join(dir, "success.csv"), mode, format); err != nil {
		return nil, err
	}
	if r.errs, err = createReportFile[OutcomeLine](filepath.Join(dir, "errors.csv"), mode, format); err != nil {
		r.success.close()
		return nil, err
	}
	return r, nil
}

// newDir creates parent/name, or the first free parent/name-N.
func newDir(parent, name string, mode os.FileMode) (string, error) {
	for i := 1; i <= 1000; i++ {
		dir := filepath.Join(parent, name)
		if i > 1 {
			dir += "-" + strconv.Itoa(i)
		}
		err := os.Mkdir(dir, mode)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("create report dir: %w", err)
		}
	}
	return "", fmt.Errorf("create report dir: 1000 folders named %s in %s", name, parent)
}

// Expect is told the plan before any outcome: the lines merged into an
// identical first one are listed with that line's outcome, and every line
// of a reference met with differing values with its row error.
func (r *Run) Expect(p *plan.Plan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.merged, r.conflicts = map[string][]int{}, map[int][]int{}
	r.cut, r.rest = map[string]int{}, map[string]*repeatRest{}
	for _, m := range p.Merged {
		r.merged[m.Reference] = m.Lines
		if n := m.RowCount() - len(m.Lines); n > 0 {
			r.cut[m.Reference] = n
		}
	}
	for _, c := range p.Conflicts {
		r.conflicts[c.Lines[0]] = c.Lines
		if n := c.RowCount() - len(c.Lines); n > 0 {
			r.cut[c.Reference] = n
		}
	}
}

// Add records an applied action.
func (r *Run) Add(res apply.Result) {
	line := ""
	if res.Action.Line > 0 {
		line = strconv.Itoa(res.Action.Line)
	}
	status := ""
	if res.Status > 0 {
		status = strconv.Itoa(res.Status)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if res.Action.Line > 0 {
		r.rows.add(res)
	} else {
		r.absent.add(res)
	}
	w, code, msg := r.success, res.Code, res.Message
	switch {
	case res.NotSent != "":
		w, code, msg = r.errs, "not_sent", res.NotSent
	case res.Err != nil:
		w = r.errs
	case r.DryRun:
		code, msg = "dry_run", "not sent: a dry run (it would be sent)"
	}
	op, ref := string(res.Action.Op), res.Action.Reference
	w.line(OutcomeLine{op, ref, line, status, code, msg})
	r.listed.add(res.Action.Line)
	if lines := r.merged[ref]; res.Action.Line > 0 && len(lines) > 1 && lines[0] == res.Action.Line {
		for _, l := range lines[1:] {
			w.line(OutcomeLine{op, ref, strconv.Itoa(l), status, "merged", fmt.Sprintf("identical to line %d, merged into it: %s", lines[0], cmp.Or(msg, "sent"))})
			r.listed.add(l)
		}
		if n := r.cut[ref]; n > 0 {
			r.rest[ref] = &repeatRest{w: w, line: OutcomeLine{op, ref, "", status, "merged",
				fmt.Sprintf("identical to line %d, merged into it: %s", lines[0], cmp.Or(msg, "sent"))}, left: n}
		}
	}
}

// WriteWarnings writes warnings.csv: the values read but looking wrong,
// whose rows were sent as they are; then, for each of kinds with more
// than were kept (reports.max_errors), a line counting the others.
func (r *Run) WriteWarnings(ws []*mapping.RowError, kinds []rowerrors.Kind) error {
	if len(ws) == 0 {
		return nil
	}
	f, err := createReportFile[WarningLine](filepath.Join(r.Dir, "warnings.csv"), r.mode, r.format)
	if err != nil {
		return err
	}
	for _, e := range ws {
		f.line(WarningLine{rowerrors.CutCell(e.Reference), strconv.Itoa(e.Line), e.Column, e.Err.Error()})
	}
	for _, k := range kinds {
		if n := k.Count - k.Listed; n > 0 {
			f.line(WarningLine{Warning: omittedText(n, "warnings", k)})
		}
	}
	return f.close()
}

// AddUnreadable records a CRM record the refresh could not read.
func (r *Run) AddUnreadable(e *crm.RecordError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := ""
	if e.ID != 0 {
		id = "id " + strconv.FormatInt(e.ID, 10) + ": "
	}
	r.errs.line(OutcomeLine{Operation: "read_crm", Reference: e.Reference, Error: "unreadable_record", Message: id + e.Err.Error()})
}

// AddRowError records a row the export could not give.
func (r *Run) AddRowError(e *mapping.RowError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lines := r.conflicts[e.Line]
	if lines == nil {
		lines = []int{e.Line}
	}
	for _, l := range lines { // every line of a reference met with differing values
		r.errs.line(OutcomeLine{Operation: "read", Reference: rowerrors.CutCell(e.Reference), Line: strconv.Itoa(l), Error: "invalid_row", Message: rowerrors.Text(e)})
		r.listed.add(l)
	}
	if n := r.cut[e.Reference]; n > 0 && len(lines) > 1 {
		r.rest[e.Reference] = &repeatRest{w: r.errs, line: OutcomeLine{Operation: "read", Reference: rowerrors.CutCell(e.Reference), Error: "invalid_row", Message: rowerrors.Text(e)}, left: n}
	}
}

// AddOmitted records, for each kind with more row errors than were kept
// (reports.max_errors), one line counting the others.
func (r *Run) AddOmitted(kinds []rowerrors.Kind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range kinds {
		if n := k.Count - k.Listed; n > 0 {
			r.errs.line(OutcomeLine{Operation: "read", Error: "more_invalid_rows", Message: omittedText(n, "row errors", k)})
		}
	}
}

// omittedText counts the row errors (or warnings) of a kind past
// reports.max_errors.
func omittedText(n int, what string, k rowerrors.Kind) string {
	return fmt.Sprintf("%d more %s of this kind, not listed (reports.max_errors; %d in all, first lines %v): %s",
		n, what, k.Count, k.Lines, k.Kind)
}

// MaxMergedShown is how many merged references summary.json and the
// log name.
const MaxMergedShown = 20

// Summary is summary.json.
type Summary struct {
	RunID     int64                     `json:"run_id"`
	Kind      string                    `json:"kind"`
	File      string                    `json:"file"`
	Status    string                    `json:"status"`
	Started   time.Time                 `json:"started"`
	Finished  time.Time                 `json:"finished"`
	Durations map[string]float64        `json:"durations_seconds"`
	Counts    map[string]map[string]int `json:"counts"` // operation → outcome → n
	Unchanged int                       `json:"unchanged"`
	RowErrors int                       `json:"row_errors"`
	Drift     int                       `json:"drift"`
	Requests  int64                     `json:"requests"`
	Retries   int64                     `json:"retries"`
	Throttled int64                     `json:"throttled"`
	Logins    int64                     `json:"logins,omitempty"`   // session logins (crm.auth: session)
	Warnings  int                       `json:"warnings,omitempty"` // values read but looking wrong: warnings.csv
	// Every row error and warning by kind, with a few lines of each: past
	// reports.max_errors, errors.csv and warnings.csv only count them.
	RowErrorKinds []rowerrors.Kind `json:"row_error_kinds,omitempty"`
	WarningKinds  []rowerrors.Kind `json:"warning_kinds,omitempty"`
	// UnreadableCRM counts the CRM's records the refresh could not read.
	UnreadableCRM int    `json:"unreadable_crm_records,omitempty"`
	Relogins      int64  `json:"relogins,omitempty"` // of which after a session ended
	Stopped       string `json:"stopped,omitempty"`
	Error         string `json:"error,omitempty"`
	// DryRun: nothing was sent. Status is then StatusDryRun, the counts'
	// and rows' "sent" are 0 and their "would_send" what a run would send.
	DryRun     bool `json:"dry_run,omitempty"`
	MappingNew bool `json:"mapping_changed,omitempty"`
	// Rows accounts for every row read: the figures add up to Read.
	Rows *RowAccount `json:"rows,omitempty"`
	// NotInExport counts the mirror deletes (references absent from the
	// export): actions with no row.
	NotInExport map[string]int `json:"not_in_export,omitempty"`
	Merged      []plan.Merged  `json:"merged,omitempty"` // identical repeated rows, merged: the first MaxMergedShown references
	// MergedReferences counts the references whose identical rows were merged.
	MergedReferences int `json:"merged_references,omitempty"`
	// Accepted are the guards that tripped and were let through (run -accept), and by whom.
	Accepted []guard.Accepted `json:"accepted,omitempty"`
	// ApprovedPlan is the plan file an apply sent (kept as approved-plan.json);
	// MovedInCRM the customers it skipped, changed in the CRM since.
	ApprovedPlan string   `json:"approved_plan,omitempty"`
	MovedInCRM   []string `json:"moved_in_crm,omitempty"`

	// NotDeleted counts the managed customers absent from a mirror export
	// that were not deleted for their unsafe reference (plan.Plan's
	// NotDeleted): customers, not rows; each is a row failure of the run.
	NotDeleted int `json:"not_deleted,omitempty"`
}

// RowAccount says where each row of the export ended: exactly one of these.
type RowAccount struct {
	Read      int `json:"read"`
	Sent      int `json:"sent"`                 // sent and confirmed: success.csv
	WouldSend int `json:"would_send,omitempty"` // a dry run's: what a run would send (success.csv, dry_run)
	Failed    int `json:"failed"`               // refused by the CRM: errors.csv
	NotSent   int `json:"not_sent"`             // not sent, or no answer (guard, interruption, fatal error): errors.csv, not_sent
	Invalid   int `json:"invalid"`              // rows the export could not give: errors.csv, invalid_row
	Unchanged int `json:"unchanged"`            // nothing to send
	// DoneEarlier counts the unchanged rows done by a run that did not
	// finish, which this one resumed: success.csv, done_earlier.
	DoneEarlier int `json:"done_earlier,omitempty"`
	Merged      int `json:"merged"`            // identical to an earlier row of the same reference
	Ignored     int `json:"ignored"`           // flagged for deletion, never in the CRM
	Skipped     int `json:"skipped,omitempty"` // not sent by sync.mode (update_only, create_only): skipped.csv
}

// Account fills the summary's row account from the plan and what was
// added to the report.
func (r *Run) Account(s *Summary, p *plan.Plan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s.RowErrors = p.InvalidRows // rows, as rows.invalid and the console count them
	s.Rows = &RowAccount{Read: p.Rows, Sent: r.rows.sent, Failed: r.rows.failed, NotSent: r.rows.notSent,
		Invalid: p.InvalidRows, Unchanged: p.Unchanged, Merged: p.MergedRows(), Ignored: p.Ignored, DoneEarlier: r.doneEarlier,
		Skipped: p.SkippedCount}
	s.NotInExport = map[string]int{"sent": r.absent.sent, "failed": r.absent.failed, "not_sent": r.absent.notSent}
	s.NotDeleted = p.NotDeleted
	s.Merged, s.MergedReferences = p.Merged[:min(len(p.Merged), MaxMergedShown)], len(p.Merged)
	if s.DryRun {
		dryRunCounts(s)
	}
}

// StatusDryRun is summary.json's status of a dry run that went through:
// it sent nothing, whatever it would have done.
const StatusDryRun = "dry run: nothing sent"

// dryRunCounts words a dry run's summary: what was "sent" was not, it
// would be.
func dryRunCounts(s *Summary) {
	switch s.Status {
	case state.StatusDone:
		s.Status = StatusDryRun
	case state.StatusDoneFailures:
		s.Status = StatusDryRun + ", with failures"
	}
	s.Rows.WouldSend, s.Rows.Sent = s.Rows.Sent, 0
	s.NotInExport["would_send"], s.NotInExport["sent"] = s.NotInExport["sent"], 0
	for op, c := range s.Counts {
		if n, ok := c["ok"]; ok {
			c["would_send"], c["ok"] = n, 0
			s.Counts[op] = c
		}
	}
}

// Close writes what the CSV files still hold and summary.json.
func (r *Run) Close(s Summary) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []string
	for _, f := range []*reportFile[OutcomeLine]{r.success, r.errs} {
		if err := f.close(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(r.Dir, "summary.json"), append(data, '\n'), r.mode)
	}
	if err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("write reports in %s: %s", r.Dir, strings.Join(errs, "; "))
	}
	return nil
}
