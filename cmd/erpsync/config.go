package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"erpsync/mapping"
	"erpsync/sync/crm"
	"erpsync/sync/history"
	"erpsync/sync/logging"
	"erpsync/sync/notify"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/plan/policy"
	"erpsync/sync/plan/reference"
	"erpsync/sync/plan/rowerrors"
	"erpsync/sync/reconcile"
	"erpsync/sync/refresh"
	"erpsync/sync/report"
	"erpsync/sync/source"
)

// Config is the YAML config of ARCHITECTURE.md; every key is documented in
// configs/erpsync.example.yaml.
type Config struct {
	CRM       CRMConfig       `yaml:"crm"`
	Source    SourceConfig    `yaml:"source"`
	State     StateConfig     `yaml:"state"`
	Sync      SyncConfig      `yaml:"sync"`
	Schedule  string          `yaml:"schedule"`
	Serve     ServeConfig     `yaml:"serve"`
	Reports   ReportsConfig   `yaml:"reports"`
	Reconcile ReconcileConfig `yaml:"reconcile"`
	Notify    notify.Config   `yaml:"notify"`
	Log       LogConfig       `yaml:"log"`
}

// LogConfig is the log: section.
type LogConfig struct {
	Format string `yaml:"format"` // console | json
}

// CRMConfig is the crm: section.
type CRMConfig struct {
	BaseURL     string        `yaml:"base_url"`
	APIVersion  string        `yaml:"api_version"`
	Auth        string        `yaml:"auth"` // none | bearer | session
	TokenEnv    string        `yaml:"token_env"`
	UsernameEnv string        `yaml:"username_env"`
	PasswordEnv string        `yaml:"password_env"`
	PageSize    int           `yaml:"page_size"`
	Concurrency int           `yaml:"concurrency"`
	RateLimit   float64       `yaml:"rate_limit"`
	Timeout     time.Duration `yaml:"timeout"`
	Retries     int           `yaml:"retries"`
}

// StateConfig is the state: section.
type StateConfig struct {
	Path string `yaml:"path"`
	// History is how long a customer's history is kept (state.history:
	// "400d", "720h", or off).
	History history.Retention `yaml:"history"`
}

// SyncConfig is the sync: section.
type SyncConfig struct {
	Deletes     policy.DeleteMode  `yaml:"deletes"`
	MaxDelete   plan.Limit         `yaml:"max_delete"`
	Drift       policy.DriftPolicy `yaml:"drift"`
	MaxFailures plan.Limit         `yaml:"max_failures"`
	// Lookback widens the refresh window for clock skew with the CRM.
	Lookback time.Duration `yaml:"lookback"`
	// FullCheck is how often a run walks every customer of the CRM instead
	// of counting (see configs/erpsync.example.yaml).
	FullCheck time.Duration `yaml:"full_check"`
	// DeleteDespiteRowErrors sends mirror deletes even when a row of the
	// export has no usable reference (by default they are then held).
	DeleteDespiteRowErrors bool `yaml:"delete_despite_row_errors"`
	// References: how the CRM compares references (insensitive or exact).
	References reference.Mode `yaml:"references"`
	// Mode: what a run may do (sync, upsert, update_only, create_only).
	Mode policy.Mode `yaml:"mode"`
	// Fields: who owns each mapped field (erp, crm, fill, keep).
	Fields policy.Fields `yaml:"fields"`
	// Guards on the plan's size besides max_delete, each off when empty
	// (issue 23 §3; run -accept lets one run through).
	MaxCreate        guard.Optional `yaml:"max_create"`
	MaxUpdate        guard.Optional `yaml:"max_update"`
	MaxBlank         guard.Optional `yaml:"max_blank"`
	MaxMappingChange guard.Optional `yaml:"max_mapping_change"`
}

