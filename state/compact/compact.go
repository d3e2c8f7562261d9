// Package compact is how the checkpoint stores a record's values since
// migration 008 (issue 25 §4), instead of JSON with every key name, twice:
//
//   - the values last pushed, one entry a field: uvarint(field id),
//     uvarint(length), the bytes; the ids are the checkpoint's own (its
//     fields table: a name's id never changes), given by an IDs;
//   - the CRM's values as the fields where they differ from the pushed
//     ones: uvarint(field id), then uvarint(0) when the CRM has no such
//     field, or uvarint(length+1) and the bytes; nothing at all when the
//     CRM holds what was pushed (most records), the one byte 0 (no field
//     has id 0) when it holds none of them (no copy of the CRM's);
//   - a hash of 64 lowercase hex digits (mapping's sha256) as its 32
//     bytes; any other hash as the text it is.
//
// Values are text as JSON kept them: bytes that are not UTF-8 read back
// as U+FFFD, one a byte. Dict is the fields table in memory (dict.go);
// Copier is migration 008's copy of the JSON values of the checkpoints
// before it, inside SQLite (copy.go, legacy.go). The records' other SQL is
// package state/sqlite's. A history event's changes as stored are package
// state/changes's.
package compact

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"unicode/utf8"

	"erpsync/state"
)

// IDs returns the id of a field name, adding the name when it is new.
type IDs func(name string) (uint64, error)

// ErrMalformed is an encoding that cannot be read.
var ErrMalformed = errors.New("malformed stored values")

// AppendValues appends the stored form of the values pushed m to b.
func AppendValues(b []byte, m map[string]string, ids IDs) ([]byte, error) {
	for k, v := range m {
		id, err := ids(k)
		if err != nil {
			return nil, err
		}
		b = appendEntry(b, id, v, false)
	}
	return b, nil
}

// AppendDiff appends the stored form of the CRM's values crm beside the
// values pushed vals to b: the fields where they differ.
func AppendDiff(b []byte, vals, crm map[string]string, ids IDs) ([]byte, error) {
	if len(crm) == 0 && len(vals) > 0 {
		return append(b, noCRM), nil
	}
	met := 0 // the CRM's fields met among vals
	for k, v := range vals {
		cv, ok := crm[k]
		if ok {
			met++
		}
		if ok && (cv == v || Text(cv) == Text(v)) {
			continue
		}
		id, err := ids(k)
		if err != nil {
			return nil, err
		}
		if !ok {
			b = binary.AppendUvarint(binary.AppendUvarint(b, id), 0)
		} else {
			b = appendEntry(b, id, cv, true)
		}
	}
	if met == len(crm) {
		return b, nil // every field of the CRM's is one of vals
	}
	for k, cv := range crm {
		if _, ok := vals[k]; ok {
			continue
		}
		id, err := ids(k)
		if err != nil {
			return nil, err
		}
		b = appendEntry(b, id, cv, true)
	}
	return b, nil
}

// AppendRecord appends the stored forms of a record: the values pushed
// vals to vb (AppendValues) and the CRM's values crm beside them to db
// (AppendDiff), the same bytes as those two give, in one pass over vals
// (each name's id asked once). When crm is vals itself (a caller whose
// CRM holds every value as sent may share the map), the diff is empty
// without a comparison. An import's upserts come in order instead
// (AppendFields).
func AppendRecord(vb, db []byte, vals, crm map[string]string, ids IDs) ([]byte, []byte, error) {
	noDiff := len(vals) > 0 && sameMap(vals, crm)
	if len(crm) == 0 && len(vals) > 0 {
		db, noDiff = append(db, noCRM), true
	}
	met := 0 // the CRM's fields met among vals
	for k, v := range vals {
		id, err := ids(k)
		if err != nil {
			return nil, nil, err
		}
		vb = appendEntry(vb, id, v, false)
		if noDiff {
			continue
		}
		cv, ok := crm[k]
		switch {
		case !ok:
			db = binary.AppendUvarint(binary.AppendUvarint(db, id), 0)
		case cv == v || Text(cv) == Text(v):
			met++
		default:
			met++
			db = appendEntry(db, id, cv, true)
		}
	}
	if noDiff || met == len(crm) {
		return vb, db, nil // every field of the CRM's is one of vals
	}
	for k, cv := range crm {
		if _, ok := vals[k]; ok {
			continue
		}
		id, err := ids(k)
		if err != nil {
			return nil, nil, err
		}
		db = appendEntry(db, id, cv, true)
	}
	return vb, db, nil
}

