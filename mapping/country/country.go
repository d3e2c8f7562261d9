// Package country reads a country cell as its ISO 3166-1 alpha-2 code:
// codes, aliases and names in English and the export's usual languages,
// with errors that name the candidates of an ambiguous name and the
// successors of a withdrawn one. It imports nothing of erpsync.
package country

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	gosync "sync"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/unicode/norm"
)

// Country cells are read by Lookup. The rules, in the order they
// win when two would give different answers:
//
//  1. ISO 3166-1 alpha-2 and alpha-3 codes, and the usual aliases
//     (countryAliases); withdrawn names and codes are errors
//     (countryWithdrawn).
//  2. English names: the ISO 3166-1 short names (isoShortNames where they
//     differ from CLDR) and the CLDR names of golang.org/x/text.
//  3. The CLDR names in the languages of countryLanguages.
//
// A name is compared by its key (countryKey): case, accents, punctuation,
// spaces and "the" do not count, "St." is "Saint" and "&" is "and" (or the
// word for it in each language). Each name also counts without its
// parenthesised parts, and "Korea (the Republic of)" and
// "Korea, Republic of" also as "Republic of Korea". A key that names
// several countries on its level is ambiguous: an error naming them.

// ErrUnknown, ErrAmbiguous and ErrWithdrawn are
// wrapped by the errors of Lookup.
var (
	ErrUnknown   = errors.New("unknown country")
	ErrAmbiguous = errors.New("ambiguous country")
	ErrWithdrawn = errors.New("withdrawn country")
)

// countryLanguages are the languages whose CLDR names are accepted
// besides English: an export is read whatever its language.
var countryLanguages = []language.Tag{
	language.German, language.French, language.Spanish, language.Italian, language.Dutch,
	language.Portuguese, language.BrazilianPortuguese, language.Polish, language.Swedish,
	language.Danish, language.Norwegian, language.Finnish, language.Czech, language.Catalan,
}

// countryAliases are names people write that neither ISO nor CLDR list.
var countryAliases = map[string]string{
	"USA": "US", "United States": "US", "United States of America": "US", "America": "US",
	"UK": "GB", "Great Britain": "GB", "Britain": "GB", "England": "GB", "Scotland": "GB", "Wales": "GB",
	"Northern Ireland": "GB", "Holland": "NL", "Ivory Coast": "CI", "Burma": "MM", "Czech Republic": "CZ",
	"Swaziland": "SZ", "Macedonia": "MK", "Republic of Macedonia": "MK", "FYROM": "MK", "South Korea": "KR",
	"North Korea": "KP", "Russia": "RU", "Vatican": "VA", "Vatican City": "VA", "Vatican City State": "VA", "Holy See (Vatican City State)": "VA",
	"Turkey": "TR", "Turkiye": "TR", "East Timor": "TL", "Cape Verde": "CV", "Laos": "LA", "Syria": "SY",
	"Vietnam": "VN", "Brunei": "BN", "Moldova": "MD", "Bolivia": "BO", "Iran": "IR", "Tanzania": "TZ",
	"Venezuela": "VE", "Micronesia": "FM", "Palestine": "PS", "Taiwan": "TW", "Hong Kong": "HK",
	"Macau": "MO", "Macao": "MO", "UAE": "AE", "DRC": "CD", "DR Congo": "CD", "Congo-Kinshasa": "CD",
	"Congo-Brazzaville": "CG", "Republic of Congo": "CG", "Republic of the Congo": "CG",
	"Falklands": "FK", "Deutschland": "DE", "Schweiz": "CH", "Suisse": "CH", "Svizzera": "CH",
	"Österreich": "AT", "Sverige": "SE", "Norge": "NO", "Danmark": "DK", "Suomi": "FI", "España": "ES",
	"Italia": "IT", "Nederland": "NL", "Polska": "PL", "Česko": "CZ", "Magyarország": "HU",
	// Older ISO and UN names that generators of sample data (Faker) still
	// write.
	"Kyrgyz Republic": "KG", "Slovak Republic": "SK", "Libyan Arab Jamahiriya": "LY",
	"Palestinian Territory": "PS", "Palestinian Territories": "PS", "Svalbard & Jan Mayen Islands": "SJ",
	"United States Virgin Islands": "VI", "US Virgin Islands": "VI", "Bouvetoya": "BV",
}

