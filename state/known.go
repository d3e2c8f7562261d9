package state

import "time"

// Known is a customer the checkpoint expects in the CRM: a managed record
// not found deleted by hand, or a customer erpsync does not manage but has
// seen there (created by hand or by others: counted, never touched).
type Known struct {
	Reference   string
	CRMID       int64
	LastUpdated time.Time // the CRM's, to the millisecond
	Managed     bool
}

// Counted is what a refresh learned by counting, saved once its run has
// finished.
type Counted struct {
	Unmanaged []Known   // unmanaged customers seen (new, or at a new time)
	Forget    []int64   // unmanaged customers no longer in the CRM (crm ids)
	Gone      []Known   // managed customers deleted by hand, at the lastUpdated recorded then
	At        time.Time // when they were found
}

// KnownWindow is a window [From, Until) of lastUpdated and the number of
// known customers in it (see Known); a zero Until has no end.
type KnownWindow struct {
	From, Until time.Time
	Known       int
}
