package state

import (
	"encoding/json"
	"maps"
	"testing"
)

// A batch's outcomes, one after the other, are stored as encodeValues
// writes each map, whichever path encodeBoth takes: the keys of the one
// before or not, the CRM's values the same, differing from the first key,
// from the last, with a key more or less, empty, nil.
func TestBatchWriter_EncodeBoth(t *testing.T) {
	base := map[string]string{"name": "Golden Gems", "city": "München", "email": "a&b@example.com", "zip": "75001"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := maps.Clone(m)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "-" {
				delete(out, kv[i])
			} else {
				out[kv[i]] = kv[i+1]
			}
		}
		return out
	}
	cases := []struct{ vals, crm map[string]string }{
		{base, base},
		{base, maps.Clone(base)},
		{base, with(base, "city", "Munich")},
		{base, with(base, "zip", "75002")},
		{with(base, "name", "Other \"quoted\""), with(base, "name", "Other")},
		{base, with(base, "email", "-")},
		{base, with(base, "email", "-", "phone", "+33 1")},
		{base, with(base, "country", "FR")},
		{with(base, "zip", "-"), with(base, "zip", "-")},
		{base, nil},
		{nil, base},
		{map[string]string{}, nil},
		{base, base},
		{with(base, "zip", "-", "phone", "1"), with(base, "zip", "-", "phone", "1")},
		{base, with(base, "city", "Paris", "zip", "1")},
	}
	bw := &batchWriter{}
	for i, c := range cases {
		gotVals, gotCRM := bw.encodeBoth(c.vals, c.crm)
		wantVals, _ := json.Marshal(orEmpty(c.vals))
		wantCRM, _ := json.Marshal(orEmpty(c.crm))
		if gotVals != string(wantVals) || gotCRM != string(wantCRM) {
			t.Errorf("case %d: encodeBoth = %s, %s; want %s, %s", i, gotVals, gotCRM, wantVals, wantCRM)
		}
	}
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
