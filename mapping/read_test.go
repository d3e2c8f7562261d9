package mapping_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"erpsync/mapping"
)

// readAll maps content written to a file and returns its rows.
func readAll(t *testing.T, cfg mapping.Config, content string) ([]mapping.Row, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var rows []mapping.Row
	_, err = m.Read(context.Background(), path, func(r mapping.Row) error { rows = append(rows, r); return nil })
	return rows, err
}

func sapConfig() mapping.Config {
	cfg := mapping.DefaultConfig()
	cfg.Decimal = ","
	cfg.Columns = map[string]string{"reference": "KUNNR", "name": "NAME1", "billingCountry": "LAND1", "creditLimit": "KLIMK",
		"onHold": "SPERR", "dueDateConfigType": "ZT", "dueDateConfigNumber": "ZD", "categoryId": "KAT", "paymentTypes": "ZAHLW",
		"parentCustomer": "PARENT", "email": "MAIL", "regionId": "REG"}
	cfg.Values = map[string]map[string]string{"categoryId": {"J": "jewelry"}, "paymentTypes": {"C": "7", "S": "8"}}
	cfg.TrueValues = []string{"X"}
	cfg.FalseValues = []string{"-"}
	cfg.DeleteFlag = mapping.DeleteFlag{Column: "LOEVM", Values: []string{"X"}}
	return cfg
}

const sapHeader = "KUNNR;NAME1;LAND1;KLIMK;SPERR;ZT;ZD;KAT;ZAHLW;PARENT;MAIL;REG;LOEVM\n"

func TestRead_Values(t *testing.T) {
	for _, tc := range []struct {
		name, row string
		want      map[string]string // fields checked; nil when an error is wanted
		err       string
	}{
		{"canonical forms", "K1;Shop;France;5.000,00;X;daysAfterInvoiceDate;30;J;S|C;P1;a@b.c;3;",
			map[string]string{"billingCountry": "FR", "creditLimit": "5000", "onHold": "true", "dueDateConfigType": "1",
				"dueDateConfigNumber": "30", "categoryId": "jewelry", "paymentTypes": `[{"id":7},{"id":8}]`,
				"parentCustomer": "P1", "isSubCustomer": "true", "regionId": "3"}, ""},
		{"trailing minus and cleared cells", "K1;Shop;fr;133,55-;-;;;;;;;;",
			map[string]string{"billingCountry": "FR", "creditLimit": "-133.55", "onHold": "false", "email": "",
				"parentCustomer": "", "isSubCustomer": "false", "paymentTypes": "", "categoryId": ""}, ""},
		{"type 2 by number", "K1;Shop;US;1;;2;15;;;;;;", map[string]string{"dueDateConfigType": "2"}, ""},
		{"bad number", "K1;Shop;FR;12,3,4;;;;;;;;;", nil, "line 2 column KLIMK: bad number \"12,3,4\""},
		{"thousands in the wrong place", "K1;Shop;FR;5.00,00;;;;;;;;;", nil, "column KLIMK: bad number"},
		{"bad boolean", "K1;Shop;FR;1;maybe;;;;;;;;", nil, "column SPERR: \"maybe\" is neither a true value nor a false value"},
		{"unknown country", "K1;Shop;Atlantis;1;;;;;;;;;", nil, "column LAND1: unknown country \"Atlantis\""},
		{"bad due type", "K1;Shop;FR;1;;9;30;;;;;;", nil, "column ZT: bad dueDateConfigType \"9\""},
		{"due type without days", "K1;Shop;FR;1;;1;;;;;;;", nil, "dueDateConfigType is set but dueDateConfigNumber is empty"},
		{"value outside the map", "K1;Shop;FR;1;;;;Q;;;;;", nil, "column KAT: value \"Q\" is not in values.categoryId"},
		{"payment type outside the map", "K1;Shop;FR;1;;;;;C|Z;;;;", nil, "payment type \"Z\" is not in values.paymentTypes"},
		{"own parent", "K1;Shop;FR;1;;;;;;K1;;;", nil, "a customer cannot be its own parent"},
		{"empty reference", ";Shop;FR;1;;;;;;;;;", nil, "empty reference"},
		{"empty name", "K1;;FR;1;;;;;;;;;", nil, "empty name"},
		{"bad region", "K1;Shop;FR;1;;;;;;;;x;", nil, "column REG: bad whole number \"x\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := readAll(t, sapConfig(), sapHeader+tc.row+"\n")
			if err != nil || len(rows) != 1 {
				t.Fatalf("rows %d, err %v", len(rows), err)
			}
			r := rows[0]
			if tc.want == nil {
				if r.Err == nil || !strings.Contains(r.Err.Error(), tc.err) || r.Err.Line != 2 {
					t.Fatalf("err = %v, want %q at line 2", r.Err, tc.err)
				}
				return
			}
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			for k, v := range tc.want {
				if got, ok := r.Customer.Fields()[k]; !ok || got != v {
					t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
				}
			}
		})
	}
	t.Run("unmapped fields are absent", func(t *testing.T) {
		cfg := autoConfig()
		rows, _ := readAll(t, cfg, "reference,name,comment\nA,Alpha,\n")
		f := rows[0].Customer.Fields()
		if _, ok := f["email"]; ok || f["comment"] != "" || len(f) != 3 {
			t.Errorf("fields = %v", f)
		}
	})
	t.Run("flagged rows are deletes", func(t *testing.T) {
		rows, _ := readAll(t, sapConfig(), sapHeader+"K1;Gone;Nowhere;bad;;;;;;;;;X\n")
		if rows[0].Err != nil || !rows[0].Customer.Delete || rows[0].Customer.Reference != "K1" {
			t.Errorf("row = %+v %v", rows[0].Customer, rows[0].Err)
		}
	})
}

