package country_test

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"

	"erpsync/mapping/country"
)

// TestLookupCountry_ISO reads every current ISO 3166-1 entry by its
// alpha-2 and alpha-3 code and its English short name, as written, with
// and without its parenthesised parts, in other cases and spellings.
func TestLookupCountry_ISO(t *testing.T) {
	f, err := os.Open("../../testdata/countries/iso3166-1.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		a2, a3, name := cols[0], cols[1], cols[2]
		n++
		inputs := []string{a2, strings.ToLower(a2), a3, strings.ToLower(a3), name, strings.ToUpper(name), " " + name + " "}
		if bare := withoutParens(name); bare != name && !ambiguousBare[bare] {
			inputs = append(inputs, bare)
		}
		if len(cols) > 3 && cols[3] != "" && !ambiguousBare[cols[3]] {
			inputs = append(inputs, cols[3])
		}
		for _, in := range inputs {
			if got, err := country.Lookup(in); got != a2 {
				t.Errorf("LookupCountry(%q) = %q, %v; want %s", in, got, err, a2)
			}
		}
	}
	if n != 249 {
		t.Errorf("%d ISO entries read, want 249", n)
	}
}

// ambiguousBare are short names that, without their parenthesised parts,
// name two countries.
var ambiguousBare = map[string]bool{"Congo": true, "Korea": true, "Virgin Islands": true,
	"Korea, Democratic People's Republic of": false}

func withoutParens(s string) string {
	for {
		i, j := strings.IndexAny(s, "(["), strings.IndexAny(s, ")]")
		if i < 0 || j < i {
			return strings.Join(strings.Fields(s), " ")
		}
		s = s[:i] + " " + s[j+1:]
	}
}

func TestLookupCountry_Names(t *testing.T) {
	for in, want := range map[string]string{
		// the names of the 1,000-row sample
		"Bosnia and Herzegovina": "BA", "Trinidad and Tobago": "TT", "Hong Kong": "HK", "Macao": "MO",
		"Myanmar": "MM", "Saint Lucia": "LC", "North Macedonia": "MK", "Viet Nam": "VN", "Cote d'Ivoire": "CI",
		// case, accents, punctuation, "the", "&", "St."
		"BOSNIA & HERZEGOVINA": "BA", "Côte d’Ivoire": "CI", "cote divoire": "CI", "The Bahamas": "BS",
		"Gambia, The": "GM", "St. Kitts & Nevis": "KN", "St Vincent and the Grenadines": "VC",
		"Guinea Bissau": "GW", "Timor Leste": "TL", "Korea, Republic of": "KR", "Republic of Korea": "KR",
		"Democratic Republic of the Congo": "CD", "Iran, Islamic Republic of": "IR",
		// aliases
		"USA": "US", "U.S.A.": "US", "UK": "GB", "Great Britain": "GB", "Holland": "NL", "Ivory Coast": "CI",
		"Burma": "MM", "Czech Republic": "CZ", "Swaziland": "SZ", "Macedonia": "MK", "South Korea": "KR",
		"North Korea": "KP", "Russia": "RU", "Vatican": "VA",
		// CLDR names in the languages of European exports
		"Deutschland": "DE", "Frankreich": "FR", "Vereinigte Staaten": "US", "Österreich": "AT",
		"Allemagne": "DE", "États-Unis": "US", "Royaume-Uni": "GB", "Alemania": "DE", "Países Bajos": "NL",
		"Germania": "DE", "Svizzera": "CH", "Duitsland": "DE", "Verenigd Koninkrijk": "GB", "Alemanha": "DE",
		"Estados Unidos": "US", "Bosnien und Herzegowina": "BA", "Bosnien & Herzegowina": "BA",
	} {
		if got, err := country.Lookup(in); got != want {
			t.Errorf("LookupCountry(%q) = %q, %v; want %s", in, got, err, want)
		}
	}
}

func TestLookupCountry_Errors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind error
		says []string
	}{
		{"Korea", country.ErrAmbiguous, []string{"KP (North Korea)", "KR (South Korea)"}},
		{"Congo", country.ErrAmbiguous, []string{"CD", "CG"}},
		{"Virgin Islands", country.ErrAmbiguous, []string{"VG", "VI"}},
		{"Netherlands Antilles", country.ErrWithdrawn, []string{"CW (Curaçao)", "SX", "BQ"}},
		{"AN", country.ErrWithdrawn, []string{"CW"}},
		{"Yugoslavia", country.ErrWithdrawn, []string{"RS", "ME"}},
		{"Atlantis", country.ErrUnknown, []string{`"Atlantis"`, "ISO 3166 code"}},
		{"", country.ErrUnknown, nil},
	} {
		code, err := country.Lookup(tc.in)
		if code != "" || !errors.Is(err, tc.kind) {
			t.Errorf("LookupCountry(%q) = %q, %v; want %v", tc.in, code, err, tc.kind)
			continue
		}
		for _, s := range tc.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("LookupCountry(%q): %q does not say %q", tc.in, err, s)
			}
		}
	}
	if code, ok := country.Code("Korea"); ok {
		t.Errorf("CountryCode(Korea) = %s, true", code)
	}
}

// BenchmarkCountryCode: the canonical code and a common name are a map
// lookup; other spellings compute a key.
func BenchmarkCountryCode(b *testing.B) {
	for _, in := range []string{"FR", "France", "bosnia & herzegovina"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				if _, ok := country.Code(in); !ok {
					b.Fatal(in)
				}
			}
		})
	}
}

func FuzzLookupCountry(f *testing.F) {
	for _, s := range []string{"FR", "Korea", "Côte d’Ivoire", "St. Lucia", "Bolivia (Plurinational State of)", "(", ")(", "&&", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := country.Lookup(s)
		if (err == nil) != (len(code) == 2) {
			t.Fatalf("LookupCountry(%q) = %q, %v", s, code, err)
		}
		if c2, ok := country.Code(s); ok != (err == nil) || c2 != code {
			t.Fatalf("CountryCode(%q) = %q, %v; LookupCountry %q, %v", s, c2, ok, code, err)
		}
	})
}
