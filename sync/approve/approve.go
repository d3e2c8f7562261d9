package approve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"erpsync/sync/plan"
)

// Format names an approval's kind and version.
const Format = "erpsync-plan/1"

// Depends is what a plan depends on: when one of these moved since, the
// plan no longer says what a run would do.
type Depends struct {
	Config    string    `json:"config"`        // the config's identity (ConfigID)
	Export    string    `json:"export"`        // the export's path, as planned
	ExportSHA string    `json:"export_sha256"` // its content
	Mapping   string    `json:"mapping_fingerprint"`
	LastRun   int64     `json:"checkpoint_last_run"` // the newest run the checkpoint recorded (0: none)
	Watermark time.Time `json:"checkpoint_watermark"`
	// What the run may do: how a delete is sent (sync.deletes: a delete
	// approved as isActive=false is never sent as a DELETE) and what the
	// mode lets through (sync.mode). sync.fields is in the mapping's
	// fingerprint.
	Deletes string `json:"sync_deletes"`
	Mode    string `json:"sync_mode"`
}

// Action is one approved action: which customer, what is sent (an
// upsert's content hash) and the CRM lastUpdated it was planned against
// (none for a customer the checkpoint does not hold).
type Action struct {
	Op             plan.Op    `json:"op"`
	Reference      string     `json:"reference"`
	Hash           string     `json:"hash,omitempty"`
	CRMLastUpdated *time.Time `json:"crm_last_updated,omitempty"`
	// Drifted: the CRM's copy already differed from what erpsync last
	// pushed when the plan was made (a hand edit found by the refresh).
	Drifted bool `json:"drifted,omitempty"`
}

// Approval is the approval section of a plan file.
type Approval struct {
	Format string `json:"format"`
	Depends
	Actions []Action `json:"actions"`

	raw  []byte // the file as read (Read), kept in the run's report folder
	path string
}

// ConfigID is a config's identity as an approval names it: the CRM it
// writes to and the checkpoint it keeps. A plan of another config is
// refused.
func ConfigID(crmURL, apiVersion, statePath string) string {
	if abs, err := filepath.Abs(statePath); err == nil {
		statePath = abs
	}
	sum := sha256.Sum256([]byte(strings.TrimRight(crmURL, "/") + "\n" + apiVersion + "\n" + statePath))
	return hex.EncodeToString(sum[:])
}

// key identifies an action.
func key(op plan.Op, ref string) string { return string(op) + " " + ref }

// Index returns a lookup of the approved actions: the one of op on ref
// with the same content hash (any, for a delete), or nil.
func (a *Approval) Index() func(op plan.Op, ref, hash string) *Action {
	m := make(map[string]*Action, len(a.Actions))
	for i := range a.Actions {
		m[key(a.Actions[i].Op, a.Actions[i].Reference)] = &a.Actions[i]
	}
	return func(op plan.Op, ref, hash string) *Action {
		x := m[key(op, ref)]
		if x == nil || (op != plan.OpDelete && x.Hash != hash) {
			return nil
		}
		return x
	}
}

// MovedError says what a plan depends on moved since it was written: an
// apply of it is refused, a guard's stop (exit 3), nothing sent.
type MovedError struct {
	File  string
	Moved []string
}

func (e *MovedError) Error() string {
	return fmt.Sprintf("plan %s no longer holds: %s since it was written; nothing was sent (make a new plan)",
		e.File, strings.Join(e.Moved, "; "))
}

// GuardStop makes a moved plan a guard's stop (exit 3).
func (e *MovedError) GuardStop() bool { return true }

// Moved compares what the plan depends on with now; a *MovedError names
// each that moved. The config is not compared here: Read's caller refuses
// a plan of another config (a usage error).
func (a *Approval) Moved(now Depends) error {
	var moved []string
	if now.ExportSHA != a.ExportSHA {
		moved = append(moved, fmt.Sprintf("the export %s changed (sha256 %.12s… then, %.12s… now)", a.Export, a.ExportSHA, now.ExportSHA))
	}
	if now.Mapping != a.Mapping {
		moved = append(moved, "the mapping changed (source: settings)")
	}
	if now.Deletes != a.Deletes {
		moved = append(moved, fmt.Sprintf("sync.deletes changed (%q then, %q now)", a.Deletes, now.Deletes))
	}
	if now.Mode != a.Mode {
		moved = append(moved, fmt.Sprintf("sync.mode changed (%q then, %q now)", a.Mode, now.Mode))
	}
	if now.LastRun != a.LastRun {
		moved = append(moved, fmt.Sprintf("the checkpoint's last run is %d, not %d", now.LastRun, a.LastRun))
	}
	if !now.Watermark.Equal(a.Watermark) {
		moved = append(moved, fmt.Sprintf("the checkpoint's watermark is %s, not %s",
			now.Watermark.UTC().Format(time.RFC3339), a.Watermark.UTC().Format(time.RFC3339)))
	}
	if len(moved) == 0 {
		return nil
	}
	return &MovedError{File: a.path, Moved: moved}
}

