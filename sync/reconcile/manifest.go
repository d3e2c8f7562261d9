package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"erpsync/sync/inbox"
)

// ManifestName is the pack's manifest, beside the files it lists.
const ManifestName = "manifest.json"

// Manifest is manifest.json: what a reconciliation pack is, for finance
// to sign and for Verify to check. It holds no secret: the config is
// known by its fingerprint alone.
type Manifest struct {
	Version           string       `json:"erpsync_version"`
	ConfigFingerprint string       `json:"config_fingerprint"` // sha256 of the effective config
	Export            ManifestFile `json:"export"`
	ComparedAt        time.Time    `json:"compared_at"`
	CRM               ManifestCRM  `json:"crm"`
	Totals            Controls     `json:"control_totals"`
	Exceptions        []Exception  `json:"exceptions"`
	// Files are the pack's files (the manifest aside) by name, with their
	// sha256 in hex.
	Files map[string]string `json:"files"`
}

// ManifestFile is a file by name and sha256.
type ManifestFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// ManifestCRM is when the CRM was listed and how many customers it held.
type ManifestCRM struct {
	ListedAt  time.Time `json:"listed_at"`
	Customers int       `json:"customers"`
	Unsettled bool      `json:"unsettled,omitempty"` // it kept changing while it was listed
}

// Controls are the control totals: customers by status, and customers
// and credit limits per currency (ERP, CRM, matched, differing).
type Controls struct {
	Summary    Summary                  `json:"summary"`
	Currencies map[string]CurrencyTotal `json:"currencies"`
}

// Exception is one customer that does not match, with its reason code.
type Exception struct {
	Reference string   `json:"reference"`
	Status    string   `json:"status"`
	Reason    string   `json:"reason"`
	Line      int      `json:"line,omitempty"`
	Fields    []string `json:"fields,omitempty"`
	Count     int      `json:"count,omitempty"` // invalid rows not listed, counted in one exception
}

// manifestOf is the manifest of r written as files in dir.
func manifestOf(r *Reconciliation, pack Pack, files Files) (*Manifest, error) {
	m := &Manifest{Version: pack.Version, ConfigFingerprint: pack.ConfigFingerprint,
		Export: ManifestFile{Name: pack.Source}, ComparedAt: pack.At.UTC().Truncate(time.Second),
		CRM:    ManifestCRM{ListedAt: r.ListedAt, Customers: r.Listing.Customers, Unsettled: r.Listing.Unsettled},
		Totals: Controls{Summary: r.Summary, Currencies: r.Totals}, Exceptions: []Exception{}, Files: map[string]string{}}
	if pack.ExportName != "" {
		m.Export.Name = pack.ExportName
	}
	var err error
	if m.Export.SHA256, err = inbox.FileSHA256(pack.Source); err != nil {
		return nil, fmt.Errorf("manifest: the export: %w", err)
	}
	for _, it := range r.Items {
		if it.Status == StatusDeactivated {
			continue // as erpsync left it: no exception (Totals.Summary counts it)
		}
		e := Exception{Reference: it.Reference, Status: it.Status, Reason: it.Reason, Line: it.Line}
		for _, d := range it.Differences {
			e.Fields = append(e.Fields, d.Field)
		}
		m.Exceptions = append(m.Exceptions, e)
	}
	if n := r.RowErrorsOmitted; n > 0 {
		m.Exceptions = append(m.Exceptions, Exception{Status: StatusInvalid, Reason: ReasonInvalidRow, Count: n})
	}
	for _, path := range []string{files.JSON, files.CSV, files.HTML} {
		if m.Files[filepath.Base(path)], err = inbox.FileSHA256(path); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
	}
	return m, nil
}

// writeManifest writes dir/manifest.json of r, after the files it lists.
func writeManifest(dir string, r *Reconciliation, pack Pack, files Files, mode os.FileMode) error {
	m, err := manifestOf(r, pack, files)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, ManifestName), mode, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	})
}

// Fingerprint is the sha256 of FingerprintText: it changes with any
// setting and shows none, and no secret enters it.
func Fingerprint(config any) string {
	data, err := FingerprintText(config)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Verify checks the pack in dir against its manifest: it returns, sorted,
// a sentence for each file changed, missing, or not listed since the
// pack was written (none: the pack is as written). An error says the
// manifest itself could not be read.
func Verify(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("verify %s: read %s: %w", dir, ManifestName, err)
	}
	if len(m.Files) == 0 {
		return nil, fmt.Errorf("verify %s: %s lists no file", dir, ManifestName)
	}
	var bad []string
	for name, want := range m.Files {
		if filepath.Base(name) != name {
			bad = append(bad, fmt.Sprintf("%s: not a file of the pack's folder", name))
			continue
		}
		got, err := inbox.FileSHA256(filepath.Join(dir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			bad = append(bad, name+": missing")
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s: %v", name, err))
		case got != want:
			bad = append(bad, fmt.Sprintf("%s: changed (sha256 %s, the manifest says %s)", name, got, want))
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", dir, err)
	}
	for _, e := range entries {
		if _, listed := m.Files[e.Name()]; !listed && e.Name() != ManifestName {
			bad = append(bad, e.Name()+": not in the manifest")
		}
	}
	slices.Sort(bad)
	return bad, nil
}
