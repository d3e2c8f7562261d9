package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/report"
)

// TestE2E_PlanListsColumns: the plan names the columns it reads and the
// ones it ignores, once: on the console, in -out .json and in -out .csv.
// A column named like a CRM field (phone) that the config does not map is
// ignored, not sent.
func TestE2E_PlanListsColumns(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	export := e.file("cols.csv", "KUNNR;NAME1;LAND1;ORT01;KLIMK;WAERS;ZTERM_TYPE;ZTERM_DAYS;PARENT;ZAHLW;KATEGORIE;SPERR;LOEVM;phone;=Notes\r\n"+
		"C-1001;Marie's Jewelry;France;Paris;5.000,00;EUR;1;30;;C,S,T;J;;;0123;hi\r\n"+
		"C-1002;Marie's Jewelry, Nice shop;FR;Nice;1.500,00;EUR;1;30;C-1001;C,S;J;;;0456;\r\n")
	js := filepath.Join(e.dir, "p.json")
	code, out, errOut := e.run("plan", "-file", export, "-out", js)
	if code != ExitOK {
		t.Fatalf("plan: %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"Columns read: KUNNR → reference, NAME1 → name, LAND1 → billingCountry,",
		"LOEVM → delete_flag\n", "Columns ignored: phone, =Notes (not in source.columns)\n"} {
		if strings.Count(out, want) != 1 {
			t.Errorf("the plan does not say %q once:\n%s", want, out)
		}
	}
	var doc struct {
		Columns struct {
			Read    []struct{ Header, Field string }
			Ignored []string
		}
		Actions []struct{ Op, Reference string }
	}
	data, _ := os.ReadFile(js)
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.Actions) != 2 || len(doc.Columns.Read) != 13 ||
		doc.Columns.Read[0].Header != "KUNNR" || doc.Columns.Read[0].Field != "reference" ||
		!slices.Equal(doc.Columns.Ignored, []string{"phone", "=Notes"}) {
		t.Errorf("p.json: %v: %+v", err, doc)
	}
	csvPath := filepath.Join(e.dir, "p.csv")
	if code, _, errOut := e.run("plan", "-file", export, "-out", csvPath); code != ExitOK {
		t.Fatalf("plan -out p.csv: %d %s", code, errOut)
	}
	rows := readRows[report.PlanLine](t, csvPath)
	var cols []string
	for _, r := range rows {
		if r.Operation == "column" {
			cols = append(cols, r.Field+"="+r.New+":"+r.Reason)
		}
	}
	if len(cols) != 15 || cols[0] != "reference=KUNNR:read" || cols[14] != "='=Notes:ignored" {
		t.Errorf("p.csv columns: %q", cols)
	}
	if code, out, errOut := e.run("run", "-file", export); code != ExitOK {
		t.Fatalf("run: %d\n%s%s", code, out, errOut)
	}
	if c, ok := e.customer("C-1001"); !ok || c.Phone != nil {
		t.Errorf("C-1001 in the CRM: %+v %v, want no phone", c, ok)
	}
}
