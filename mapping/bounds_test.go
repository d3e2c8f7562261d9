package mapping_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"erpsync/mapping"
)

// Customer cells of a headerless export: none may appear in an error.
const (
	secretName  = "Alice Martin-Dupont"
	secretMail  = "alice.martin@example.com"
	secretIBAN  = "FR7630006000011234567890189"
	secretCells = "K001," + secretName + "," + secretMail + "," + secretIBAN
)

func assertNoCell(t *testing.T, text string) {
	t.Helper()
	for _, s := range []string{secretName, secretMail, secretIBAN, "K001"} {
		if strings.Contains(text, s) {
			t.Errorf("the error quotes the customer cell %q: %s", s, text)
		}
	}
}

func TestRead_HeaderlessExportQuotesNoCell(t *testing.T) {
	sap := mapping.DefaultConfig()
	sap.Columns = map[string]string{"reference": "KUNNR", "name": "NAME1", "email": "MAIL"}
	for name, tc := range map[string]struct {
		cfg     mapping.Config
		content string
	}{
		"default columns":    {autoConfig(), secretCells + "\nK002,Bob,b@example.com,FR76\n"},
		"configured columns": {sap, secretCells + "\n"},
		"a cell twice":       {sap, secretCells + "," + secretIBAN + "\n"},
		"one column read":    {sap, strings.ReplaceAll(secretCells, ",", ";") + "\n"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := readAll(t, tc.cfg, tc.content)
			var fe *mapping.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *mapping.FileError", err)
			}
			assertNoCell(t, err.Error())
			if !strings.Contains(err.Error(), "the first line does not look like a header") {
				t.Errorf("err = %v, want it to say the first line is no header", err)
			}
		})
	}
}

func TestRead_HeaderErrorBounded(t *testing.T) {
	var cols []string
	for i := range 5000 {
		cols = append(cols, fmt.Sprintf("COLUMN_%d_%s", i, strings.Repeat("x", 100)))
	}
	cols = append(cols, "name")
	_, err := readAll(t, autoConfig(), strings.Join(cols, ",")+"\n")
	if err == nil || !strings.Contains(err.Error(), `lacks the column "reference"`) {
		t.Fatalf("err = %v", err)
	}
	if n := len(err.Error()); n > 1000 {
		t.Errorf("the error is %d bytes: %.300s…", n, err)
	}
	if !strings.Contains(err.Error(), "and 4991 more") {
		t.Errorf("err = %.600s, want the list cut with and 4991 more", err)
	}
}

func TestRead_ZipMemberListBounded(t *testing.T) {
	members := map[string]string{}
	for i := range 3000 {
		members[fmt.Sprintf("export-%05d.csv", i)] = "reference,name\n"
	}
	path := write(t, filepath.Join(t.TempDir(), "many.zip"), zipped(t, members))
	for _, member := range []string{"", "missing.csv"} {
		cfg := sameConfig()
		cfg.ZipMember = member
		_, _, err := readExport(t, cfg, path)
		if err == nil {
			t.Fatal("a zip of 3000 members read")
		}
		if n := len(err.Error()); n > 1000 {
			t.Errorf("zip_member %q: the error is %d bytes: %.300s…", member, n, err)
		}
		if !strings.Contains(err.Error(), "and 2990 more") {
			t.Errorf("zip_member %q: err = %.500s, want and 2990 more", member, err)
		}
	}
}

func TestRead_RowErrorQuotesExcerpt(t *testing.T) {
	cfg := autoConfig()
	long := strings.Repeat("9x", 50_000)
	content := "reference,name,creditLimit,email,isActive\n" +
		"A,Alpha," + long + ",a@example.com,true\n" +
		"B,Beta,5,a@example.com," + long + "\n" +
		"C,Gamma,5,nobody " + long + ",true\n"
	rows, err := readAll(t, cfg, content)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		var texts []string
		if r.Err != nil {
			texts = append(texts, r.Err.Error())
		}
		for _, w := range r.Warnings {
			texts = append(texts, w.Error())
		}
		if len(texts) == 0 {
			t.Errorf("line %d: no error nor warning", r.Line)
		}
		for _, s := range texts {
			if len(s) > 400 {
				t.Errorf("line %d: the error is %d bytes: %.200s…", r.Line, len(s), s)
			}
		}
	}
}

func TestRead_LongColumnNameCut(t *testing.T) {
	long := "CREDIT" + strings.Repeat("x", 10_000)
	cfg := autoConfig()
	cfg.Columns = map[string]string{"creditLimit": long}
	rows, err := readAll(t, cfg, "reference,name,"+long+"\nA,Alpha,lots\n")
	if err != nil || len(rows) != 1 || rows[0].Err == nil {
		t.Fatalf("rows %v, err %v", rows, err)
	}
	if n := len(rows[0].Err.Error()); n > 400 {
		t.Errorf("the row error is %d bytes: %.200s…", n, rows[0].Err)
	}
}
