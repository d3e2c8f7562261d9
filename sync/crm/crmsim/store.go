package crmsim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"erpsync/sync/crm"
)

// Store is the simulator's in-memory state. It is safe for concurrent use.
type Store struct {
	// Now is the clock for dateCreated and lastUpdated; tests may replace it
	// before the first request (or give Options.Now to New).
	Now func() time.Time

	mu        sync.Mutex
	seed      Seed
	nextID    int64
	byID      map[int64]*crm.Customer
	byRef     map[string]*crm.Customer
	children  map[int64]int     // parent id → number of sub-customers
	images    map[string][]byte // stored file name → content
	unit      time.Duration     // precision of the dates: a second or a millisecond
	version   int64             // bumped by every write; keys the list cache
	listCache map[string]listResult
	answers   answerCache
	orgStamp  int64
	// foldRefs (Quirks.References "ci") keys byRef by foldReference;
	// parentDigitsID (Quirks.ParentDigits "id") reads a digits-only parent
	// of a write as an id.
	foldRefs, parentDigitsID bool
}

// NewStore returns a store holding the seed's reference data and customers.
func NewStore(seed Seed) (*Store, error) {
	kept := seed
	// The customers are loaded below, not kept as text: a million of them
	// weighed gigabytes, scanned again at every collection.
	kept.Customers = nil
	s := &Store{
		Now:       time.Now,
		seed:      kept,
		nextID:    1,
		byID:      map[int64]*crm.Customer{},
		byRef:     map[string]*crm.Customer{},
		children:  map[int64]int{},
		images:    map[string][]byte{},
		unit:      time.Second,
		listCache: map[string]listResult{},
		answers:   answerCache{m: map[*crm.Customer][]byte{}},
		orgStamp:  1450169988465,
	}
	for i, p := range seed.Customers {
		params := map[string]string{}
		for k, v := range p {
			if k != "reference" {
				params[k] = v
			}
		}
		if _, err := s.Put(p["reference"], params); err != nil {
			return nil, fmt.Errorf("seed customer %d: %w", i+1, err)
		}
	}
	return s, nil
}

// Put upserts the customer with that reference from the upsert's text
// parameters, as a request would but without HTTP: for seeds and for tests
// that change the CRM behind erpsync's back.
func (s *Store) Put(ref string, values map[string]string) (crm.Customer, error) {
	c, _, err := s.Upsert(ref, newParams(values), "http://crmsim")
	if err != nil {
		return crm.Customer{}, fmt.Errorf("put %s: %w", ref, err)
	}
	return c, nil
}

// Len returns the number of customers.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}

// ByReference returns a copy of a customer, for tests.
func (s *Store) ByReference(ref string) (crm.Customer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byRef[s.refKey(ref)]
	if !ok {
		return crm.Customer{}, false
	}
	return clone(c), true
}

// configure sets the clock (when now is not nil) and the precision of the
// dates.
func (s *Store) configure(now func() time.Time, unit time.Duration, q Quirks) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now != nil {
		s.Now = now
	}
	s.unit = unit
	s.parentDigitsID = q.ParentDigits == "id"
	if fold := q.References == "ci"; fold != s.foldRefs {
		s.foldRefs = fold
		byRef := make(map[string]*crm.Customer, len(s.byRef))
		for _, c := range s.byRef {
			byRef[s.refKey(c.Reference)] = c
		}
		s.byRef = byRef
	}
}

// stamp is the time of a write, in UTC, truncated to the store's
// precision; s.mu is held.
func (s *Store) stamp() crm.Time { return crm.Time{Time: s.Now().UTC().Truncate(s.unit)} }

// clock reads the store's clock.
func (s *Store) clock() time.Time {
	s.mu.Lock()
	now := s.Now
	s.mu.Unlock()
	return now()
}

// organization returns the organization's settings.
func (s *Store) organization() Organization {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seed.Organization
}

// mode says how a write names related records.
type mode int

const (
	modeCreate mode = iota // numeric ids, unless useExternalId=true
	modeUpdate             // numeric ids, unless useExternalId=true
	modeUpsert             // references (external ids)
)

// Create adds a customer (POST /customers).
func (s *Store) Create(p *params, baseURL string) (crm.Customer, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := p.get("reference")
	if ref == "" {
		return crm.Customer{}, errMissing("reference")
	}
	if _, taken := s.byRef[s.refKey(ref)]; taken {
		return crm.Customer{}, errNotUnique()
	}
	c := s.newCustomer(ref)
	if err := s.apply(c, p, modeCreate, baseURL); err != nil {
		return crm.Customer{}, err
	}
	s.insert(c)
	s.keepImage(p.image)
	return clone(c), nil
}

