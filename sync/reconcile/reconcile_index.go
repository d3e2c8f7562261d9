package reconcile

import (
	"cmp"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"

	"erpsync/mapping"
	"erpsync/mapping/customer"
	"erpsync/sync/crm"
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

// erpEntry is what the index keeps of an export row; its reference is
// the index's refs, by the entry's number.
type erpEntry struct {
	credit    float64
	hash      uint64
	empty     uint64 // bit i: the set's i-th field is empty in the export
	line      int32
	set       int32
	cur       int32 // interned currency; 0 is ""
	flagged   bool
	hasCredit bool
}

// entryChunk is how many entries a chunk of the index holds: the index
// grows by chunks, never copying the entries into a larger array.
const entryChunk = 1 << 13

// erpIndex is the export side of a reconciliation.
type erpIndex struct {
	refs   *refTable
	chunks [][]erpEntry // entry i is chunks[i/entryChunk][i%entryChunk]
	sets   []*fieldSet
	setOf  map[string]int32 // by the names joined with NUL
	curs   []string
	curOf  map[string]int32
	seed   maphash.Seed
	h      maphash.Hash
	names  []string // scratch
	// creditMapped: some row maps creditLimit (empty or not), so the
	// mapping reads it and its totals compare.
	creditMapped bool
}

func newERPIndex() *erpIndex {
	x := &erpIndex{setOf: map[string]int32{}, curs: []string{""}, curOf: map[string]int32{"": 0}, seed: maphash.MakeSeed()}
	x.refs = newRefTable(x.seed)
	x.h.SetSeed(x.seed)
	return x
}

// len is how many entries the index holds.
func (x *erpIndex) len() int { return x.refs.len() }

// entry returns entry i.
func (x *erpIndex) entry(i int32) *erpEntry { return &x.chunks[i/entryChunk][i%entryChunk] }

// currency interns a currency code (a copy of it: a CRM record's text
// may share the memory of its whole page).
func (x *erpIndex) currency(code string) int32 {
	if i, ok := x.curOf[code]; ok {
		return i
	}
	code = strings.Clone(code)
	x.curs = append(x.curs, code)
	x.curOf[code] = int32(len(x.curs) - 1)
	return int32(len(x.curs) - 1)
}

// add indexes a customer of the export; a reference met again replaces
// the earlier row, as a later row does in a sync.
func (x *erpIndex) add(c *mapping.Customer) {
	e := erpEntry{line: int32(c.Line), flagged: c.Delete}
	e.set, e.hash, e.empty = x.hashRow(c)
	for name, v := range c.All() {
		switch name {
		case "currency":
			e.cur = x.currency(v)
		case "creditLimit":
			x.creditMapped = true
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				e.credit, e.hasCredit = f, true
			}
		}
	}
	// The table copies the reference: the row's may share the memory of
	// the whole line that the CSV reader read.
	i, added := x.refs.insert(c.Reference)
	if added && int(i)%entryChunk == 0 {
		x.chunks = append(x.chunks, make([]erpEntry, entryChunk))
	}
	*x.entry(i) = e
}

// hashRow returns the field set of a row, the hash of its compared fields
// and which of them are empty.
func (x *erpIndex) hashRow(c *mapping.Customer) (int32, uint64, uint64) {
	x.names = x.names[:0]
	x.h.Reset()
	var empty uint64
	for name, v := range c.All() {
		if refresh.AnswerOf(name) == nil {
			continue // the CRM does not give it back: not compared
		}
		if v == "" && len(x.names) < 64 {
			empty |= 1 << len(x.names)
		}
		x.names = append(x.names, name)
		writeField(&x.h, name, v)
	}
	return x.fieldSet(x.names), x.h.Sum64(), empty
}

