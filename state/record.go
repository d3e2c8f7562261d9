package state

import "time"

// Record is what the checkpoint knows of one managed reference: what
// erpsync last pushed, and what it last saw in the CRM. A reference is
// managed once erpsync has pushed it successfully, until it deletes it.
type Record struct {
	Reference      string
	Hash           string            // content hash of what was pushed (mapping's)
	Values         map[string]string // canonical values last pushed
	CRMID          int64
	CRMLastUpdated time.Time         // the CRM's lastUpdated, to the millisecond
	CRMValues      map[string]string // canonical values last seen in the CRM
	PushedAt       time.Time         // when the last push was recorded
}

// Seen is what a refresh found in the CRM for a reference.
type Seen struct {
	Reference      string
	CRMID          int64
	CRMLastUpdated time.Time
	CRMValues      map[string]string
}

// RowSum is the sum of the export row a record's hash was made from.
type RowSum struct {
	Reference, Hash string
	Sum             uint64
}

// Rehash is a record whose values are the ones last pushed, read under a
// new mapping: its hash and row sum become the new mapping's, so that
// the next plan finds it unchanged without comparing values again.
type Rehash struct {
	Reference, Hash string
	Sum             uint64
	Values          map[string]string // the values to keep when the mapped fields changed; nil: kept as they are
	// Keep, when Values is nil, names the fields still mapped: the
	// record's values of the others are dropped (a field no longer
	// mapped); nil: kept as they are. One set is shared by the records
	// of a plan, not a map of values each.
	Keep map[string]bool
}
