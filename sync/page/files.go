package page

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// report serves one file of a run's report folder, read-only: the path
// must be <folder>/<file>, with no "..", no backslash, no link, inside
// reports.dir (os.Root refuses any way out of it), a regular file.
func (p *Page) report(w http.ResponseWriter, r *http.Request) {
	rel := r.PathValue("path") // decoded: %2F is a slash here, then refused below
	if !fs.ValidPath(rel) || strings.Count(rel, "/") != 1 || strings.ContainsAny(rel, "\\\x00") {
		http.NotFound(w, r)
		return
	}
	root, err := openRoot(p.src.ReportsDir)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer root.Close()
	if st, err := root.Lstat(rel); err != nil || !st.Mode().IsRegular() { // a link, even inside, is not served
		http.NotFound(w, r)
		return
	}
	f, err := root.Open(rel)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", contentType(rel))
	w.Header().Set("Content-Security-Policy", policy)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, path.Base(rel), st.ModTime(), f)
}

// contentType is a report file's type: shown as text in the browser,
// never run (an .html of a report would be text too).
func contentType(name string) string {
	if path.Ext(name) == ".json" {
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}
