package mapping

import (
	"strconv"
	"testing"
)

// slowNumber is canonicalNumber without its fast path.
func slowNumber(cell, decimal string) (string, error) {
	f, err := ParseNumber(cell, decimal)
	if err != nil {
		return "", err
	}
	if f == 0 {
		f = 0
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

func TestCanonicalNumber(t *testing.T) {
	for _, tc := range []struct{ cell, decimal, want string }{
		{"5.000,00", ",", "5000"},
		{"133,55-", ",", "-133.55"},
		{"-0,00", ",", "0"},
		{"0-", ",", "0"},
		{"007", ".", "7"},
		{"1,234,567.890", ".", "1234567.89"},
		{"12.345,67", ",", "12345.67"},
		{"0.000,01", ",", "0.01"},
		{"123456789012345", ".", "123456789012345"},
		{"1234567890123456789", ".", "1234567890123456800"}, // past a float's digits: as the float holds it
		{"5,", ",", "5"},
		{",5", ",", "0.5"},
	} {
		got, err := canonicalNumber(tc.cell, tc.decimal)
		if err != nil || got != tc.want {
			t.Errorf("canonicalNumber(%q, %q) = %q, %v; want %q", tc.cell, tc.decimal, got, err, tc.want)
		}
	}
	for _, bad := range []string{"5.5", "1.2.3", "12.34.567", "abc", "-", "1,5,5"} {
		if got, err := canonicalNumber(bad, ","); err == nil {
			t.Errorf("canonicalNumber(%q, \",\") = %q, want an error", bad, got)
		}
	}
}

// FuzzCanonicalNumber: the fast path says what the float path says.
func FuzzCanonicalNumber(f *testing.F) {
	for _, s := range []string{"5.000,00", "133,55-", "-0", "1.234", "1,234.5", "00012,3400", "999999999999999", "1.2.3", ",5", "5,", "-.5"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, cell string, comma bool) {
		decimal := "."
		if comma {
			decimal = ","
		}
		fast, ok := plainNumber(cell, decimal)
		if !ok {
			return
		}
		slow, err := slowNumber(cell, decimal)
		if err != nil || slow != fast {
			t.Fatalf("%q with decimal %q: fast path %q, float path %q, %v", cell, decimal, fast, slow, err)
		}
	})
}
