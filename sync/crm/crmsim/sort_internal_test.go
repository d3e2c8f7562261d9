package crmsim

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"erpsync/sync/crm"
)

// TestSortCustomers holds sortCustomers to a sort by the comparators of
// sortFields then by id, reversed for desc: on customers with many equal
// values, dates in several locations, and dates before 1970 and after
// 2262 (outside what UnixNano holds).
func TestSortCustomers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	base := []time.Time{
		time.Date(2016, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2016, 1, 2, 3, 4, 5, 1, time.UTC),
		time.Date(2016, 1, 2, 4, 4, 5, 999_999_999, paris),
		time.Date(1969, 12, 31, 23, 59, 59, 500, time.UTC),
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		{},
	}
	refs := []string{"a", "b", "B", "é", ""}
	cs := make([]*crm.Customer, 500)
	for i := range cs {
		limit := float64(rng.IntN(4))
		cat := refs[rng.IntN(len(refs))]
		cs[i] = &crm.Customer{
			ID:                int64(rng.IntN(100_000)) + 1,
			Reference:         refs[rng.IntN(len(refs))],
			Name:              refs[rng.IntN(len(refs))],
			DateCreated:       crm.Time{Time: base[rng.IntN(len(base))]},
			LastUpdated:       crm.Time{Time: base[rng.IntN(len(base))]},
			CategoryReference: &cat,
			CreditLimit:       &limit,
			IsActive:          rng.IntN(2) == 0,
		}
	}
	// Ids are unique in a store.
	slices.SortFunc(cs, func(a, b *crm.Customer) int { return cmp.Compare(a.ID, b.ID) })
	cs = slices.CompactFunc(cs, func(a, b *crm.Customer) bool { return a.ID == b.ID })
	rng.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	for field, by := range sortFields {
		for _, desc := range []bool{false, true} {
			want := slices.Clone(cs)
			slices.SortFunc(want, func(a, b *crm.Customer) int {
				r := by(a, b)
				if r == 0 {
					r = cmp.Compare(a.ID, b.ID)
				}
				if desc {
					r = -r
				}
				return r
			})
			got := slices.Clone(cs)
			sortCustomers(got, field, desc)
			if !slices.Equal(got, want) {
				t.Errorf("sort by %s (desc %v): the order differs", field, desc)
			}
		}
	}
}

func BenchmarkSortCustomers1M(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	cs := make([]*crm.Customer, 1_000_000)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range cs {
		cs[i] = &crm.Customer{ID: int64(i + 1), LastUpdated: crm.Time{Time: t0.Add(time.Duration(rng.IntN(3600)) * time.Second)}}
	}
	rng.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	for _, field := range []string{"lastUpdated", "id"} {
		b.Run(field, func(b *testing.B) {
			for range b.N {
				items := slices.Clone(cs)
				sortCustomers(items, field, false)
			}
		})
		b.Run(field+"/in place", func(b *testing.B) {
			by := sortFields[field]
			for range b.N {
				items := slices.Clone(cs)
				slices.SortFunc(items, func(a, b *crm.Customer) int {
					if r := by(a, b); r != 0 {
						return r
					}
					return cmp.Compare(a.ID, b.ID)
				})
			}
		})
	}
}
