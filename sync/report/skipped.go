package report

import (
	"fmt"
	"path/filepath"
	"strconv"

	"erpsync/sync/plan"
	"erpsync/sync/plan/rowerrors"
)

// SkippedLine is one line of skipped.csv: a row that sync.mode does not
// send (update_only: a new customer; create_only: a changed one).
type SkippedLine struct {
	Reference string `csv:"reference"`
	Line      string `csv:"line"`
	Reason    string `csv:"reason"`
}

// WriteSkipped writes skipped.csv when the plan skipped rows: each row
// kept (Plan.Skipped), then how many more were counted.
func (r *Run) WriteSkipped(p *plan.Plan) error {
	if p.SkippedCount == 0 {
		return nil
	}
	f, err := createReportFile[SkippedLine](filepath.Join(r.Dir, "skipped.csv"), r.mode, r.format)
	if err != nil {
		return err
	}
	for _, s := range p.Skipped {
		f.line(SkippedLine{rowerrors.CutCell(s.Reference), strconv.Itoa(s.Line), s.Reason})
	}
	if n := p.SkippedCount - len(p.Skipped); n > 0 {
		f.line(SkippedLine{Reason: fmt.Sprintf("and %d more rows skipped, not listed", n)})
	}
	return f.close()
}
