package sync_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stages are the packages split out of the engine (issue 22), each one
// concept with a package doc, in a folder of its own beneath sync.
var stages = []string{"plan", "apply", "report", "refresh", "reconcile", "inbox"}

// TestLayout_StagesArePackages: each stage is a package of its name with
// a package doc, and none of its files is left in the engine's folder.
func TestLayout_StagesArePackages(t *testing.T) {
	for _, stage := range stages {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, stage, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Errorf("stage %s: %v", stage, err)
			continue
		}
		pkg := pkgs[stage]
		if pkg == nil {
			t.Errorf("stage %s: no package %s in sync/%s", stage, stage, stage)
			continue
		}
		documented := false
		for _, f := range pkg.Files {
			documented = documented || f.Doc != nil && strings.HasPrefix(f.Doc.Text(), "Package "+stage+" ")
		}
		if !documented {
			t.Errorf("stage %s: no package doc", stage)
		}
		left, _ := filepath.Glob(stage + "*.go")
		for _, f := range left {
			if !strings.HasSuffix(f, "_test.go") {
				t.Errorf("stage %s: %s is still in the engine's folder", stage, f)
			}
		}
	}
	if _, err := os.Stat("doc.go"); err != nil {
		t.Errorf("the engine has no doc.go: %v", err)
	}
}

// TestLayout_HTTPOnlyWhereTested (issue 22): the engine's guarantees are
// tested on crmmem, crmsim in-process; a loopback server is started only
// by the tests about what HTTP alone shows (http_test.go) and by the
// benchmarks, which measure the client's round trips. Report files are
// read with gocsv into sync/report's rows, never by position.
func TestLayout_HTTPOnlyWhereTested(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if name == "http_test.go" || strings.Contains(name, "bench") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			switch p := strings.Trim(imp.Path.Value, `"`); p {
			case "net/http/httptest":
				t.Errorf("%s imports %s: test on crmmem (testrig.NewFake), or move the test to http_test.go", name, p)
			case "encoding/csv":
				t.Errorf("%s imports %s: read report files with gocsv into sync/report's rows", name, p)
			}
		}
	}
}
