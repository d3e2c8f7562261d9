package sync

import (
	"context"
	"os"
	"strconv"
	"time"

	"erpsync/state"
	"erpsync/sync/report"
)

// RecordNoRun records an export that ended before its run could start
// (a fetch that failed, a poison pill rejected): a failed run in the
// history, with its reason, and a report folder with its summary.json,
// as a run that stopped at once would leave. Its report's CSV files are
// written in format (reports.csv), as a run's are.
func RecordNoRun(ctx context.Context, db state.RunLog, reportsDir string, mode os.FileMode, format report.CSV, src, sha string, why error) (*Outcome, error) {
	started := time.Now()
	id, err := db.StartRun(ctx, string(ModeRun), src, sha)
	if err != nil {
		return nil, err
	}
	out := &Outcome{RunID: id, Status: state.StatusFailed}
	if err := db.FinishRun(ctx, id, out.Status, nil, why.Error()); err != nil {
		return out, err
	}
	rep, err := report.New(reportsDir, started.UTC().Format("20060102T150405.000Z")+"-"+strconv.FormatInt(id, 10), mode, format)
	if err != nil {
		return out, err
	}
	out.Dir = rep.Dir
	return out, rep.Close(report.Summary{RunID: id, Kind: string(ModeRun), File: src, Status: out.Status,
		Started: started.UTC(), Finished: time.Now().UTC(), Durations: map[string]float64{}, Error: state.ClipRunError(why.Error())})
}
