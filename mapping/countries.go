package mapping

import "erpsync/mapping/country"

// CountryCode returns the ISO 3166-1 alpha-2 code of a country code or
// name, and whether there is one (mapping/country reads it).
func CountryCode(s string) (string, bool) { return country.Code(s) }