// AppendFields is AppendRecord of values given in order, without maps:
// the value of the field ids[i] is vals[i], and the CRM holds each as it
// was pushed but for held (state.Pushed; each At an index of ids, as
// Tx.Fields checks). The entries are those AppendRecord gives for the
// same values (its in map order, these in this one).
func AppendFields(vb, db []byte, ids []uint64, vals []string, held []state.Held) ([]byte, []byte) {
	for i, id := range ids {
		vb = appendEntry(vb, id, vals[i], false)
	}
	absent := 0
	for _, h := range held {
		if h.Absent {
			absent++
		}
	}
	if absent == len(ids) && len(ids) > 0 {
		return vb, append(db, noCRM)
	}
	for _, h := range held {
		switch id := ids[h.At]; {
		case h.Absent:
			db = binary.AppendUvarint(binary.AppendUvarint(db, id), 0)
		case h.Value != vals[h.At] && Text(h.Value) != Text(vals[h.At]):
			db = appendEntry(db, id, h.Value, true)
		}
	}
	return vb, db
}

// sameMap reports whether a and b are one map (not merely equal ones).
func sameMap(a, b map[string]string) bool {
	return b != nil && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// AppendHash appends the stored form of a hash to b (Hash) and says
// whether it is the 32 bytes of a sha256; when it is not, b is returned
// as it was and the hash is stored as its text.
func AppendHash(b []byte, h string) ([]byte, bool) {
	if len(h) != 64 {
		return b, false
	}
	n := len(b)
	for i := 0; i < len(h); i += 2 {
		hi, ok1 := hexDigit(h[i])
		lo, ok2 := hexDigit(h[i+1])
		if !ok1 || !ok2 {
			return b[:n], false
		}
		b = append(b, hi<<4|lo)
	}
	return b, true
}

// hexDigit is the value of a lowercase hex digit.
func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// noCRM is the whole stored form of no CRM's values beside values pushed.
const noCRM = 0

// appendEntry appends a field's entry; in a diff its length is one more.
func appendEntry(b []byte, id uint64, v string, inDiff bool) []byte {
	v = Text(v)
	n := uint64(len(v))
	if inDiff {
		n++
	}
	b = binary.AppendUvarint(binary.AppendUvarint(b, id), n)
	return append(b, v...)
}

// Text is s as JSON kept it: each byte that is not UTF-8 becomes U+FFFD.
func Text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// Walk calls fn with each entry of a stored form: of values pushed, or
// of the CRM's (diff: absent says the CRM has no such field).
func Walk(b []byte, diff bool, fn func(id uint64, v string, absent bool) error) error {
	for len(b) > 0 {
		id, n := binary.Uvarint(b)
		if n <= 0 {
			return ErrMalformed
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 {
			return ErrMalformed
		}
		b = b[n:]
		absent := diff && size == 0
		if diff && size > 0 {
			size--
		}
		if size > uint64(len(b)) {
			return ErrMalformed
		}
		if err := fn(id, string(b[:size]), absent); err != nil {
			return err
		}
		b = b[size:]
	}
	return nil
}

// Hash is the stored form of a hash: 32 bytes for 64 lowercase hex
// digits, else the text.
func Hash(h string) any {
	if len(h) != 64 {
		return h
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return h
		}
	}
	b, _ := hex.DecodeString(h) // checked above
	return b
}

// ReadHash reads a stored hash (scanned into an any: []byte or string).
func ReadHash(v any) string {
	switch h := v.(type) {
	case []byte:
		return hex.EncodeToString(h)
	case string:
		return h
	case nil:
		return ""
	default:
		return fmt.Sprint(h)
	}
}
