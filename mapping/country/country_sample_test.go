package country_test

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"

	"erpsync/mapping/country"
)

// TestLookupCountry_SampleDataNames: every country name a sample-data
// generator writes reads as a country, but the ambiguous ("Korea",
// "Congo") and the withdrawn ("Netherlands Antilles"), whose errors say
// so and name the candidates.
func TestLookupCountry_SampleDataNames(t *testing.T) {
	f, err := os.Open("../../testdata/countries/sample-data-names.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]error{"Korea": country.ErrAmbiguous, "Congo": country.ErrAmbiguous,
		"Netherlands Antilles": country.ErrWithdrawn}
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		name := sc.Text()
		if name == "" || strings.HasPrefix(name, "#") {
			continue
		}
		n++
		code, err := country.Lookup(name)
		switch w := want[name]; {
		case w == nil && err != nil:
			t.Errorf("%q: %v", name, err)
		case w != nil && (!errors.Is(err, w) || !strings.Contains(err.Error(), "(")):
			t.Errorf("%q = %q, %v; want %v naming the candidates", name, code, err, w)
		}
	}
	if n < 240 {
		t.Errorf("read %d names, want the whole list", n)
	}
}
