package reconcile

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"erpsync/mapping"
	"erpsync/mapping/customer"
	"erpsync/sync/crm"
	"erpsync/sync/reconcile/spill"
	"erpsync/sync/refresh"
)

// A reconciliation holds of each side only what the comparison of a
// million customers needs at once: of the export, per reference, its line,
// a hash of the compared fields, which of them are empty, its currency and
// credit limit; of the CRM, per record, whether it is equal at a glance to
// the export's row, its currency and credit limit. The fields themselves
// are read again, from the export, only for the references that are not
// equal at a glance, and the CRM's copy is kept only for those.

// fieldSet is a list of compared field names (sorted), shared by the rows
// that map the same fields.
type fieldSet struct {
	names   []string
	answers []*refresh.Answer
	cleared []func(string) bool // nil: never cleared
	hashed  bool                // few enough fields for the empty mask
}

// erpEntry is what the index keeps of an export row, 32 bytes and no
// pointer; its reference is the index's refs, by the entry's number.
type erpEntry struct {
	credit float64
	hash   uint64
	// bits holds, at bit i below maxMasked, whether the set's i-th field
	// is empty in the export; and the flags flagged and hasCredit.
	bits uint64
	line int32
	set  uint16 // noSet: not interned, compared field by field
	cur  uint16 // interned currency; 0 is ""
}

const (
	// maxMasked is how many fields a set may have and be hashed: the
	// bits of the empty mask (the field table has 42 fields).
	maxMasked    = 62
	flaggedBit   = 1 << 62
	hasCreditBit = 1 << 63
	// noSet is the set of a row when 65,535 sets are interned already.
	noSet = math.MaxUint16
)

func (e *erpEntry) flagged() bool   { return e.bits&flaggedBit != 0 }
func (e *erpEntry) hasCredit() bool { return e.bits&hasCreditBit != 0 }

// entryChunk is how many entries a chunk of the index holds: the index
// grows by chunks, never copying the entries into a larger array.
const entryChunk = 1 << 13

// erpIndex is the export side of a reconciliation.
type erpIndex struct {
	refs   *refTable
	chunks [][]erpEntry // entry i is chunks[i/entryChunk][i%entryChunk]
	sets   []*fieldSet
	setOf  map[string]uint16 // by the names joined with NUL
	curs   []string
	curOf  map[string]uint16
	seed   maphash.Seed
	h      maphash.Hash
	names  []string // scratch
	// creditMapped: some row maps creditLimit (empty or not), so the
	// mapping reads it and its totals compare.
	creditMapped bool
	err          error // the first currency or reference the index could not hold
}

func newERPIndex() *erpIndex {
	x := &erpIndex{setOf: map[string]uint16{}, curs: []string{""}, curOf: map[string]uint16{"": 0}, seed: maphash.MakeSeed()}
	x.refs = newRefTable(x.seed)
	x.h.SetSeed(x.seed)
	return x
}

// len is how many entries the index holds.
func (x *erpIndex) len() int { return x.refs.len() }

// bytes is what the index's entries and references take.
func (x *erpIndex) bytes() int64 {
	return int64(len(x.chunks))*entryChunk*int64(unsafe.Sizeof(erpEntry{})) + x.refs.size()
}

// entry returns entry i.
func (x *erpIndex) entry(i int32) *erpEntry { return &x.chunks[i/entryChunk][i%entryChunk] }

// currency interns a currency code (a copy of it: a CRM record's text
// may share the memory of its whole page). Past 65,535 codes, x.err says
// so and the code counts as "".
func (x *erpIndex) currency(code string) uint16 {
	if i, ok := x.curOf[code]; ok {
		return i
	}
	if len(x.curs) > math.MaxUint16 {
		if x.err == nil {
			x.err = fmt.Errorf("more than %d currencies (%s): not a currency column", math.MaxUint16, mapping.Excerpt(code))
		}
		return 0
	}
	code = strings.Clone(code)
	x.curs = append(x.curs, code)
	x.curOf[code] = uint16(len(x.curs) - 1)
	return uint16(len(x.curs) - 1)
}

