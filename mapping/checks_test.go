package mapping_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"erpsync/mapping"
)

// TestRead_ValuesAddToReading: a values map is consulted first; a value
// outside it is read as the field reads it, unless values_strict names it.
func TestRead_ValuesAddToReading(t *testing.T) {
	content := "reference,name,billingCountry,categoryId\n" +
		"A,Alpha,France,\n" + "B,Beta,Frankreich,\n" + "C,Gamma,Bundesrepublik,\n" +
		"D,Delta,Germany,\n" + "E,Eps,Kingdom of Fife,\n" + "F,Phi,DE,J\n" + "G,Chi,DE,Q\n"
	plain := autoConfig()
	aliased := autoConfig()
	aliased.Values = map[string]map[string]string{
		"billingCountry": {"Bundesrepublik": "DE", "Kingdom of Fife": "GB"},
		"categoryId":     {"J": "jewelry"},
	}
	before, after := rowsByRef(t, plain, content), rowsByRef(t, aliased, content)
	want := map[string][2]string{ // reference → before, after
		"C": {`error: unknown country "Bundesrepublik"`, "DE"},
		"E": {`error: unknown country "Kingdom of Fife"`, "GB"},
		"F": {"DE J", "DE jewelry"},
		"G": {"DE Q", `error: value "Q" is not in values.categoryId (values_strict)`},
	}
	for ref, b := range before {
		a := after[ref]
		w, changed := want[ref]
		switch {
		case !changed && a != b:
			t.Errorf("%s changed: %q → %q", ref, b, a)
		case changed && (!strings.HasPrefix(b, w[0]) || !strings.HasPrefix(a, w[1])):
			t.Errorf("%s: %q → %q, want %q → %q", ref, b, a, w[0], w[1])
		}
	}
	loose := aliased
	loose.ValuesStrict = []string{}
	if got := rowsByRef(t, loose, content)["G"]; got != "DE Q" {
		t.Errorf("values_strict: [] still refuses Q: %q", got)
	}
}

// rowsByRef reads content and describes each row by its reference as
// "billingCountry categoryId" or "error: …".
func rowsByRef(t *testing.T, cfg mapping.Config, content string) map[string]string {
	t.Helper()
	rows, err := readAll(t, cfg, content)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		if r.Err != nil {
			out[r.Err.Reference] = "error: " + r.Err.Err.Error()
			continue
		}
		out[r.Customer.Reference] = r.Customer.Field("billingCountry") + " " + r.Customer.Field("categoryId")
	}
	return out
}

// TestRead_NullValues: Northwind writes missing faxes as the text NULL.
func TestRead_NullValues(t *testing.T) {
	content := "reference,name,fax,phone\n" +
		"ALFKI,Alfreds Futterkiste,030-0076545,030-0074321\n" +
		"ANATR,Ana Trujillo,NULL,(5) 555-4729\n" +
		"ANTON,Antonio Moreno, null ,\\N\n" +
		"AROUT,Around the Horn,#n/a,N/A\n" +
		"NULL,Nobody,,\n"
	cfg := autoConfig()
	cfg.NullValues = []string{"NULL", `\N`, "#N/A", "n/a"}
	rows, err := readAll(t, cfg, content)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, describeRow(r))
	}
	want := []string{
		`2 ALFKI fax="030-0076545" name="Alfreds Futterkiste" phone="030-0074321"`,
		`3 ANATR fax="" name="Ana Trujillo" phone="(5) 555-4729"`,
		`4 ANTON fax="" name="Antonio Moreno" phone=""`,
		`5 AROUT fax="" name="Around the Horn" phone=""`,
		`6 error: export.csv line 6 column reference: empty reference`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Without null_values, NULL is text; with them, the mapping changed.
	plain, _ := readAll(t, autoConfig(), content)
	if plain[1].Customer.Field("fax") != "NULL" || plain[1].Customer.Hash == rows[1].Customer.Hash {
		t.Errorf("without null_values: fax %q, hash unchanged: %v", plain[1].Customer.Field("fax"),
			plain[1].Customer.Hash == rows[1].Customer.Hash)
	}
}

func TestRead_Plausible(t *testing.T) {
	content := "reference,name,email,website\n" +
		"A,Alpha,a@example.com,www.example.com\n" +
		"B,Beta,info(at)example.de,https://example.de/x\n" +
		"C,Gamma,no address,c@example.com\n" +
		"D,Delta,,\n"
	rows, err := readAll(t, autoConfig(), content)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		if r.Err != nil {
			t.Fatalf("row error without strict: %v", r.Err)
		}
		for _, w := range r.Warnings {
			got = append(got, w.Error())
		}
	}
	want := []string{
		`export.csv line 3 column email: email "info(at)example.de" is not plausible: it writes "@" as "(at)"`,
		`export.csv line 4 column email: email "no address" is not plausible: it holds a space`,
		`export.csv line 4 column website: website "c@example.com" is not plausible: it holds an @ (an email?)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cfg := autoConfig()
	cfg.Strict = []string{"email"}
	rows, _ = readAll(t, cfg, content)
	var errs []string
	for _, r := range rows {
		if r.Err != nil {
			errs = append(errs, fmt.Sprint(r.Line))
		}
	}
	if strings.Join(errs, ",") != "3,4" || len(rows[3].Warnings) != 0 {
		t.Errorf("strict email: errors on lines %v", errs)
	}
}

func TestRead_DelimiterHint(t *testing.T) {
	cfg := autoConfig()
	cfg.Delimiter = ","
	_, err := readAll(t, cfg, "reference;name;city\nA;Alpha;Nice\n")
	var fe *mapping.FileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "one column read — is the delimiter `;`?") {
		t.Errorf("err = %v", err)
	}
}

func TestNew_ConfigChecks(t *testing.T) {
	for _, tc := range []struct {
		set  func(*mapping.Config)
		want string
	}{
		{func(c *mapping.Config) { c.ValuesStrict = []string{"colour"} }, `values_strict: "colour" is not a CRM field`},
		{func(c *mapping.Config) { c.Strict = []string{"phone"} }, `strict: "phone": want one of email, website`},
		{func(c *mapping.Config) { c.NullValues = []string{" "} }, "null_values: an empty entry"},
	} {
		cfg := autoConfig()
		tc.set(&cfg)
		if _, err := mapping.New(cfg, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
}

// TestColumnMap_YAML: an unknown field under columns names its line.
func TestColumnMap_YAML(t *testing.T) {
	var cfg struct {
		Source mapping.Config `yaml:"source"`
	}
	doc := "source:\n  columns:\n    reference: KUNNR\n    colour: FARBE\n"
	err := yaml.Unmarshal([]byte(doc), &cfg)
	if err == nil || !strings.Contains(err.Error(), `line 4: columns: "colour" is not a CRM field`) {
		t.Errorf("err = %v", err)
	}
	if err := yaml.Unmarshal([]byte("source:\n  columns:\n    reference: KUNNR\n"), &cfg); err != nil || cfg.Source.Columns["reference"] != "KUNNR" {
		t.Errorf("columns = %v, %v", cfg.Source.Columns, err)
	}
}
