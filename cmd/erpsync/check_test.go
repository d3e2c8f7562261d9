package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// Session credentials of the tests, read from these variables.
const (
	testUserEnv     = "ERPSYNC_TEST_CRM_USER"
	testPasswordEnv = "ERPSYNC_TEST_CRM_PASSWORD"
	testUser        = "sync-robot"
	testPassword    = "Pw-for-tests-5b8e21f0"
)

// sessionAuth turns the demo config's `auth: none` into the session login
// with the tests' variables.
func sessionAuth(cfg string) string {
	return strings.Replace(cfg, "auth: none", fmt.Sprintf("auth: session\n  username_env: %s\n  password_env: %s",
		testUserEnv, testPasswordEnv), 1)
}

// The tests' CRM credentials are set once for the package: the tests
// that log in with them run in parallel; those that need other values
// (unset, wrong) set them with setCredentials and run alone.
func init() {
	os.Setenv(testUserEnv, testUser)
	os.Setenv(testPasswordEnv, testPassword)
}

func setCredentials(t *testing.T, user, password string) {
	t.Setenv(testUserEnv, user)
	t.Setenv(testPasswordEnv, password)
}

// requests counts every request crmsim received since its last reset.
func requests(sim *crmsim.Server) int64 {
	var n int64
	for _, v := range sim.Stats() {
		n += v
	}
	return n
}

// TestCheck_ObservedFacts: check against a CRM capping pages at 37 with
// millisecond dates prints what it saw, and writes nothing.
func TestCheck_ObservedFacts(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 1, 8, 0, 0, 250*int(time.Millisecond), time.UTC)
	e := newE2E(t, crmsim.Options{User: testUser, Password: testPassword, MaxPageSize: 37, TimePrecision: "ms",
		Now: func() time.Time { return at }}, sessionAuth)
	for i := range 120 {
		cur := []string{"EUR", "USD"}[i%2]
		if _, err := e.sim.Store.Put(fmt.Sprintf("K-%03d", i), map[string]string{"name": "Customer", "currency": cur}); err != nil {
			t.Fatal(err)
		}
	}
	e.sim.ResetStats()

	code, out, errOut := e.run("check")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"login         ok in",
		"username " + testUser,
		"api version   v2.1 answered (paging links name v2.1)",
		"versions      v2.1 answers, v1.0 answers",
		"asked 100, the CRM caps pages at 37 (paging.max)",
		"timestamps    ms (lastUpdated with milliseconds)",
		"customers     120 (paging.total)",
		"organisation  entity1, currency not shown by the API (this page's customers: EUR, USD)",
		"round trip",
		"for one page of 37",
		"check ok",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	st := e.sim.Stats()
	if n := requests(e.sim); n != 4 || st["GET /customers"] != 2 {
		t.Errorf("check sent %d requests, want 4 (login, token, one page, one of v1.0): %v", n, st)
	}
	if strings.Contains(out+errOut, testPassword) {
		t.Error("the password is in the output")
	}
}

// TestCheck_SecondsAndNoCustomer: a bearer-less simulator, whole-second
// dates; an empty CRM says so.
func TestCheck_SecondsAndNoCustomer(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	code, out, errOut := e.run("check")
	if code != ExitOK || !strings.Contains(out, "not seen (no customer yet)") || !strings.Contains(out, "customers     0") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := e.sim.Store.Put("S-1", map[string]string{"name": "Seconds"}); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := e.run("check"); code != ExitOK || !strings.Contains(out, "s (no fraction of a second in 1 lastUpdated)") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// TestCheck_WrongVersion: api_version v9, which crmsim does not answer,
// makes check and run exit 4 naming the version, and run writes nothing.
func TestCheck_WrongVersion(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, func(cfg string) string {
		return strings.Replace(cfg, "auth: none", "auth: none\n  api_version: v9", 1)
	})
	for _, args := range [][]string{{"check"}, {"run", "-file", day1}} {
		code, out, errOut := e.run(args...)
		if code != ExitFatal {
			t.Errorf("%s: exit %d, want 4\n%s\n%s", args[0], code, out, errOut)
		}
		if !strings.Contains(errOut, `API version "v9" not answered`) {
			t.Errorf("%s: stderr does not name the version:\n%s", args[0], errOut)
		}
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("wrote %d upserts and %d deletes", up, del)
	}
}

// TestCheck_DeprecatedVersion: a CRM that marks v1.0 deprecated: check on
// api_version v1.0 shows the warning, and says which versions answer.
func TestCheck_DeprecatedVersion(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{Quirks: crmsim.Quirks{DeprecatedVersions: []string{"v1.0"}}}, func(cfg string) string {
		return strings.Replace(cfg, "auth: none", "auth: none\n  api_version: v1.0", 1)
	})
	code, out, errOut := e.run("check")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"api version   v1.0 answered",
		`warning       299 - "deprecated_version: the API version v1.0 is deprecated" (the CRM says api_version v1.0 is deprecated)`,
		"versions      v2.1 answers, v1.0 answers (deprecated_version)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestCheck_PageSizeReceived: the page size reported is the one received,
// also when paging.max repeats the max asked.
func TestCheck_PageSizeReceived(t *testing.T) {
	t.Parallel()
	page := func(max, n, total int) *crm.Page {
		return &crm.Page{Paging: crm.Paging{Max: max, Total: total}, Data: make([]crm.Customer, n)}
	}
	for _, tc := range []struct {
		p    *crm.Page
		want string
	}{
		{page(100, 50, 120), "asked 100, received 50 of 120 (paging.max says 100): the CRM caps pages at 50"},
		{page(50, 50, 120), "asked 100, the CRM caps pages at 50 (paging.max)"},
		{page(100, 100, 120), "asked 100, received 100 (paging.max 100)"},
		{page(100, 7, 7), "asked 100, received all 7 (paging.max 100; no cap seen)"},
	} {
		if got := pageCapText(100, tc.p); !strings.HasPrefix(got, tc.want) {
			t.Errorf("pageCapText(max %d, %d of %d) = %q, want %q", tc.p.Paging.Max, tc.p.Len(), tc.p.Paging.Total, got, tc.want)
		}
	}
}
