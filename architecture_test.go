package erpsync_test

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
)

// TestArchitecture: every import of one of the module's packages by
// another (test files aside) is an edge that README.md's package map
// allows, in its block fenced as ```imports; every package of the module
// has a line there. The README and this test cannot disagree: the test
// reads the README.
func TestArchitecture(t *testing.T) {
	rules, err := readImportRules("README.md")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := modulePackages(t)
	for _, r := range rules {
		if !slices.ContainsFunc(pkgs, func(p goPackage) bool { return r.matches(p.rel) }) {
			t.Errorf("README.md line %d: %s is no package of the module: the map is stale", r.line, r.importer)
		}
	}
	for _, p := range pkgs {
		i := slices.IndexFunc(rules, func(r importRule) bool { return r.matches(p.rel) })
		if i < 0 {
			t.Errorf("package %s has no line in README.md's ```imports block: add `%s -> ...` with what it may import", p.rel, p.rel)
			continue
		}
		for _, imp := range p.imports {
			if !rules[i].allows(imp) {
				t.Errorf("%s imports %s: an edge README.md's map does not show (line %d allows %s)",
					p.rel, imp, rules[i].line, strings.Join(rules[i].allowed, ", "))
			}
		}
	}
}

// importRule is one line of the map: `importer -> pattern, pattern`
// (`# ...` a comment). A
// pattern is a package path relative to the module, where `*` stands for
// one path element (path.Match): `sync/*` is sync/crm, not
// sync/crm/crmsim.
type importRule struct {
	line     int
	importer string
	allowed  []string
}

func (r importRule) matches(pkg string) bool {
	ok, _ := path.Match(r.importer, pkg)
	return ok
}

func (r importRule) allows(pkg string) bool {
	for _, a := range r.allowed {
		if ok, _ := path.Match(a, pkg); ok {
			return true
		}
	}
	return false
}

// readImportRules reads the ```imports block of a markdown file.
func readImportRules(file string) ([]importRule, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read import map: %w", err)
	}
	defer f.Close()
	var rules []importRule
	in, seen := false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#") // a comment runs to the end of the line
		line = strings.TrimSpace(line)
		switch {
		case !in && line == "```imports":
			in, seen = true, true
		case in && line == "```":
			in = false
		case in && line != "":
			r, err := parseImportRule(line)
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %w", file, n, err)
			}
			r.line = n
			rules = append(rules, r)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if !seen || in {
		return nil, fmt.Errorf("%s: no whole block fenced as ```imports (the allowed import edges)", file)
	}
	return rules, nil
}

func parseImportRule(line string) (importRule, error) {
	from, to, ok := strings.Cut(line, "->")
	from = strings.TrimSpace(from)
	if !ok || from == "" {
		return importRule{}, fmt.Errorf("%q: want `package -> package, package/*, ...`", line)
	}
	r := importRule{importer: from}
	for a := range strings.SplitSeq(to, ",") {
		if a = strings.TrimSpace(a); a != "" {
			if _, err := path.Match(a, ""); err != nil {
				return importRule{}, fmt.Errorf("%q: pattern %q: %w", line, a, err)
			}
			r.allowed = append(r.allowed, a)
		}
	}
	if _, err := path.Match(from, ""); err != nil {
		return importRule{}, fmt.Errorf("%q: pattern %q: %w", line, from, err)
	}
	return r, nil
}

// goPackage is a package of the module with non-test files, and the
// module's packages it imports, both relative to the module.
type goPackage struct {
	rel     string
	imports []string
}

// modulePackages lists the module's packages (listedPackages).
func modulePackages(t *testing.T) []goPackage {
	t.Helper()
	var pkgs []goPackage
	for _, p := range listedPackages(t) {
		mod := p.Module.Path
		if len(p.GoFiles) == 0 || p.ImportPath == mod { // the root holds tests only
			continue
		}
		g := goPackage{rel: strings.TrimPrefix(p.ImportPath, mod+"/")}
		for _, imp := range p.Imports {
			if rel, ok := strings.CutPrefix(imp, mod+"/"); ok {
				g.imports = append(g.imports, rel)
			}
		}
		pkgs = append(pkgs, g)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no package")
	}
	return pkgs
}

// maxPackageLines is issue 22's bound on a package's non-test lines.
const maxPackageLines = 3000

// ownLines are tighter bounds of issue 22 for some packages: the engine
// package itself stays small, its stages in their own packages.
var ownLines = map[string]int{"erpsync/sync": 1500}

// TestPackageSize: no package of the module holds more than
// maxPackageLines lines in its non-test files (issue 22): a package that
// grows past it holds more than one concept.
func TestPackageSize(t *testing.T) {
	for _, p := range listedPackages(t) {
		lines := 0
		for _, f := range p.GoFiles {
			b, err := os.ReadFile(path.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			lines += bytes.Count(b, []byte{'\n'})
		}
		if limit := cmp.Or(ownLines[p.ImportPath], maxPackageLines); lines > limit {
			t.Errorf("%s: %d non-test lines, over %d: split it by concept (issue 22)", p.ImportPath, lines, limit)
		}
	}
}
