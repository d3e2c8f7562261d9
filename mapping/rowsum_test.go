package mapping_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
)

// readRows reads path with m, lazily or not, and returns its rows; a
// lazy one with, in mapped, what Map gave for it.
func readRows(t *testing.T, m *mapping.Mapping, path string, lazy bool) (rows, mapped []mapping.Row) {
	t.Helper()
	read := m.Read
	if lazy {
		read = m.ReadLazy
	}
	_, err := read(context.Background(), path, func(r mapping.Row) error {
		rows, mapped = append(rows, r), append(mapped, r.Map()) // a lazy row maps only before fn returns
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, mapped
}

func writeExport(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const sumExport = "KUNNR;NAME1;LAND1;KLIMK;SPERR;ZT;ZD;KAT;ZAHLW;PARENT;MAIL;REG;LOEVM\n" +
	"C1;Alpha;FR;1.500,00;;1;30;J;C;;a@example.com;;\n" + // plain
	"C2;Beta;Germany;10;X;;;;;C1;;;\n" + // a sub-customer: lazy, with its parent
	"C3;Gamma;FR;;;;;;;;not-an-email;;\n" + // a warning: lazy, mapped when asked
	"C4;;FR;;;;;;;;;;\n" + // no name: lazy, its error when mapped
	"C5;Epsilon ünïcode;FR;2,5;;;;;;;;;\n" // plain

// TestReadLazy_MapsAsRead: a lazy read defers the rows that may be plain
// and gives the others mapped; Map gives each deferred row exactly as
// Read does, and a plain row's customer carries its sum.
func TestReadLazy_MapsAsRead(t *testing.T) {
	m, err := mapping.New(sapConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := writeExport(t, sumExport)
	eager, _ := readRows(t, m, path, false)
	lazy, lazyMapped := readRows(t, m, path, true)
	if len(eager) != 5 || len(lazy) != 5 {
		t.Fatalf("%d rows read, %d lazily; want 5", len(eager), len(lazy))
	}
	wantLazy := map[string]bool{"C1": true, "C2": true, "C3": true, "C4": true, "C5": true}
	for i, r := range lazy {
		e := eager[i]
		ref := e.Reference
		if e.Err != nil {
			ref = e.Err.Reference // an invalid row has no sum
		} else if r.Sum != e.Sum || r.Sum == 0 {
			t.Errorf("%s: lazy sum %x, read %x", ref, r.Sum, e.Sum)
		}
		if r.Lazy() != wantLazy[ref] {
			t.Errorf("%s: lazy %v, want %v", ref, r.Lazy(), wantLazy[ref])
		}
		if r.Reference != ref || r.Line != e.Line {
			t.Errorf("row %d: lazy %q line %d; read %q line %d", i, r.Reference, r.Line, ref, e.Line)
		}
		if e.Customer != nil && r.Parent != e.Customer.Field("parentCustomer") {
			t.Errorf("%s: lazy parent %q, read %q", ref, r.Parent, e.Customer.Field("parentCustomer"))
		}
		got := lazyMapped[i]
		if (got.Err == nil) != (e.Err == nil) || (got.Customer == nil) != (e.Customer == nil) {
			t.Fatalf("%s: mapped %+v, read %+v", e.Reference, got, e)
		}
		if e.Err != nil {
			if got.Err.Error() != e.Err.Error() {
				t.Errorf("%s: error %q, read %q", e.Reference, got.Err, e.Err)
			}
			continue
		}
		g, w := got.Customer, e.Customer
		if g.Hash != w.Hash || g.RowSum != w.RowSum || len(got.Warnings) != len(e.Warnings) {
			t.Errorf("%s: hash %s sum %x %d warnings; read %s sum %x %d warnings", e.Reference, g.Hash, g.RowSum, len(got.Warnings), w.Hash, w.RowSum, len(e.Warnings))
		}
	}
	plain := map[string]bool{"C1": true, "C2": true, "C5": true} // C3 has a warning
	for _, e := range eager {
		if e.Customer != nil && (e.Customer.RowSum != 0) != plain[e.Reference] {
			t.Errorf("%s: RowSum %x, plain %v", e.Reference, e.Customer.RowSum, plain[e.Reference])
		}
	}
}

// TestRowSum_Changes: a row's sum changes with any cell, the header's
// order and the mapping's settings; it does not change with the row's
// line or another row.
func TestRowSum_Changes(t *testing.T) {
	sums := func(cfg mapping.Config, content string) map[string]uint64 {
		m, err := mapping.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]uint64{}
		rows, _ := readRows(t, m, writeExport(t, content), true)
		for _, r := range rows {
			out[r.Reference] = r.Sum
		}
		return out
	}
	base := sums(sapConfig(), sumExport)
	moved := sums(sapConfig(), strings.Replace(sumExport, "C5;Epsilon ünïcode;FR;2,5;;;;;;;;;\n", "", 1)+"C6;Zeta;FR;;;;;;;;;;\n")
	for _, ref := range []string{"C1", "C2", "C3", "C4"} {
		if moved[ref] != base[ref] {
			t.Errorf("%s: sum changed with another row", ref)
		}
	}
	edited := sums(sapConfig(), strings.Replace(sumExport, "1.500,00", "1.500,01", 1))
	if edited["C1"] == base["C1"] {
		t.Error("C1: same sum after its credit limit changed")
	}
	shifted := sums(sapConfig(), strings.Replace(sumExport, "C1;Alpha;FR;", "C1;Alph;aFR;", 1))
	if shifted["C1"] == base["C1"] {
		t.Error("C1: same sum after text moved from one cell to the next")
	}
	// The same cells under the header in another order map otherwise.
	swapped := strings.Replace(sumExport, "KUNNR;NAME1;LAND1;KLIMK", "KUNNR;NAME1;KLIMK;LAND1", 1)
	swapped = strings.Replace(swapped, "C1;Alpha;FR;1.500,00", "C1;Alpha;1.500,00;FR", 1)
	if sums(sapConfig(), swapped)["C1"] == base["C1"] {
		t.Error("C1: same sum under another header")
	}
	// A column the mapping does not read is not summed.
	extra := strings.ReplaceAll(sumExport, "\n", ";2026-11-30\n") // an EXPORTED_AT column
	extra = strings.Replace(extra, "LOEVM;2026-11-30", "LOEVM;EXPORTED_AT", 1)
	later := strings.ReplaceAll(extra, "2026-11-30", "2026-12-01")
	if got, again := sums(sapConfig(), extra)["C1"], sums(sapConfig(), later)["C1"]; got != again || got == 0 {
		t.Errorf("C1: sum %x, %x after an unmapped column changed", got, again)
	}
	cfg := sapConfig()
	cfg.Values = map[string]map[string]string{"categoryId": {"J": "jewellery"}, "paymentTypes": {"C": "7", "S": "8"}}
	if sums(cfg, sumExport)["C1"] == base["C1"] {
		t.Error("C1: same sum under other value maps")
	}
	cfg = sapConfig()
	cfg.Strict = []string{"email"}
	if sums(cfg, sumExport)["C1"] == base["C1"] {
		t.Error("C1: same sum under source.strict")
	}
}

// TestReadLazy_StopLazy: once told, a lazy read maps the rows it reads
// from then on. The export holds two batches more than the read may have
// mapped ahead when it is told (mapping.MappedAhead: 12,288 rows on 2
// cores, 36,864 on 16 and more).
func TestReadLazy_StopLazy(t *testing.T) {
	ahead := mapping.MappedAhead()
	day1 := filepath.Join(t.TempDir(), "day1.csv")
	f, err := os.Create(day1)
	if err != nil {
		t.Fatal(err)
	}
	err = genexport.Write(f, 1, genexport.Options{Rows: ahead + 4096, Seed: 3})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lazyBefore, lazyAfter, n := 0, 0, 0
	_, err = m.ReadLazy(context.Background(), day1, func(r mapping.Row) error {
		n++
		switch {
		case n == 1000:
			r.StopLazy()
		case n < 1000 && r.Lazy():
			lazyBefore++
		case n > ahead && r.Lazy(): // past the batches already mapped
			lazyAfter++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if lazyBefore < 500 || lazyAfter != 0 || n <= ahead {
		t.Errorf("%d lazy rows of the first 1,000, %d of %d after %d; want most, then none", lazyBefore, lazyAfter, n-ahead, ahead)
	}
}

// TestRowSumVersion is a reminder: it fails when the mapping of its rows
// changes. A checkpoint's row sums stand for the rows mapped by the code
// that pushed them: raise rowSumVersion in rowsum.go, then set want to
// the digest this test prints.
func TestRowSumVersion(t *testing.T) {
	const want = "a3d4a9cb4b2a7a468e3ea10bdd88f836a905aedd7533ea60c392522db7f0fbb8"
	day1, day2, err := genexport.WriteFiles(t.TempDir(), genexport.Options{Rows: 3000, Seed: 7, Changed: 0.5, Added: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sap, err := mapping.New(sapConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, read := range []struct {
		m    *mapping.Mapping
		path string
	}{{m, day1}, {m, day2}, {sap, writeExport(t, sumExport)}} {
		rows, _ := readRows(t, read.m, read.path, false)
		for _, r := range rows {
			switch {
			case r.Err != nil:
				h.Write([]byte(r.Err.Error()))
			default:
				h.Write([]byte(r.Customer.Hash))
			}
			h.Write([]byte{0})
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("the mapping of these rows changed (digest %s): raise rowSumVersion in rowsum.go, then set want to the new digest", got)
	}
}

// FuzzReadLazy: for any bytes, a lazy read, each lazy row mapped before
// fn returns, gives the rows Read gives: the same lines, errors, hashes,
// row sums and warnings.
func FuzzReadLazy(f *testing.F) {
	for _, seed := range []string{
		sumExport,
		"KUNNR;NAME1;LAND1;KLIMK;SPERR;ZT;ZD;KAT;ZAHLW;PARENT;MAIL;REG;LOEVM\nC1;A;FR;1,5;;;;;;;x;;\nC1;A;FR;1,5;;;;;;;;;X\n",
		"KUNNR;NAME1;LAND1;KLIMK;SPERR;ZT;ZD;KAT;ZAHLW;PARENT;MAIL;REG;LOEVM\n\"C1\";\"multi\nline\";FR;;;;;;;;;;\nC2;B;\x00;;;;;;;;;;\n",
		"KUNNR;NAME1\nC1;A\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	m, err := mapping.New(sapConfig(), nil)
	if err != nil {
		f.Fatal(err)
	}
	text := func(r mapping.Row) string {
		s := fmt.Sprintf("line %d", r.Line)
		if r.Err != nil {
			return s + " error " + r.Err.Error()
		}
		return fmt.Sprintf("%s %s %s sum %x %d warnings", s, r.Customer.Reference, r.Customer.Hash, r.Customer.RowSum, len(r.Warnings))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var eager, lazy []string
		_, errRead := m.Read(context.Background(), path, func(r mapping.Row) error {
			eager = append(eager, text(r))
			return nil
		})
		_, errLazy := m.ReadLazy(context.Background(), path, func(r mapping.Row) error {
			if r.Lazy() && (r.Sum == 0 || r.Reference == "") {
				t.Fatalf("lazy row without its sum or reference: %+v", r)
			}
			lazy = append(lazy, text(r.Map()))
			return nil
		})
		if fmt.Sprint(errRead) != fmt.Sprint(errLazy) {
			t.Fatalf("Read: %v, ReadLazy: %v", errRead, errLazy)
		}
		if strings.Join(eager, "\n") != strings.Join(lazy, "\n") {
			t.Fatalf("Read:\n%s\nReadLazy:\n%s", strings.Join(eager, "\n"), strings.Join(lazy, "\n"))
		}
	})
}
