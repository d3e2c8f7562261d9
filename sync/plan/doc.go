// Package plan is the diff of an export with the checkpoint: Build reads
// the export's rows once and says, for each customer, whether it is new,
// changed, unchanged, or gone (a delete candidate), with the drift found
// in the CRM folded in, parents before sub-customers and deletes
// children first (planorder.go), and the guards (max_delete, duplicate
// references, parent cycles) checked before any write.
//
// Every performance device of the plan stays behind its API: the packed
// index of references (planindex.go), the checkpoint streamed beside the
// export (planload.go), row sums that spare mapping unchanged rows
// (planrowsum.go), the bounded error set (sync/plan/rowerrors), and lean
// plans (planlean.go), whose upserts are held as compact rows (its creates
// with no parent from their read on: drafts) and made into Actions when
// the export is read again. The apply is given every plan's
// actions the same way, lean or not (planwave.go: SendUpserts,
// SendDeletes, Unsettled).
//
// Its vocabularies are leaves beneath it, which do not import it:
// sync/plan/guard (limits, the guards' names, the guard's stop),
// sync/plan/policy (sync.fields, sync.mode), sync/plan/rowerrors.
//
// The package declares what it reads of the checkpoint (Checkpoint); it
// knows no SQL and no HTTP.
package plan
