package apply

import (
	"context"
	"encoding/json"
	"fmt"
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
	f := crm.UpsertForm(act.Customer)
	for _, k := range withheld {
		f.Values.Del(k)
	}
	reactivate := act.Op == plan.OpCreate && a.plan != nil && a.plan.Deactivate || act.Reason == plan.ReasonReactivated
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

// deactivate keeps the CRM's last copy, as a delete does (with
// isActive=false: what it leaves, and what tells a deactivated customer
// from a deleted one when its row comes back), then sends
// isActive=false (sync.deletes: deactivate): the CRM keeps the customer
// and its history; the checkpoint lets it go as after a delete. A
// customer already gone counts as done (status 404).
func (a *applier) deactivate(ctx context.Context, act *plan.Action, out *state.Outcome) (int, error) {
	cur, err := a.api.ShowByReference(ctx, act.Reference)
	switch {
	case crm.IsNotFound(err):
		return http.StatusNotFound, nil
	case err != nil:
		return 0, err
	}
	cur.IsActive = false // the copy as erpsync leaves it: its isActive=false tells a deactivation from a delete
	if out.DeletedCopy, err = json.Marshal(cur); err != nil {
		return 0, fmt.Errorf("keep copy: %w", err)
	}
	out.CRMID = cur.ID
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

// ImportHistoryWrites bounds the writes an import keeps for the
// customers' history (sync.Settings.HistoryWrites), held until its end:
// the first 20,000 (some 25 MB). A run's default of 200,000 weighed 90 MB
// at the end of a 1M import, the fields of the first 55,000 kept, and
// took the heap to its limit.
const ImportHistoryWrites = 20_000

// ImportMemoryLimit is the Go memory an import's apply of a lean plan of
// rows aims to stay within (a soft limit, erpsync import sets it once
// planned): its lean rows (32 bytes a row and their references: 52 MB
// at 1M) stay while the plan's index is gone; the history's writes (an
// import keeps 20,000), the export's reads, the report and the HTTP
// client's buffers take some 50 MB. At 1M, 157 MiB: with GOGC 400 the
// apply's heap otherwise grew to the plan's limit whatever it held (a
// peak RSS of 250 MiB, the executable's pages and SQLite's beside the Go
// memory).
func ImportMemoryLimit(rows int) int64 {
	const base, perRow = 96 << 20, 64
	return base + perRow*int64(max(rows, 0))
}