func TestRead_Lines(t *testing.T) {
	cfg := autoConfig()
	content := "reference,name,comment\n" +
		"A,Alpha,\"two\nlines\"\n" + // lines 2-3
		"B,Beta\n" + // line 4: too few fields
		"C,Gamma,\"never closed\n" + // line 5: unterminated quote
		"D,Delta,ok\n" + // line 6: still counts
		"E,Eps\x00ilon,x\n" + // line 7: NUL
		"F,\"" + strings.Repeat("x", mapping.MaxField+1) + "\",y\n" + // line 8: a field over 1 MiB
		"G,Gamma,z,extra\n" + // line 9: too many fields
		"H,Eta,fine\n"
	rows, err := readAll(t, cfg, content)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		if r.Err != nil {
			got = append(got, fmt.Sprintf("%d error", r.Line))
		} else {
			got = append(got, fmt.Sprintf("%d %s", r.Line, r.Customer.Reference))
		}
	}
	want := []string{"2 A", "4 error", "5 error", "6 D", "7 error", "8 error", "9 error", "10 H"}
	if !slices.Equal(got, want) {
		t.Errorf("rows = %q, want %q", got, want)
	}
	if rows[0].Customer.Field("comment") != "two\nlines" {
		t.Errorf("multi-line field = %q", rows[0].Customer.Field("comment"))
	}
}