// Update changes the given fields of a customer (POST /customers/{id}).
func (s *Store) Update(id int64, p *params, baseURL string) (crm.Customer, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.byID[id]
	if !ok {
		return crm.Customer{}, errCustomerNotFound(strconv.FormatInt(id, 10))
	}
	return s.change(old, p, modeUpdate, baseURL)
}

// Upsert creates or updates the customer with that reference (POST
// /customers/reference/{ref}). created tells which it did.
func (s *Store) Upsert(ref string, p *params, baseURL string) (c crm.Customer, created bool, err *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.byRef[s.refKey(ref)]; ok {
		c, err := s.change(old, p, modeUpsert, baseURL)
		return c, false, err
	}
	c2 := s.newCustomer(ref)
	if err := s.apply(c2, p, modeUpsert, baseURL); err != nil {
		return crm.Customer{}, false, err
	}
	s.insert(c2)
	s.keepImage(p.image)
	return clone(c2), true, nil
}

// change applies params to a copy of old and stores it; lastUpdated moves
// only when a stored value changed.
func (s *Store) change(old *crm.Customer, p *params, m mode, baseURL string) (crm.Customer, *apiError) {
	c := clone(old)
	if err := s.apply(&c, p, m, baseURL); err != nil {
		return crm.Customer{}, err
	}
	if c.Reference != old.Reference {
		if other, taken := s.byRef[s.refKey(c.Reference)]; taken && other != old {
			return crm.Customer{}, errNotUnique()
		}
	}
	if !equalStored(&c, old) {
		c.LastUpdated = s.stamp()
		s.replace(old, &c)
	}
	s.keepImage(p.image)
	return clone(&c), nil
}

// Delete removes a customer; one that still has sub-customers is refused.
func (s *Store) Delete(id int64) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[id]
	if !ok {
		return errCustomerNotFound(strconv.FormatInt(id, 10))
	}
	return s.remove(c)
}

// DeleteByReference removes the customer with that reference.
func (s *Store) DeleteByReference(ref string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byRef[s.refKey(ref)]
	if !ok {
		return errCustomerNotFound(ref)
	}
	return s.remove(c)
}

// Show returns a customer by id.
func (s *Store) Show(id int64) (crm.Customer, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[id]
	if !ok {
		return crm.Customer{}, errCustomerNotFound(strconv.FormatInt(id, 10))
	}
	return clone(c), nil
}

// ShowByReference returns a customer by reference.
func (s *Store) ShowByReference(ref string) (crm.Customer, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byRef[s.refKey(ref)]
	if !ok {
		return crm.Customer{}, errCustomerNotFound(ref)
	}
	return clone(c), nil
}

func (s *Store) remove(c *crm.Customer) *apiError {
	if s.children[c.ID] > 0 {
		return &apiError{http.StatusBadRequest, crm.CodeDeleteFailed, "Failed to delete instance."}
	}
	if c.ParentCustomer != nil {
		s.children[c.ParentCustomer.ID]--
	}
	delete(s.byID, c.ID)
	delete(s.byRef, s.refKey(c.Reference))
	s.answers.forget(c)
	s.version++
	return nil
}

func (s *Store) newCustomer(ref string) *crm.Customer {
	now := s.stamp()
	return &crm.Customer{
		Reference:     ref,
		IsSameAddress: true,
		IsActive:      true,
		PaymentTypes:  []crm.PaymentType{},
		Contacts:      []json.RawMessage{},
		Currency:      s.seed.Organization.DefaultCurrency,
		Organization:  s.seed.Organization.Name,
		DateCreated:   now,
		LastUpdated:   now,
		Region:        crm.RegionField{Present: s.seed.Organization.GeographicalLocations},
	}
}

func (s *Store) insert(c *crm.Customer) {
	c.ID = s.nextID
	s.nextID++
	if c.CustomerCategory == nil {
		root := s.rootCategory()
		s.setCategory(c, root)
	}
	s.byID[c.ID] = c
	s.byRef[s.refKey(c.Reference)] = c
	if c.ParentCustomer != nil {
		s.children[c.ParentCustomer.ID]++
	}
	s.version++
}

func (s *Store) replace(old, c *crm.Customer) {
	if old.ParentCustomer != nil {
		s.children[old.ParentCustomer.ID]--
	}
	if c.ParentCustomer != nil {
		s.children[c.ParentCustomer.ID]++
	}
	if c.Reference != old.Reference && s.children[old.ID] > 0 {
		// The sub-customers' parentCustomer names the parent by reference too.
		for _, child := range s.byID {
			if child.ParentCustomer != nil && child.ParentCustomer.ID == old.ID {
				child.ParentCustomer = &crm.CustomerLink{ID: old.ID, Reference: c.Reference}
				s.answers.forget(child)
			}
		}
	}
	delete(s.byRef, s.refKey(old.Reference))
	*old = *c
	s.byRef[s.refKey(old.Reference)] = old
	s.answers.forget(old)
	s.version++
}

