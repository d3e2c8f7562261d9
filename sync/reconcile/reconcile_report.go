package reconcile

import (
	"cmp"
	"encoding/json"
	"erpsync/sync/report"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Files are the paths of a reconciliation's reports.
type Files struct {
	JSON, CSV, HTML string
}

// Pack is what a reconciliation's reports say besides the comparison,
// and how they are written.
type Pack struct {
	Source string      // the export
	At     time.Time   // when it was compared
	Mode   os.FileMode // of the files (reports.file_mode; 0: report.DefaultMode)
	CSV    report.CSV  // reconciliation.csv's format (reports.csv)
	// Of manifest.json: the name the export is known by (default: Source),
	// erpsync's version and the config's fingerprint.
	ExportName, Version, ConfigFingerprint string
}

// Write writes reconciliation.json, .csv and .html into dir, then
// manifest.json (the sha256 of each, the export's, the control totals:
// Verify checks them), and returns their paths. They hold customer data: they are created of
// pack.Mode, and a new dir of the matching folder mode.
func Write(dir string, r *Reconciliation, pack Pack) (Files, error) {
	source, at, mode := pack.Source, pack.At, pack.Mode
	if mode == 0 {
		mode = report.DefaultMode
	}
	files := Files{
		JSON: filepath.Join(dir, "reconciliation.json"),
		CSV:  filepath.Join(dir, "reconciliation.csv"),
		HTML: filepath.Join(dir, "reconciliation.html"),
	}
	if err := os.MkdirAll(dir, report.DirMode(mode)); err != nil {
		return files, fmt.Errorf("reconciliation report: %w", err)
	}
	for _, f := range []struct {
		path  string
		write func(io.Writer) error
	}{
		{files.JSON, func(w io.Writer) error { return writeReconcileJSON(w, r) }},
		{files.CSV, func(w io.Writer) error { return writeReconcileCSV(w, r, pack.CSV) }},
		{files.HTML, func(w io.Writer) error { return writeReconcileHTML(w, r, source, at) }},
	} {
		if err := writeFile(f.path, mode, f.write); err != nil {
			return files, err
		}
	}
	return files, writeManifest(dir, r, pack, files, mode)
}

// writeFile creates path of mode and writes it with write. A file there
// already (an -out folder used again) is replaced, not written through:
// it keeps neither its mode nor, for a link, its target.
func writeFile(path string, mode os.FileMode, write func(io.Writer) error) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reconciliation report: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("reconciliation report: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func writeReconcileJSON(w io.Writer, r *Reconciliation) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// CSVLine is one line of reconciliation.csv: one per difference, one for
// a reference that differs with no field to show (missing, not ours), and
// one per export row that erpsync could not send (invalid, refused).
type CSVLine struct {
	Reference   string `csv:"reference"`
	Status      string `csv:"status"`
	Field       string `csv:"field"`
	ERPValue    string `csv:"erp_value"`
	CRMValue    string `csv:"crm_value"`
	Delta       string `csv:"delta"`
	Explanation string `csv:"explanation"`
}

// writeReconcileCSV writes r's items as CSVLine rows through gocsv, every
// cell inert. The export's rows that erpsync could not send (invalid,
// refused) are items too, with their line and reason, so that the totals
// are not read as complete.
func writeReconcileCSV(w io.Writer, r *Reconciliation, format report.CSV) error {
	cw, err := format.NewWriter(w)
	if err != nil {
		return err
	}
	if err := report.WriteHeader[CSVLine](cw); err != nil {
		return err
	}
	var lines []CSVLine
	for _, it := range r.Items {
		lines = lines[:0]
		for _, d := range it.Differences {
			lines = append(lines, CSVLine{it.Reference, it.Status, d.Field, d.ERP, d.CRM, d.Delta, cmp.Or(d.Explanation, it.Explanation)})
		}
		for _, d := range it.CRMOwned { // the CRM's values under sync.fields: not differences
			lines = append(lines, CSVLine{it.Reference, StatusCRMOwned, d.Field, d.ERP, d.CRM, d.Delta, d.Explanation})
		}
		if len(lines) == 0 {
			lines = append(lines, CSVLine{Reference: it.Reference, Status: it.Status, Explanation: it.Explanation})
		}
		if err := report.WriteRows(cw, lines...); err != nil {
			return err
		}
	}
	if n := r.RowErrorsOmitted; n > 0 {
		if err := report.WriteRows(cw, CSVLine{Status: StatusInvalid, Explanation: invalidOmitted(n)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// invalidOmitted says how many invalid rows a report does not list.
func invalidOmitted(n int) string {
	return fmt.Sprintf("and %d more invalid rows, counted but not listed (reports.max_errors)", n)
}

// StatusInvalid is the reconcile CSV's status of an export row that could
// not be read, and so was not compared.
const StatusInvalid = "invalid"

// htmlRow is one line of the HTML detail table.
type htmlRow struct {
	Reference, Status, Field, ERP, CRM, Delta, Explanation string
}

// htmlBar is one bar of the differences-per-field chart.
type htmlBar struct {
	Field    string
	Count    int
	Y, Width int
	LabelX   int
	CountX   int
	TextY    int
}

func writeReconcileHTML(w io.Writer, r *Reconciliation, source string, at time.Time) error {
	var rows []htmlRow
	for _, it := range r.Items {
		if len(it.Differences) == 0 {
			rows = append(rows, htmlRow{it.Reference, it.Status, "", "", "", "", it.Explanation})
		}
		for _, d := range it.Differences {
			why := d.Explanation
			if why == "" {
				why = it.Explanation
			}
			rows = append(rows, htmlRow{it.Reference, it.Status, d.Field, d.ERP, d.CRM, d.Delta, why})
		}
	}
	fields := slices.SortedFunc(maps.Keys(r.Fields), func(a, b string) int {
		if r.Fields[a] != r.Fields[b] {
			return r.Fields[b] - r.Fields[a]
		}
		return cmp.Compare(a, b)
	})
	most := 1
	for _, f := range fields {
		most = max(most, r.Fields[f])
	}
	var bars []htmlBar
	for i, f := range fields {
		width := 400 * r.Fields[f] / most
		bars = append(bars, htmlBar{Field: f, Count: r.Fields[f], Y: 10 + i*28, Width: max(width, 2),
			LabelX: 195, CountX: 210 + max(width, 2), TextY: 10 + i*28 + 15})
	}
	type total struct {
		Currency string
		CurrencyTotal
	}
	var totals []total
	for _, cur := range slices.Sorted(maps.Keys(r.Totals)) {
		totals = append(totals, total{cur, r.Totals[cur]})
	}
	return reconcileHTML.Execute(w, map[string]any{
		"Source": source, "At": at.UTC().Format(time.RFC3339), "R": r, "Rows": rows, "Bars": bars,
		"ChartHeight": 20 + 28*len(bars), "Totals": totals, "Omitted": invalidOmitted(r.RowErrorsOmitted), "Agree": r.Agree(), "Except": r.Verdict() == VerdictExcept, "Verdict": r.VerdictText(),
	})
}

var reconcileHTML = template.Must(template.New("reconciliation").Funcs(template.FuncMap{
	"money": func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Reconciliation: ERP against CRM</title>
<style>
  body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #222; }
  h1 { font-size: 1.5em; margin-bottom: 0.2em; }
  .meta { color: #666; margin-top: 0; }
  .verdict { font-weight: bold; padding: 0.5em 0.8em; display: inline-block; border-radius: 4px; }
  .agree { background: #e3f6e5; color: #1b5e20; }
  .disagree { background: #fdecea; color: #b71c1c; }
  .except { background: #fff4e0; color: #8a4b00; }
  table { border-collapse: collapse; margin: 1em 0; }
  th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
  th { background: #f3f3f3; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  #detail th { cursor: pointer; user-select: none; }
  #detail th::after { content: " \2195"; color: #999; }
  svg text { font: 12px system-ui, sans-serif; }
  @media print {
    body { margin: 0.5cm; }
    #detail th::after { content: ""; }
    tr { page-break-inside: avoid; }
  }
</style>
</head>
<body>
<h1>Reconciliation: ERP against CRM</h1>
<p class="meta">Export {{.Source}} · compared {{.At}} · {{.R.Listing.Customers}} customers listed from the CRM</p>
{{if .R.Listing.Unsettled}}<p class="meta" id="unsettled">The CRM kept changing while it was listed: a change made meanwhile may be missing. Run again at a quieter time.</p>
{{end}}<p class="verdict {{if .Agree}}agree{{else if .Except}}except{{else}}disagree{{end}}" id="verdict">{{.Verdict}}</p>

<h2>Summary</h2>
<table id="summary">
  <tr><th>Matched</th><th>Only in the ERP</th><th>Only in the CRM</th><th>Different</th><th>Rows erpsync could not send</th></tr>
  <tr><td class="num">{{.R.Summary.Matched}}</td><td class="num">{{.R.Summary.OnlyInERP}}</td><td class="num">{{.R.Summary.OnlyInCRM}}</td><td class="num">{{.R.Summary.Different}}</td><td class="num">{{.R.Summary.CouldNotSend}}</td></tr>
</table>

<h2>Totals per currency</h2>
<table id="totals">
  <tr><th>Currency</th><th class="num">Customers (ERP)</th><th class="num">Customers (CRM)</th>{{if .R.CreditMapped}}<th class="num">Credit limits (ERP)</th><th class="num">Credit limits (CRM)</th><th class="num">Difference</th>{{end}}</tr>
  {{range .Totals}}<tr><td>{{.Currency}}</td><td class="num">{{.ERPCount}}</td><td class="num">{{.CRMCount}}</td>{{if $.R.CreditMapped}}<td class="num">{{money .ERPCreditLimit}}</td><td class="num">{{money .CRMCreditLimit}}</td><td class="num">{{money .Difference}}</td>{{end}}</tr>
  {{end}}
</table>

<h2>Differences per field</h2>
{{if .Bars}}<svg id="chart" role="img" aria-label="Differences per field" width="680" height="{{.ChartHeight}}" viewBox="0 0 680 {{.ChartHeight}}" xmlns="http://www.w3.org/2000/svg">
  {{range .Bars}}<g class="bar"><text x="{{.LabelX}}" y="{{.TextY}}" text-anchor="end">{{.Field}}</text><rect x="205" y="{{.Y}}" width="{{.Width}}" height="20" fill="#c0392b"><title>{{.Field}}: {{.Count}}</title></rect><text x="{{.CountX}}" y="{{.TextY}}">{{.Count}}</text></g>
  {{end}}</svg>{{else}}<p>No field differs.</p>{{end}}

<h2>Detail</h2>
{{if .Rows}}<p class="meta">Click a column's title to sort.</p>
<table id="detail">
  <thead><tr><th>Reference</th><th>Status</th><th>Field</th><th>ERP value</th><th>CRM value</th><th class="num">Delta</th><th>Explanation</th></tr></thead>
  <tbody>
  {{range .Rows}}<tr><td>{{.Reference}}</td><td>{{.Status}}</td><td>{{.Field}}</td><td>{{.ERP}}</td><td>{{.CRM}}</td><td class="num">{{.Delta}}</td><td>{{.Explanation}}</td></tr>
  {{end}}</tbody>
</table>{{else}}<p>Nothing to show: every customer matches.</p>{{end}}
{{if .R.RowErrors}}<h2>Export rows not compared</h2><ul>{{range .R.RowErrors}}<li>{{.}}</li>{{end}}{{if .R.RowErrorsOmitted}}<li>… {{.Omitted}}</li>{{end}}</ul>{{end}}
<script>
(function () {
  var table = document.getElementById("detail");
  if (!table) return;
  var dir = {};
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      dir[col] = -(dir[col] || -1);
      rows.sort(function (a, b) {
        var x = a.cells[col].textContent, y = b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return r * dir[col];
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
</script>
</body>
</html>
`))
