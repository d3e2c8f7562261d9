// Package runlog is what a run's log says of its plan's merged rows and
// row errors: one line each, with counts and kinds, never a value of the
// export.
package runlog

import (
	"erpsync/sync/plan"
	"erpsync/sync/plan/rowerrors"
	"erpsync/sync/report"
	"fmt"
	"slices"

	"go.uber.org/zap"
)

const maxKindsLogged = 5 // kinds of row errors the log names

// Merged says, in one line, which references had identical rows merged
// into their first: how many, and the first MaxMergedShown of them.
func Merged(log *zap.Logger, p *plan.Plan) {
	merged := p.Merged
	if len(merged) == 0 {
		return
	}
	refs := make([]string, 0, min(len(merged), report.MaxMergedShown))
	for _, m := range merged[:min(len(merged), report.MaxMergedShown)] {
		refs = append(refs, m.Reference)
	}
	log.Warn("identical rows of one reference merged into the first", zap.Int("references", len(merged)),
		zap.Int("rows_merged", p.MergedRows()), zap.Strings("first_references", refs), zap.Ints("first_lines", merged[0].Lines))
}

// Kinds says, in one line, how many row errors (or warnings: what)
// there were, and the most frequent kinds with their counts: no value of
// the export, which the kinds elide.
func Kinds(log *zap.Logger, what string, kinds []rowerrors.Kind) {
	if len(kinds) == 0 {
		return
	}
	total := 0
	for _, k := range kinds {
		total += k.Count
	}
	top := slices.SortedStableFunc(slices.Values(kinds), func(a, b rowerrors.Kind) int { return b.Count - a.Count })
	fields := []zap.Field{zap.Int("count", total), zap.Int("kinds", len(kinds))}
	for i, k := range top[:min(len(top), maxKindsLogged)] {
		fields = append(fields, zap.String(fmt.Sprintf("kind_%d", i+1), fmt.Sprintf("%d × %s (first line %d)", k.Count, k.Kind, firstLine(k))))
	}
	log.Warn(what+" by kind (summary.json: row_error_kinds, warning_kinds)", fields...)
}

func firstLine(k rowerrors.Kind) int {
	if len(k.Lines) == 0 {
		return 0
	}
	return k.Lines[0]
}