// countryWithdrawn are names and codes withdrawn from ISO 3166-1, with
// the countries that took their place.
var countryWithdrawn = []struct {
	names []string
	now   []string
	note  string
}{
	{[]string{"Netherlands Antilles", "AN", "ANT"}, []string{"CW", "SX", "BQ"}, "dissolved in 2010"},
	{[]string{"Yugoslavia", "YU", "YUG"}, []string{"RS", "ME", "BA", "HR", "SI", "MK"}, "dissolved"},
	{[]string{"Serbia and Montenegro", "CS", "SCG"}, []string{"RS", "ME"}, "split in 2006"},
	{[]string{"Czechoslovakia", "CSK"}, []string{"CZ", "SK"}, "split in 1993"},
	{[]string{"Soviet Union", "USSR", "SU", "SUN"}, []string{"RU", "UA", "BY", "KZ"}, "dissolved in 1991"},
	{[]string{"East Germany", "German Democratic Republic", "DD", "DDR"}, []string{"DE"}, "joined Germany in 1990"},
	{[]string{"Zaire", "ZR", "ZAR"}, []string{"CD"}, "renamed in 1997"},
	{[]string{"TP", "TMP"}, []string{"TL"}, "renamed in 2002"},
	{[]string{"BU", "BUR"}, []string{"MM"}, "renamed in 1989"},
}

// isoShortNames are the ISO 3166-1 English short names that the CLDR
// English names do not already give (as keys).
var isoShortNames = map[string]string{
	"AX": "Åland Islands", "BS": "Bahamas (the)", "BO": "Bolivia (Plurinational State of)",
	"BQ": "Bonaire, Sint Eustatius and Saba", "BA": "Bosnia and Herzegovina", "BN": "Brunei Darussalam",
	"CV": "Cabo Verde", "KY": "Cayman Islands (the)", "CF": "Central African Republic (the)",
	"CC": "Cocos (Keeling) Islands (the)", "KM": "Comoros (the)", "CD": "Congo (the Democratic Republic of the)",
	"CG": "Congo (the)", "CK": "Cook Islands (the)", "CI": "Côte d'Ivoire", "CZ": "Czechia",
	"DO": "Dominican Republic (the)", "SZ": "Eswatini", "FK": "Falkland Islands (the) [Malvinas]",
	"FO": "Faroe Islands (the)", "TF": "French Southern Territories (the)", "GM": "Gambia (the)",
	"HM": "Heard Island and McDonald Islands", "VA": "Holy See (the)", "HK": "Hong Kong",
	"IR": "Iran (Islamic Republic of)", "KP": "Korea (the Democratic People's Republic of)",
	"KR": "Korea (the Republic of)", "LA": "Lao People's Democratic Republic (the)", "MO": "Macao",
	"MH": "Marshall Islands (the)", "FM": "Micronesia (Federated States of)", "MD": "Moldova (the Republic of)",
	"MM": "Myanmar", "NL": "Netherlands (Kingdom of the)", "NE": "Niger (the)", "MK": "North Macedonia",
	"MP": "Northern Mariana Islands (the)", "PS": "Palestine, State of", "PH": "Philippines (the)",
	"PN": "Pitcairn", "RE": "Réunion", "RU": "Russian Federation (the)", "BL": "Saint Barthélemy",
	"SH": "Saint Helena, Ascension and Tristan da Cunha", "KN": "Saint Kitts and Nevis", "LC": "Saint Lucia",
	"MF": "Saint Martin (French part)", "PM": "Saint Pierre and Miquelon", "VC": "Saint Vincent and the Grenadines",
	"ST": "Sao Tome and Principe", "SX": "Sint Maarten (Dutch part)", "GS": "South Georgia and the South Sandwich Islands",
	"SD": "Sudan (the)", "SJ": "Svalbard and Jan Mayen", "SY": "Syrian Arab Republic (the)",
	"TW": "Taiwan (Province of China)", "TZ": "Tanzania, the United Republic of", "TL": "Timor-Leste",
	"TT": "Trinidad and Tobago", "TC": "Turks and Caicos Islands (the)", "TR": "Türkiye",
	"AE": "United Arab Emirates (the)", "GB": "United Kingdom of Great Britain and Northern Ireland (the)",
	"UM": "United States Minor Outlying Islands (the)", "US": "United States of America (the)",
	"VE": "Venezuela (Bolivarian Republic of)", "VN": "Viet Nam", "VG": "Virgin Islands (British)",
	"VI": "Virgin Islands (U.S.)", "WF": "Wallis and Futuna", "AG": "Antigua and Barbuda",
	"CW": "Curaçao", "GW": "Guinea-Bissau", "PG": "Papua New Guinea",
}

