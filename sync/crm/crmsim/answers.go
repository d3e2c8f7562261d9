package crmsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"

	"erpsync/sync/crm"
)

// answerCache holds customers' answers (a customer's JSON, as a show
// answers it and as an item of a list page) rendered for one API version
// and date layout, its key. A list page is then its paging object around
// cached bytes, instead of a hundred customers copied, dressed and
// encoded at every request: what a listing costs the simulator's CPU,
// which the client shares. A write forgets the answers of the customers
// it changes. Store.mu guards it.
type answerCache struct {
	key string                   // the version and layout of the answers held; "" none yet
	m   map[*crm.Customer][]byte // the stored customer → its answer
}

// answerKey names the answers of an API version in a date layout.
func answerKey(version, layout string) string { return version + " " + layout }

// get returns the customer's answer cached for key, or nil.
func (a *answerCache) get(key string, c *crm.Customer) []byte {
	if key != a.key {
		return nil
	}
	return a.m[c]
}

// put caches an answer. The cache holds one key, the first one put: the
// answers of any other version are rendered at every request.
func (a *answerCache) put(key string, c *crm.Customer, answer []byte) {
	if a.key == "" {
		a.key = key
	}
	if key == a.key {
		a.m[c] = answer
	}
}

// forget drops the customer's answer: it was changed or removed.
func (a *answerCache) forget(c *crm.Customer) { delete(a.m, c) }

// listed is one customer of a list page: its cached answer, or a copy
// of it to render.
type listed struct {
	stored *crm.Customer // the store's own: a key in the cache, read only under Store.mu
	copy   *crm.Customer // when answer was not cached
	answer []byte
}

// answers fills in the answers of a page's customers that were not
// cached, and caches them when no write happened since the page was
// listed (at is the store's version then).
func (s *Server) answers(items []listed, version string, at int64) error {
	var fresh []listed
	for i := range items {
		if items[i].answer != nil {
			continue
		}
		b, err := json.Marshal(s.render(*items[i].copy, version))
		if err != nil {
			return err
		}
		items[i].answer = b
		fresh = append(fresh, items[i])
	}
	if len(fresh) > 0 {
		s.Store.keepAnswers(answerKey(version, s.layout), at, fresh)
	}
	return nil
}

// Prerender caches the answer of every stored customer, as a first walk
// of the pages would: for a simulator started with a large seed, so that
// its first listing costs it what the next ones do. The cache holds one
// version: the one erpsync's client asks by default (crm.DefaultAPIVersion)
// when it is served, else the first served. A batch of customers one of
// which cannot be encoded is left to the requests (which answer 500
// server_error, as before).
func (s *Server) Prerender() {
	version := s.opts.Versions[0]
	if s.versions[crm.DefaultAPIVersion] {
		version = crm.DefaultAPIVersion
	}
	key := answerKey(version, s.layout)
	all := s.Store.customers()
	const batch = 1000
	for lo := 0; lo < len(all); lo += batch {
		items, at := s.Store.unanswered(key, all[lo:min(lo+batch, len(all))])
		_ = s.answers(items, version, at)
	}
}

// pageBuffers are the buffers list answers are written from.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writePage writes a list answer: the bytes json.Marshal writes for a
// page, its paging then its customers, joined from their answers.
func writePage(w http.ResponseWriter, p paging, items []listed) {
	head, err := json.Marshal(p)
	if err != nil {
		writeBody(w, http.StatusOK, nil, err)
		return
	}
	size := len(`{"paging":,"data":[]}`) + len(head) + len(items)
	for _, it := range items {
		size += len(it.answer)
	}
	buf := pageBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	buf.Grow(size)
	buf.WriteString(`{"paging":`)
	buf.Write(head)
	buf.WriteString(`,"data":[`)
	for i, it := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(it.answer)
	}
	buf.WriteString("]}")
	writeBody(w, http.StatusOK, buf.Bytes(), nil)
	if buf.Cap() <= maxPooledPage {
		pageBuffers.Put(buf)
	}
}

// maxPooledPage bounds the buffers kept for the next pages: a page of a
// thousand large customers, not the whole CRM asked at once.
const maxPooledPage = 4 << 20
