package mapping

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"erpsync/mapping/customer"
)

// DefaultValuesStrict are the fields whose values map is strict unless
// source.values_strict says otherwise: references to CRM records, where a
// wrong id is worse than a row error.
func DefaultValuesStrict() []string {
	return []string{"categoryId", "customerSegmentationId", "paymentTypes", "userId"}
}

// strictable are the checks that source.strict turns from warnings into
// row errors.
var strictable = []string{"email", "website"}

// checks are the config's rules for empty-like cells, value maps and
// implausible values.
type checks struct {
	nulls        map[string]bool // lower case, trimmed
	maxNull      int             // the longest null value, in bytes
	strictValues map[string]bool // fields whose values map is all they take
	strict       map[string]bool // fields whose implausible values are row errors
}

func newChecks(cfg Config) (checks, error) {
	c := checks{nulls: map[string]bool{}, strictValues: map[string]bool{}, strict: map[string]bool{}}
	for _, v := range cfg.NullValues {
		k := strings.ToLower(strings.TrimSpace(v))
		if k == "" {
			return c, fmt.Errorf("null_values: an empty entry (empty cells are empty already)")
		}
		c.nulls[k] = true
		c.maxNull = max(c.maxNull, len(k))
	}
	for _, f := range cfg.ValuesStrict {
		if _, ok := customer.Lookup(f); !ok {
			return c, fmt.Errorf("values_strict: %q is not a CRM field", f)
		}
		c.strictValues[f] = true
	}
	for _, f := range cfg.Strict {
		if !slices.Contains(strictable, f) {
			return c, fmt.Errorf("strict: %q: want one of %s", f, strings.Join(strictable, ", "))
		}
		c.strict[f] = true
	}
	return c, nil
}

// isNull reports whether a trimmed cell is one of source.null_values.
func (c *checks) isNull(cell string) bool {
	if len(cell) == 0 || len(cell) > c.maxNull {
		return false
	}
	return c.nulls[strings.ToLower(cell)]
}

// implausible says why an email or website is not plausible, "" when it
// is (or when the field has no such check).
func implausible(field, v string) string {
	if v == "" {
		return ""
	}
	lower := strings.ToLower(v)
	switch {
	case field != "email" && field != "website":
		return ""
	case strings.ContainsAny(v, " \t\r\n"):
		return "it holds a space"
	case strings.Contains(lower, "(at)") || strings.Contains(lower, "[at]"):
		return `it writes "@" as "(at)"`
	case field == "website" && strings.Contains(v, "@"):
		return "it holds an @ (an email?)"
	case field == "website" && !strings.Contains(v, "."):
		return "it has no domain (no dot)"
	case field == "website":
		return ""
	}
	local, domain, ok := strings.Cut(v, "@")
	switch {
	case !ok:
		return "it has no @"
	case strings.Contains(domain, "@"):
		return "it has several @ (several addresses?)"
	case local == "" || !strings.Contains(strings.Trim(domain, "."), "."):
		return "it is not name@domain"
	}
	return ""
}

// ColumnMap is source.columns: CRM field → the export's column header.
// Decoded from YAML, a key that is not a CRM field is an error naming its
// line.
type ColumnMap map[string]string

// UnmarshalYAML decodes the map and checks its keys.
func (c *ColumnMap) UnmarshalYAML(node *yaml.Node) error {
	var m map[string]string
	if err := node.Decode(&m); err != nil {
		return err
	}
	if node.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(node.Content); i += 2 {
			k := node.Content[i]
			if _, ok := customer.Lookup(k.Value); !ok {
				return fmt.Errorf("line %d: columns: %q is not a CRM field (want one of %s)",
					k.Line, k.Value, strings.Join(customer.Names(), ", "))
			}
		}
	}
	*c = m
	return nil
}

// withDelimiterHint adds to a header error, when the header was read as
// one column holding another delimiter, the delimiter it probably is.
func withDelimiterHint(err error, header []string, used rune) error {
	if len(header) != 1 {
		return err
	}
	best, n := rune(0), 0
	for _, d := range []rune{';', ',', '\t', '|'} {
		if c := strings.Count(header[0], string(d)); d != used && c > n {
			best, n = d, c
		}
	}
	if n == 0 {
		return err
	}
	shown := string(best)
	if best == '\t' {
		shown = `\t`
	}
	return fmt.Errorf("%w; one column read — is the delimiter `%s`? (set source.delimiter)", err, shown)
}