// add indexes a customer of the export; a reference met again replaces
// the earlier row, as a later row does in a sync.
func (x *erpIndex) add(c *mapping.Customer) error {
	e := erpEntry{line: int32(c.Line)}
	if c.Delete {
		e.bits |= flaggedBit
	}
	var empty uint64
	e.set, e.hash, empty = x.hashRow(c)
	e.bits |= empty
	for name, v := range c.All() {
		switch name {
		case "currency":
			e.cur = x.currency(v)
		case "creditLimit":
			x.creditMapped = true
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				e.credit = f
				e.bits |= hasCreditBit
			}
		}
	}
	// The table copies the reference: the row's may share the memory of
	// the whole line that the CSV reader read.
	i, added, err := x.refs.insert(c.Reference)
	if err != nil {
		return fmt.Errorf("line %d: %w", c.Line, err)
	}
	if added && int(i)%entryChunk == 0 {
		x.chunks = append(x.chunks, make([]erpEntry, entryChunk))
	}
	*x.entry(i) = e
	return x.err
}

// hashRow returns the field set of a row, the hash of its compared fields
// and which of them are empty.
func (x *erpIndex) hashRow(c *mapping.Customer) (uint16, uint64, uint64) {
	x.names = x.names[:0]
	x.h.Reset()
	var empty uint64
	for name, v := range c.All() {
		if refresh.AnswerOf(name) == nil {
			continue // the CRM does not give it back: not compared
		}
		if v == "" && len(x.names) < maxMasked {
			empty |= 1 << len(x.names)
		}
		x.names = append(x.names, name)
		writeField(&x.h, name, v)
	}
	return x.fieldSet(x.names), x.h.Sum64(), empty
}

// fieldSet interns a list of field names; noSet when 65,535 are
// interned already.
func (x *erpIndex) fieldSet(names []string) uint16 {
	if n := len(x.sets); n > 0 && slices.Equal(x.sets[n-1].names, names) {
		return uint16(n - 1)
	}
	key := strings.Join(names, "\x00")
	if i, ok := x.setOf[key]; ok {
		return i
	}
	if len(x.sets) >= noSet {
		return noSet
	}
	s := &fieldSet{names: slices.Clone(names), hashed: len(names) <= maxMasked}
	for _, n := range names {
		s.answers = append(s.answers, refresh.AnswerOf(n))
		var cleared func(string) bool
		if f, ok := customer.Lookup(n); ok {
			cleared = f.IsCleared
		}
		s.cleared = append(s.cleared, cleared)
	}
	x.sets = append(x.sets, s)
	x.setOf[key] = uint16(len(x.sets) - 1)
	return uint16(len(x.sets) - 1)
}

// writeField hashes a compared field. Its encoding is unambiguous (each
// text preceded by its length), so that two different lists of values
// hash alike only by chance: the hash is maphash's 64 bits, seeded at
// random for each reconciliation, which no export nor CRM can aim at;
// equal at a glance is then wrong for 2^-64 of the records that differ,
// the odds the plan's index takes with a 64-bit prefix of SHA-256.
// (Written NUL-terminated, a value holding NUL and a field's name could
// take the place of two: TestSameAtAGlance_Unambiguous.)
func writeField(h *maphash.Hash, name, v string) {
	var n [binary.MaxVarintLen64]byte
	h.Write(binary.AppendUvarint(n[:0], uint64(len(name))))
	h.WriteString(name)
	h.Write(binary.AppendUvarint(n[:0], uint64(len(v))))
	h.WriteString(v)
}

// crmEntry is what a reconciliation keeps of a record of the CRM: 24
// bytes and no pointer, so that the collector never scans the entries of
// a listing of millions.
type crmEntry struct {
	id     int64
	credit float64
	exp    int32 // the export's entry; -1: not in the export
	cur    uint16
	flags  uint8 // crmHasCredit, crmMatch, crmKept
}