// ServeConfig is the serve: section.
type ServeConfig struct {
	Listen          string        `yaml:"listen"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Approve: a plan that trips a guard is written to its run's report
	// folder (plan.json) and waits for erpsync apply (serve_approve.go).
	Approve bool `yaml:"approve"`
}

// ReportsConfig is the reports: section.
type ReportsConfig struct {
	Dir string `yaml:"dir"`
	// FileMode is the mode of the report files, which hold customer data:
	// 0640 by default, "0600" for the owner alone (folders get x where r).
	FileMode FileMode `yaml:"file_mode"`
	// MaxErrors is how many row errors, and warnings, errors.csv and
	// warnings.csv list; past it, one line a kind counts the others.
	MaxErrors int `yaml:"max_errors"`
	// CSV is the format of every CSV file written for people (reports.csv).
	CSV report.CSVSettings `yaml:"csv"`
}

// FileMode is a file mode written in octal in the config ("0640").
type FileMode os.FileMode

// UnmarshalYAML reads an octal mode, "0640" or 0o640.
func (m *FileMode) UnmarshalYAML(node *yaml.Node) error {
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(node.Value, "0o"), "0"), 8, 32)
	if err != nil || node.Value == "" {
		return fmt.Errorf("line %d: file mode %q: want octal such as \"0640\" or \"0600\"", node.Line, node.Value)
	}
	*m = FileMode(v)
	return nil
}

// defaultReportMode is reports.file_mode's default: the owner and its
// group read the reports, no one else.
const defaultReportMode = 0o640

// ReconcileConfig is the reconcile: section: numeric tolerance per field.
type ReconcileConfig struct {
	Tolerance map[string]reconcile.Tolerance `yaml:"tolerance"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		CRM: CRMConfig{
			// BaseURL has no default: crm.base_url is required.
			APIVersion: crm.DefaultAPIVersion, Auth: crm.AuthBearer, TokenEnv: "CRM_TOKEN",
			UsernameEnv: "CRM_USERNAME", PasswordEnv: "CRM_PASSWORD", PageSize: crm.DefaultPageSize,
			Concurrency: 8, Timeout: 30 * time.Second, Retries: 5,
		},
		Source: SourceConfig{Config: mapping.DefaultConfig(), Settings: source.DefaultSettings()},
		State:  StateConfig{Path: "erpsync.db", History: history.Retention(history.DefaultRetention)},
		Sync: SyncConfig{
			Deletes: policy.DeletesNever, MaxDelete: plan.Limit{Percent: 5, IsPercent: true},
			Drift: policy.DriftERPWins, MaxFailures: plan.Limit{Percent: 10, IsPercent: true},
			Lookback: 2 * time.Minute, FullCheck: refresh.DefaultFullCheck,
			References: reference.Insensitive, Mode: policy.ModeSync,
		},
		Schedule: "CRON_TZ=Europe/Paris 0 2 * * *",
		Serve:    ServeConfig{Listen: "127.0.0.1:9464", ShutdownTimeout: 5 * time.Minute},
		Reports:  ReportsConfig{Dir: "reports", FileMode: defaultReportMode, MaxErrors: rowerrors.DefaultMax},
		Notify:   notify.Config{Timeout: notify.DefaultTimeout, Retries: notify.DefaultRetries},
		Log:      LogConfig{Format: logging.FormatConsole},
	}
}

// ConfigError is a config that cannot be used (exit 2).
type ConfigError struct {
	Path string
	Err  error
}

func (e *ConfigError) Error() string { return "config " + e.Path + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// LoadConfig reads a YAML config over the defaults. Unknown keys are an
// error naming the key and its line.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{Path: path, Err: err}
	}
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		if lerr := limitKeyError(data); lerr != nil {
			err = lerr // yaml does not say which key a value's own error is of
		}
		return nil, &ConfigError{Path: path, Err: tidyYAMLError(err)}
	}
	if err := cfg.validate(); err != nil {
		return nil, &ConfigError{Path: path, Err: err}
	}
	if p := cfg.Sync.Fields.Declared(); len(p) > 0 {
		cfg.Source.Policies = p // part of the mapping's fingerprint
	}
	return &cfg, nil
}

