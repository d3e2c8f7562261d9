package mapping_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/mapping"
)

// Guarantee: ReadLines maps the rows of the lines asked for only (an
// import's wave reads the export again for its own rows): every other
// row comes with its line alone, neither a customer nor an error, even
// one that would be a row error; the rows asked for are mapped as Read
// maps them.
func TestReadLines_MapsOnlyTheLinesAsked(t *testing.T) {
	content := "KUNNR;NAME1;KLIMK\nK1;One;1\nK2;Two;not a number\nK3;Three;3\nK4;Four;4\n"
	path := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := mapping.DefaultConfig()
	cfg.Decimal = ","
	cfg.Columns = map[string]string{"reference": "KUNNR", "name": "NAME1", "creditLimit": "KLIMK"}
	m, err := mapping.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	keep := func(line int) bool { return line == 2 || line == 4 }
	var got []mapping.Row
	if _, err := m.ReadLines(context.Background(), path, keep, func(r mapping.Row) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d rows, want 4", len(got))
	}
	for i, r := range got {
		line := i + 2
		switch {
		case r.Line != line:
			t.Errorf("row %d: line %d, want %d", i, r.Line, line)
		case keep(line) && (r.Customer == nil || r.Customer.Fields()["creditLimit"] != map[int]string{2: "1", 4: "3"}[line]):
			t.Errorf("line %d asked for: %+v, want its customer mapped", line, r)
		case !keep(line) && (r.Customer != nil || r.Err != nil):
			t.Errorf("line %d not asked for: customer %v, error %v; want neither", line, r.Customer, r.Err)
		}
	}
}

// Guarantee: the plain lines ReadLines does not map are not copied and
// cut into cells either (an import's parents' wave keeps one line in
// twenty): reading 2,000 lines to map none allocates far less than an
// object a line.
func TestReadLines_LinesNotKeptNotCut(t *testing.T) {
	var b strings.Builder
	b.WriteString("KUNNR;NAME1;KLIMK\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "K%d;Customer number %d;%d\n", i, i, i)
	}
	path := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := mapping.DefaultConfig()
	cfg.Columns = map[string]string{"reference": "KUNNR", "name": "NAME1", "creditLimit": "KLIMK"}
	m, err := mapping.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	read := func() {
		rows = 0
		_, err := m.ReadLines(context.Background(), path, func(int) bool { return false }, func(r mapping.Row) error {
			if r.Customer != nil || r.Err != nil {
				t.Errorf("line %d mapped: %+v", r.Line, r)
			}
			rows++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(3, read); n > 500 || rows != 2000 {
		t.Errorf("%d rows read with %v allocations, want 2000 with under 500", rows, n)
	}
}
