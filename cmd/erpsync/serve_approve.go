package main

import (
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"erpsync/sync"
)

// awaitApproval writes, with serve.approve, the plan of a run stopped by
// a guard into its report folder as plan.json, sealed with what it
// depends on, naming the export where serve holds it: it waits there for
// `erpsync apply -config FILE DIR/plan.json` (issue 23 §4). A plan that
// trips no guard has run already.
func awaitApproval(j *job, res *sync.Outcome, err error, heldAt string) {
	if !j.cfg.Serve.Approve || sync.Classify(err) != sync.ClassGuard || res == nil || res.Plan == nil ||
		res.Approval == nil || res.Dir == "" {
		return
	}
	if heldAt != "" {
		res.Approval.Export = heldAt
	}
	path := filepath.Join(res.Dir, "plan.json")
	cols, _ := j.mapping.Columns(res.Approval.Export)
	if werr := writePlanFile(path, res.Plan, cols, os.FileMode(j.cfg.Reports.FileMode), res.Approval, csvFormat(j.cfg)); werr != nil {
		j.log.Error("serve.approve: write the plan that waits for approval", zap.Error(werr))
		return
	}
	j.log.Warn("serve.approve: the plan tripped a guard and waits for approval: review it, then run erpsync apply",
		zap.String("plan", path), zap.String("export", res.Approval.Export), zap.Error(err))
}
