package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"erpsync/sync/report"
)

// Message is the JSON body of a webhook (format json), one per event.
// README.md documents it; receivers depend on its names.
type Message struct {
	Event     string         `json:"event"`  // failed | partial | guard | drift | held | recovered
	RunID     int64          `json:"run_id"` // 0: the run was never recorded (it stopped before its start)
	Kind      string         `json:"kind"`   // run | import
	Status    string         `json:"status"` // as recorded: done, done with failures, aborted, failed, interrupted
	ExitCode  int            `json:"exit_code"`
	Counts    map[string]int `json:"counts,omitempty"` // the run record's counts
	Drift     int            `json:"drift,omitempty"`  // customers found edited or deleted by hand
	Export    string         `json:"export,omitempty"` // where the export came from (passwords removed)
	ReportDir string         `json:"report_dir,omitempty"`
	Reason    string         `json:"reason,omitempty"` // the first clause of the run's error, at most 512 bytes
	Time      time.Time      `json:"time"`             // when the run ended (UTC)
}

// Headers of a signed delivery.
const (
	HeaderSignature = "X-Erpsync-Signature" // sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">
	HeaderTimestamp = "X-Erpsync-Timestamp" // Unix seconds, covered by the signature
	HeaderEvent     = "X-Erpsync-Event"
)

// Sign returns the signature header's value of a body sent at timestamp
// (Unix seconds): "sha256=" and the hex HMAC-SHA256, keyed with the
// secret, of the timestamp, a dot and the body. A receiver recomputes it
// over the timestamp header and the raw body, compares in constant time,
// and refuses an old timestamp (a replay).
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether sig is the signature of body at timestamp.
func Verify(secret, timestamp string, body []byte, sig string) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, ts, body)), []byte(sig))
}

// body encodes a message in a webhook's format.
func body(format string, m Message) ([]byte, error) {
	if format == FormatSlack {
		return json.Marshal(struct {
			Text string `json:"text"`
		}{slackText(m)})
	}
	return json.Marshal(m)
}

// slackText is one line for people: what happened, to which export, why,
// and where the reports are.
func slackText(m Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "erpsync %s %d: %s (%s)", m.Kind, m.RunID, m.Event, m.Status)
	if m.Export != "" {
		fmt.Fprintf(&b, " — %s", m.Export)
	}
	if m.Drift > 0 {
		fmt.Fprintf(&b, "; %d customers edited or deleted by hand in the CRM", m.Drift)
	}
	if m.Reason != "" {
		fmt.Fprintf(&b, "; %s", m.Reason)
	}
	if m.ReportDir != "" {
		fmt.Fprintf(&b, "; reports in %s", m.ReportDir)
	}
	return b.String()
}

// reasonMax bounds a message's reason: a reason, not data.
const reasonMax = 512

// reason is the first clause of an error (up to its first "; ": what
// follows lists cells or items), within reasonMax bytes, with control
// characters as spaces.
func reason(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if i := strings.Index(s, "; "); i >= 0 {
		s = s[:i]
	}
	return report.Clip(s, reasonMax)
}
