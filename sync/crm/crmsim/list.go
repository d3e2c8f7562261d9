package crmsim

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"erpsync/sync/crm"
)

// listParams are the list call's parameters, in the reference's order; the
// order is also the one of the filters in the paging links.
var listParams = []string{
	"max", "offset", "order", "sort",
	"dateCreated_gt", "dateCreated_gte", "dateCreated_lt", "dateCreated_lte",
	"lastUpdated_gt", "lastUpdated_gte", "lastUpdated_lt", "lastUpdated_lte",
	"reference", "name", "categoryReference", "isActive",
}

// Defaults of the list call: the reference's max, and the order of its
// example's links.
const (
	defaultMax   = crm.DefaultPageSize
	defaultSort  = "dateCreated"
	defaultOrder = "asc"
)

// listFilter is a parsed list query.
type listFilter struct {
	max, offset int
	sort        string
	desc        bool
	order       string
	times       [8]time.Time // dateCreated_gt … lastUpdated_lte; zero = unset
	timeText    [8]string
	reference   string
	name        string
	category    string
	isActive    *bool
	isActiveTxt string
	foldRefs    bool // the reference filter ignores case and accents (Quirks.References "ci")
}

// parseListQuery checks the query against the reference: unknown
// parameters, types and date formats.
func parseListQuery(q url.Values) (listFilter, *apiError) {
	f := listFilter{max: defaultMax, sort: defaultSort, order: defaultOrder}
	var unknown []string
	for k := range q {
		unknown = append(unknown, k)
	}
	if bad := unknownParams(unknown, listParams); len(bad) > 0 {
		return f, errInvalidParams(bad)
	}
	if v, ok := first(q, "max"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, errType("max")
		}
		f.max = n
	}
	if v, ok := first(q, "offset"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, errType("offset")
		}
		f.offset = n
	}
	if v, ok := first(q, "sort"); ok {
		if _, known := sortFields[v]; !known {
			return f, errType("sort")
		}
		f.sort = v
	}
	if v, ok := first(q, "order"); ok {
		switch v {
		case "asc", "desc":
			f.order, f.desc = v, v == "desc"
		default:
			return f, errType("order")
		}
	}
	for i, name := range listParams[4:12] {
		v, ok := first(q, name)
		if !ok {
			continue
		}
		// Parsing accepts a fraction of a second after the seconds, so
		// that filters compare to the millisecond (-time-precision ms).
		t, err := time.Parse(layoutSeconds, v)
		if err != nil {
			return f, errDatetime(v)
		}
		f.times[i], f.timeText[i] = t, v
	}
	f.reference, _ = first(q, "reference")
	f.name, _ = first(q, "name")
	f.category, _ = first(q, "categoryReference")
	if v, ok := first(q, "isActive"); ok {
		b, err := parseBool("isActive", v, false)
		if err != nil || v == "" {
			return f, errType("isActive")
		}
		f.isActive, f.isActiveTxt = &b, v
	}
	return f, nil
}

// parseQuery decodes the list call's query. A pair that cannot be decoded
// (bad percent-encoding, a semicolon) is refused by name, where
// URL.Query would drop it silently and the call would run without it.
func parseQuery(raw string) (url.Values, *apiError) {
	q, err := url.ParseQuery(raw)
	if err == nil {
		return q, nil
	}
	var bad []string
	for _, pair := range strings.Split(raw, "&") {
		if _, err := url.ParseQuery(pair); err != nil {
			bad = append(bad, pair)
		}
	}
	slices.Sort(bad)
	return nil, errInvalidParams(slices.Compact(bad))
}

func first(q url.Values, k string) (string, bool) {
	v, ok := q[k]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// match reports whether a customer passes every filter.
func (f *listFilter) match(c *crm.Customer) bool {
	for i, t := range f.times {
		if t.IsZero() {
			continue
		}
		v := c.DateCreated.Time
		if i >= 4 {
			v = c.LastUpdated.Time
		}
		var ok bool
		switch i % 4 {
		case 0:
			ok = v.After(t)
		case 1:
			ok = !v.Before(t)
		case 2:
			ok = v.Before(t)
		case 3:
			ok = !v.After(t)
		}
		if !ok {
			return false
		}
	}
	if f.reference != "" && !f.matchReference(c.Reference) {
		return false
	}
	if f.name != "" && !wildcard(f.name, c.Name) {
		return false
	}
	if f.category != "" && !wildcard(f.category, deref(c.CategoryReference)) {
		return false
	}
	if f.isActive != nil && c.IsActive != *f.isActive {
		return false
	}
	return true
}

// key identifies the filtered, sorted set, paging aside.
func (f *listFilter) key() string {
	return strings.Join(append(f.timeText[:],
		f.sort, f.order, f.reference, f.name, f.category, f.isActiveTxt), "\x00")
}

// link builds a paging link the way the reference's example does:
// /api/v1.0/customers?max=2&offset=2&sort=dateCreated&order=asc, then the
// filters in the reference's order.
func (f *listFilter) link(version string, offset int) string {
	var b strings.Builder
	b.WriteString("/api/" + version + "/customers?max=" + strconv.Itoa(f.max) +
		"&offset=" + strconv.Itoa(offset) + "&sort=" + url.QueryEscape(f.sort) + "&order=" + f.order)
	for i, name := range listParams[4:12] {
		if f.timeText[i] != "" {
			b.WriteString("&" + name + "=" + url.QueryEscape(f.timeText[i]))
		}
	}
	for _, kv := range [][2]string{{"reference", f.reference}, {"name", f.name}, {"categoryReference", f.category}, {"isActive", f.isActiveTxt}} {
		if kv[1] != "" {
			b.WriteString("&" + kv[0] + "=" + url.QueryEscape(kv[1]))
		}
	}
	return b.String()
}

// matchReference matches the reference filter, folded as the store
// compares references.
func (f *listFilter) matchReference(ref string) bool {
	if f.foldRefs {
		return wildcard(foldReference(f.reference), foldReference(ref))
	}
	return wildcard(f.reference, ref)
}

// wildcard matches s against a pattern where * stands for any run of
// characters; without a *, the match is exact. Case-sensitive.
func wildcard(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}