func (s *Store) rootCategory() *Category {
	for i := range s.seed.CustomerCategories {
		if s.seed.CustomerCategories[i].Root {
			return &s.seed.CustomerCategories[i]
		}
	}
	return nil
}

func (s *Store) setCategory(c *crm.Customer, cat *Category) {
	if cat == nil {
		c.CategoryReference, c.CustomerCategory = nil, nil
		return
	}
	ref := cat.Reference
	c.CategoryReference = &ref
	c.CustomerCategory = &crm.Category{ID: cat.ID, Reference: cat.Reference, Name: cat.Name}
}

// equalStored compares everything but lastUpdated.
func equalStored(a, b *crm.Customer) bool {
	x, y := clone(a), clone(b)
	x.LastUpdated, y.LastUpdated = crm.Time{}, crm.Time{}
	return reflect.DeepEqual(x, y)
}

// clone copies a customer. A shallow copy is enough: writes never change a
// pointed-to value or a slice in place, they assign new ones.
func clone(c *crm.Customer) crm.Customer { return *c }

// listResult is a filtered, sorted list of customers at a store version.
type listResult struct {
	version int64
	items   []*crm.Customer
}

// list returns one page of the customers matching f in the order asked,
// with their answers cached for akey (answerKey) or copies to render; how
// many match in all; and the store's version, for keepAnswers. Sorted
// results are cached per store version, so that walking the pages of one
// query sorts once.
func (s *Store) list(f listFilter, akey string) (page []listed, total int, at int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.foldRefs = s.foldRefs
	if items, ok := s.timeWindow(f); ok {
		return s.pageOf(items, f, akey), len(items), s.version
	}
	key := f.key()
	res, ok := s.listCache[key]
	if !ok || res.version != s.version {
		items := make([]*crm.Customer, 0, len(s.byID))
		for _, c := range s.byID {
			if f.match(c) {
				items = append(items, c)
			}
		}
		sortCustomers(items, f.sort, f.desc)
		if len(s.listCache) > 16 {
			clear(s.listCache)
		}
		res = listResult{version: s.version, items: items}
		s.listCache[key] = res
	}
	return s.pageOf(res.items, f, akey), len(res.items), s.version
}

// pageOf picks the page that f asks of the sorted items; s.mu is held.
func (s *Store) pageOf(items []*crm.Customer, f listFilter, key string) []listed {
	lo := min(f.offset, len(items))
	hi := lo + min(f.max, len(items)-lo) // not offset+max: both may be near MaxInt
	return s.withAnswers(items[lo:hi], key)
}

// withAnswers pairs customers with their answers cached for key, or with
// copies of them; s.mu is held.
func (s *Store) withAnswers(cs []*crm.Customer, key string) []listed {
	page := make([]listed, len(cs))
	for i, c := range cs {
		page[i] = listed{stored: c, answer: s.answers.get(key, c)}
		if page[i].answer == nil {
			c := clone(c)
			page[i].copy = &c
		}
	}
	return page
}

// keepAnswers caches the answers rendered for the customers of a page
// listed at the store's version at: unless a write came between, when
// one of them may have changed since.
func (s *Store) keepAnswers(key string, at int64, items []listed) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.version != at {
		return
	}
	for _, it := range items {
		s.answers.put(key, it.stored, it.answer)
	}
}

// customers returns every stored customer, in no order: keys for
// unanswered.
func (s *Store) customers() []*crm.Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*crm.Customer, 0, len(s.byID))
	for _, c := range s.byID {
		all = append(all, c)
	}
	return all
}

// unanswered returns those of cs still stored without an answer cached
// for key, as copies to render, and the store's version.
func (s *Store) unanswered(key string, cs []*crm.Customer) ([]listed, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var todo []*crm.Customer
	for _, c := range cs {
		if s.byID[c.ID] == c && s.answers.get(key, c) == nil {
			todo = append(todo, c)
		}
	}
	return s.withAnswers(todo, key), s.version
}

