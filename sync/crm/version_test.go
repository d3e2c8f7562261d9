package crm_test

import (
	"context"
	"strings"
	"testing"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// TestClient_DefaultVersionIsV21: a client told no version calls
// /api/v2.1/, the reference's version, which a CRM serving only it answers.
func TestClient_DefaultVersionIsV21(t *testing.T) {
	_, ts := MustSim(t, crmsim.Options{Versions: []string{"v2.1"}})
	c := MustClient(t, ts.URL, crm.Config{})
	if _, err := c.ListPage(context.Background(), crm.ListQuery{Max: 1}); err != nil {
		t.Fatalf("list with the default version: %v", err)
	}
}

// TestClient_Deprecation: an answer of a deprecated version carries the
// deprecated_version warning, which the client keeps; ProbeVersion says
// which versions answer, each with its warning, and touches no other.
func TestClient_Deprecation(t *testing.T) {
	sim, ts := MustSim(t, crmsim.Options{Versions: []string{"v1.0", "v2.1"},
		Quirks: crmsim.Quirks{DeprecatedVersions: []string{"v1.0"}}})
	ctx := context.Background()
	old := MustClient(t, ts.URL, crm.Config{APIVersion: "v1.0"})
	if _, err := old.ListPage(ctx, crm.ListQuery{Max: 1}); err != nil {
		t.Fatal(err)
	}
	if d := old.Deprecation(); !strings.Contains(d, "deprecated_version") || !strings.Contains(d, "v1.0") {
		t.Errorf("v1.0: Deprecation() = %q", d)
	}
	cur := MustClient(t, ts.URL, crm.Config{})
	want := map[string]crm.VersionProbe{
		"v2.1": {Version: "v2.1", Answered: true},
		"v1.0": {Version: "v1.0", Answered: true},
		"v9":   {Version: "v9"},
	}
	for _, v := range []string{"v2.1", "v1.0", "v9"} {
		got, err := cur.ProbeVersion(ctx, v)
		if err != nil {
			t.Fatalf("probe %s: %v", v, err)
		}
		if v == "v1.0" && strings.Contains(got.Deprecation, "deprecated_version") {
			got.Deprecation = ""
		} else if v == "v1.0" {
			t.Errorf("probe v1.0: no deprecation: %+v", got)
		}
		if got != want[v] {
			t.Errorf("probe %s = %+v, want %+v", v, got, want[v])
		}
	}
	if d := cur.Deprecation(); d != "" {
		t.Errorf("v2.1 client: Deprecation() = %q after probing v1.0", d)
	}
	if n := sim.Stats()[crm.OpList]; n != 4 {
		t.Errorf("%d list requests, want 4", n)
	}
}

// TestClient_DeprecationInBody: a deprecated_version member of an answer
// is a deprecation too.
func TestClient_DeprecationInBody(t *testing.T) {
	ts := serveBody(t, `{"paging":{"total":0,"max":100,"offset":0},"data":[],"deprecated_version":"v2.1 ends on 2027-06-30"}`)
	c := MustClient(t, ts.URL, crm.Config{})
	if _, err := c.ListPage(context.Background(), crm.ListQuery{}); err != nil {
		t.Fatal(err)
	}
	if d := c.Deprecation(); d != "deprecated_version: v2.1 ends on 2027-06-30" {
		t.Errorf("Deprecation() = %q", d)
	}
}
