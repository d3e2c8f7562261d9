package mapping

// The one declaration of the mapping's settings of source: (issue 22;
// the transport's, such as path or sftp, are sync/source's). Two digests
// decide whether what a checkpoint holds still stands for an export's
// rows: the fingerprint, part of every record's hash (a new one makes
// every record compare as changed, counted by max_mapping_change), and
// the row-sum salt, part of every row sum (a new one makes a lazy plan
// map every row again). Both are derived from the table below, so a
// setting cannot be in one and forgotten in the other; and
// TestSettings_EveryKeyDeclared fails for a key of Config that the table
// does not declare.
//
// Adding a setting: add a row with its effect (the tests then want a
// change of it in settingChanges); one that changes values takes the next
// fingerprint place (fp.at). Give its parts omitEmpty, so that the
// configs that do not set it keep their fingerprint and salt
// (TestSettings_Stable fails otherwise).

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"

	"erpsync/mapping/customer"
)

// effect is what a setting changes in what a mapping gives.
type effect int

const (
	// changesNothing: where an export is, how it is fetched, how large it
	// may be. The rows of an export map the same whatever its value.
	changesNothing effect = iota
	// changesReading: which cells a row has, or whether a row is taken
	// (delimiter, encoding, zip member, sheet, strictness). In the salt:
	// a row sum of another reading matches no row. Not in the
	// fingerprint: the same cells map to the same values, and a customer
	// whose cells differ has another hash anyway.
	changesReading
	// changesValues: how cells become a customer's values. In the
	// fingerprint and in the salt.
	changesValues
)

// part is one member of a digest's JSON object.
type part struct {
	name      string
	at        int // the place in the fingerprint's object (fp only)
	value     func(c *Config) any
	omitEmpty bool // left out when empty, as encoding/json's omitempty
}

// setting is one key of source:, its effect, and what it puts in each
// digest: every setting that changes anything is salted as it is; one
// that changes values is in the fingerprint, normalised.
type setting struct {
	key    string // under source:, "delete_flag.column" for a nested one
	effect effect
	salt   *part
	fp     *part
}

// settings is the declaration, in the order of the salt's object. The
// names, places and forms of version 1 must not change: every checkpoint
// holds hashes and sums made with them (TestSettings_Stable).
var settings = []setting{
	{key: "max_bytes"}, // a bound: a larger export is refused whole
	{key: "delimiter", effect: changesReading, salt: raw("Delimiter", func(c *Config) any { return c.Delimiter })},
	{key: "encoding", effect: changesReading, salt: raw("Encoding", func(c *Config) any { return c.Encoding })},
	{key: "null_values", effect: changesValues, salt: raw("Null", func(c *Config) any { return c.NullValues }),
		fp: &part{name: "NullValues", at: 13, value: func(c *Config) any { return lowerSorted(c.NullValues) }, omitEmpty: true}},
	{key: "columns", effect: changesValues, salt: raw("Columns", func(c *Config) any { return c.Columns }),
		fp: &part{name: "Columns", at: 1, value: func(c *Config) any { return normHeaders(c.Columns) }}},
	{key: "values", effect: changesValues, salt: raw("Values", func(c *Config) any { return c.Values }),
		fp: &part{name: "Values", at: 2, value: func(c *Config) any { return c.Values }}},
	{key: "values_strict", effect: changesReading, salt: raw("ValuesStrict", func(c *Config) any { return c.ValuesStrict })},
	{key: "strict", effect: changesReading, salt: raw("Strict", func(c *Config) any { return c.Strict })},
	{key: "decimal", effect: changesValues, salt: raw("Decimal", func(c *Config) any { return c.Decimal }),
		fp: &part{name: "Decimal", at: 3, value: func(c *Config) any { return c.Decimal }}},
	{key: "date_format", effect: changesValues, salt: raw("Date", func(c *Config) any { return c.DateFormat }),
		fp: &part{name: "Date", at: 4, value: func(c *Config) any { return c.DateFormat }}},
	{key: "timezone", effect: changesValues, salt: raw("TZ", func(c *Config) any { return c.Timezone }),
		fp: &part{name: "TZ", at: 5, value: func(c *Config) any { return c.Timezone }}},
	{key: "list_separator", effect: changesValues, salt: raw("List", func(c *Config) any { return c.ListSeparator }),
		fp: &part{name: "List", at: 8, value: func(c *Config) any { return c.ListSeparator }}},
	{key: "true_values", effect: changesValues, salt: raw("True", func(c *Config) any { return c.TrueValues }),
		fp: &part{name: "True", at: 6, value: func(c *Config) any { return lowerSorted(c.TrueValues) }}},
	{key: "false_values", effect: changesValues, salt: raw("False", func(c *Config) any { return c.FalseValues }),
		fp: &part{name: "False", at: 7, value: func(c *Config) any { return lowerSorted(c.FalseValues) }}},
	{key: "images_dir", effect: changesValues, salt: raw("Images", func(c *Config) any { return c.ImagesDir }),
		fp: &part{name: "ImagesDir", at: 11, value: func(c *Config) any { return c.ImagesDir }}},
	{key: "delete_flag.column", effect: changesValues, salt: raw("FlagColumn", func(c *Config) any { return c.DeleteFlag.Column }),
		fp: &part{name: "FlagColumn", at: 9, value: func(c *Config) any { return normHeader(c.DeleteFlag.Column) }}},
	{key: "zip_member", effect: changesReading, salt: raw("ZipMember", func(c *Config) any { return c.ZipMember })},
	{key: "sheet", effect: changesReading, salt: raw("Sheet", func(c *Config) any { return c.Sheet })},
	{key: "delete_flag.values", effect: changesValues, salt: raw("FlagValues", func(c *Config) any { return c.DeleteFlag.Values }),
		fp: &part{name: "FlagValues", at: 10, value: func(c *Config) any { return lowerSorted(c.DeleteFlag.Values) }}},
	{key: "auto_columns", effect: changesValues,
		salt: &part{name: "AutoColumns", value: func(c *Config) any { return c.AutoColumns }, omitEmpty: true},
		fp:   &part{name: "AutoColumns", at: 14, value: func(c *Config) any { return c.AutoColumns }, omitEmpty: true}},
	// sync.fields (issue 23): a policy other than erp changes what an
	// update pushes; a customer whose pushed values do not change is
	// compared by value and not sent (plan.byValue).
	{key: "sync.fields", effect: changesValues,
		salt: &part{name: "Policies", value: func(c *Config) any { return c.Policies }, omitEmpty: true},
		fp:   &part{name: "Policies", at: 15, value: func(c *Config) any { return c.Policies }, omitEmpty: true}},
}

