package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"erpsync/state"
	"erpsync/sync/apply"
)

// ErrNeverSeen is the error of a reference the checkpoint never saw: no
// event, no record, no copy of a delete.
var ErrNeverSeen = errors.New("never seen by erpsync")

// Source is what Read reads of the checkpoint.
type Source interface {
	History(ctx context.Context, ref string) ([]state.Event, error)
	Get(ctx context.Context, ref string) (*state.Record, error)
	DeletedCopies(ctx context.Context, ref string) ([]state.Deleted, error)
}

// Story is everything the checkpoint holds of one customer.
type Story struct {
	Reference string          `json:"reference"`
	Record    *state.Record   `json:"-"`
	Events    []state.Event   `json:"-"` // newest first
	Deleted   []state.Deleted `json:"-"` // the CRM's copies kept of its deletes, newest first
}

// Read gathers the story of ref; an error wrapping ErrNeverSeen when the
// checkpoint holds nothing of it.
func Read(ctx context.Context, src Source, ref string) (*Story, error) {
	s := &Story{Reference: ref}
	var err error
	if s.Events, err = src.History(ctx, ref); err != nil {
		return nil, fmt.Errorf("history of %s: %w", ref, err)
	}
	if s.Record, err = src.Get(ctx, ref); err != nil {
		return nil, fmt.Errorf("record of %s: %w", ref, err)
	}
	if s.Deleted, err = src.DeletedCopies(ctx, ref); err != nil {
		return nil, fmt.Errorf("deleted copies of %s: %w", ref, err)
	}
	if len(s.Events) == 0 && s.Record == nil && len(s.Deleted) == 0 {
		return nil, fmt.Errorf("%s: %w (within the history's retention, state.history)", ref, ErrNeverSeen)
	}
	return s, nil
}

// stamp writes a time as the story shows it.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// WriteText writes the story for people, newest first.
func (s *Story) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", s.Reference)
	if r := s.Record; r != nil {
		fmt.Fprintf(&b, "managed by erpsync (CRM id %d, last pushed %s)", r.CRMID, stamp(r.PushedAt))
	} else {
		b.WriteString("not managed by erpsync now")
	}
	fmt.Fprintf(&b, "; %d events, newest first\n", len(s.Events))
	for _, e := range s.Events {
		writeEvent(&b, e)
	}
	deactivatedBy := map[int64]bool{} // the runs that deactivated it: their copies are of a deactivation
	for _, e := range s.Events {
		if e.Kind == state.EventDeactivated || e.Op == opDeactivate {
			deactivatedBy[e.RunID] = true
		}
	}
	for _, d := range s.Deleted {
		what := "deleted: the CRM's copy before the delete"
		if deactivatedBy[d.RunID] {
			what = "deactivated: the CRM's copy before the deactivation"
		}
		fmt.Fprintf(&b, "%s  run %d %s (id %d): %s\n", stamp(d.DeletedAt), d.RunID, what, d.CRMID, d.Copy)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeEvent writes one event: a line, then one line a field.
func writeEvent(b *strings.Builder, e state.Event) {
	fmt.Fprintf(b, "%s  run %d %s", stamp(e.At), e.RunID, e.Kind)
	if e.File != "" {
		fmt.Fprintf(b, "  %s", e.File)
		if e.Line > 0 {
			fmt.Fprintf(b, " line %d", e.Line)
		}
	}
	switch e.Kind {
	case state.EventDrift:
		fmt.Fprintf(b, ": edited in the CRM by hand (sync.drift %s)\n", e.Policy)
		for _, c := range e.Changes {
			fmt.Fprintf(b, "    %s: CRM %s, pushed %s\n", c.Field, shown(c.Old), shown(c.New))
		}
		return
	case state.EventDeletedByHand:
		fmt.Fprintf(b, ": deleted in the CRM by hand (sync.drift %s)\n", e.Policy)
		return
	case state.EventInvalidRow:
		fmt.Fprintf(b, ": erpsync refused the row: %s\n", e.Answer)
		return
	case state.EventRefused:
		if strings.HasPrefix(e.Answer, apply.CodeStoredDiffers) {
			fmt.Fprintf(b, ": the CRM stored otherwise than sent (HTTP %d): %s\n", e.Status, e.Answer)
		} else {
			fmt.Fprintf(b, ": the CRM refused the %s (HTTP %d): %s\n", opNoun(e.Op), e.Status, e.Answer)
		}
	default:
		b.WriteString(": the CRM took it as sent\n")
	}
	for _, c := range e.Changes {
		fmt.Fprintf(b, "    %s: %s → %s\n", c.Field, shown(c.Old), shown(c.New))
	}
}

// opNoun is an operation as the story names it.
func opNoun(op string) string {
	if op == opDeactivate {
		return "deactivation"
	}
	return op
}

// shown is a value as the story shows it; an empty one as "(empty)".
func shown(v string) string {
	if v == "" {
		return "(empty)"
	}
	return v
}

// storyJSON is the story's JSON form (why -json).
type storyJSON struct {
	Reference string        `json:"reference"`
	Managed   bool          `json:"managed"`
	CRMID     int64         `json:"crm_id,omitempty"`
	PushedAt  *time.Time    `json:"last_pushed,omitempty"`
	Events    []eventJSON   `json:"events"`
	Deleted   []deletedJSON `json:"deleted_copies"`
}

type eventJSON struct {
	At      time.Time           `json:"at"`
	RunID   int64               `json:"run"`
	Kind    string              `json:"kind"`
	Op      string              `json:"op,omitempty"`
	File    string              `json:"export,omitempty"`
	Line    int                 `json:"line,omitempty"`
	Changes []state.FieldChange `json:"changes,omitempty"`
	Status  int                 `json:"http_status,omitempty"`
	Answer  string              `json:"answer,omitempty"`
	Policy  string              `json:"policy,omitempty"`
}

type deletedJSON struct {
	At    time.Time       `json:"at"`
	RunID int64           `json:"run"`
	CRMID int64           `json:"crm_id"`
	Copy  json.RawMessage `json:"copy"`
}

// WriteJSON writes the story as one JSON document.
func (s *Story) WriteJSON(w io.Writer) error {
	doc := storyJSON{Reference: s.Reference, Events: []eventJSON{}, Deleted: []deletedJSON{}}
	if r := s.Record; r != nil {
		doc.Managed, doc.CRMID, doc.PushedAt = true, r.CRMID, &r.PushedAt
	}
	for _, e := range s.Events {
		doc.Events = append(doc.Events, eventJSON{At: e.At, RunID: e.RunID, Kind: e.Kind, Op: e.Op, File: e.File,
			Line: e.Line, Changes: e.Changes, Status: e.Status, Answer: e.Answer, Policy: e.Policy})
	}
	for _, d := range s.Deleted {
		cp := json.RawMessage(d.Copy)
		if !json.Valid(cp) {
			cp, _ = json.Marshal(string(d.Copy))
		}
		doc.Deleted = append(doc.Deleted, deletedJSON{At: d.DeletedAt, RunID: d.RunID, CRMID: d.CRMID, Copy: cp})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
