package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := NewMain(&stdout, &stderr).Run(context.Background(), []string{"demo", "-root", "../..", "-dir", t.TempDir()})
	if code != ExitOK {
		t.Fatalf("exit %d, stderr: %s", code, stderr.String())
	}
	for _, want := range []string{
		"run done: " + "../../testdata/exports/day1.csv — created 10, updated 0, deleted 0",
		"created 1, updated 2, deleted 2, unchanged 6, failed 0, invalid rows 0",
		"3. The same export again: nothing changed, so nothing is sent.\n" +
			"Plan for ../../testdata/exports/day2.csv: 10 rows read, 9 managed customers\n" +
			"  create 0 · update 0 · delete 0 · unchanged 9",
		"the CRM saw: 0 upserts, 0 deletes, 2 listings",
		"drift  C-1004: creditLimit CRM \"99999\", pushed \"12000\"",
		"the CRM saw: 1 upserts, 0 deletes",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout.String())
		}
	}
	// The demo ends with `why C-1004`: its create (day 1, line 5), the
	// hand edit found as drift and its repair, old → new. (TestDemo_Why
	// ran a second demo for it.)
	_, story, found := strings.Cut(stdout.String(), "erpsync why C-1004")
	iRepair := strings.Index(story, "run 4 updated")
	iDrift := strings.Index(story, "run 4 drift")
	iCreate := strings.Index(story, "run 1 created  ../../testdata/exports/day1.csv line 5")
	if !found || iRepair < 0 || iDrift < iRepair || iCreate < iDrift || !strings.Contains(story, "creditLimit: 99999 → 12000") ||
		!strings.Contains(story, "creditLimit: CRM 99999, pushed 12000") {
		t.Errorf("the demo's why C-1004:\n%s", stdout.String())
	}
}

func TestMain_Usage(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := NewMain(&stdout, &stderr).Run(context.Background(), []string{"frobnicate"}); code != ExitUsage {
		t.Errorf("unknown command: exit %d, want %d", code, ExitUsage)
	}
	if !strings.Contains(stderr.String(), `unknown command "frobnicate"`) {
		t.Errorf("stderr = %q", stderr.String())
	}
}
