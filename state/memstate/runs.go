package memstate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"erpsync/state"
)

// StartRun records a run's start (status running) and returns its id.
func (m *Mem) StartRun(ctx context.Context, kind, file, sha string) (int64, error) {
	var id int64
	err := m.update(ctx, "record run start", func() error {
		id = int64(len(m.runs) + 1)
		m.runs = append(m.runs, run{Run: state.Run{ID: id, Kind: kind, File: file, FileSHA256: sha,
			Status: state.StatusRunning, Started: fromUnix(m.Clock().Unix())}, counts: "{}"})
		return nil
	})
	return id, err
}

// NoteRunSHA records the sha256 of a run's export; an unknown run is no
// error.
func (m *Mem) NoteRunSHA(ctx context.Context, id int64, sha string) error {
	return m.update(ctx, "record the export's sha256", func() error {
		if id >= 1 && id <= int64(len(m.runs)) {
			m.runs[id-1].FileSHA256 = sha
		}
		return nil
	})
}

// FinishRun records a run's end: its status, counts and error text
// (bounded: state.ClipRunError).
func (m *Mem) FinishRun(ctx context.Context, id int64, status string, counts map[string]int, errText string) error {
	c := []byte("{}")
	if len(counts) > 0 {
		var err error
		if c, err = json.Marshal(counts); err != nil {
			return fmt.Errorf("record run end: %w", err)
		}
	}
	return m.update(ctx, "record run end", func() error {
		if id < 1 || id > int64(len(m.runs)) {
			return fmt.Errorf("record run end: no run %d", id)
		}
		r := &m.runs[id-1]
		r.Status, r.Ended, r.counts, r.Error = status, fromUnix(m.Clock().Unix()), string(c), state.ClipRunError(errText)
		return nil
	})
}

// Runs returns the last limit runs, newest first; all of them when limit
// is 0 or less.
func (m *Mem) Runs(ctx context.Context, limit int) ([]state.Run, error) {
	var out []state.Run
	err := m.view(ctx, "read runs", func() error {
		for i := len(m.runs) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
			r := m.runs[i].Run
			if err := json.Unmarshal([]byte(m.runs[i].counts), &r.Counts); err != nil {
				return fmt.Errorf("read runs: counts of run %d: %w", r.ID, err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// SyncedLast reports whether the last run recorded took this very export
// to the end (see sqlite.DB.SyncedLast).
func (m *Mem) SyncedLast(ctx context.Context, file, sha string) (bool, error) {
	synced := false
	err := m.view(ctx, "read runs", func() error {
		if len(m.runs) == 0 {
			return nil
		}
		last := m.runs[len(m.runs)-1]
		finished := last.Status == state.StatusDone || last.Status == state.StatusDoneFailures
		synced = finished && last.File == file && last.FileSHA256 == sha
		return nil
	})
	return synced, err
}

// Failures returns the pending row failures, ordered by reference.
func (m *Mem) Failures(ctx context.Context) ([]state.Failure, error) {
	var out []state.Failure
	err := m.view(ctx, "read failures", func() error {
		for _, ref := range slices.Sorted(maps.Keys(m.failures)) {
			out = append(out, m.failures[ref])
		}
		return nil
	})
	return out, err
}

// DeletedCopies returns the copies kept for a reference, newest first.
func (m *Mem) DeletedCopies(ctx context.Context, ref string) ([]state.Deleted, error) {
	var out []state.Deleted
	err := m.view(ctx, "read deleted copies", func() error {
		for i := len(m.deleted) - 1; i >= 0; i-- {
			if d := m.deleted[i]; d.Reference == ref {
				d.Copy = append([]byte{}, d.Copy...)
				out = append(out, d)
			}
		}
		return nil
	})
	return out, err
}

// Keys of the marks.
const (
	markWatermark = "watermark"
	markVerified  = "verified_until"
	markFullCheck = "full_check"
)

// mark reads a time mark; the zero time when never set.
func (m *Mem) mark(ctx context.Context, key string) (time.Time, error) {
	var t time.Time
	err := m.view(ctx, "read "+key, func() error {
		t = m.marks[key]
		return nil
	})
	return t, err
}

// setMark stores a time mark, in UTC, to the second (as sqlite.DB's
// RFC 3339 text keeps it).
func (m *Mem) setMark(ctx context.Context, key string, t time.Time) error {
	return m.update(ctx, "write "+key, func() error {
		m.marks[key] = t.UTC().Truncate(time.Second)
		return nil
	})
}

// Watermark is where the next refresh from the CRM starts.
func (m *Mem) Watermark(ctx context.Context) (time.Time, error) { return m.mark(ctx, markWatermark) }

// SetWatermark stores the refresh watermark, in UTC, to the second.
func (m *Mem) SetWatermark(ctx context.Context, t time.Time) error {
	return m.setMark(ctx, markWatermark, t)
}

// VerifiedUntil is the CRM time before which every customer was read or
// counted by a finished run.
func (m *Mem) VerifiedUntil(ctx context.Context) (time.Time, error) {
	return m.mark(ctx, markVerified)
}

// SetVerifiedUntil stores VerifiedUntil, in UTC, to the second.
func (m *Mem) SetVerifiedUntil(ctx context.Context, t time.Time) error {
	return m.setMark(ctx, markVerified, t)
}

// FullCheck is when a run last walked every customer of the CRM.
func (m *Mem) FullCheck(ctx context.Context) (time.Time, error) { return m.mark(ctx, markFullCheck) }

// SetFullCheck stores when a run last walked every customer.
func (m *Mem) SetFullCheck(ctx context.Context, t time.Time) error {
	return m.setMark(ctx, markFullCheck, t)
}

// Fingerprint is the mapping fingerprint stored last; "" when none.
func (m *Mem) Fingerprint(ctx context.Context) (string, error) {
	var fp string
	err := m.view(ctx, "read fingerprint", func() error {
		fp = m.fp
		return nil
	})
	return fp, err
}

// SetFingerprint stores the mapping fingerprint.
func (m *Mem) SetFingerprint(ctx context.Context, fp string) error {
	return m.update(ctx, "write fingerprint", func() error {
		m.fp = strings.Clone(fp)
		return nil
	})
}
