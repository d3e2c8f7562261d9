package mapping_test

import (
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"

	"erpsync/mapping"
)

// saveWorkbook writes rows on Sheet1 from A1, leaving out the cells
// that are nil, as Excel leaves out empty cells.
func saveWorkbook(t *testing.T, path string, rows [][]any) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for r, row := range rows {
		for c, v := range row {
			if v == nil {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if err := f.SetCellValue("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRead_WorkbookTrailingEmptyCells: Excel writes no cell for an empty
// one, so a row whose last cells are empty is shorter than the header
// (22 of 91 Northwind rows were refused: "10 fields where the header has
// 11"). Those missing cells are empty cells; a row longer than the
// header is still refused.
func TestRead_WorkbookTrailingEmptyCells(t *testing.T) {
	path := saveWorkbook(t, filepath.Join(t.TempDir(), "northwind.xlsx"), [][]any{
		{"CustomerID", "CompanyName", "Phone", "Fax"},
		{"ALFKI", "Alfreds", "030-0074321", "030-0076545"},
		{"ANATR", "Ana Trujillo", "(5) 555-4729"}, // no fax
		{"AROUT", "Around the Horn"},              // no phone, no fax
		{"BERGS", "Berglunds", nil, "0921-12 34 67"},
		{"BLAUS", "Blauer See", "0621-08460", "", nil, "extra"},
	})
	cfg := mapping.DefaultConfig()
	cfg.Columns = map[string]string{"reference": "CustomerID", "name": "CompanyName", "phone": "Phone", "fax": "Fax"}
	got, rowErrs, err := readExport(t, cfg, path)
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string][2]string{
		"ALFKI": {"030-0074321", "030-0076545"}, "ANATR": {"(5) 555-4729", ""},
		"AROUT": {"", ""}, "BERGS": {"", "0921-12 34 67"},
	} {
		c, ok := got[ref]
		if !ok || c["phone"] != want[0] || c["fax"] != want[1] {
			t.Errorf("%s: %v (read %v), want phone %q fax %q", ref, c, ok, want[0], want[1])
		}
	}
	if len(rowErrs) != 1 || rowErrs[0] != "northwind.xlsx Sheet1!6: 6 fields where the header has 4" {
		t.Errorf("row errors %q, want BLAUS's extra cell refused", rowErrs)
	}
}
