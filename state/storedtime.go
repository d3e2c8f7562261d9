package state

import "time"

// How a checkpoint stores times: its own in seconds, the CRM's
// lastUpdated in milliseconds (its precision), 0 for the zero time, read
// back in UTC. Every implementation stores them so, to answer alike (the
// in-memory one calls these rather than keep its own copies).

// Seconds is a stored time of the checkpoint's own.
func Seconds(t time.Time) int64 { return unix(t) }

// FromSeconds reads a stored time of the checkpoint's own.
func FromSeconds(s int64) time.Time { return fromUnix(s) }

// Millis is a stored CRM lastUpdated.
func Millis(t time.Time) int64 { return millis(t) }

// FromMillis reads a stored CRM lastUpdated.
func FromMillis(ms int64) time.Time { return fromMillis(ms) }

// unix is a stored time: seconds, 0 for the zero time.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// millis is a stored CRM lastUpdated (crm_last_updated): unix
// milliseconds, the CRM's precision, 0 for the zero time.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis reads a stored CRM lastUpdated, in UTC.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// fromUnix reads a stored time, in UTC.
func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
