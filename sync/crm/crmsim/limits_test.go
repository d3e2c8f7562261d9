package crmsim_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/simtest"
)

// TestConformance_Versions: crmsim answers the versions it is told
// (v1.0 and v2.1 by default) and 404 with a JSON error to others.
func TestConformance_Versions(t *testing.T) {
	for _, tc := range []struct {
		name     string
		versions []string
		answered []string
		refused  []string
	}{
		{"default", nil, []string{"v1.0", "v2.1"}, []string{"v9", "v2.0", "v1", "V2.1"}},
		{"v2.1 only", []string{"v2.1"}, []string{"v2.1"}, []string{"v1.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fixture(t, crmsim.Options{Versions: tc.versions})
			for _, v := range tc.answered {
				a := s.must(t, 200, get("/api/"+v+"/customers?max=1"))
				if next, _ := a.paging()["next"].(string); !strings.HasPrefix(next, "/api/"+v+"/customers?") {
					t.Errorf("%s: next link %q", v, next)
				}
			}
			for _, v := range tc.refused {
				for _, c := range []call{get("/api/" + v + "/customers"), post("/api/"+v+"/customers/reference/V", "name", "V")} {
					s.do(t, c).wantError(t, 404, "not_found", "The API version "+v+" doesn't exist.")
				}
			}
			if _, ok := s.store.ByReference("V"); ok {
				t.Errorf("an upsert to a refused version was stored")
			}
		})
	}
}

// TestConformance_MaxPageSize: -max-page-size caps max as a server does;
// paging.max says the cap used, and next and total stay right, so that
// walking the next links reads every customer once.
func TestConformance_MaxPageSize(t *testing.T) {
	const n = 120 // more than a page of 100, the default max
	seed := crmsim.DefaultSeed()
	for i := range n {
		seed.Customers = append(seed.Customers, map[string]string{"reference": fmt.Sprintf("M-%03d", i), "name": "M"})
	}
	for _, limit := range []int{1, 37, 100, 0} {
		for _, asked := range []string{"", "max=10", "max=500"} {
			t.Run(fmt.Sprintf("cap %d, %s", limit, asked), func(t *testing.T) {
				srv := simtest.Serve(t, simtest.Setup{Seed: &seed, Options: crmsim.Options{MaxPageSize: limit}})
				s := &sim{store: srv.Store, url: srv.URL}
				want := 100 // the reference's default max
				if asked != "" {
					want, _ = strconv.Atoi(strings.TrimPrefix(asked, "max="))
				}
				if limit > 0 {
					want = min(want, limit)
				}
				seen := map[string]bool{}
				path := api + "?" + asked
				for pages := 0; path != ""; pages++ {
					if pages > n+1 {
						t.Fatalf("more than %d pages", n+1)
					}
					a := s.must(t, 200, get(path))
					p := a.paging()
					data, _ := a.body["data"].([]any)
					if p["max"] != float64(want) || p["total"] != float64(n) || len(data) > want {
						t.Fatalf("%s: paging %v with %d customers, want max %d, total %d", path, p, len(data), want, n)
					}
					for _, ref := range strings.Split(a.refs(), ",") {
						if seen[ref] {
							t.Fatalf("%s: %s read twice", path, ref)
						}
						seen[ref] = true
					}
					next, _ := p["next"].(string)
					if next != "" && !strings.Contains(next, "max="+strconv.Itoa(want)+"&") {
						t.Fatalf("next link %q does not ask max=%d", next, want)
					}
					path = next
				}
				if len(seen) != n {
					t.Errorf("read %d customers by the next links, want %d", len(seen), n)
				}
			})
		}
	}
}