func TestRead_FileErrors(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"empty", "", "the file is empty"},
		{"no reference", "name\nAlpha\n", `the header lacks the column "reference" (for reference)`},
		{"duplicate header", "reference,name,Name\nA,B,C\n", `column "Name" appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, autoConfig(), tc.content)
			var fe *mapping.FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a file error saying %q", err, tc.want)
			}
		})
	}
	t.Run("header only is fine", func(t *testing.T) {
		rows, err := readAll(t, autoConfig(), "reference,name\n")
		if err != nil || len(rows) != 0 {
			t.Errorf("rows %d err %v", len(rows), err)
		}
	})
	t.Run("config mistakes name the key", func(t *testing.T) {
		for key, edit := range map[string]func(*mapping.Config){
			"decimal":        func(c *mapping.Config) { c.Decimal = ";" },
			"delimiter":      func(c *mapping.Config) { c.Delimiter = "#" },
			"timezone":       func(c *mapping.Config) { c.Timezone = "Mars/Olympus" },
			"columns":        func(c *mapping.Config) { c.Columns = map[string]string{"colour": "X"} },
			"values":         func(c *mapping.Config) { c.Values = map[string]map[string]string{"nope": {}} },
			"delete_flag":    func(c *mapping.Config) { c.DeleteFlag.Column = "LOEVM" },
			"images_dir":     func(c *mapping.Config) { c.ImagesDir = "/no/such/folder" },
			"date_format":    func(c *mapping.Config) { c.DateFormat = "dd.mm.yyyy" },
			"false_values":   func(c *mapping.Config) { c.FalseValues = []string{"true"} },
			"list_separator": func(c *mapping.Config) { c.ListSeparator = "" },
		} {
			cfg := autoConfig()
			edit(&cfg)
			if _, err := mapping.New(cfg, nil); err == nil || !strings.Contains(err.Error(), key) {
				t.Errorf("%s: err = %v", key, err)
			}
		}
	})
}

func TestRead_Images(t *testing.T) {
	dir := t.TempDir()
	images := filepath.Join(dir, "images")
	os.MkdirAll(images, 0o755)
	os.WriteFile(filepath.Join(images, "logo.png"), append([]byte("\x89PNG\r\n\x1a\n"), 1, 2, 3), 0o644)
	os.WriteFile(filepath.Join(images, "notes.txt"), []byte("hello"), 0o644)
	os.WriteFile(filepath.Join(images, "big.png"), append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 2<<20)...), 0o644)
	os.WriteFile(filepath.Join(dir, "secret.png"), []byte("\x89PNG\r\n\x1a\nsecret"), 0o644)
	os.Symlink(filepath.Join(dir, "secret.png"), filepath.Join(images, "link.png"))
	cfg := autoConfig()
	cfg.ImagesDir = images
	cfg.Columns = map[string]string{"imageFile": "logo"}
	rows, err := readAll(t, cfg, "reference,name,logo\nA,a,logo.png\nB,b,../secret.png\nC,c,/etc/passwd\nD,d,link.png\nE,e,big.png\nF,f,notes.txt\nG,g,\n")
	if err != nil {
		t.Fatal(err)
	}
	if c := rows[0].Customer; c == nil || c.Image == nil || c.Image.Filename != "logo.png" {
		t.Fatalf("A = %+v %v", rows[0].Customer, rows[0].Err)
	}
	for i, want := range []string{"leaves images_dir", "is absolute", "leaves images_dir through a link", "over the CRM's 2 MB", "not a jpg, gif, png or bmp"} {
		if e := rows[i+1].Err; e == nil || !strings.Contains(e.Error(), want) {
			t.Errorf("row %d: %v, want %q", i+3, e, want)
		}
	}
	if c := rows[6].Customer; c == nil || c.Image != nil || c.Field("imageFile") != "" {
		t.Errorf("an empty image cell: %+v %v", c, rows[6].Err)
	}
	t.Run("the image is part of the hash", func(t *testing.T) {
		before := rows[0].Customer.Hash
		os.WriteFile(filepath.Join(images, "logo.png"), append([]byte("\x89PNG\r\n\x1a\n"), 9, 9, 9), 0o644)
		again, _ := readAll(t, cfg, "reference,name,logo\nA,a,logo.png\n")
		if again[0].Customer.Hash == before {
			t.Error("a new image left the hash unchanged")
		}
	})
}

// TestHash_Properties: the hash ignores the column order and changes with
// any mapped value and with the mapping.
func TestHash_Properties(t *testing.T) {
	header := []string{"reference", "name", "email", "city", "creditLimit", "isActive", "billingCountry"}
	row := []string{"K1", "Alpha", "a@example.com", "Nice", "5000", "true", "FR"}
	csvOf := func(order []int, r []string) string {
		var h, v []string
		for _, i := range order {
			h, v = append(h, header[i]), append(v, r[i])
		}
		return strings.Join(h, ",") + "\n" + strings.Join(v, ",") + "\n"
	}
	hashOf := func(cfg mapping.Config, content string) string {
		rows, err := readAll(t, cfg, content)
		if err != nil || rows[0].Err != nil {
			t.Fatalf("%v %v", err, rows[0].Err)
		}
		return rows[0].Customer.Hash
	}
	cfg := autoConfig()
	base := hashOf(cfg, csvOf([]int{0, 1, 2, 3, 4, 5, 6}, row))
	// Stable across runs, machines and versions: a hash that changes makes
	// every checkpoint see every record as changed (this value is the one
	// erpsync has written since its first checkpoint). Only if that is
	// ever intended: raise fingerprintVersion (mapping/config.go) and write
	// the new value here. (Headers matched by name need auto_columns: true
	// since issue 21, and the fingerprint holds it: the value before was
	// 3913802b…, and configs without auto_columns keep theirs, as
	// TestRowSumVersion shows.)
	const pinned = "c3f6053b338e80374b2cd9fd0693502871e2983124ed2928e6a8aeb52656edd9"
	if base != pinned {
		t.Errorf("the hash of a fixed row is %s, was %s", base, pinned)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10 {
		order := rng.Perm(len(header))
		if got := hashOf(cfg, csvOf(order, row)); got != base {
			t.Fatalf("order %v: hash changed", order)
		}
	}
	for i := 1; i < len(row); i++ {
		changed := slices.Clone(row)
		changed[i] = map[int]string{1: "Beta", 2: "b@example.com", 3: "Paris", 4: "5001", 5: "false", 6: "DE"}[i]
		if got := hashOf(cfg, csvOf([]int{0, 1, 2, 3, 4, 5, 6}, changed)); got == base {
			t.Errorf("changing %s left the hash unchanged", header[i])
		}
	}
	same := hashOf(cfg, csvOf([]int{0, 1, 2, 3, 4, 5, 6}, []string{"K1", "Alpha", "a@example.com", "Nice", `"5,000.00"`, "TRUE", "France"}))
	if same != base {
		t.Error("the same values written otherwise (5,000.00, TRUE, France) changed the hash")
	}
	other := autoConfig()
	other.Values = map[string]map[string]string{"city": {"Nice": "Nice"}}
	if hashOf(other, csvOf([]int{0, 1, 2, 3, 4, 5, 6}, row)) == base {
		t.Error("a changed value map left the hash unchanged")
	}
	m1, _ := mapping.New(cfg, nil)
	m2, _ := mapping.New(other, nil)
	if m1.Fingerprint() == m2.Fingerprint() {
		t.Error("the fingerprint ignores value maps")
	}
}

func TestDuplicateError(t *testing.T) {
	if e := mapping.DuplicateError("x.csv", "B", []int{3, 5}); !strings.Contains(e.Error(), "x.csv line 3 column reference: reference \"B\" appears with differing values on lines 3, 5") {
		t.Errorf("error = %v", e)
	}
}

// FuzzRead: for any bytes, no panic, and every row is a customer or a row
// error with a line number past the header.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		"reference,name\nA,Alpha\n",
		"reference;name;creditLimit\nA;Alpha;5.000,00\nB;\"unclosed\n",
		"\xef\xbb\xbfreference,name\r\nA,\"multi\r\nline\"\r\n",
		"\xff\xfer\x00e\x00f\x00",
		"reference\tname\nA\t\x00\n",
		"reference|name\rA|B\rC|D",
		"reference,name\nA,Alpha,extra\n,\n\"\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	m, err := mapping.New(autoConfig(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rows := 0
		_, err := m.Read(context.Background(), path, func(r mapping.Row) error {
			rows++
			if (r.Customer == nil) == (r.Err == nil) {
				t.Fatalf("row %+v is neither or both", r)
			}
			if r.Line < 2 {
				t.Fatalf("row at line %d", r.Line)
			}
			if r.Err != nil && (r.Err.Line != r.Line || !strings.Contains(r.Err.Error(), fmt.Sprintf("line %d", r.Line))) {
				t.Fatalf("row error without its line: %v", r.Err)
			}
			return nil
		})
		var fe *mapping.FileError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("err = %v, want nil or a file error", err)
		}
		if fe != nil && rows > 0 {
			t.Fatalf("a file error after %d rows", rows)
		}
		_ = bytes.MinRead
	})
}
