package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.yaml.in/yaml/v3"

	"erpsync/mapping/customer"
)

// Config is the mapping's part of the `source:` section of the config
// (ARCHITECTURE.md): how an export's rows map. Its transport settings
// (path, sftp, s3, archive_dir, settle, stall_timeout) are sync/source's
// Settings. Every key is documented in configs/erpsync.example.yaml.
type Config struct {
	Delimiter     string                       `yaml:"delimiter"`
	Encoding      string                       `yaml:"encoding"`
	NullValues    TextList                     `yaml:"null_values"`
	Columns       ColumnMap                    `yaml:"columns"`
	AutoColumns   bool                         `yaml:"auto_columns"` // headers named like a CRM field map to it too
	Values        map[string]map[string]string `yaml:"values"`
	ValuesStrict  []string                     `yaml:"values_strict"`
	Strict        []string                     `yaml:"strict"`
	Decimal       string                       `yaml:"decimal"`
	DateFormat    string                       `yaml:"date_format"`
	Timezone      string                       `yaml:"timezone"`
	TrueValues    []string                     `yaml:"true_values"`
	FalseValues   []string                     `yaml:"false_values"`
	ListSeparator string                       `yaml:"list_separator"`
	ImagesDir     string                       `yaml:"images_dir"`
	DeleteFlag    DeleteFlag                   `yaml:"delete_flag"`
	ZipMember     string                       `yaml:"zip_member"`
	Sheet         string                       `yaml:"sheet"`
	MaxBytes      int64                        `yaml:"max_bytes"` // decompressed export (workbook: unzipped) at most; 4 GiB by default
	// Policies are sync.fields' policies other than erp (field → crm, fill
	// or keep), set by the config's loader: they change what is pushed,
	// so they are part of the fingerprint (settings.go). Not a key of
	// source:.
	Policies map[string]string `yaml:"-" setting:"sync.fields"`
}

