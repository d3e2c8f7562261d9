package mapping_test

import (
	"strings"
	"testing"
)

// TestRead_NullLikeCells: a number, Boolean or country cell that holds
// NULL, N/A, #N/A or \N is a row error naming source.null_values (the
// cure when the ERP writes empty that way); an unknown country names
// source.values, as an ambiguous one does.
func TestRead_NullLikeCells(t *testing.T) {
	for _, tc := range []struct {
		name, row string
		says      []string
	}{
		{"number", "K1;Shop;FR;NULL;;;;;;;;;", []string{`column KLIMK: bad number "NULL"`, `add "NULL" to source.null_values`}},
		{"boolean", "K1;Shop;FR;1;N/A;;;;;;;;", []string{`column SPERR: "N/A" is neither`, `add "N/A" to source.null_values`}},
		{"country", "K1;Shop;#N/A;1;;;;;;;;;", []string{`column LAND1: unknown country "#N/A"`, `add "#N/A" to source.null_values`}},
		{"whole number", `K1;Shop;FR;1;;;;;;;;\N;`, []string{`column REG: bad whole number "\\N"`, `add "\\N" to source.null_values`}},
		{"unknown country", "K1;Shop;Atlantis;1;;;;;;;;;", []string{`unknown country "Atlantis"`, "source.values"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := readAll(t, sapConfig(), sapHeader+tc.row+"\n")
			if err != nil || len(rows) != 1 || rows[0].Err == nil {
				t.Fatalf("rows %v, err %v: want one row error", rows, err)
			}
			msg := rows[0].Err.Error()
			for _, s := range tc.says {
				if !strings.Contains(msg, s) {
					t.Errorf("%q does not say %q", msg, s)
				}
			}
		})
	}
	t.Run("named in null_values", func(t *testing.T) {
		cfg := sapConfig()
		cfg.NullValues = []string{"NULL", "N/A", "#N/A", `\N`}
		rows, err := readAll(t, cfg, sapHeader+`K1;Shop;#N/A;NULL;N/A;;;;;;;\N;`+"\n")
		if err != nil || len(rows) != 1 || rows[0].Err != nil {
			t.Fatalf("rows %v, err %v: want one customer", rows, err)
		}
	})
}
