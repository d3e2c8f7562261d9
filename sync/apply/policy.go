package apply

import (
	"context"
	"maps"
	"net/http"

	"erpsync/state"
	"erpsync/sync/crm"
	"erpsync/sync/plan"
)

// withheld returns the fields an update does not send under the fields'
// policies (plan.WithheldOf), or nil.
func (a *applier) withheld(act *plan.Action) []string {
	if act.Op != plan.OpUpdate || a.plan == nil {
		return nil
	}
	return a.plan.WithheldOf(act.Reference)
}

// form returns an upsert's form: the customer's mapped fields but those
// withheld. A create of a plan whose deletes deactivate, and a
// reactivation (plan.ReasonReactivated), set isActive (unless mapped):
// the customer may be, or is, one deactivated earlier, coming back.
func (a *applier) form(act *plan.Action, withheld []string) *crm.Form {
	reactivate := act.Op == plan.OpCreate && a.plan != nil && a.plan.Deactivate || act.Reason == plan.ReasonReactivated
	if len(withheld) == 0 && !reactivate {
		return crm.CustomerForm(act.Customer) // as it is: no map made
	}
	f := crm.UpsertForm(act.Customer)
	for _, k := range withheld {
		f.Values.Del(k)
	}
	if reactivate {
		if _, mapped := f.Values["isActive"]; !mapped {
			f.Set("isActive", "true")
		}
	}
	return f
}

// recordWithheld returns the values sent (every one but the withheld),
// and turns values into the record of the push: a withheld field is
// recorded as the CRM answered it, so that drift compares with what the
// CRM holds.
func recordWithheld(values, answered map[string]string, withheld []string) map[string]string {
	sent := maps.Clone(values)
	for _, f := range withheld {
		delete(sent, f)
		if v, ok := answered[f]; ok {
			values[f] = v
		} else {
			delete(values, f)
		}
	}
	return sent
}

// deactivate keeps the CRM's last copy as a delete does (keepCopy, with
// isActive=false: what it leaves), then sends isActive=false
// (sync.deletes: deactivate): the CRM keeps the customer and its
// history; the checkpoint lets it go as after a delete. A customer
// already gone counts as done (status 404).
func (a *applier) deactivate(ctx context.Context, act *plan.Action, out *state.Outcome) (int, error) {
	if status, err := a.keepCopy(ctx, act, out, true); status != 0 || err != nil {
		return status, err
	}
	got, err := a.api.Upsert(ctx, act.Reference, crm.NewForm().Set("isActive", "false"))
	switch {
	case crm.IsNotFound(err):
		return http.StatusNotFound, nil
	case err != nil:
		return 0, err
	}
	if _, dry := a.api.(unstored); !dry && got.IsActive {
		return got.AnswerStatus, &StoredDiffError{Status: got.AnswerStatus,
			Diffs: []plan.Change{{Field: "isActive", Old: "true", New: "false"}}}
	}
	return got.AnswerStatus, nil
}

// ImportPlanLimit is the Go memory an import aims to stay within while
// it plans (a soft limit; erpsync import, cmd/erpsync/import.go, says
// why); ImportMemoryLimit is never above it.
const ImportPlanLimit = 200 << 20

// ImportMemoryLimit is the Go memory an import's apply of a lean plan of
// rows aims to stay within (a soft limit, erpsync import sets it once
// planned; at most ImportPlanLimit): its lean rows (32 bytes a row and their references: 52 MB
// at 1M) stay while the plan's index is gone; the export's reads, the
// report and the HTTP client's buffers take some 50 MB (the history's
// events go to the checkpoint with their outcomes, none held to the
// end). At 1M, 157 MiB: with GOGC 400 the apply's heap otherwise grew to
// the plan's limit whatever it held (a peak RSS of 250 MiB, the
// executable's pages and SQLite's beside the Go memory).
func ImportMemoryLimit(rows int) int64 {
	const base, perRow = 96 << 20, 64
	return min(ImportPlanLimit, base+perRow*int64(max(rows, 0)))
}