// TestConformance_TimePrecision: -time-precision ms writes dates with
// milliseconds, and the lastUpdated filters compare to the millisecond.
func TestConformance_TimePrecision(t *testing.T) {
	s := newSim(t, crmsim.DefaultSeed(), crmsim.Options{TimePrecision: "ms"})
	base := time.Date(2026, 1, 2, 3, 4, 5, 123_456_789, time.UTC)
	for i, ref := range []string{"A", "B", "C"} {
		s.clock.Set(base.Add(time.Duration(i) * time.Millisecond))
		s.must(t, 201, post(api+"/reference/"+ref, "name", ref))
	}
	a := s.must(t, 200, get(api+"/reference/A"))
	if a.str("dateCreated") != "2026-01-02T03:04:05.123Z" || a.str("lastUpdated") != "2026-01-02T03:04:05.123Z" {
		t.Errorf("dates %s %s, want 2026-01-02T03:04:05.123Z", a.str("dateCreated"), a.str("lastUpdated"))
	}
	s.clock.Set(time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC))
	if a := s.must(t, 200, post(api+"/reference/C", "city", "Nice")); a.str("lastUpdated") != "2026-01-02T03:04:06.000Z" {
		t.Errorf("lastUpdated on a whole second: %s, want 2026-01-02T03:04:06.000Z", a.str("lastUpdated"))
	}
	for _, tc := range []struct{ query, want string }{
		{"lastUpdated_gte=2026-01-02T03:04:05.124Z", "B,C"},
		{"lastUpdated_gt=2026-01-02T03:04:05.124Z", "C"},
		{"lastUpdated_lt=2026-01-02T03:04:05.125Z", "A,B"},
		{"lastUpdated_lte=2026-01-02T03:04:05.123Z", "A"},
		{"lastUpdated_gte=2026-01-02T03:04:05Z", "A,B,C"},
		{"lastUpdated_gte=2026-01-02T03:04:05.124Z&sort=lastUpdated", "B,C"},
		{"dateCreated_gte=2026-01-02T03:04:05.125Z", "C"},
	} {
		if got := s.must(t, 200, get(api+"?"+tc.query)).refs(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.query, got, tc.want)
		}
	}
	t.Run("seconds by default", func(t *testing.T) {
		s := newSim(t, crmsim.DefaultSeed(), crmsim.Options{})
		s.clock.Set(base)
		if a := s.must(t, 201, post(api+"/reference/A", "name", "A")); a.str("dateCreated") != "2026-01-02T03:04:05Z" {
			t.Errorf("dateCreated %s, want 2026-01-02T03:04:05Z", a.str("dateCreated"))
		}
	})
}

// TestConformance_ImageLinks: the logo URL of a stored image and its
// small_ and medium_ variants return the stored bytes.
func TestConformance_ImageLinks(t *testing.T) {
	s := newSim(t, crmsim.DefaultSeed(), crmsim.Options{Token: "s3cret"})
	c := post(api+"/reference/IMG", "name", "Image").withImage("logo color.png", pngImage)
	c.header = http.Header{"Authorization": {"Bearer s3cret"}}
	logo := s.must(t, 201, c).str("logo")
	slash := strings.LastIndex(logo, "/")
	dir, name := logo[:slash+1], logo[slash+1:]
	for _, link := range []string{logo, dir + "small_" + name, dir + "medium_" + name} {
		resp, err := http.Get(link) // no credentials: the links are for web pages
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		_, err = got.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !bytes.Equal(got.Bytes(), pngImage) || resp.Header.Get("Content-Type") != "image/png" {
			t.Errorf("GET %s: %d %s, %d bytes (%v), want the %d stored", link, resp.StatusCode,
				resp.Header.Get("Content-Type"), got.Len(), err, len(pngImage))
		}
	}
	path := strings.TrimPrefix(dir, s.url)
	for _, missing := range []string{path + "large_" + name, path + "small_nothing.png", path, "/other-1/photoCustomer/" + name} {
		s.do(t, get(missing)).wantError(t, 404, "not_found", "No such resource.")
	}
	t.Run("a refused write stores no image", func(t *testing.T) {
		c := post(api+"/reference/NONAME").withImage("other.gif", gif89) // no name: refused
		c.header = http.Header{"Authorization": {"Bearer s3cret"}}
		s.do(t, c).wantError(t, 400, "missing_param", "name parameter is missing")
		sum := sha256.Sum256(gif89)
		s.do(t, get(path+hex.EncodeToString(sum[:6])+"_other.gif")).wantError(t, 404, "not_found", "")
		c = post(api+"/reference/IMG").withImage("other.gif", gif89)
		c.header = http.Header{"Authorization": {"Bearer s3cret"}}
		if got := s.must(t, 200, c).str("logo"); got != s.url+path+hex.EncodeToString(sum[:6])+"_other.gif" {
			t.Fatalf("logo %s: the test's idea of the name is wrong", got)
		}
		resp, err := http.Get(s.url + path + hex.EncodeToString(sum[:6]) + "_other.gif")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" {
			t.Errorf("after a write that succeeded: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
}