// timeWindow answers, like an index would, the refresh's query: sorted
// ascending by a date-time and filtered on that same date-time only. The
// result is a window of the whole list sorted once, found by binary
// search, rather than a filter and a sort at every page (the keyset walk
// changes its lastUpdated_gte at almost every page).
func (s *Store) timeWindow(f listFilter) ([]*crm.Customer, bool) {
	var base int // index of the sorted field's gt in f.times
	switch f.sort {
	case "dateCreated":
		base = 0
	case "lastUpdated":
		base = 4
	default:
		return nil, false
	}
	other := 4 - base
	for i := other; i < other+4; i++ {
		if !f.times[i].IsZero() {
			return nil, false
		}
	}
	if f.desc || f.reference != "" || f.name != "" || f.category != "" || f.isActive != nil {
		return nil, false
	}
	all := listFilter{sort: f.sort, order: "asc"}
	key := "all\x00" + all.key()
	res, ok := s.listCache[key]
	if !ok || res.version != s.version {
		items := make([]*crm.Customer, 0, len(s.byID))
		for _, c := range s.byID {
			items = append(items, c)
		}
		sortCustomers(items, f.sort, false)
		if len(s.listCache) > 16 {
			clear(s.listCache)
		}
		res = listResult{version: s.version, items: items}
		s.listCache[key] = res
	}
	at := func(c *crm.Customer) time.Time {
		if base == 0 {
			return c.DateCreated.Time
		}
		return c.LastUpdated.Time
	}
	items := res.items
	lo, hi := 0, len(items)
	gt, gte, lt, lte := f.times[base], f.times[base+1], f.times[base+2], f.times[base+3]
	if !gt.IsZero() {
		lo = max(lo, sort.Search(len(items), func(i int) bool { return at(items[i]).After(gt) }))
	}
	if !gte.IsZero() {
		lo = max(lo, sort.Search(len(items), func(i int) bool { return !at(items[i]).Before(gte) }))
	}
	if !lt.IsZero() {
		hi = min(hi, sort.Search(len(items), func(i int) bool { return !at(items[i]).Before(lt) }))
	}
	if !lte.IsZero() {
		hi = min(hi, sort.Search(len(items), func(i int) bool { return at(items[i]).After(lte) }))
	}
	if lo > hi {
		lo = hi
	}
	return items[lo:hi], true
}

// sortable fields of the list call.
var sortFields = map[string]func(a, b *crm.Customer) int{
	"id":          func(a, b *crm.Customer) int { return cmp.Compare(a.ID, b.ID) },
	"reference":   func(a, b *crm.Customer) int { return strings.Compare(a.Reference, b.Reference) },
	"name":        func(a, b *crm.Customer) int { return strings.Compare(a.Name, b.Name) },
	"dateCreated": func(a, b *crm.Customer) int { return a.DateCreated.Compare(b.DateCreated.Time) },
	"lastUpdated": func(a, b *crm.Customer) int { return a.LastUpdated.Compare(b.LastUpdated.Time) },
	"categoryReference": func(a, b *crm.Customer) int {
		return strings.Compare(deref(a.CategoryReference), deref(b.CategoryReference))
	},
	"creditLimit": func(a, b *crm.Customer) int {
		return cmp.Compare(derefF(a.CreditLimit), derefF(b.CreditLimit))
	},
	"isActive": func(a, b *crm.Customer) int { return cmp.Compare(btoi(a.IsActive), btoi(b.IsActive)) },
}

// sortCustomers sorts cs by a sortable field then by id, ascending or
// (desc) descending. The ids and dates are copied out of the customers
// first and sorted as keys: compared in place, customers spread over a
// large heap make a cache miss of most comparisons (a million took
// seconds, every request waiting on the store).
func sortCustomers(cs []*crm.Customer, field string, desc bool) {
	var at func(c *crm.Customer) time.Time
	switch field {
	case "id":
	case "dateCreated":
		at = func(c *crm.Customer) time.Time { return c.DateCreated.Time }
	case "lastUpdated":
		at = func(c *crm.Customer) time.Time { return c.LastUpdated.Time }
	default:
		by := sortFields[field]
		slices.SortFunc(cs, func(a, b *crm.Customer) int {
			r := by(a, b)
			if r == 0 {
				r = cmp.Compare(a.ID, b.ID)
			}
			if desc {
				r = -r
			}
			return r
		})
		return
	}
	keys := make([]sortKey, len(cs))
	for i, c := range cs {
		keys[i] = sortKey{id: c.ID, c: c}
		if at != nil {
			t := at(c)
			keys[i].sec, keys[i].nsec = t.Unix(), int32(t.Nanosecond())
		}
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if r := cmp.Compare(a.sec, b.sec); r != 0 {
			return r
		}
		if r := cmp.Compare(a.nsec, b.nsec); r != 0 {
			return r
		}
		return cmp.Compare(a.id, b.id)
	})
	for i, k := range keys {
		cs[i] = k.c
	}
	if desc {
		slices.Reverse(cs) // ids are unique: the order is total
	}
}

// sortKey is a customer's date (an instant, whatever its location) and id.
type sortKey struct {
	sec  int64
	nsec int32
	id   int64
	c    *crm.Customer
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefF(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