// countryEntry is what a key names: one code, or several (ambiguous), or
// a withdrawn country.
type countryEntry struct {
	codes     []string
	level     int    // 0 aliases, 1 English, 2 other languages
	withdrawn string // why, for a withdrawn country
}

// countryIndex holds the keys of every accepted name, and the exact
// spellings that are already canonical or common (the fast path).
type countryIndex struct {
	keys  map[string]*countryEntry
	exact map[string]string // as written → code
	names map[string]string // code → English name, for messages
}

var countries = gosync.OnceValue(buildCountryIndex)

// Code canonicalises a country: the ISO 3166-1 alpha-2 code of a
// code or a name (see Lookup); false when there is none.
func Code(s string) (string, bool) {
	if code, ok := countries().exact[s]; ok {
		return code, true
	}
	code, err := Lookup(s)
	return code, err == nil
}

// Lookup returns the ISO 3166-1 alpha-2 code of a code or a name.
// Its error says why there is none: unknown, ambiguous (naming the
// candidates) or withdrawn (naming the countries that took its place).
func Lookup(s string) (string, error) {
	idx := countries()
	if code, ok := idx.exact[s]; ok {
		return code, nil
	}
	s = strings.TrimSpace(s)
	if code, ok := idx.exact[strings.ToLower(s)]; ok {
		return code, nil
	}
	e := idx.keys[countryKey(s)]
	for _, v := range nameVariants(s)[1:] {
		if e != nil {
			break
		}
		e = idx.keys[countryKey(v)] // "Slovakia (Slovak Republic)": its name without the brackets
	}
	switch {
	case e == nil:
		return "", fmt.Errorf("%w %q (want an ISO 3166 code such as FR or a name such as France, or map it in source.values)", ErrUnknown, s)
	case e.withdrawn != "":
		return "", fmt.Errorf("%w %q: no longer in ISO 3166-1 (%s); write one of %s", ErrWithdrawn, s, e.withdrawn, idx.describe(e.codes))
	case len(e.codes) > 1:
		return "", fmt.Errorf("%w %q: it may be %s; write the code or map it in source.values", ErrAmbiguous, s, idx.describe(e.codes))
	}
	return e.codes[0], nil
}

// describe writes codes as "CW (Curaçao), SX (Sint Maarten)".
func (idx *countryIndex) describe(codes []string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = fmt.Sprintf("%s (%s)", c, idx.names[c])
	}
	return strings.Join(out, ", ")
}

func buildCountryIndex() *countryIndex {
	idx := &countryIndex{keys: map[string]*countryEntry{}, exact: map[string]string{}, names: map[string]string{}}
	for _, r := range isoRegions() {
		code := r.String()
		idx.names[code] = display.English.Regions().Name(r)
		idx.addExact(code, code) // codes are compared as written or in lower case ("fr"), never by key
		if a3 := r.ISO3(); len(a3) == 3 && a3 != "ZZZ" {
			idx.addExact(a3, code)
		}
		idx.addName(display.English.Regions().Name(r), code, 1)
		if n, ok := isoShortNames[code]; ok {
			idx.addName(n, code, 1)
		}
		for _, t := range countryLanguages {
			idx.addName(display.Regions(t).Name(r), code, 2)
		}
	}
	for alias, code := range countryAliases {
		idx.addExact(alias, code)
		idx.add(alias, code, 0)
	}
	for _, w := range countryWithdrawn {
		for _, n := range w.names {
			delete(idx.exact, n)
			delete(idx.exact, strings.ToLower(n))
			delete(idx.exact, strings.ToUpper(n))
			idx.keys[countryKey(n)] = &countryEntry{codes: w.now, withdrawn: w.note}
		}
	}
	return idx
}