// DeleteFlag marks rows that are delete requests: a column and the values
// that mean "delete".
type DeleteFlag struct {
	Column string   `yaml:"column"`
	Values []string `yaml:"values"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Delimiter:     "auto",
		Encoding:      "auto",
		Decimal:       ".",
		DateFormat:    "2006-01-02",
		Timezone:      "UTC",
		TrueValues:    []string{"true", "1", "yes", "y"},
		FalseValues:   []string{"false", "0", "no", "n"},
		ListSeparator: "|",
		ValuesStrict:  DefaultValuesStrict(),
		MaxBytes:      4 << 30,
	}
}

// Mapping is a checked Config, ready to read exports.
type Mapping struct {
	cfg      Config
	log      *zap.Logger
	loc      *time.Location
	delim    rune // 0 for auto
	trues    map[string]bool
	falses   map[string]bool
	flags    map[string]bool
	checks   checks
	imageDir string // absolute, symlinks resolved
	fp       string
	salt     uint64      // of every row sum (rowsum.go)
	seen     seenColumns // the columns of the last export read (Columns)
}

// New checks a config; a mistake is an error naming the key.
func New(cfg Config, log *zap.Logger) (*Mapping, error) {
	if log == nil {
		log = zap.NewNop()
	}
	m := &Mapping{cfg: cfg, log: log, trues: map[string]bool{}, falses: map[string]bool{}, flags: map[string]bool{}}
	switch cfg.Delimiter {
	case "auto", "":
	case ",", ";", "\t", "|":
		m.delim = rune(cfg.Delimiter[0])
	case `\t`, "tab":
		m.delim = '\t'
	default:
		return nil, fmt.Errorf("delimiter %q: want \",\", \";\", \"\\t\", \"|\" or auto", cfg.Delimiter)
	}
	switch strings.ToLower(cfg.Encoding) {
	case "", "auto", "utf-8", "utf8", "windows-1252", "cp1252", "iso-8859-1", "latin1", "latin-1", "utf-16":
	default:
		return nil, fmt.Errorf("encoding %q: want utf-8, windows-1252, iso-8859-1, utf-16 or auto", cfg.Encoding)
	}
	if cfg.Decimal != "." && cfg.Decimal != "," {
		return nil, fmt.Errorf("decimal %q: want \".\" or \",\"", cfg.Decimal)
	}
	if cfg.ListSeparator == "" {
		return nil, fmt.Errorf("list_separator is empty")
	}
	var err error
	if m.loc, err = time.LoadLocation(cfg.Timezone); err != nil {
		return nil, fmt.Errorf("timezone %q: %w", cfg.Timezone, err)
	}
	if cfg.DateFormat == "" || time.Date(2001, 2, 3, 0, 0, 0, 0, time.UTC).Format(cfg.DateFormat) == cfg.DateFormat {
		return nil, fmt.Errorf("date_format %q: want a Go layout such as 2006-01-02 or 02.01.2006", cfg.DateFormat)
	}
	for _, v := range cfg.TrueValues {
		m.trues[strings.ToLower(strings.TrimSpace(v))] = true
	}
	for _, v := range cfg.FalseValues {
		k := strings.ToLower(strings.TrimSpace(v))
		if m.trues[k] {
			return nil, fmt.Errorf("false_values: %q is also in true_values", v)
		}
		m.falses[k] = true
	}
	if err := checkColumns(cfg); err != nil {
		return nil, err
	}
	for field := range cfg.Values {
		if _, ok := customer.Lookup(field); !ok || field == "reference" {
			return nil, fmt.Errorf("values: %q is not a CRM field that takes a value map", field)
		}
	}
	if m.checks, err = newChecks(cfg); err != nil {
		return nil, err
	}
	if (cfg.DeleteFlag.Column == "") != (len(cfg.DeleteFlag.Values) == 0) {
		return nil, fmt.Errorf("delete_flag: set both column and values, or neither")
	}
	for _, v := range cfg.DeleteFlag.Values {
		m.flags[strings.ToLower(strings.TrimSpace(v))] = true
	}
	if cfg.ImagesDir != "" {
		abs, err := filepath.Abs(cfg.ImagesDir)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if err != nil {
			return nil, fmt.Errorf("images_dir %q: %w", cfg.ImagesDir, err)
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("images_dir %q: not a folder", cfg.ImagesDir)
		}
		m.imageDir = abs
	}
	m.fp = fingerprint(cfg)
	m.salt = rowSalt(cfg, m.fp)
	return m, nil
}

// checkColumns refuses a key of source.columns that is not a CRM field,
// and a config that maps no column to reference or name: without
// auto_columns, only source.columns is read.
func checkColumns(cfg Config) error {
	for field := range cfg.Columns {
		if _, ok := customer.Lookup(field); !ok {
			return fmt.Errorf("columns: %q is not a CRM field (want one of %s)", field, strings.Join(customer.Names(), ", "))
		}
	}
	var missing []string
	for _, f := range []string{"reference", "name"} {
		h, ok := cfg.Columns[f]
		if strings.TrimSpace(h) == "" && (!cfg.AutoColumns || ok) {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("columns: source.columns maps no column to %s (or set source.auto_columns: true)", strings.Join(missing, ", "))
}

// Fingerprint identifies everything in the config that changes values:
// the settings settings.go declares so (columns, value maps, parsing
// options). A changed fingerprint makes every record's hash change.
func (m *Mapping) Fingerprint() string { return m.fp }

// sha256Hex is the sha256 of data, in hex.
func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// TextList is a YAML list of texts that refuses an item YAML reads as no
// value: `null_values: [NULL, n/a]` would silently lose NULL (YAML's own
// null), the very value it is meant to name.
type TextList []string

// UnmarshalYAML reads the list, naming the line of an unquoted null.
func (l *TextList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: want a list of texts, e.g. [\"NULL\", \"n/a\"]", n.Line)
	}
	out := make(TextList, 0, len(n.Content))
	for _, item := range n.Content {
		if item.Tag == "!!null" {
			return fmt.Errorf("line %d: %s is YAML's null here: quote it (\"%s\")", item.Line, item.Value, item.Value)
		}
		var v string
		if err := item.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", item.Line, err)
		}
		out = append(out, v)
	}
	*l = out
	return nil
}

// IsField reports whether name is one of the CRM's fields (the field
// table's).
func IsField(name string) bool {
	_, ok := customer.Lookup(name)
	return ok
}
