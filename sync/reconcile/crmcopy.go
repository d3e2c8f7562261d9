package reconcile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// crmCopy is what a reconciliation needs of a CRM record that is not
// equal at a glance to its export row (or not in the export): its
// compared fields as the CRM gives them back (refresh.CRMValues), when it
// was last updated (to tell an edit by hand), whether it is active. It
// is spilled to a file while the CRM is listed (crmSide.keepCopy).
type crmCopy struct {
	ID          int64
	Reference   string
	IsActive    bool
	LastUpdated time.Time
	Values      map[string]string // nil when no field is compared
}

// appendTo appends the copy's encoding to b: each text preceded by its
// length, the time in its binary form.
func (c *crmCopy) appendTo(b []byte) []byte {
	b = binary.AppendVarint(b, c.ID)
	b = appendText(b, c.Reference)
	active := byte(0)
	if c.IsActive {
		active = 1
	}
	b = append(b, active)
	t, err := c.LastUpdated.MarshalBinary()
	if err != nil { // a zone offset out of range: the instant is what counts
		t, _ = c.LastUpdated.UTC().MarshalBinary()
	}
	b = appendText(b, string(t))
	b = binary.AppendUvarint(b, uint64(len(c.Values)))
	for k, v := range c.Values {
		b = appendText(appendText(b, k), v)
	}
	return b
}

func appendText(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

var errBadCopy = errors.New("a spilled CRM record cannot be read back")

// readCopy decodes a copy that appendTo encoded.
func readCopy(b []byte) (*crmCopy, error) {
	r := copyReader{b: b}
	c := &crmCopy{ID: r.varint(), Reference: r.text()}
	c.IsActive = r.byte() == 1
	if t := r.text(); r.err == nil {
		if err := c.LastUpdated.UnmarshalBinary([]byte(t)); err != nil {
			return nil, fmt.Errorf("%w: %v", errBadCopy, err)
		}
	}
	if n := r.uvarint(); n > 0 && n <= uint64(len(r.b)) {
		c.Values = make(map[string]string, n)
		for range n {
			k := r.text()
			c.Values[k] = r.text()
		}
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, errBadCopy
	}
	return c, nil
}

// copyReader reads a copy's encoding; its first error stays in err.
type copyReader struct {
	b   []byte
	err error
}

func (r *copyReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = errBadCopy, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *copyReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err, r.b = errBadCopy, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *copyReader) byte() byte {
	if len(r.b) == 0 {
		r.err = errBadCopy
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *copyReader) text() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err, r.b = errBadCopy, nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
