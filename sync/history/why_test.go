package history_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"erpsync/state"
	"erpsync/state/memstate"
	"erpsync/sync/history"
)

// TestRead_NeverSeen: a reference the checkpoint never saw is
// ErrNeverSeen.
func TestRead_NeverSeen(t *testing.T) {
	_, err := history.Read(context.Background(), memstate.New(), "NOPE")
	if !errors.Is(err, history.ErrNeverSeen) || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("err = %v", err)
	}
}

// TestRead_Text: the story, newest first, with old → new values, the
// drift's CRM and pushed values and its policy, the CRM's answer.
func TestRead_Text(t *testing.T) {
	ctx := context.Background()
	cp := memstate.New()
	t1 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	cp.SaveHistory(ctx, []state.Event{
		{Reference: "C-1004", RunID: 1, At: t1, Kind: state.EventCreated, Op: "create", File: "day1.csv", Line: 5,
			Changes: []state.FieldChange{{Field: "creditLimit", New: "12000"}}},
	}, time.Time{})
	cp.SaveHistory(ctx, []state.Event{
		{Reference: "C-1004", RunID: 4, At: t2, Kind: state.EventDrift, File: "day2.csv", Policy: "erp_wins",
			Changes: []state.FieldChange{{Field: "creditLimit", Old: "99999", New: "12000"}}},
		{Reference: "C-1004", RunID: 4, At: t2, Kind: state.EventUpdated, Op: "update", File: "day2.csv", Line: 5,
			Changes: []state.FieldChange{{Field: "creditLimit", Old: "99999", New: "12000"}}},
	}, time.Time{})
	s, err := history.Read(ctx, cp, "C-1004")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	iUpd, iDrift, iCreate := strings.Index(out, "run 4 updated"), strings.Index(out, "run 4 drift"), strings.Index(out, "run 1 created")
	if iUpd < 0 || iDrift < iUpd || iCreate < iDrift {
		t.Errorf("not newest first, or an event missing:\n%s", out)
	}
	for _, want := range []string{"day1.csv line 5", "creditLimit: 99999 → 12000", "CRM 99999, pushed 12000", "erp_wins"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Reference string `json:"reference"`
		Events    []struct {
			Kind string `json:"kind"`
			Line int    `json:"line"`
		} `json:"events"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil || doc.Reference != "C-1004" || len(doc.Events) != 3 || doc.Events[2].Line != 5 {
		t.Errorf("json %s: %v", buf.String(), err)
	}
}