// Path is the file the approval was read from ("" when built).
func (a *Approval) Path() string { return a.path }

// Keep writes the approved plan, as read, into dir as approved-plan.json:
// the record of what was approved.
func (a *Approval) Keep(dir string, mode os.FileMode) error {
	if len(a.raw) == 0 {
		return errors.New("keep approved plan: nothing read")
	}
	path := filepath.Join(dir, "approved-plan.json")
	if err := os.WriteFile(path, a.raw, mode); err != nil {
		return fmt.Errorf("keep approved plan %s: %w", path, err)
	}
	return nil
}

// BadPlanError is a plan file that cannot be applied: not a plan, edited
// since it was written, or of another config. It is a usage error (exit
// 2): nothing is sent.
type BadPlanError struct {
	File string
	Why  string
}

func (e *BadPlanError) Error() string { return "plan " + e.File + ": " + e.Why + "; nothing was sent" }

// Unusable makes a bad plan file a usage error (exit 2).
func (e *BadPlanError) Unusable() bool { return true }

// sealMark opens the last member of a plan file: its own sha256.
const sealMark = ",\n  \"sha256\": \""

// Sealer passes a plan's JSON document on to w, holding back its closing
// brace; Seal then adds the approval and the sha256 of every byte before
// that last member.
type Sealer struct {
	w    io.Writer
	h    hash.Hash
	held []byte
}

// NewSealer returns a Sealer writing to w.
func NewSealer(w io.Writer) *Sealer { return &Sealer{w: w, h: sha256.New()} }

func (s *Sealer) Write(p []byte) (int, error) {
	s.held = append(s.held, p...)
	if n := len(s.held) - 3; n > 0 {
		if err := s.out(s.held[:n]); err != nil {
			return 0, err
		}
		s.held = append(s.held[:0], s.held[n:]...)
	}
	return len(p), nil
}

// out writes b to the file and to the hash.
func (s *Sealer) out(b []byte) error {
	s.h.Write(b)
	_, err := s.w.Write(b)
	return err
}

// Seal ends the document: the approval, then the sha256.
func (s *Sealer) Seal(a *Approval) error {
	if string(s.held) != "\n}\n" {
		return fmt.Errorf("seal plan: the document ends with %q, not a closing brace", s.held)
	}
	a.Format = Format
	doc, err := json.MarshalIndent(a, "  ", "  ")
	if err != nil {
		return fmt.Errorf("seal plan: %w", err)
	}
	if err := s.out([]byte(",\n  \"approval\": ")); err != nil {
		return err
	}
	if err := s.out(doc); err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.w, "%s%s\"\n}\n", sealMark, hex.EncodeToString(s.h.Sum(nil)))
	return err
}

// Read reads a plan file written by plan -out .json, checks its sha256
// and returns its approval. A file that is not such a plan, or was edited
// since, is a *BadPlanError.
func Read(path string) (*Approval, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &BadPlanError{File: path, Why: err.Error()}
	}
	i := bytes.LastIndex(data, []byte(sealMark))
	if i < 0 {
		return nil, &BadPlanError{File: path, Why: "no sha256 of its own: not a plan written by erpsync plan -out FILE.json"}
	}
	tail := data[i+len(sealMark):]
	sum := sha256.Sum256(data[:i])
	if len(tail) != 64+4 || string(tail[64:]) != "\"\n}\n" || !strings.EqualFold(string(tail[:64]), hex.EncodeToString(sum[:])) {
		return nil, &BadPlanError{File: path, Why: "its content does not match its sha256: it was edited since erpsync wrote it"}
	}
	var doc struct {
		Approval *Approval `json:"approval"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, &BadPlanError{File: path, Why: "not JSON: " + err.Error()}
	}
	if doc.Approval == nil || doc.Approval.Format != Format {
		return nil, &BadPlanError{File: path, Why: "no approval of format " + Format}
	}
	doc.Approval.raw, doc.Approval.path = data, path
	return doc.Approval, nil
}
