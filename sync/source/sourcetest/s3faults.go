package sourcetest

import (
	"fmt"
	"net/http"
	"strings"
	gosync "sync"
	"sync/atomic"
)

// Body is how the server answers a GET of an object, instead of with
// its content: a hostile or broken store.
type Body int

// The bodies a test can give an object.
const (
	// Endless streams bytes past the listed size, with no length given
	// (until the client hangs up, or 64 MiB).
	Endless Body = iota + 1
	// StallHeaders answers nothing at all: no header, no byte.
	StallHeaders
	// StallBody sends the headers and 100 bytes, then nothing more.
	StallBody
)

// EndlessMax caps the bytes of Endless bodies, all answers together, so
// that a client that reads them all ends too.
const EndlessMax = 64 << 20

// List is how the server answers the listings of a bucket.
type List int

// The listings a test can ask for.
const (
	ListNormal  List = iota
	ListEndless      // every page says there is another, with a new token
	ListStall        // a listing is never answered
)

// s3Faults serves the requests gofakes3 would, except those a test made
// hostile; it counts the bytes of object bodies sent.
type s3Faults struct {
	inner http.Handler
	done  chan struct{} // the test's end: stalled answers end

	mu     gosync.Mutex
	bodies map[string]Body // "bucket/key"
	list   List
	sent   atomic.Int64
	lists  atomic.Int64
}

// SetBody makes GETs of bucket/key answer as body says.
func (s *S3Server) SetBody(bucket, key string, body Body) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.bodies[bucket+"/"+key] = body
}

// SetList makes listings answer as l says.
func (s *S3Server) SetList(l List) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.list = l
}

// BodyBytes is the number of bytes of hostile bodies written so far.
func (s *S3Server) BodyBytes() int64 { return s.faults.sent.Load() }

// Listings is the number of listing requests answered by a hostile list.
func (s *S3Server) Listings() int64 { return s.faults.lists.Load() }

func (f *s3Faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	f.mu.Lock()
	body, list := f.bodies[bucket+"/"+key], f.list
	f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && key == "" && r.URL.Query().Has("list-type") && list != ListNormal:
		f.lists.Add(1)
		if list == ListStall {
			f.stall(r)
			return
		}
		f.endlessPage(w, bucket, r.URL.Query().Get("prefix"))
	case r.Method == http.MethodGet && body == Endless:
		w.WriteHeader(http.StatusOK)
		chunk := []byte(strings.Repeat("x", 32<<10))
		for f.sent.Load() < EndlessMax {
			n, err := w.Write(chunk)
			f.sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	case r.Method == http.MethodGet && body == StallHeaders:
		f.stall(r)
	case r.Method == http.MethodGet && body == StallBody:
		w.WriteHeader(http.StatusOK)
		n, _ := w.Write([]byte(strings.Repeat("y", 100)))
		f.sent.Add(int64(n))
		w.(http.Flusher).Flush()
		f.stall(r)
	default:
		f.inner.ServeHTTP(w, r)
	}
}

// stall answers nothing more until the client hangs up or the test ends.
func (f *s3Faults) stall(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-f.done:
	}
}

// endlessPage is a page of 100 keys that says another follows.
func (f *s3Faults) endlessPage(w http.ResponseWriter, bucket, prefix string) {
	n := f.lists.Load()
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`+
		`<Name>%s</Name><Prefix>%s</Prefix><KeyCount>100</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>`+
		`<NextContinuationToken>page-%d</NextContinuationToken>`, bucket, prefix, n)
	for i := range 100 {
		fmt.Fprintf(&b, `<Contents><Key>%sendless-%d-%d.zip</Key><LastModified>2026-03-01T02:00:00.000Z</LastModified>`+
			`<ETag>"%032d"</ETag><Size>10</Size><StorageClass>STANDARD</StorageClass></Contents>`, prefix, n, i, i)
	}
	b.WriteString(`</ListBucketResult>`)
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write([]byte(b.String()))
}