// fieldSet interns a list of field names.
func (x *erpIndex) fieldSet(names []string) int32 {
	if n := len(x.sets); n > 0 && slices.Equal(x.sets[n-1].names, names) {
		return int32(n - 1)
	}
	key := strings.Join(names, "\x00")
	if i, ok := x.setOf[key]; ok {
		return i
	}
	s := &fieldSet{names: slices.Clone(names), hashed: len(names) <= 64}
	for _, n := range names {
		s.answers = append(s.answers, refresh.AnswerOf(n))
		var cleared func(string) bool
		if f, ok := customer.Lookup(n); ok {
			cleared = f.IsCleared
		}
		s.cleared = append(s.cleared, cleared)
	}
	x.sets = append(x.sets, s)
	x.setOf[key] = int32(len(x.sets) - 1)
	return int32(len(x.sets) - 1)
}

func writeField(h *maphash.Hash, name, v string) {
	h.WriteString(name)
	h.WriteByte(0)
	h.WriteString(v)
	h.WriteByte(0)
}

// crmEntry is what a reconciliation keeps of a record of the CRM: 32
// bytes and no pointer, so that the collector never scans the entries of
// a listing of millions.
type crmEntry struct {
	id     int64
	credit float64
	// keep is, plus one, where crmSide.kept holds a copy of the record
	// when the comparison needs more than the entry: its fields when not
	// equal at a glance, its reference when not in the export. 0: none.
	keep      int32
	exp       int32 // the export's entry; -1: not in the export
	cur       int32
	hasCredit bool
	match     bool // equal at a glance to the export's row
}

// crmSide is the CRM side of a reconciliation, a ListSink: each record is
// compared with the export's row as it comes.
type crmSide struct {
	x           *erpIndex
	countryCode func(string) (string, bool)
	entries     []crmEntry      // by id
	kept        []*crm.Customer // the copies the entries keep
	h           maphash.Hash
}

// copyOf returns the copy an entry keeps of its record, or nil.
func (s *crmSide) copyOf(e *crmEntry) *crm.Customer {
	if e.keep == 0 {
		return nil
	}
	return s.kept[e.keep-1]
}

// keepCopy keeps a copy of a record for an entry.
func (s *crmSide) keepCopy(e *crmEntry, c *crm.Customer) {
	s.kept = append(s.kept, c)
	e.keep = int32(len(s.kept))
}

func newCRMSide(x *erpIndex, countryCode func(string) (string, bool)) *crmSide {
	s := &crmSide{x: x, countryCode: countryCode}
	s.h.SetSeed(x.seed)
	return s
}

func (s *crmSide) KeepsDetached()      {}
func (s *crmSide) Reset()              { s.entries, s.kept = nil, nil }
func (s *crmSide) Grow(n int)          { s.entries = slices.Grow(s.entries, n+n/100) }
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
		e.credit, e.hasCredit = *c.CreditLimit, true
	}
	i, ok := s.x.refs.lookup(c.Reference)
	switch {
	case !ok:
		s.keepCopy(&e, &crm.Customer{ID: c.ID, Reference: strings.Clone(c.Reference), IsActive: c.IsActive})
		return e
	case s.x.entry(i).flagged:
		s.keepCopy(&e, &crm.Customer{ID: c.ID, Reference: strings.Clone(c.Reference)})
	default:
		e.match = s.sameAtAGlance(s.x.entry(i), c)
	}
	e.exp = i
	if !e.match && e.keep == 0 {
		// Not a pointer into the page, nor texts in its answer's memory
		// (KeepsDetached): either would keep the whole page.
		s.keepCopy(&e, c.Detached())
	}
	return e
}

// sameAtAGlance reports whether the record's compared fields hash as the
// export's row: then each is equal as compare sees it (an empty export
// value and a value that the CRM shows for an empty one agree). Numbers
// within tolerance but written differently are left to compare.
func (s *crmSide) sameAtAGlance(e *erpEntry, c *crm.Customer) bool {
	set := s.x.sets[e.set]
	if !set.hashed {
		return false
	}
	s.h.Reset()
	r := refresh.ReadingOf(c, s.countryCode)
	for i, a := range set.answers {
		got := r.Value(a)
		if e.empty&(1<<i) != 0 && set.cleared[i] != nil && set.cleared[i](got) {
			got = ""
		}
		writeField(&s.h, set.names[i], got)
	}
	return s.h.Sum64() == e.hash
}
