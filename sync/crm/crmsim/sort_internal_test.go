package crmsim

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"erpsync/sync/crm"
)

// customersForSort returns n customers with few distinct dates (many
// ties, broken by id), in a shuffled order.
func customersForSort(n int) []*crm.Customer {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)
	items := make([]*crm.Customer, n)
	for i := range items {
		items[i] = &crm.Customer{
			ID:          int64(i + 1),
			DateCreated: crm.Time{Time: base.Add(time.Duration(r.IntN(50)) * time.Second)},
			LastUpdated: crm.Time{Time: base.Add(time.Duration(r.IntN(50))*time.Second + time.Duration(r.IntN(3))*time.Millisecond)},
		}
	}
	r.Shuffle(n, func(i, j int) { items[i], items[j] = items[j], items[i] })
	return items
}

// byComparison is the order a comparison of the customers gives: the
// list call's definition, which sortCustomers must keep.
func byComparison(items []*crm.Customer, field string, desc bool) {
	slices.SortStableFunc(items, func(a, b *crm.Customer) int {
		r := cmp.Or(compareBy(field, a, b), cmp.Compare(a.ID, b.ID))
		if desc {
			r = -r
		}
		return r
	})
}

func TestSortCustomers_SameOrderAsComparison(t *testing.T) {
	for _, field := range []string{"id", "dateCreated", "lastUpdated", "reference"} {
		for _, desc := range []bool{false, true} {
			got := customersForSort(5000)
			want := slices.Clone(got)
			sortCustomers(got, field, desc)
			byComparison(want, field, desc)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s desc=%v: position %d holds id %d, want id %d", field, desc, i, got[i].ID, want[i].ID)
				}
			}
		}
	}
}

// BenchmarkSortLastUpdated1M sorts a million customers by lastUpdated
// as the refresh's first window query after an import makes crmsim do:
// by keys (sortCustomers) and by comparison, side by side.
func BenchmarkSortLastUpdated1M(b *testing.B) {
	items := customersForSort(1_000_000)
	var keyed, compared time.Duration
	for range b.N {
		x, y := slices.Clone(items), slices.Clone(items)
		start := time.Now()
		sortCustomers(x, "lastUpdated", false)
		keyed += time.Since(start)
		start = time.Now()
		byComparison(y, "lastUpdated", false)
		compared += time.Since(start)
	}
	b.ReportMetric(keyed.Seconds()/float64(b.N), "keyed-s")
	b.ReportMetric(compared.Seconds()/float64(b.N), "compared-s")
}
