package mapping_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"erpsync/mapping"
)

// northwindHeader has columns named like CRM fields (phone, city,
// Country, fax) that a config mapping only reference and name must leave
// alone: hand-kept CRM phone numbers and cities are not overwritten, and
// a Country nobody mapped cannot refuse a row.
const northwindHeader = "CustomerID,CompanyName,phone,city,Country,fax\n"

func TestRead_OnlyMappedColumns(t *testing.T) {
	only := mapping.DefaultConfig()
	only.Columns = map[string]string{"reference": "CustomerID", "name": "CompanyName"}
	auto := only
	auto.AutoColumns = true
	autoNoPhone := auto
	autoNoPhone.Columns = map[string]string{"reference": "CustomerID", "name": "CompanyName", "phone": ""}
	content := northwindHeader + "ALFKI,Alfreds,030-0074321,Berlin,Germany,030-0076545\n" +
		"ATLAN,Atlantis Ltd,555,Poseidonia,Atlantis,\n"
	for _, tc := range []struct {
		name   string
		cfg    mapping.Config
		fields []string // of ALFKI
		errs   int
	}{
		{"columns only", only, []string{"name", "reference"}, 0},
		{"auto_columns", auto, []string{"city", "country", "fax", "name", "phone", "reference"}, 1},
		{"auto_columns with phone switched off", autoNoPhone, []string{"city", "country", "fax", "name", "reference"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := readAll(t, tc.cfg, content)
			if err != nil || len(rows) != 2 {
				t.Fatalf("rows %d, err %v", len(rows), err)
			}
			errs := 0
			for _, r := range rows {
				if r.Err != nil {
					errs++
					continue
				}
				if r.Customer.Reference == "ALFKI" {
					if got := r.Customer.FieldNames(); !slices.Equal(got, tc.fields) {
						t.Errorf("fields %v, want %v", got, tc.fields)
					}
				}
			}
			if errs != tc.errs {
				t.Errorf("%d row errors, want %d", errs, tc.errs)
			}
		})
	}
}

func TestRead_ColumnsListed(t *testing.T) {
	cfg := mapping.DefaultConfig()
	cfg.Columns = map[string]string{"reference": "CustomerID", "name": "CompanyName", "phone": "phone"}
	path := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(path, []byte(northwindHeader+"ALFKI,Alfreds,1,Berlin,Germany,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := mustMapping(t, cfg)
	st, err := m.Columns(path) // not read yet: its header is
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Read(context.Background(), path, func(mapping.Row) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if again, err := m.Columns(path); err != nil || !slices.Equal(again.Columns, st.Columns) || !slices.Equal(again.UnknownColumns, st.UnknownColumns) {
		t.Errorf("after a read: %+v %v, want %+v", again, err, st)
	}
	var mapped []string
	for _, c := range st.Columns {
		mapped = append(mapped, c.Header+"→"+c.Field)
	}
	if want := []string{"CustomerID→reference", "CompanyName→name", "phone→phone"}; !slices.Equal(mapped, want) {
		t.Errorf("mapped %v, want %v", mapped, want)
	}
	if want := []string{"city", "Country", "fax"}; !slices.Equal(st.UnknownColumns, want) {
		t.Errorf("ignored %v, want %v", st.UnknownColumns, want)
	}
}

func TestNew_ColumnsRequired(t *testing.T) {
	for _, tc := range []struct {
		name    string
		columns map[string]string
		want    string
	}{
		{"nothing mapped", nil, `source.columns maps no column to reference, name (or set source.auto_columns: true)`},
		{"name switched off", map[string]string{"reference": "CustomerID", "name": ""}, `source.columns maps no column to name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mapping.DefaultConfig()
			cfg.Columns = tc.columns
			_, err := mapping.New(cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestFingerprint_AutoColumns(t *testing.T) {
	cfg := mapping.DefaultConfig()
	cfg.Columns = map[string]string{"reference": "CustomerID", "name": "CompanyName"}
	auto := cfg
	auto.AutoColumns = true
	if mustMapping(t, cfg).Fingerprint() == mustMapping(t, auto).Fingerprint() {
		t.Error("auto_columns does not change the fingerprint")
	}
}

// autoConfig is the default config with source.auto_columns: the tests
// whose exports are headed by CRM field names (reference,name,…).
func autoConfig() mapping.Config {
	cfg := mapping.DefaultConfig()
	cfg.AutoColumns = true
	return cfg
}