// limitKeyError returns the first sync: limit whose value is unusable,
// naming its key and line (sync.max_blank (line 3): limit "abc": ...),
// or nil.
func limitKeyError(data []byte) error {
	var doc struct {
		Sync map[string]yaml.Node `yaml:"sync"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return nil
	}
	guards := []string{"max_create", "max_update", "max_blank", "max_mapping_change"} // "": off
	for _, k := range append([]string{"max_delete", "max_failures"}, guards...) {
		n, ok := doc.Sync[k]
		if !ok || n.Kind != yaml.ScalarNode || slices.Contains(guards, k) && strings.TrimSpace(n.Value) == "" {
			continue
		}
		if _, err := guard.ParseLimit(n.Value); err != nil {
			return fmt.Errorf("sync.%s (line %d): %w", k, n.Line, err)
		}
	}
	return nil
}

// yamlUnknown matches yaml's "line 3: field foo not found in type main.X".
var yamlUnknown = regexp.MustCompile(`line (\d+): field (\S+) not found in type \S+`)

// tidyYAMLError words unknown keys for people rather than Go types.
func tidyYAMLError(err error) error {
	msg := yamlUnknown.ReplaceAllString(err.Error(), "line $1: unknown key $2")
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n")
	return errors.New(strings.TrimSpace(msg))
}

func (c *Config) validate() error {
	switch c.Sync.Deletes {
	case policy.DeletesNever, policy.DeletesMirror, policy.DeletesDeactivate:
	default:
		return fmt.Errorf("sync.deletes %q: want never, mirror or deactivate", c.Sync.Deletes)
	}
	if err := c.Sync.Mode.Check(); err != nil {
		return err
	}
	if err := c.Sync.Fields.Check(c.mapped); err != nil {
		return err
	}
	switch c.Sync.References {
	case reference.Insensitive, reference.Exact:
	default:
		return fmt.Errorf("sync.references %q: want insensitive or exact", c.Sync.References)
	}
	switch c.Sync.Drift {
	case policy.DriftERPWins, policy.DriftReport:
	default:
		return fmt.Errorf("sync.drift %q: want erp_wins or report", c.Sync.Drift)
	}
	if c.CRM.Concurrency < 1 || c.CRM.Concurrency > 256 {
		return fmt.Errorf("crm.concurrency %d: want 1 to 256", c.CRM.Concurrency)
	}
	if c.CRM.RateLimit < 0 {
		return fmt.Errorf("crm.rate_limit %v: want 0 (unlimited) or more", c.CRM.RateLimit)
	}
	if c.CRM.Retries < 0 {
		return fmt.Errorf("crm.retries %d: want 0 or more", c.CRM.Retries)
	}
	if c.CRM.Timeout <= 0 {
		return fmt.Errorf("crm.timeout %s: want a positive duration", c.CRM.Timeout)
	}
	if err := c.CRM.validateAuth(); err != nil {
		return err
	}
	if c.CRM.PageSize < 1 || c.CRM.PageSize > maxPageSize {
		return fmt.Errorf("crm.page_size %d: want 1 to %d", c.CRM.PageSize, maxPageSize)
	}
	if c.State.Path == "" {
		return errors.New("state.path is empty")
	}
	if c.Reports.MaxErrors < 1 {
		return fmt.Errorf("reports.max_errors %d: want 1 or more", c.Reports.MaxErrors)
	}
	if m := os.FileMode(c.Reports.FileMode); m&^0o644 != 0 || m&0o600 != 0o600 {
		return fmt.Errorf("reports.file_mode %04o: want the owner's read and write and at most read for others, such as 0640 or 0600", m)
	}
	if _, err := c.Reports.CSV.Format(); err != nil {
		return err
	}
	if c.Schedule != "" { // serve refuses an empty one; other commands do not use it
		if _, err := parseSchedule(c.Schedule); err != nil {
			return err
		}
	}
	if strings.TrimSpace(c.CRM.BaseURL) == "" {
		// No default: a left-out key would silently mean crmsim's port.
		return errors.New("crm.base_url is required: the CRM's address, e.g. https://crm.example.com (crmsim: http://127.0.0.1:8085)")
	}
	if err := c.Notify.Validate(); err != nil {
		return err
	}
	if err := logging.CheckFormat(c.Log.Format); err != nil {
		return err
	}
	for field, t := range c.Reconcile.Tolerance {
		if t.Absolute < 0 || t.Relative < 0 {
			return fmt.Errorf("reconcile.tolerance.%s: tolerances are not negative", field)
		}
	}
	return nil
}

// maxPageSize bounds crm.page_size: a page of 1,000 customers is about
// 2 MB of JSON.
const maxPageSize = 1000

// validateAuth checks crm.auth and that it names its variables. Their
// values are read (and checked) when the client opens: newClient.
func (c CRMConfig) validateAuth() error {
	switch c.Auth {
	case crm.AuthNone:
	case crm.AuthBearer:
		if c.TokenEnv == "" {
			return errors.New("crm.token_env is empty: name the environment variable that holds the token")
		}
		return checkEnvName("crm.token_env", c.TokenEnv)
	case crm.AuthSession:
		if c.UsernameEnv == "" || c.PasswordEnv == "" {
			return errors.New("crm.username_env and crm.password_env name the variables of the session login: neither may be empty")
		}
		if err := checkEnvName("crm.username_env", c.UsernameEnv); err != nil {
			return err
		}
		return checkEnvName("crm.password_env", c.PasswordEnv)
	default:
		return fmt.Errorf("crm.auth %q: want none, bearer or session", c.Auth)
	}
	return nil
}

// envName is the name of an environment variable.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkEnvName refuses a key naming the variable of a secret whose value
// is no variable's name: most likely the secret itself, pasted in. The
// value is never shown.
func checkEnvName(key, name string) error {
	if envName.MatchString(name) && len(name) <= 128 {
		return nil
	}
	return fmt.Errorf("%s is not the name of an environment variable (letters, digits and _, such as CRM_TOKEN); its value is not shown: if it is the secret itself, remove it from the file and set it in a variable", key)
}

// plainEnvName says whether a variable's name may be shown in an error:
// one written as such names are (CRM_TOKEN), not a secret of letters and
// digits pasted in its place.
func plainEnvName(name string) bool {
	return len(name) <= 64 && strings.ToUpper(name) == name && envName.MatchString(name)
}

// configWritable says why the config at path can be changed by every
// user of the host, or "": the file, or its folder (without the sticky
// bit), is writable by others. The config decides where the CRM token is
// sent.
func configWritable(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if st.Mode().Perm()&0o002 != 0 {
		return fmt.Sprintf("the file is writable by every user (mode %04o)", st.Mode().Perm())
	}
	dir, err := os.Stat(filepath.Dir(path))
	if err == nil && dir.Mode().Perm()&0o002 != 0 && dir.Mode()&os.ModeSticky == 0 {
		return fmt.Sprintf("its folder is writable by every user (mode %04o)", dir.Mode().Perm())
	}
	return ""
}

// mapped reports whether a CRM field is mapped: named in source.columns,
// or, with source.auto_columns, a field of the CRM's.
func (c *Config) mapped(field string) bool {
	if _, ok := c.Source.Columns[field]; ok {
		return true
	}
	return c.Source.AutoColumns && mapping.IsField(field)
}

// csvFormat is reports.csv of a validated config.
func csvFormat(c *Config) report.CSV {
	f, _ := c.Reports.CSV.Format()
	return f
}
