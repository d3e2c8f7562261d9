package crmsim

// Seed is what the simulator starts with: the organization's settings and
// reference data, and optionally customers. `crmsim -seed FILE` reads it as
// JSON; testdata/crmsim/README.md documents the format.
type Seed struct {
	Organization          Organization   `json:"organization"`
	Currencies            []Currency     `json:"currencies"`
	CustomerCategories    []Category     `json:"customerCategories"`
	CustomerSegmentations []Segmentation `json:"customerSegmentations"`
	Users                 []User         `json:"users"`
	PaymentTypes          []PaymentType  `json:"paymentTypes"`
	Regions               []Region       `json:"regions"`
	// Customers are loaded as upserts by reference: each is the reference
	// and the upsert's parameters as text (e.g. "categoryId": "jewelry").
	Customers []map[string]string `json:"customers"`
}

// Organization holds the organization-wide settings.
type Organization struct {
	Name                  string `json:"name"`                  // e.g. entity1
	DefaultCurrency       string `json:"defaultCurrency"`       // used when a customer names none
	GeographicalLocations bool   `json:"geographicalLocations"` // when on, customers carry a region
}

// Currency is an ISO code; only configured ones (with an exchange rate)
// may be given to a customer.
type Currency struct {
	Code       string `json:"code"`
	Configured bool   `json:"configured"`
}

// Category is a customer category; the one with Root set is the default.
type Category struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Name      string `json:"name"`
	Root      bool   `json:"root,omitempty"`
}

// Segmentation is a customer segmentation.
type Segmentation struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Name      string `json:"name"`
}

// User is a user who may be named as a customer's creator.
type User struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
}

// PaymentType is a payment type.
type PaymentType struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Name      string `json:"name"`
}

// Region is a geographical region.
type Region struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// DefaultSeed is the built-in seed of ARCHITECTURE.md: the reference's
// examples and a few more, no customers.
func DefaultSeed() Seed {
	return Seed{
		Organization: Organization{Name: "entity1", DefaultCurrency: "EUR", GeographicalLocations: true},
		Currencies:   []Currency{{"EUR", true}, {"USD", true}, {"GBP", false}},
		CustomerCategories: []Category{
			{ID: 1, Reference: "root", Name: "Root", Root: true},
			{ID: 2, Reference: "jewelry", Name: "Jewelry and accessories"},
			{ID: 3, Reference: "retail", Name: "Retail"},
			{ID: 4, Reference: "wholesale", Name: "Wholesale"},
		},
		CustomerSegmentations: []Segmentation{
			{ID: 1, Reference: "seg_a", Name: "Segmentation A"},
			{ID: 2, Reference: "seg_b", Name: "Segmentation B"},
		},
		Users: []User{{ID: 2, Reference: "emp-002"}, {ID: 3, Reference: "emp-003"}},
		PaymentTypes: []PaymentType{
			{ID: 7, Reference: "cash", Name: "cash"},
			{ID: 8, Reference: "cheque", Name: "cheque"},
			{ID: 9, Reference: "transfer", Name: "transfer"},
		},
		Regions: []Region{{ID: 2, Name: "California"}, {ID: 3, Name: "New York"}},
	}
}
