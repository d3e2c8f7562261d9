// Package changes is a history event's changes as every checkpoint stores
// them: the number of fields, then each field's name, old and new value,
// lengths and bytes (state.EncodeChanges, state.DecodeChanges).
package changes

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// changesForm is the first byte of a history event's changes as stored
// since wt-s4-history (2026-12-06): then the number of fields, a uvarint,
// and for each its name, old and new value, each a uvarint length and its
// bytes. A copy, not an encoding: JSON's keys and quotes were half a
// create's bytes, and its escaping turned bytes that are not UTF-8 into
// U+FFFD. The rows saved before are JSON, package state's to read.
const changesForm = 1

// Changes is the stored form of n fields' changes, field i's name, old
// and new value given by change(i).
func Changes(n int, change func(i int) (field, old, new string)) string {
	size := 1 + uvarintLen(n)
	for i := range n {
		f, o, nw := change(i)
		size += uvarintLen(len(f)) + len(f) + uvarintLen(len(o)) + len(o) + uvarintLen(len(nw)) + len(nw)
	}
	var b strings.Builder
	b.Grow(size)
	var buf [binary.MaxVarintLen64]byte
	b.WriteByte(changesForm)
	b.Write(buf[:binary.PutUvarint(buf[:], uint64(n))])
	for i := range n {
		f, o, nw := change(i)
		for _, v := range [3]string{f, o, nw} {
			b.Write(buf[:binary.PutUvarint(buf[:], uint64(len(v)))])
			b.WriteString(v)
		}
	}
	return b.String()
}

// uvarintLen is the length of n as a uvarint.
func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// ReadChanges reads Changes's form, giving each field's change to fn in
// order; a form cut short, with bytes past its fields or of an unknown
// first byte is an error.
func ReadChanges(s string, fn func(field, old, new string)) error {
	if s == "" || s[0] != changesForm {
		return errors.New("not a form of changes")
	}
	n, k := binary.Uvarint([]byte(s[1:min(len(s), 1+binary.MaxVarintLen64)]))
	if k <= 0 || n == 0 || n > uint64(len(s)) { // a field takes 3 bytes at least
		return errors.New("no count of fields")
	}
	rest := s[1+k:]
	for range n {
		var v [3]string
		for i := range v {
			var ok bool
			if v[i], rest, ok = cutUvarintString(rest); !ok {
				return fmt.Errorf("cut short at byte %d of %d", len(s)-len(rest), len(s))
			}
		}
		fn(v[0], v[1], v[2])
	}
	if rest != "" {
		return fmt.Errorf("%d bytes past the %d fields", len(rest), n)
	}
	return nil
}

// cutUvarintString cuts from s a string stored as its uvarint length and
// its bytes; ok is false when s holds less.
func cutUvarintString(s string) (v, rest string, ok bool) {
	var n uint64
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		n |= uint64(s[i]&0x7f) << (7 * i)
		if s[i] < 0x80 {
			s = s[i+1:]
			if n > uint64(len(s)) {
				return "", "", false
			}
			return s[:n], s[n:], true
		}
	}
	return "", "", false
}
