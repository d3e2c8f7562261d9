package mapping_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
)

// everySetting is a config with every setting away from its default.
func everySetting() mapping.Config {
	cfg := sapConfig()
	cfg.Delimiter = ";"
	cfg.Encoding = "windows-1252"
	cfg.NullValues = mapping.TextList{"NULL", "#N/A"}
	cfg.AutoColumns = true
	cfg.ValuesStrict = []string{"categoryId"}
	cfg.Strict = []string{"email"}
	cfg.DateFormat = "02.01.2006"
	cfg.Timezone = "Europe/Paris"
	cfg.ListSeparator = ","
	cfg.ImagesDir = "testdata"
	cfg.ZipMember = "customers.csv"
	cfg.Sheet = "KNA1"
	return cfg
}

// TestSettings_Stable: the fingerprint and the row-sum salt of configs
// that do not change stay what they were: every checkpoint holds hashes
// made with the fingerprint (a new one re-pushes every record, counted by
// max_mapping_change) and row sums made with the salt (a new one maps
// every row once more).
func TestSettings_Stable(t *testing.T) {
	empty := sapConfig()
	empty.NullValues = mapping.TextList{} // [] and nil are salted apart
	for _, tc := range []struct {
		name     string
		cfg      mapping.Config
		fp, salt string
	}{
		{"defaults", func() mapping.Config {
			c := mapping.DefaultConfig()
			c.Columns = mapping.ColumnMap{"reference": "ID", "name": "Name"}
			return c
		}(),
			"a3148693b7e834b021d545940c09082ac8245d09238ea660f7b1d64f7775f7b2", "e77fa1fc6bdb0d27"},
		{"sap", sapConfig(),
			"6351353b7f2713b9b7cf4e94e9a2b3ee7204f89094e646a209a04021f13581dd", "c5e140906f97e8d1"},
		{"sap null_values []", empty,
			"6351353b7f2713b9b7cf4e94e9a2b3ee7204f89094e646a209a04021f13581dd", "054f8b4bc9c2265e"},
		{"genexport", genexport.Config(),
			"39bb5b7d6130158d16688a47e543f26ab0b3bd3fb098bb34fc684a1612ade735", "4650d927e2ef8bfb"},
		{"every setting", everySetting(),
			"9b781a0107df6711aa46dddb2bd34fd2b94aa4b83e54c2bfa6816d89e6a1c2f3", "703383170f402974"},
	} {
		m := mustMapping(t, tc.cfg)
		if got, salt := m.Fingerprint(), fmt.Sprintf("%016x", m.Salt()); got != tc.fp || salt != tc.salt {
			t.Errorf("%s: fingerprint %s salt %s; want %s %s", tc.name, got, salt, tc.fp, tc.salt)
		}
	}
}

// TestSettings_EveryKeyDeclared walks mapping.Config: every key of
// source: must be declared in settings.go, as changing a mapping's values,
// its reading, or neither. A key added to Config and forgotten there
// fails here, instead of leaving plans to take changed rows for
// unchanged ones.
func TestSettings_EveryKeyDeclared(t *testing.T) {
	values, reading, transport := mapping.DeclaredSettings()
	declared := map[string]bool{}
	for _, k := range slices.Concat(values, reading, transport) {
		if declared[k] {
			t.Errorf("source.%s is declared twice", k)
		}
		declared[k] = true
	}
	found := map[string]bool{}
	var walk func(typ reflect.Type, prefix string)
	walk = func(typ reflect.Type, prefix string) {
		for f := range typ.Fields() {
			key := prefix + strings.Split(f.Tag.Get("yaml"), ",")[0]
			if s := f.Tag.Get("setting"); s != "" { // set from another section (sync.fields)
				key = s
			}
			switch {
			case declared[key]:
				found[key] = true
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, key+".")
			default:
				t.Errorf("source.%s (Config.%s) is not declared in mapping/settings.go: say whether it changes a mapping's values, "+
					"its reading, or neither", key, f.Name)
			}
		}
	}
	walk(reflect.TypeFor[mapping.Config](), "")
	for k := range declared {
		if !found[k] {
			t.Errorf("source.%s is declared in mapping/settings.go but is no key of mapping.Config", k)
		}
	}
}

// settingChanges holds, for every declared setting, a change of it from
// sapConfig that New accepts.
var settingChanges = map[string]func(c *mapping.Config){
	"delimiter":          func(c *mapping.Config) { c.Delimiter = ";" },
	"encoding":           func(c *mapping.Config) { c.Encoding = "windows-1252" },
	"null_values":        func(c *mapping.Config) { c.NullValues = mapping.TextList{"NULL"} },
	"columns":            func(c *mapping.Config) { c.Columns["phone"] = "TEL" },
	"auto_columns":       func(c *mapping.Config) { c.AutoColumns = true },
	"sync.fields":        func(c *mapping.Config) { c.Policies = map[string]string{"phone": "crm"} },
	"values":             func(c *mapping.Config) { c.Values["categoryId"]["R"] = "retail" },
	"values_strict":      func(c *mapping.Config) { c.ValuesStrict = []string{"categoryId"} },
	"strict":             func(c *mapping.Config) { c.Strict = []string{"email"} },
	"decimal":            func(c *mapping.Config) { c.Decimal = "." },
	"date_format":        func(c *mapping.Config) { c.DateFormat = "02.01.2006" },
	"timezone":           func(c *mapping.Config) { c.Timezone = "Europe/Paris" },
	"true_values":        func(c *mapping.Config) { c.TrueValues = append(c.TrueValues, "J") },
	"false_values":       func(c *mapping.Config) { c.FalseValues = append(c.FalseValues, "N") },
	"list_separator":     func(c *mapping.Config) { c.ListSeparator = "," },
	"images_dir":         func(c *mapping.Config) { c.ImagesDir = "testdata" },
	"delete_flag.column": func(c *mapping.Config) { c.DeleteFlag.Column = "DEL" },
	"delete_flag.values": func(c *mapping.Config) { c.DeleteFlag.Values = append(c.DeleteFlag.Values, "Y") },
	"zip_member":         func(c *mapping.Config) { c.ZipMember = "customers.csv" },
	"sheet":              func(c *mapping.Config) { c.Sheet = "KNA1" },
	"max_bytes":          func(c *mapping.Config) { c.MaxBytes = 1 << 20 },
}

// TestSettings_ChangeWhatTheyDeclare changes each declared setting alone:
// one that changes values changes the fingerprint (so every record's
// hash) and the row-sum salt; one that changes the reading changes the
// salt only; a transport setting changes neither.
func TestSettings_ChangeWhatTheyDeclare(t *testing.T) {
	base := mustMapping(t, sapConfig())
	values, reading, transport := mapping.DeclaredSettings()
	for _, group := range []struct {
		keys           []string
		wantFP, wantSS bool
	}{{values, true, true}, {reading, false, true}, {transport, false, false}} {
		for _, key := range group.keys {
			change, ok := settingChanges[key]
			if !ok {
				t.Errorf("source.%s: no change of it in settingChanges (settings_test.go)", key)
				continue
			}
			cfg := sapConfig()
			change(&cfg)
			m := mustMapping(t, cfg)
			fp, salt := m.Fingerprint() != base.Fingerprint(), m.Salt() != base.Salt()
			if fp != group.wantFP || salt != group.wantSS {
				t.Errorf("source.%s changed: fingerprint changed %v, salt changed %v; want %v, %v",
					key, fp, salt, group.wantFP, group.wantSS)
			}
		}
	}
}
