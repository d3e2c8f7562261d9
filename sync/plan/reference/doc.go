// Package reference says what a customer's reference may be: Check
// refuses one that cannot name one customer in the API's paths; Fold is
// the reference as a CRM comparing loosely sees it (case, accents,
// trailing spaces: issue 21 §5); DigitsOnly spots a parent reference a
// CRM may read as an id.
//
// It knows no plan: sync/plan turns what it says into row errors and
// warnings. It imports only mapping (mapping.Excerpt).
package reference