// isoRegions are the regions x/text knows as countries under their
// current code.
func isoRegions() []language.Region {
	var out []language.Region
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			r, err := language.ParseRegion(code)
			if err != nil || !r.IsCountry() || r.String() != code || r.Canonicalize() != r {
				continue // not a country, or a code withdrawn (DD, FX, SU…)
			}
			if display.English.Regions().Name(r) == "" {
				continue // reserved, no longer named (AN, CS, YU)
			}
			out = append(out, r)
		}
	}
	return out
}

// addExact records a spelling read without computing its key: the code as
// is, the name as written, in upper and lower case.
func (idx *countryIndex) addExact(s, code string) {
	for _, v := range []string{s, strings.ToUpper(s), strings.ToLower(s)} {
		if _, ok := idx.exact[v]; !ok {
			idx.exact[v] = code
		}
	}
}

// addName adds a name, its variants without parenthesised parts and
// turned around ("Korea, Republic of" → "Republic of Korea").
func (idx *countryIndex) addName(name, code string, level int) {
	if name == "" {
		return
	}
	if level == 1 {
		idx.addExact(name, code)
	}
	for _, v := range nameVariants(name) {
		idx.add(v, code, level)
	}
}

// nameVariants returns a name, the name without its parenthesised and
// bracketed parts, and, for "X (Y of)" and "X, Y of", "Y of X".
func nameVariants(name string) []string {
	out := []string{name}
	bare := name
	for _, p := range [][2]string{{"(", ")"}, {"[", "]"}} {
		for {
			i := strings.Index(bare, p[0])
			j := strings.Index(bare, p[1])
			if i < 0 || j < i {
				break
			}
			inner := strings.TrimSpace(bare[i+1 : j])
			head := strings.TrimSpace(bare[:i])
			if strings.HasSuffix(inner, " of") || strings.HasSuffix(inner, " of the") {
				out = append(out, inner+" "+head)
			}
			bare = head + " " + strings.TrimSpace(bare[j+1:])
		}
	}
	if head, tail, ok := strings.Cut(bare, ", "); ok {
		out = append(out, head)
		if strings.HasSuffix(tail, " of") {
			out = append(out, tail+" "+head)
		}
	}
	return append(out, bare)
}

// add makes key(name) name code on a level; a key already named on a
// better level keeps its name, one named on the same level by another
// code becomes ambiguous.
func (idx *countryIndex) add(name, code string, level int) {
	k := countryKey(name)
	if k == "" {
		return
	}
	e := idx.keys[k]
	switch {
	case e == nil || level < e.level:
		idx.keys[k] = &countryEntry{codes: []string{code}, level: level}
	case level == e.level && !slices.Contains(e.codes, code):
		e.codes = append(e.codes, code)
	}
}

// countryKey is what a country's name is compared by: its words, lower
// case, without accents or punctuation, joined without spaces; "the" is
// left out, "st" is "saint", "ste" is "sainte", and "&" or the word for
// "and" of the languages read is "and".
func countryKey(s string) string {
	var words []string
	var w strings.Builder
	flush := func() {
		if w.Len() == 0 {
			return
		}
		word := w.String()
		w.Reset()
		switch word {
		case "the":
			return
		case "st":
			word = "saint"
		case "ste":
			word = "sainte"
		case "und", "et", "y", "e", "en", "i", "och", "og", "ja":
			word = "and"
		}
		words = append(words, word)
	}
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == '\'' || r == '’':
		case r == '&':
			flush()
			words = append(words, "and")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			w.WriteString(foldLetter(unicode.ToLower(r)))
		default:
			flush()
		}
	}
	flush()
	return strings.Join(words, "")
}

// foldLetter writes the letters that do not decompose in ASCII.
func foldLetter(r rune) string {
	switch r {
	case 'ß':
		return "ss"
	case 'æ':
		return "ae"
	case 'œ':
		return "oe"
	case 'ø':
		return "o"
	case 'ł':
		return "l"
	case 'đ':
		return "d"
	case 'ı':
		return "i"
	}
	return string(r)
}

// Tables is the package's own tables as text: the aliases, the short
// names and the withdrawn codes. The mapping's row sums are salted with
// it (mapping/rowsum.go), so a change to one changes every sum.
func Tables() string {
	return fmt.Sprintf("%v\n%v\n%v\n", countryAliases, isoShortNames, countryWithdrawn)
}
