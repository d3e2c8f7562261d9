package compact

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// fromJSON appends the stored form of values stored as JSON before
// migration 008 (json.Marshal's bytes of a map of strings) to b; idOf
// is an IDs of names as bytes.
func fromJSON(b, js []byte, idOf func([]byte) (uint64, error)) ([]byte, error) {
	err := walkJSON(js, func(k, v []byte) error {
		id, err := idOf(k)
		if err != nil {
			return err
		}
		b = binary.AppendUvarint(binary.AppendUvarint(b, id), uint64(len(v)))
		b = append(b, v...)
		return nil
	})
	return b, err
}

// diffJSON appends the stored form of the CRM's values stored as JSON
// before 008 beside the values pushed (JSON too) to b: nothing when they
// are the same bytes (most records), or crm is nil (said the same).
func diffJSON(b, vals, crm []byte, ids IDs) ([]byte, error) {
	if crm == nil || bytes.Equal(vals, crm) {
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

// walkJSON calls fn with each key and value of a JSON object of strings
// (json.Marshal's bytes: valid UTF-8): plain strings are given as they
// are, the others as encoding/json reads them.
func walkJSON(js []byte, fn func(k, v []byte) error) error {
	s, ok := bytes.CutPrefix(bytes.TrimSpace(js), []byte("{"))
	if s, ok = bytes.CutSuffix(s, []byte("}")); !ok {
		return fmt.Errorf("not a JSON object: %.20q", js)
	}
	for s = skipSpace(s); len(s) > 0; s = skipSpace(s) {
		k, rest, err := jsonString(s)
		if err != nil {
			return err
		}
		if rest, ok = bytes.CutPrefix(skipSpace(rest), []byte(":")); !ok {
			return fmt.Errorf("no colon after %q", k)
		}
		v, rest, err := jsonString(skipSpace(rest))
		if err != nil {
			return err
		}
		if err := fn(k, v); err != nil {
			return err
		}
		rest = skipSpace(rest)
		if s, ok = bytes.CutPrefix(rest, []byte(",")); !ok && len(rest) > 0 {
			return fmt.Errorf("no comma after %q", k)
		}
	}
	return nil
}

// skipSpace is s without the JSON whitespace it starts with.
func skipSpace(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') {
		s = s[1:]
	}
	return s
}

// jsonString reads the JSON string at the start of s; it returns the
// rest of s.
func jsonString(s []byte) ([]byte, []byte, error) {
	if len(s) == 0 || s[0] != '"' {
		return nil, nil, fmt.Errorf("not a string: %.20q", s)
	}
	// Most strings hold no escape: their end is the next quote.
	if end := bytes.IndexByte(s[1:], '"'); end >= 0 && bytes.IndexByte(s[1:1+end], '\\') < 0 {
		return s[1 : 1+end], s[2+end:], nil
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
			if err := json.Unmarshal(s[:i+1], &out); err != nil {
				return nil, nil, err
			}
			return []byte(out), s[i+1:], nil
		}
	}
	return nil, nil, fmt.Errorf("unterminated string: %.20q", s)
}