const (
	crmHasCredit = 1 << iota
	crmMatch     // equal at a glance to the export's row
	// crmKept: the spill file holds a copy of what the comparison needs
	// of the record (crmSide.kept), its fields when not equal at a
	// glance, its reference when not in the export.
	crmKept
)

func (e *crmEntry) hasCredit() bool { return e.flags&crmHasCredit != 0 }
func (e *crmEntry) match() bool     { return e.flags&crmMatch != 0 }

// keptCopy is where the spill file holds the copy of the record id.
type keptCopy struct{ id, off int64 }

// crmSide is the CRM side of a reconciliation, a ListSink: each record is
// compared with the export's row as it comes. What a comparison needs of
// the records that are not equal at a glance (crmCopy) goes to a spill
// file, found again by id: 16 bytes of memory each.
type crmSide struct {
	x           *erpIndex
	countryCode func(string) (string, bool)
	entries     []crmEntry // by id
	kept        []keptCopy // by id once sortKept ran; the last of an id stands
	sorted      bool       // kept is sorted
	dir         string     // the spill file's folder; "": os.TempDir
	spill       *spill.File
	buf         []byte
	h           maphash.Hash
	err         error               // the first error of the spill file or the index
	sized       func(customers int) // told the CRM's count (Options.Sized)
}

func newCRMSide(x *erpIndex, countryCode func(string) (string, bool)) *crmSide {
	s := &crmSide{x: x, countryCode: countryCode, sorted: true}
	s.h.SetSeed(x.seed)
	return s
}

// close removes the spill file.
func (s *crmSide) close() error {
	if s.spill == nil {
		return nil
	}
	err := s.spill.Close()
	s.spill = nil
	return err
}

// keepCopy spills a copy of what a comparison needs of a record.
func (s *crmSide) keepCopy(e *crmEntry, c *crmCopy) {
	if s.err != nil {
		return
	}
	if s.spill == nil {
		if s.spill, s.err = spill.Create(s.dir); s.err != nil {
			return
		}
	}
	s.buf = c.appendTo(s.buf[:0])
	off, err := s.spill.Append(s.buf)
	if err != nil {
		s.err = err
		return
	}
	if n := len(s.kept); n > 0 && s.kept[n-1].id >= e.id {
		s.sorted = false
	}
	s.kept = append(s.kept, keptCopy{id: e.id, off: off})
	e.flags |= crmKept
}

// sortKept sorts the copies by id, the last spilled of an id standing.
func (s *crmSide) sortKept() {
	if s.sorted {
		return
	}
	slices.SortStableFunc(s.kept, func(a, b keptCopy) int { return cmp.Compare(a.id, b.id) })
	out := s.kept[:0]
	for i, k := range s.kept {
		if i+1 < len(s.kept) && s.kept[i+1].id == k.id {
			continue
		}
		out = append(out, k)
	}
	s.kept, s.sorted = out, true
}

// copyAt reads back the copy spilled at off.
func (s *crmSide) copyAt(off int64) (*crmCopy, error) {
	var err error
	if s.buf, err = s.spill.Read(off, s.buf); err != nil {
		return nil, err
	}
	return readCopy(s.buf)
}

// keptOff returns where the spill file holds the copy of an entry's
// record; false when it holds none.
func (s *crmSide) keptOff(e *crmEntry) (int64, bool) {
	if e.flags&crmKept == 0 {
		return 0, false
	}
	s.sortKept()
	i, ok := slices.BinarySearchFunc(s.kept, e.id, func(k keptCopy, id int64) int { return cmp.Compare(k.id, id) })
	if !ok {
		return 0, false
	}
	return s.kept[i].off, true
}

// copyOf returns the copy kept of an entry's record, or nil.
func (s *crmSide) copyOf(e *crmEntry) (*crmCopy, error) {
	off, ok := s.keptOff(e)
	if !ok {
		return nil, nil
	}
	return s.copyAt(off)
}

