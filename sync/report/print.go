package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"erpsync/mapping"
	"erpsync/sync/plan"
)

// PrintPlan writes a plan's summary for people: counts, the first changes
// field by field, the row errors with their lines, the drift.
func PrintPlan(w io.Writer, file string, p *plan.Plan, show int) {
	fmt.Fprintf(w, "Plan for %s: %d rows read, %d managed customers\n", file, p.Rows, p.Managed)
	fmt.Fprintf(w, "  create %d · update %d · delete %d · unchanged %d · invalid rows %d · drift %d · warnings %d\n",
		p.Count(plan.OpCreate), p.Count(plan.OpUpdate), p.Count(plan.OpDelete), p.Unchanged, p.InvalidRows, len(p.Drift), p.WarningCount())
	if p.MappingChanged {
		fmt.Fprintf(w, "  the mapping changed since the last run: %d customers' mapped values differ from those last pushed; the others are compared by value, not sent\n", p.MappingUpdates)
	}
	if p.DeletesHeld != "" {
		fmt.Fprintf(w, "  deletes held: %s\n", p.DeletesHeld)
	}
	printPolicies(w, p, show)
	i := 0
	for a := range p.All() {
		if i == show {
			fmt.Fprintf(w, "  … and %d more (plan -out FILE lists them all)\n", p.Len()-show)
			break
		}
		i++
		where := ""
		if a.Line > 0 {
			where = fmt.Sprintf(" (line %d)", a.Line)
		}
		fmt.Fprintf(w, "  %-6s %s%s: %s%s\n", a.Op, a.Reference, where, a.Reason, describeChanges(a))
	}
	for i, e := range p.RowErrors {
		if i == show {
			fmt.Fprintf(w, "  … and %d more row errors\n", p.RowErrorCount()-show)
			break
		}
		fmt.Fprintf(w, "  error  %s\n", e.Error())
	}
	for i, e := range p.Warnings {
		if i == show {
			fmt.Fprintf(w, "  … and %d more warnings (warnings.csv in the run's reports)\n", p.WarningCount()-show)
			break
		}
		fmt.Fprintf(w, "  warning %s\n", e.Error())
	}
	for i, m := range p.Merged {
		if i == show {
			fmt.Fprintf(w, "  … and %d more merged\n", len(p.Merged)-show)
			break
		}
		lines := joinInts(m.Lines)
		if m.Rows > len(m.Lines) {
			lines += fmt.Sprintf(" and %d more", m.Rows-len(m.Lines))
		}
		fmt.Fprintf(w, "  merged %s: lines %s are identical rows of one customer, sent once\n", m.Reference, lines)
	}
	for i, d := range p.Drift {
		if i == show {
			fmt.Fprintf(w, "  … and %d more drifted\n", len(p.Drift)-show)
			break
		}
		var parts []string
		if d.Deleted {
			parts = append(parts, "deleted by hand in the CRM")
		}
		for _, c := range d.Changes {
			parts = append(parts, fmt.Sprintf("%s CRM %q, pushed %q", c.Field, c.Old, c.New))
		}
		fmt.Fprintf(w, "  drift  %s: %s\n", d.Reference, strings.Join(parts, "; "))
	}
}

// PrintColumns writes, once, the export's columns that the mapping reads
// (header → field) and those it ignores.
func PrintColumns(w io.Writer, st mapping.Stats) {
	if len(st.Columns) == 0 {
		return
	}
	read := make([]string, len(st.Columns))
	for i, c := range st.Columns {
		read[i] = c.Header + " → " + c.Field
	}
	fmt.Fprintf(w, "  Columns read: %s\n", strings.Join(read, ", "))
	if len(st.UnknownColumns) > 0 {
		fmt.Fprintf(w, "  Columns ignored: %s (not in source.columns)\n", strings.Join(st.UnknownColumns, ", "))
	}
}

// describeChanges shows up to four field changes of an update.
func describeChanges(a *plan.Action) string {
	if a.Op != plan.OpUpdate || len(a.Changes) == 0 {
		return ""
	}
	var parts []string
	for i, c := range a.Changes {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("+%d fields", len(a.Changes)-4))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %q → %q", c.Field, c.Old, c.New))
	}
	return " — " + strings.Join(parts, ", ")
}

// joinInts writes numbers as "3, 9, 12".
func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

// Clip cuts s to at most n bytes on a character's boundary, "…" marking
// a cut, with control characters (a newline of a wrapped error) as spaces.
func Clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// printPolicies says what sync.mode skipped and how deletes are sent.
func printPolicies(w io.Writer, p *plan.Plan, show int) {
	if p.Deactivate && p.Count(plan.OpDelete) > 0 {
		fmt.Fprintln(w, "  deletes are sent as isActive=false (sync.deletes: deactivate): the CRM keeps the customers")
	}
	for i, s := range p.Skipped {
		if i == show {
			fmt.Fprintf(w, "  … and %d more skipped (skipped.csv in the run's reports)\n", p.SkippedCount-show)
			break
		}
		fmt.Fprintf(w, "  skip   %s (line %d): %s\n", s.Reference, s.Line, s.Reason)
	}
}
