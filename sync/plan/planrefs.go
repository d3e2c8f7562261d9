package plan

// References that a CRM may treat as one (issue 21 §5): a CRM that
// compares references ignoring case, accents or trailing spaces makes one
// customer of K00000300 and k00000300, while erpsync would report both
// created. Unless sync.references is exact, every row of such references
// is a row error naming the others. A parent reference of digits only may
// be read as an id: a warning (the apply checks the write's answer).

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"erpsync/mapping"
	"erpsync/sync/plan/reference"
)

// noteReference looks at a row's reference and parent: a reference that
// folds to another text is remembered under its folded form (rejectFolded
// then finds those that meet); a digits-only parent is warned about.
func (pl *planner) noteReference(ref string, line int, parent string) {
	if reference.DigitsOnly(parent) {
		// Through the plan's bounded warnings (sealErrors sets Warnings).
		pl.warning(&mapping.RowError{File: pl.opt.File, Line: line, Column: "parentCustomer", Reference: ref, Err: fmt.Errorf(
			"the parent reference %s is digits only: a CRM may read it as a customer's id; the stored parent is checked after the write",
			mapping.Excerpt(parent))})
	}
	if pl.opt.References == reference.Exact {
		return
	}
	folded, same := reference.Fold(ref)
	if same {
		return
	}
	if pl.folds == nil {
		pl.folds = map[string][]string{}
	}
	if refs := pl.folds[folded]; !slices.Contains(refs, ref) {
		pl.folds[folded] = append(refs, strings.Clone(ref))
	}
}

// rejectFolded turns the rows of references that fold to one text into
// row errors naming each other; a reference whose rows were all invalid
// already is named but not counted again.
func (pl *planner) rejectFolded() {
	for _, folded := range slices.Sorted(maps.Keys(pl.folds)) {
		refs := pl.folds[folded]
		if !slices.Contains(refs, folded) && pl.entryOf(folded).Line != 0 {
			refs = append(refs, folded) // met as it is: already folded
		}
		if len(refs) < 2 {
			continue
		}
		slices.Sort(refs)
		for _, ref := range refs {
			pl.rejectReference(ref, fmt.Errorf("reference %s is %s ignoring case, accents and trailing spaces: "+
				"a CRM comparing references so would make them one customer (sync.references: exact for a CRM that compares them exactly)",
				mapping.Excerpt(ref), pl.othersText(ref, refs)))
		}
	}
}

// maxFoldedShown is how many other references a folded reference's
// error names: the others are counted ("and N more").
const maxFoldedShown = 5

// othersText names the references of refs other than ref, each quoted
// short, the first maxFoldedShown of them with their lines.
func (pl *planner) othersText(ref string, refs []string) string {
	others := make([]string, 0, maxFoldedShown+1)
	for _, o := range refs {
		if o == ref || len(others) == maxFoldedShown {
			continue
		}
		if line := pl.entryOf(o).Line; line > 0 {
			others = append(others, fmt.Sprintf("%s (line %d)", mapping.Excerpt(o), line))
		} else {
			others = append(others, mapping.Excerpt(o)+" (an invalid row)")
		}
	}
	if n := len(refs) - 1 - len(others); n > 0 {
		others = append(others, fmt.Sprintf("and %d more", n))
	}
	return strings.Join(others, ", ")
}

// rejectReference makes a reference's row a row error: its action is
// taken back, its count moved to the invalid rows. A reference with only
// invalid rows, or rejected as a duplicate, is left as it is.
func (pl *planner) rejectReference(ref string, err error) {
	k := pl.key(ref)
	e := pl.refs.Get(ref, k)
	if d := pl.dups[ref]; e.Line <= 0 || (d != nil && d.differ) {
		return
	}
	switch {
	case pl.takeBack(ref): // its action, or draft
	case e.Unchanged():
		pl.plan.Unchanged--
	case pl.ignored[ref]:
		pl.plan.Ignored--
	}
	pl.parentOf.Drop(k)
	pl.rowError(&mapping.RowError{File: pl.opt.File, Line: int(e.Line),
		Column: "reference", Reference: ref, Err: err})
	pl.plan.InvalidRows++
}
