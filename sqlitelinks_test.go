package erpsync_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	gosync "sync"
	"testing"
)

// sqliteDriver is the cgo driver: a test binary that links it is linked
// by gcc (external linking), 1-1.5 CPU s more in every `go test ./...`
// than a pure Go one (go test -c, 2026-12-07: sync/apply 3.6 -> 2.2).
const sqliteDriver = "github.com/mattn/go-sqlite3"

// sqliteTestBinaries are the packages whose test binary links SQLite:
// the checkpoint's own, migration 008's encoding (cgo itself), the
// engine's (its guarantees on a file too) and the CLI's. A stage's tests
// run on state/memstate (sync/internal/testrig without sqliterig).
var sqliteTestBinaries = []string{"cmd/erpsync", "state/compact", "state/sqlite", "sync"}

// TestSQLiteTestBinaries: only the packages of sqliteTestBinaries have a
// test binary that links the SQLite driver; a test that opens a SQLite
// checkpoint elsewhere adds an external link to every `go test ./...`.
// Its place is beside the tests that link SQLite anyway, or on memstate.
func TestSQLiteTestBinaries(t *testing.T) {
	pkgs := listedPackages(t)
	byPath := map[string]listedPackage{}
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
	}
	var got []string
	for _, p := range pkgs {
		if len(p.TestImports)+len(p.XTestImports) == 0 {
			continue // no test binary
		}
		roots := slices.Concat(p.Imports, p.TestImports, p.XTestImports)
		if linksSQLite(byPath, roots) {
			got = append(got, strings.TrimPrefix(p.ImportPath, p.Module.Path+"/"))
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, sqliteTestBinaries) {
		t.Errorf("test binaries linking SQLite: %v, want %v (sqliteTestBinaries; README's Set-up says which)", got, sqliteTestBinaries)
	}
}

// linksSQLite says whether the driver is among the imports of roots,
// followed through the module's packages.
func linksSQLite(byPath map[string]listedPackage, roots []string) bool {
	seen := map[string]bool{}
	for todo := roots; len(todo) > 0; {
		imp := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if imp == sqliteDriver {
			return true
		}
		if seen[imp] {
			continue
		}
		seen[imp] = true
		if p, ok := byPath[imp]; ok {
			todo = append(todo, p.Imports...)
		}
	}
	return false
}

// listedPackage is what `go list -json` says of a package of the module.
type listedPackage struct {
	ImportPath, Dir                    string
	GoFiles                            []string
	Imports, TestImports, XTestImports []string
	Module                             struct{ Path string }
}

var listOnce struct {
	gosync.Once
	pkgs []listedPackage
	err  error
}

// listedPackages runs `go list -json ./...` once for the tests of this
// package (a third of a CPU second each time).
func listedPackages(t *testing.T) []listedPackage {
	t.Helper()
	listOnce.Do(func() {
		var stderr bytes.Buffer
		cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Dir,GoFiles,Imports,TestImports,XTestImports,Module", "./...")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			listOnce.err = errors.New("go list: " + err.Error() + "\n" + stderr.String())
			return
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		for {
			var p listedPackage
			if err := dec.Decode(&p); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				listOnce.err = errors.New("go list: " + err.Error())
				return
			}
			listOnce.pkgs = append(listOnce.pkgs, p)
		}
	})
	if listOnce.err != nil {
		t.Fatal(listOnce.err)
	}
	return listOnce.pkgs
}
