package seedfile

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// A seed's customers are objects of text values; read with encoding/json
// into a map each, a million of them cost crmsim's start more CPU than
// storing them (reflection, a string per key, a map per customer, and the
// collections all that garbage made). objectReader reads them from the
// bytes themselves: the keys interned, the values of a customer in one
// string, one map used again for every customer (Store.Put keeps none of
// it but the values). Anything else than an array of flat objects of
// strings, or text that is not valid JSON, is not its to judge: it says
// errNotFlat, and the seed is read as LoadSeed reads it.

// errNotFlat says that the customers are not (all) flat objects of
// strings in valid JSON.
var errNotFlat = errors.New("not an array of flat objects of strings")

// objectReader reads the customers of a seed from r, positioned after the
// array's opening bracket.
type objectReader struct {
	r     *bufio.Reader
	keys  map[string]string // interned keys
	text  []byte            // scratch: one string's bytes
	vals  []byte            // the values of the object being read, end to end
	spans []valueSpan
	first bool // no object read yet
}

// valueSpan is where a key's value lies in vals.
type valueSpan struct {
	key        string
	start, end int
}

func newObjectReader(r io.Reader) *objectReader {
	return &objectReader{r: bufio.NewReaderSize(r, 1<<20), keys: map[string]string{}, first: true}
}

// next reads the next object of the array into m (cleared first); false
// once the array's closing bracket is read.
func (o *objectReader) next(m map[string]string) (bool, error) {
	c, err := o.skipSpace()
	if err != nil {
		return false, errNotFlat
	}
	if c == ']' {
		return false, nil
	}
	if !o.first {
		if c != ',' {
			return false, errNotFlat
		}
		if c, err = o.skipSpace(); err != nil {
			return false, errNotFlat
		}
	}
	o.first = false
	if c != '{' {
		return false, errNotFlat
	}
	if err := o.object(); err != nil {
		return false, err
	}
	clear(m)
	all := string(o.vals) // one allocation for the customer's values
	for _, s := range o.spans {
		m[s.key] = all[s.start:s.end]
	}
	return true, nil
}

// object reads an object's members, its opening brace read.
func (o *objectReader) object() error {
	o.vals, o.spans = o.vals[:0], o.spans[:0]
	c, err := o.skipSpace()
	if err != nil {
		return errNotFlat
	}
	if c == '}' {
		return nil
	}
	for {
		if c != '"' {
			return errNotFlat
		}
		if err := o.str(); err != nil {
			return err
		}
		key, ok := o.keys[string(o.text)]
		if !ok {
			key = string(o.text)
			o.keys[key] = key
		}
		if c, err = o.skipSpace(); err != nil || c != ':' {
			return errNotFlat
		}
		if c, err = o.skipSpace(); err != nil || c != '"' {
			return errNotFlat // null, a number, an object…: encoding/json's to judge
		}
		if err := o.str(); err != nil {
			return err
		}
		start := len(o.vals)
		o.vals = append(o.vals, o.text...)
		o.spans = append(o.spans, valueSpan{key: key, start: start, end: len(o.vals)})
		if c, err = o.skipSpace(); err != nil {
			return errNotFlat
		}
		switch c {
		case '}':
			return nil
		case ',':
			if c, err = o.skipSpace(); err != nil {
				return errNotFlat
			}
		default:
			return errNotFlat
		}
	}
}

// str reads a string's text into o.text, its opening quote read, as
// encoding/json reads it: its escapes undone, and by encoding/json itself
// when it holds a \u escape or a byte that is neither ASCII nor valid
// UTF-8 (which it reads as U+FFFD).
func (o *objectReader) str() error {
	o.text = o.text[:0]
	ascii, escaped, unicode := true, false, false
	for {
		c, err := o.r.ReadByte()
		if err != nil || c < 0x20 {
			return errNotFlat
		}
		switch {
		case c == '"':
			if unicode || !ascii && !utf8.Valid(o.text) {
				return o.strByJSON()
			}
			if escaped {
				o.unescape()
			}
			return nil
		case c >= utf8.RuneSelf:
			ascii = false
		case c == '\\':
			e, err := o.r.ReadByte()
			if _, simple := simpleEscapes[e]; err != nil || !simple && e != 'u' {
				return errNotFlat
			}
			escaped, unicode = true, unicode || e == 'u'
			o.text = append(o.text, c, e)
			continue
		}
		o.text = append(o.text, c)
	}
}

// unescape undoes the escapes of one character in o.text.
func (o *objectReader) unescape() {
	out := o.text[:0]
	for i := 0; i < len(o.text); i++ {
		c := o.text[i]
		if c == '\\' {
			i++
			c = simpleEscapes[o.text[i]]
		}
		out = append(out, c)
	}
	o.text = out
}

// strByJSON reads o.text, a string's raw text, by encoding/json.
func (o *objectReader) strByJSON() error {
	quoted := make([]byte, 0, len(o.text)+2)
	quoted = append(append(append(quoted, '"'), o.text...), '"')
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return errNotFlat
	}
	o.text = append(o.text[:0], s...)
	return nil
}

// simpleEscapes are JSON's escapes of one character, and what each
// stands for.
var simpleEscapes = map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// skipSpace returns the next byte that is not JSON's white space.
func (o *objectReader) skipSpace() (byte, error) {
	for {
		c, err := o.r.ReadByte()
		if err != nil {
			return 0, err
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, nil
		}
	}
}

// end reads what follows the array: the seed's closing brace, then
// nothing but white space.
func (o *objectReader) end() bool {
	if c, err := o.skipSpace(); err != nil || c != '}' {
		return false
	}
	_, err := o.skipSpace()
	return err == io.EOF
}
