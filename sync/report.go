package sync

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"erpsync/mapping"
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

// safeWriter writes CSV rows with every cell made inert.
type safeWriter struct{ w *csv.Writer }

func (s safeWriter) Write(cells ...string) error {
	for i, c := range cells {
		cells[i] = SafeCell(c)
	}
	return s.w.Write(cells)
}

// WritePlanCSV writes every planned operation, one line per changed field
// (operation, reference, line, field, old, new, reason); a delete has one
// line with no field.
func WritePlanCSV(w io.Writer, p *Plan) error {
	cw := csv.NewWriter(w)
	sw := safeWriter{cw}
	if err := sw.Write("operation", "reference", "line", "field", "old", "new", "reason"); err != nil {
		return err
	}
	for _, a := range p.Actions() {
		line := ""
		if a.Line > 0 {
			line = strconv.Itoa(a.Line)
		}
		changes := a.FieldChanges()
		if len(changes) == 0 {
			if err := sw.Write(string(a.Op), a.Reference, line, "", "", "", a.Reason); err != nil {
				return err
			}
			continue
		}
		for _, ch := range changes {
			if err := sw.Write(string(a.Op), a.Reference, line, ch.Field, ch.Old, ch.New, a.Reason); err != nil {
				return err
			}
		}
	}
	for _, e := range p.RowErrors {
		if err := sw.Write("error", e.Reference, strconv.Itoa(e.Line), e.Column, "", "", errText(e)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func errText(e *mapping.RowError) string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Error()
}

// RunReport writes a run's reports/<run-id>/: success.csv and errors.csv as
// outcomes arrive, and summary.json at the end. It is safe for concurrent
// use.
type RunReport struct {
	Dir string

	mu      gosync.Mutex
	success *os.File
	errs    *os.File
	sw, ew  *csv.Writer
}

// reportHeader is the columns of success.csv and errors.csv.
var reportHeader = []string{"operation", "reference", "line", "http_status", "error", "message"}

// NewRunReport creates dir and its two CSV files.
func NewRunReport(dir string) (*RunReport, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create report dir: %w", err)
	}
	r := &RunReport{Dir: dir}
	var err error
	if r.success, err = os.Create(filepath.Join(dir, "success.csv")); err != nil {
		return nil, fmt.Errorf("create report: %w", err)
	}
	if r.errs, err = os.Create(filepath.Join(dir, "errors.csv")); err != nil {
		r.success.Close()
		return nil, fmt.Errorf("create report: %w", err)
	}
	r.sw, r.ew = csv.NewWriter(r.success), csv.NewWriter(r.errs)
	_ = r.sw.Write(reportHeader)
	_ = r.ew.Write(reportHeader)
	return r, nil
}

// Add records an applied action.
func (r *RunReport) Add(res Result) {
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
	w := r.sw
	if res.Err != nil {
		w = r.ew
	}
	_ = safeWriter{w}.Write(string(res.Action.Op), res.Action.Reference, line, status, res.Code, res.Message)
}

// AddRowError records a row the export could not give.
func (r *RunReport) AddRowError(e *mapping.RowError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = safeWriter{r.ew}.Write("read", e.Reference, strconv.Itoa(e.Line), "", "invalid_row", errText(e))
}

// Summary is summary.json.
type RunSummary struct {
	RunID      int64                     `json:"run_id"`
	Kind       string                    `json:"kind"`
	File       string                    `json:"file"`
	Status     string                    `json:"status"`
	Started    time.Time                 `json:"started"`
	Finished   time.Time                 `json:"finished"`
	Durations  map[string]float64        `json:"durations_seconds"`
	Counts     map[string]map[string]int `json:"counts"` // operation → outcome → n
	Unchanged  int                       `json:"unchanged"`
	RowErrors  int                       `json:"row_errors"`
	Drift      int                       `json:"drift"`
	Requests   int64                     `json:"requests"`
	Retries    int64                     `json:"retries"`
	Throttled  int64                     `json:"throttled"`
	Stopped    string                    `json:"stopped,omitempty"`
	Error      string                    `json:"error,omitempty"`
	DryRun     bool                      `json:"dry_run,omitempty"`
	MappingNew bool                      `json:"mapping_changed,omitempty"`
}

// Close flushes the CSV files and writes summary.json.
func (r *RunReport) Close(s RunSummary) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []string
	for _, w := range []*csv.Writer{r.sw, r.ew} {
		w.Flush()
		if err := w.Error(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	for _, f := range []*os.File{r.success, r.errs} {
		if err := f.Close(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(r.Dir, "summary.json"), append(data, '\n'), 0o644)
	}
	if err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("write reports in %s: %s", r.Dir, strings.Join(errs, "; "))
	}
	return nil
}
