// Package history is a customer's history: what each run did and saw of
// one reference. A Recorder gathers, during a run, an event per write the
// CRM answered and per drift the refresh found, never one per unchanged
// customer; each goes to the checkpoint with the outcome it describes, in
// the writer's batch (state.Outcome.History), and the run's end prunes
// (state.HistoryKeeper).
// Read and its renderings (Text, JSON) are what `erpsync why` shows,
// newest first, with the audit copies of deletes.
package history
