// Package page is serve's page for people: GET / answers one
// self-contained HTML page (no script, no file from elsewhere: it works
// offline) with the next run, the last runs with their status, counts and
// reason, the exports held and why, the pending row failures, the drift
// found by the last run that ended (read from the customers' history, so
// a restarted serve shows it too), and links to each run's report files, which
// GET /reports/<folder>/<file> serves read-only from reports.dir and
// never from outside it. Every value goes through html/template's
// escaping; the page's Content-Security-Policy allows no script at all.
package page

import (
	"context"
	"embed"
	"html/template"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"erpsync/state"
	"erpsync/sync/history"
	"erpsync/sync/inbox"
	"erpsync/sync/plan"
)

// History is what the page reads of the checkpoint: the runs, the
// pending failures, and the drift the last run found (its events in the
// customers' history).
type History interface {
	Runs(ctx context.Context, limit int) ([]state.Run, error)
	Failures(ctx context.Context) ([]state.Failure, error)
	history.RunEvents
}

// Source is where the page's figures come from.
type Source struct {
	State      History
	Held       func() ([]inbox.Held, error) // serve's ledger
	Next       func() time.Time             // the next scheduled run; zero: none
	ReportsDir string                       // reports.dir
	Log        *zap.Logger
}

// Limits of the page: it stays small whatever the history holds.
const (
	maxRuns     = 20
	maxFailures = 50
	maxDrift    = 50
	maxFiles    = 20
	// maxHeldRuns: the runs looked through for a held export's plan.json
	maxHeldRuns = 200
)

// Page serves GET / and the report files.
type Page struct {
	src Source
}

// openRoot opens reports.dir, the one way the page reads it (a test
// counts its calls: export_test.go).
var openRoot = os.OpenRoot

// New returns the page of a source.
func New(src Source) *Page {
	if src.Log == nil {
		src.Log = zap.NewNop()
	}
	return &Page{src: src}
}

// Register adds GET / and GET /reports/{path...} to mux.
func (p *Page) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", p.index)
	mux.HandleFunc("GET /reports/{path...}", p.report)
}

//go:embed page.html
var files embed.FS

var tmpl = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"ok": func(status string) bool { return status == state.StatusDone || status == state.StatusDoneFailures },
}).ParseFS(files, "page.html"))

// view is what the template shows.
type view struct {
	Now, Next time.Time
	Runs      []runView
	Held      []heldView
	Failures  []state.Failure
	MoreFails int
	Drift     []plan.Drift
	DriftRun  int64
	Problems  []string // what could not be read
}

// heldView is a held export and, under serve.approve, the plan.json
// that waits in its run's report folder ("" when there is none).
type heldView struct {
	inbox.Held
	Plan string // <folder>/plan.json
}

// runView is one run and its report files.
type runView struct {
	state.Run
	Counts string
	Folder string
	Files  []string
}

// policy allows no script, no request anywhere: inline styles only.
const policy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (p *Page) index(w http.ResponseWriter, r *http.Request) {
	v := p.gather(r.Context())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", policy)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	if err := tmpl.Execute(w, v); err != nil {
		p.src.Log.Warn("page: render", zap.Error(err))
	}
}

// gather reads the page's figures; a part that cannot be read is named
// on the page, the others shown.
func (p *Page) gather(ctx context.Context) view {
	v := view{Now: time.Now()}
	if p.src.Next != nil {
		v.Next = p.src.Next()
	}
	root, err := openRoot(p.src.ReportsDir) // once a request: no report file is linked without it
	if err == nil {
		defer root.Close()
	}
	folders := runFolders(root)
	runs, err := p.src.State.Runs(ctx, maxHeldRuns)
	if err != nil {
		v.Problems = append(v.Problems, "run history: "+err.Error())
	}
	for _, r := range runs[:min(len(runs), maxRuns)] {
		rv := runView{Run: r, Counts: counts(r.Counts), Folder: folders[r.ID]}
		rv.Files = reportFiles(root, rv.Folder)
		v.Runs = append(v.Runs, rv)
	}
	if p.src.Held != nil {
		if held, err := p.src.Held(); err != nil {
			v.Problems = append(v.Problems, "held exports: "+err.Error())
		} else {
			for _, h := range held {
				v.Held = append(v.Held, heldView{Held: h, Plan: heldPlan(root, h, runs, folders)})
			}
		}
	}
	if fails, err := p.src.State.Failures(ctx); err != nil {
		v.Problems = append(v.Problems, "pending failures: "+err.Error())
	} else {
		v.Failures = fails[:min(len(fails), maxFailures)]
		v.MoreFails = len(fails) - len(v.Failures)
	}
	v.DriftRun = lastEnded(runs)
	if v.DriftRun != 0 {
		if v.Drift, err = history.Drift(ctx, p.src.State, v.DriftRun, maxDrift); err != nil {
			v.Problems = append(v.Problems, "drift: "+err.Error())
		}
	}
	return v
}

// lastEnded is the id of the newest run that ended (runs: newest first),
// whose drift the page shows; 0: none.
func lastEnded(runs []state.Run) int64 {
	for _, r := range runs {
		if r.Status != state.StatusRunning {
			return r.ID
		}
	}
	return 0
}

// counts shows a run's counts that are not zero, in a stable order.
func counts(c map[string]int) string {
	keys := make([]string, 0, len(c))
	for k, n := range c {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + " " + strconv.Itoa(c[k]))
	}
	return b.String()
}

// runFolders maps a run's id to its report folder (<UTC start>-<id>) in
// reports.dir, opened as root (nil: none).
func runFolders(root *os.Root) map[int64]string {
	out := map[int64]string{}
	if root == nil {
		return out
	}
	dir, err := root.Open(".")
	if err != nil {
		return out
	}
	defer dir.Close()
	entries, err := dir.ReadDir(-1)
	if err != nil && len(entries) == 0 {
		return out
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		_, id, ok := strings.Cut(e.Name(), "Z-")
		if n, err := strconv.ParseInt(id, 10, 64); ok && err == nil && n > 0 {
			out[n] = e.Name()
		}
	}
	return out
}

// reportFiles lists the regular files of a report folder of root.
func reportFiles(root *os.Root, folder string) []string {
	if folder == "" || root == nil {
		return nil
	}
	dir, err := root.Open(folder)
	if err != nil {
		return nil
	}
	defer dir.Close()
	entries, err := dir.ReadDir(maxFiles)
	if err != nil && len(entries) == 0 {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

// heldPlan is <folder>/plan.json of the newest run of a held export (same
// source, same sha256 when both are known) whose report folder holds a
// plan.json as a regular file; "" when none does.
func heldPlan(root *os.Root, h inbox.Held, runs []state.Run, folders map[int64]string) string {
	for _, r := range runs {
		if r.File != h.Source || h.SHA256 != "" && r.FileSHA256 != "" && r.FileSHA256 != h.SHA256 || folders[r.ID] == "" {
			continue
		}
		if rel := folders[r.ID] + "/plan.json"; isReportFile(root, rel) {
			return rel
		}
	}
	return ""
}

// isReportFile says whether rel (<folder>/<file>) is a regular file of
// root (reports.dir), as report would serve it.
func isReportFile(root *os.Root, rel string) bool {
	if root == nil {
		return false
	}
	st, err := root.Lstat(rel)
	return err == nil && st.Mode().IsRegular()
}
