package compact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// FromJSON appends the stored form of values stored as JSON before
// migration 008 (json.Marshal's bytes of a map of strings) to b.
func FromJSON(b, js []byte, ids IDs) ([]byte, error) {
	err := walkJSON(js, func(k, v string) error {
		id, err := ids(k)
		if err != nil {
			return err
		}
		b = appendEntry(b, id, v, false)
		return nil
	})
	return b, err
}

// DiffJSON appends the stored form of the CRM's values stored as JSON
// before 008 beside the values pushed (JSON too) to b: nothing when they
// are the same bytes (most records).
func DiffJSON(b, vals, crm []byte, ids IDs) ([]byte, error) {
	if bytes.Equal(vals, crm) {
		return b, nil
	}
	var v, c map[string]string
	if err := json.Unmarshal(vals, &v); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(crm, &c); err != nil {
		return nil, err
	}
	return AppendDiff(b, v, c, ids)
}

// walkJSON calls fn with each key and value of a JSON object of strings:
// plain strings are read as they are, the others through encoding/json.
func walkJSON(js []byte, fn func(k, v string) error) error {
	s := string(js)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return fmt.Errorf("not a JSON object: %.20q", s)
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	for s != "" {
		k, rest, err := jsonString(s)
		if err != nil {
			return err
		}
		rest, ok := strings.CutPrefix(strings.TrimSpace(rest), ":")
		if !ok {
			return fmt.Errorf("no colon after %q", k)
		}
		v, rest, err := jsonString(strings.TrimSpace(rest))
		if err != nil {
			return err
		}
		if err := fn(k, v); err != nil {
			return err
		}
		rest = strings.TrimSpace(rest)
		if s, ok = strings.CutPrefix(rest, ","); !ok && rest != "" {
			return fmt.Errorf("no comma after %q", k)
		}
		s = strings.TrimSpace(s)
	}
	return nil
}

// jsonString reads the JSON string at the start of s; it returns the
// rest of s.
func jsonString(s string) (string, string, error) {
	if !strings.HasPrefix(s, `"`) {
		return "", "", fmt.Errorf("not a string: %.20q", s)
	}
	escaped := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			if !escaped {
				return s[1:i], s[i+1:], nil
			}
			var out string
			if err := json.Unmarshal([]byte(s[:i+1]), &out); err != nil {
				return "", "", err
			}
			return out, s[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("unterminated string: %.20q", s)
}
