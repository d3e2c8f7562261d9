// Package rawrate measures the raw upsert rate: customers' forms sent
// through the CRM client as plain upserts, with no export read, plan or
// checkpoint in the way. It is what an import's rate is compared to
// (issue 14 §3, issue 25 §3): BenchmarkImport measures it in process, and
// `genexport -raw URL` through a binary of its own.
package rawrate
