package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/refresh"
)

// CheckCommand is the connection test to run before the first sync: it
// logs in (or uses the token), lists one page and says what it learned of
// the CRM. It writes nothing to the CRM and opens no checkpoint.
type CheckCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync check -config FILE`.
func (c *CheckCommand) Run(ctx context.Context, args []string) error {
	j, done, err := newJobFlags("check", c.Stderr).open(ctx, args, jobOptions{state: noState, crm: true})
	if err != nil {
		return err
	}
	defer done()
	facts, err := probe(ctx, j.client, j.cfg.CRM)
	facts.print(c.Stdout)
	if err != nil {
		fmt.Fprintf(c.Stdout, "check failed: %v\n", err)
		return sync.WithClass(sync.ClassFatal, fmt.Errorf("check: %w", err))
	}
	fmt.Fprintln(c.Stdout, "check ok: erpsync can log in and read the customers")
	return nil
}

// checkFacts is what check learned, filled in as far as it got.
type checkFacts struct {
	cfg       CRMConfig
	login     time.Duration // 0: no session login
	user      map[string]any
	page      *crm.Page
	roundTrip time.Duration
	// deprecation is the deprecated_version warning of the configured
	// version's answers; versions what each version the reference shows
	// answered.
	deprecation string
	versions    []crm.VersionProbe
}

// probe logs in when the config says so, then lists one page asking
// max=page_size.
func probe(ctx context.Context, client *crm.Client, cfg CRMConfig) (*checkFacts, error) {
	f := &checkFacts{cfg: cfg}
	if cfg.Auth == crm.AuthSession {
		start := time.Now()
		if err := client.Login(ctx); err != nil {
			return f, err
		}
		f.login, f.user = time.Since(start), client.LoginUser()
	}
	start := time.Now()
	page, err := client.ListPage(ctx, crm.ListQuery{Max: cfg.PageSize})
	if err != nil {
		return f, err
	}
	f.page, f.roundTrip = page, time.Since(start)
	f.deprecation = client.Deprecation()
	for _, v := range crm.KnownVersions {
		if v == cfg.APIVersion {
			f.versions = append(f.versions, crm.VersionProbe{Version: v, Answered: true, Deprecation: f.deprecation})
			continue
		}
		probe, err := client.ProbeVersion(ctx, v)
		if err != nil {
			return f, fmt.Errorf("ask API version %s: %w", v, err)
		}
		f.versions = append(f.versions, probe)
	}
	return f, nil
}

func (f *checkFacts) print(w io.Writer) {
	line := func(what, format string, a ...any) { fmt.Fprintf(w, "  %-13s %s\n", what, fmt.Sprintf(format, a...)) }
	fmt.Fprintf(w, "erpsync check: %s, api %s, auth %s\n", f.cfg.BaseURL, f.cfg.APIVersion, f.cfg.Auth)
	if f.login > 0 {
		line("login", "ok in %s%s", f.login.Round(time.Millisecond), f.userText())
	}
	if f.page == nil {
		return
	}
	p := f.page
	line("api version", "%s answered%s", f.cfg.APIVersion, linkVersions(p))
	if f.deprecation != "" {
		line("warning", "%s (the CRM says api_version %s is deprecated)", f.deprecation, f.cfg.APIVersion)
	}
	if len(f.versions) > 0 {
		line("versions", "%s", versionsText(f.versions))
	}
	line("page size", "%s", pageCapText(f.cfg.PageSize, p))
	line("timestamps", "%s", precision(p.Data))
	line("due types", "%s", dueTypesText(p.Data))
	line("customers", "%d (paging.total)", p.Paging.Total)
	line("organisation", "%s", f.organisationText())
	line("round trip", "%s for one page of %d", f.roundTrip.Round(time.Millisecond), p.Len())
	if len(p.Unreadable) > 0 {
		line("unreadable", "%d records of this page (the runs report and skip them): %v", len(p.Unreadable), p.Unreadable[0])
	}
}

// userText names who is logged in, as the login answered.
func (f *checkFacts) userText() string {
	var parts []string
	for _, k := range []string{"username", "companyName"} {
		if v, ok := f.user[k].(string); ok && v != "" {
			parts = append(parts, k+" "+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// apiVersionInLink finds the version of a paging link.
var apiVersionInLink = regexp.MustCompile(`/api/([^/?]+)/`)

// linkVersions notes the version the paging links name when it differs.
func linkVersions(p *crm.Page) string {
	for _, link := range []*string{p.Paging.Next, p.Paging.Previous} {
		if link == nil {
			continue
		}
		if m := apiVersionInLink.FindStringSubmatch(*link); m != nil {
			return " (paging links name " + m[1] + ")"
		}
	}
	return ""
}

// versionsText says which of the versions the reference shows answer.
func versionsText(probes []crm.VersionProbe) string {
	parts := make([]string, 0, len(probes))
	for _, v := range probes {
		text := v.Version + " not answered"
		if v.Answered {
			text = v.Version + " answers"
		}
		if v.Deprecation != "" {
			text += " (" + crm.CodeDeprecatedVersion + ")"
		}
		parts = append(parts, text)
	}
	return strings.Join(parts, ", ")
}

// pageCapText compares the page size asked with the page received: its
// records count, whatever paging.max says (a server may answer the max
// asked there and hold fewer).
func pageCapText(asked int, p *crm.Page) string {
	got, n := p.Paging.Max, p.Len()
	capped := n < asked && p.Paging.Total > n // a short first page with more to come
	const noLoss = "runs read the paging, nothing is lost"
	switch {
	case capped && got > 0 && got != n:
		return fmt.Sprintf("asked %d, received %d of %d (paging.max says %d): the CRM caps pages at %d; %s",
			asked, n, p.Paging.Total, got, n, noLoss)
	case capped:
		return fmt.Sprintf("asked %d, the CRM caps pages at %d (paging.max): %s", asked, n, noLoss)
	case got > 0 && got < asked:
		return fmt.Sprintf("asked %d, the CRM caps pages at %d (paging.max): %s", asked, got, noLoss)
	case got <= 0:
		return fmt.Sprintf("asked %d, paging.max not answered (%d records came)", asked, n)
	case n < asked:
		return fmt.Sprintf("asked %d, received all %d (paging.max %d; no cap seen)", asked, n, got)
	}
	return fmt.Sprintf("asked %d, received %d (paging.max %d)", asked, n, got)
}

// precision tells whole seconds from milliseconds in the answers' dates.
func precision(data []crm.Customer) string {
	if len(data) == 0 {
		return "not seen (no customer yet)"
	}
	for _, c := range data {
		if c.LastUpdated.Nanosecond() != 0 || c.DateCreated.Nanosecond() != 0 {
			return "ms (lastUpdated with milliseconds)"
		}
	}
	return fmt.Sprintf("s (no fraction of a second in %d lastUpdated)", len(data))
}

// organisationText names the organisation and its currency when an answer
// shows them, and the currencies of the page's customers.
func (f *checkFacts) organisationText() string {
	org := ""
	currencies := []string{}
	for _, c := range f.page.Data {
		if org == "" {
			org = c.Organization
		}
		if c.Currency != "" && !slices.Contains(currencies, c.Currency) {
			currencies = append(currencies, c.Currency)
		}
	}
	if org == "" {
		org, _ = f.user["companyName"].(string)
	}
	if org == "" {
		org = "not shown"
	}
	text := org + ", currency " + f.currency()
	if len(currencies) > 0 {
		slices.Sort(currencies)
		text += " (this page's customers: " + strings.Join(currencies, ", ") + ")"
	}
	return text
}

// currency is the organisation's currency if the login's user shows one.
func (f *checkFacts) currency() string {
	for k, v := range f.user {
		if s, ok := v.(string); ok && s != "" && strings.Contains(strings.ToLower(k), "currency") {
			return s
		}
	}
	return "not shown by the API"
}

// dueTypesText names the dueDateConfigType names of the page, each with
// the type erpsync reads it as (type 1 first): the reference names type 1
// only, and CRMs differ on type 2.
func dueTypesText(data []crm.Customer) string {
	type named struct{ typ, name string }
	var seen []named
	for _, c := range data {
		n := c.DueDateConfigType
		if n == nil || *n == "" || slices.ContainsFunc(seen, func(x named) bool { return x.name == *n }) {
			continue
		}
		t, ok := refresh.DueTypeOfAnswer(*n)
		if !ok {
			t = "" // sorted last
		}
		seen = append(seen, named{t, *n})
	}
	if len(seen) == 0 {
		return "not seen on this page"
	}
	slices.SortFunc(seen, func(a, b named) int {
		return strings.Compare(cmp.Or(a.typ, "~")+a.name, cmp.Or(b.typ, "~")+b.name)
	})
	parts := make([]string, len(seen))
	for i, x := range seen {
		parts[i] = x.name + " (" + x.typ + ")"
		if x.typ == "" {
			parts[i] = x.name + " (not understood: it reads as a difference)"
		}
	}
	return strings.Join(parts, ", ")
}