// raw is a salt part: the setting as it is.
func raw(name string, value func(c *Config) any) *part { return &part{name: name, value: value} }

// The parts of the digests that are not settings, and their places.
const (
	fpVersionAt = 0  // fingerprintVersion
	fpFieldsAt  = 12 // the CRM's field names (customer.Names)
)

// fingerprintVersion is part of the fingerprint: raised if the way
// records are hashed ever changes, so that a checkpoint of the older way
// says "mapping changed" for every record it re-pushes.
const fingerprintVersion = 1

// fingerprint is the sha256, in hex, of the settings that change values,
// normalised (header case and spaces, the case and order of value lists),
// with the CRM's field names.
func fingerprint(cfg Config) string {
	parts := []part{
		{name: "Version", at: fpVersionAt, value: func(*Config) any { return fingerprintVersion }},
		{name: "Fields", at: fpFieldsAt, value: func(*Config) any { return customer.Names() }},
	}
	for _, s := range settings {
		if s.fp != nil {
			parts = append(parts, *s.fp)
		}
	}
	slices.SortStableFunc(parts, func(a, b part) int { return a.at - b.at })
	return sha256Hex(object(&cfg, parts))
}

// rowSalt is the part of every row sum that is the same for a mapping:
// the code's version and tables, the fingerprint, and every setting that
// changes anything, as it is.
func rowSalt(cfg Config, fp string) uint64 {
	parts := []part{
		{name: "Version", value: func(*Config) any { return rowSumVersion }},
		{name: "Tables", value: func(*Config) any { return codeTables() }},
		{name: "Fingerprint", value: func(*Config) any { return fp }},
	}
	for _, s := range settings {
		if s.salt != nil {
			parts = append(parts, *s.salt)
		}
	}
	return xxhash.Sum64(object(&cfg, parts))
}

// object writes parts as one JSON object, in their order: the bytes
// encoding/json writes for a struct of these fields.
func object(cfg *Config, parts []part) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for _, p := range parts {
		v := p.value(cfg)
		if p.omitEmpty && isEmpty(v) {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(p.name)
		data, _ := json.Marshal(v) // maps, slices, texts, numbers and booleans: no error
		b.Write(name)
		b.WriteByte(':')
		b.Write(data)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// isEmpty is encoding/json's notion of an empty value for omitempty.
func isEmpty(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		return true
	case reflect.Slice, reflect.Map, reflect.Array, reflect.String:
		return rv.Len() == 0
	default:
		return rv.IsZero()
	}
}

// lowerSorted is a value list as it matches: trimmed, lower case, sorted.
func lowerSorted(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.ToLower(strings.TrimSpace(v))
	}
	slices.Sort(out)
	return out
}

// normHeaders is source.columns as headers match (normHeader).
func normHeaders(cols ColumnMap) map[string]string {
	out := map[string]string{}
	for f, c := range cols {
		out[f] = normHeader(c)
	}
	return out
}