// release lets go of the entries and of where the copies are, once the
// listing is compared: what is left to compare knows its copy's offset.
func (s *crmSide) release() { s.entries, s.kept = nil, nil }

func (s *crmSide) KeepsDetached() {}

// Reset drops what a listing's pass gathered: it starts again.
func (s *crmSide) Reset() {
	s.entries, s.kept, s.sorted = nil, nil, true
	if s.spill != nil && s.err == nil {
		s.err = s.spill.Reset()
	}
}

// Grow makes room for the n customers the CRM says it holds.
func (s *crmSide) Grow(n int) {
	if s.sized != nil {
		s.sized(n)
	}
	s.entries = slices.Grow(s.entries, n+n/100)
}

func (s *crmSide) Len() int            { return len(s.entries) }
func (s *crmSide) Add(c *crm.Customer) { s.entries = append(s.entries, s.entry(c)) }

// changed replaces the entries of records changed meanwhile and adds
// those created meanwhile, in id order.
func (s *crmSide) Changed(cs map[int64]crm.Customer) {
	sorted := len(s.entries)
	for _, c := range cs {
		e := s.entry(&c)
		if i, ok := slices.BinarySearchFunc(s.entries[:sorted], e.id, func(e crmEntry, id int64) int { return cmp.Compare(e.id, id) }); ok {
			s.entries[i] = e
		} else {
			s.entries = append(s.entries, e)
		}
	}
	if len(s.entries) > sorted {
		slices.SortFunc(s.entries, func(a, b crmEntry) int { return cmp.Compare(a.id, b.id) })
	}
}

// entry compares a record with the export's row of its reference.
func (s *crmSide) entry(c *crm.Customer) crmEntry {
	e := crmEntry{id: c.ID, exp: -1, cur: s.x.currency(c.Currency)}
	if c.CreditLimit != nil {
		e.credit = *c.CreditLimit
		e.flags |= crmHasCredit
	}
	i, ok := s.x.refs.lookup(c.Reference)
	if !ok {
		s.keepCopy(&e, &crmCopy{ID: c.ID, Reference: c.Reference, IsActive: c.IsActive})
		return e
	}
	e.exp = i
	x := s.x.entry(i)
	switch {
	case x.flagged():
		s.keepCopy(&e, &crmCopy{ID: c.ID, Reference: c.Reference})
	case s.sameAtAGlance(x, c):
		e.flags |= crmMatch
	default:
		s.keepCopy(&e, &crmCopy{ID: c.ID, Reference: c.Reference, IsActive: c.IsActive,
			LastUpdated: c.LastUpdated.Time, Values: refresh.CRMValues(c, s.comparedNames(x), s.countryCode)})
	}
	return e
}

// comparedNames are the fields compared of an export entry: its set's,
// or every field the CRM gives back when its set was not interned.
func (s *crmSide) comparedNames(e *erpEntry) []string {
	if e.set != noSet {
		return s.x.sets[e.set].names
	}
	return customer.Names()
}

// sameAtAGlance reports whether the record's compared fields hash as the
// export's row: then each is equal as compare sees it (an empty export
// value and a value that the CRM shows for an empty one agree). Numbers
// within tolerance but written differently are left to compare.
func (s *crmSide) sameAtAGlance(e *erpEntry, c *crm.Customer) bool {
	if e.set == noSet {
		return false
	}
	set := s.x.sets[e.set]
	if !set.hashed {
		return false
	}
	s.h.Reset()
	r := refresh.ReadingOf(c, s.countryCode)
	for i, a := range set.answers {
		got := r.Value(a)
		if e.bits&(1<<i) != 0 && set.cleared[i] != nil && set.cleared[i](got) {
			got = ""
		}
		writeField(&s.h, set.names[i], got)
	}
	return s.h.Sum64() == e.hash
}
