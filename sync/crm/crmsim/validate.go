package crmsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"erpsync/sync/crm"
)

// params are the parameters of a create, update or upsert, as text, with
// an optional image.
type params struct {
	values map[string]string
	image  *crm.Image
}

func newParams(v map[string]string) *params { return &params{values: v} }

func (p *params) get(k string) string { return p.values[k] }
func (p *params) lookup(k string) (string, bool) {
	v, ok := p.values[k]
	return v, ok
}

// Parameters each call accepts (reference sections 11.3, 11.4, 11.5).
var (
	upsertParams = []string{
		"name", "barcode", "isActive", "categoryId", "isSubCustomer", "parentCustomer", "billWithParent",
		"customerSegmentationId", "userId", "isSameAddress", "billingCountry", "billingCity",
		"billingPostalCode", "billingAddress", "billingLat", "billingLng", "country", "city", "postalCode",
		"address", "latitude", "longitude", "email", "phone", "mobile", "fax", "comment", "website",
		"creditLimit", "dueDateConfigNumber", "dueDateConfigType", "taxNumber", "companyRegistrationNumber",
		"currency", "imageFile", "paymentTypes", "regionId", "customerRisk", "customerRiskColor", "onHold",
		"onHoldReason",
	}
	createParams = append([]string{"reference", "reference2", "useExternalId"}, upsertParams...)
	// The reference does not list useExternalId for update; crmsim takes it
	// there too, as create does.
	updateParams = createParams
)

// unknownParams returns the parameters outside allowed, sorted.
func unknownParams(given []string, allowed []string) []string {
	var bad []string
	for _, k := range given {
		if !slices.Contains(allowed, k) {
			bad = append(bad, k)
		}
	}
	slices.Sort(bad)
	return slices.Compact(bad)
}

// Text fields: empty text clears them (stored as null).
var textFields = map[string]func(*crm.Customer) **string{
	"reference2":                func(c *crm.Customer) **string { return &c.Reference2 },
	"barcode":                   func(c *crm.Customer) **string { return &c.Barcode },
	"billingCountry":            func(c *crm.Customer) **string { return &c.BillingCountry },
	"billingCity":               func(c *crm.Customer) **string { return &c.BillingCity },
	"billingPostalCode":         func(c *crm.Customer) **string { return &c.BillingPostalCode },
	"billingAddress":            func(c *crm.Customer) **string { return &c.BillingAddress },
	"country":                   func(c *crm.Customer) **string { return &c.Country },
	"city":                      func(c *crm.Customer) **string { return &c.City },
	"postalCode":                func(c *crm.Customer) **string { return &c.PostalCode },
	"address":                   func(c *crm.Customer) **string { return &c.Address },
	"email":                     func(c *crm.Customer) **string { return &c.Email },
	"phone":                     func(c *crm.Customer) **string { return &c.Phone },
	"mobile":                    func(c *crm.Customer) **string { return &c.Mobile },
	"fax":                       func(c *crm.Customer) **string { return &c.Fax },
	"comment":                   func(c *crm.Customer) **string { return &c.Comment },
	"website":                   func(c *crm.Customer) **string { return &c.Website },
	"taxNumber":                 func(c *crm.Customer) **string { return &c.TaxNumber },
	"companyRegistrationNumber": func(c *crm.Customer) **string { return &c.CompanyRegistrationNumber },
	"customerRisk":              func(c *crm.Customer) **string { return &c.CustomerRisk },
	"customerRiskColor":         func(c *crm.Customer) **string { return &c.CustomerRiskColor },
	"onHoldReason":              func(c *crm.Customer) **string { return &c.OnHoldReason },
}

// Double fields: empty text clears them.
var doubleFields = map[string]func(*crm.Customer) **float64{
	"billingLat":  func(c *crm.Customer) **float64 { return &c.BillingLat },
	"billingLng":  func(c *crm.Customer) **float64 { return &c.BillingLng },
	"latitude":    func(c *crm.Customer) **float64 { return &c.Latitude },
	"longitude":   func(c *crm.Customer) **float64 { return &c.Longitude },
	"creditLimit": func(c *crm.Customer) **float64 { return &c.CreditLimit },
}

// Boolean fields and their defaults (what empty text sets).
var boolFields = map[string]struct {
	field func(*crm.Customer) *bool
	def   bool
}{
	"isActive":       {func(c *crm.Customer) *bool { return &c.IsActive }, true},
	"billWithParent": {func(c *crm.Customer) *bool { return &c.BillWithParent }, false},
	"isSameAddress":  {func(c *crm.Customer) *bool { return &c.IsSameAddress }, true},
	"onHold":         {func(c *crm.Customer) *bool { return &c.OnHold }, false},
}

// maxImageSize is the reference's limit: "image size should not exceed 2Mo".
const maxImageSize = 2 << 20

// apply validates p and writes it into c, in the reference's order of the
// parameters. On error c may be half-changed: callers apply to a copy.
func (s *Store) apply(c *crm.Customer, p *params, m mode, baseURL string) *apiError {
	external, err := externalIDs(p, m)
	if err != nil {
		return err
	}
	if err := applyIdentity(c, p, m); err != nil {
		return err
	}
	if err := applyScalars(c, p); err != nil {
		return err
	}
	if err := s.applyDueDate(c, p); err != nil {
		return err
	}
	if v, ok := p.lookup("currency"); ok {
		if err := s.applyCurrency(c, v); err != nil {
			return err
		}
	}
	if err := s.applyRelations(c, p, external); err != nil {
		return err
	}
	if v, ok := p.lookup("paymentTypes"); ok {
		pts, err := s.parsePaymentTypes(v)
		if err != nil {
			return err
		}
		c.PaymentTypes = pts
	}
	if err := s.applyRegion(c, p); err != nil {
		return err
	}
	if p.image != nil {
		return s.applyImage(c, p.image, baseURL)
	}
	return nil
}

// externalIDs tells whether related records are named by reference: always
// for upsert, with useExternalId=true for create and update.
func externalIDs(p *params, m mode) (bool, *apiError) {
	if m == modeUpsert {
		return true, nil
	}
	v, ok := p.lookup("useExternalId")
	if !ok {
		return false, nil
	}
	return parseBool("useExternalId", v, false)
}

// applyIdentity sets the reference (create and update) and the name, which
// a customer must end up with.
func applyIdentity(c *crm.Customer, p *params, m mode) *apiError {
	if v, ok := p.lookup("reference"); ok && m != modeUpsert {
		if v == "" {
			return errMissing("reference")
		}
		c.Reference = v
	}
	if v, ok := p.lookup("name"); ok {
		c.Name = v
	}
	if c.Name == "" {
		return errMissing("name")
	}
	return nil
}

// applyScalars sets the text, double and boolean fields, in the reference's
// order, so that the first bad parameter named is always the same one.
func applyScalars(c *crm.Customer, p *params) *apiError {
	for _, k := range createParams {
		v, ok := p.lookup(k)
		if !ok {
			continue
		}
		if field, isText := textFields[k]; isText {
			*field(c) = nullable(v)
		}
		if field, isDouble := doubleFields[k]; isDouble {
			f, err := parseDouble(k, v)
			if err != nil {
				return err
			}
			*field(c) = f
		}
		if bf, isBool := boolFields[k]; isBool {
			b, err := parseBool(k, v, bf.def)
			if err != nil {
				return err
			}
			*bf.field(c) = b
		}
	}
	return nil
}

// applyRegion sets the region by numeric id; the parameter is ignored when
// the organization has no geographical locations.
func (s *Store) applyRegion(c *crm.Customer, p *params) *apiError {
	v, ok := p.lookup("regionId")
	if !ok || !s.seed.Organization.GeographicalLocations {
		return nil
	}
	if v == "" {
		c.Region.Value = nil
		return nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return errType("regionId")
	}
	r := s.region(id)
	if r == nil {
		return errNotFound(fmt.Sprintf("The region with the id %s doesn't exist.", v))
	}
	c.Region.Value = &crm.Region{ID: r.ID, Name: r.Name}
	return nil
}

func (s *Store) applyDueDate(c *crm.Customer, p *params) *apiError {
	if v, ok := p.lookup("dueDateConfigNumber"); ok {
		if v == "" {
			c.DueDateConfigNumber = nil
		} else {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return errType("dueDateConfigNumber")
			}
			c.DueDateConfigNumber = &n
		}
	}
	v, ok := p.lookup("dueDateConfigType")
	if !ok {
		return nil
	}
	if v == "" {
		c.DueDateConfigType = nil
		return nil
	}
	var name string
	switch strings.ToLower(v) {
	case "1", strings.ToLower(crm.DueDaysAfterInvoiceDate):
		name = crm.DueDaysAfterInvoiceDate
	case "2", strings.ToLower(crm.DueDaysAfterEndOfInvoiceMonth):
		name = crm.DueDaysAfterEndOfInvoiceMonth
	default:
		return errType("dueDateConfigType")
	}
	if c.DueDateConfigNumber == nil {
		return errMissing("dueDateConfigNumber")
	}
	c.DueDateConfigType = &name
	return nil
}

func (s *Store) applyCurrency(c *crm.Customer, code string) *apiError {
	if code == "" {
		c.Currency = s.seed.Organization.DefaultCurrency
		return nil
	}
	for _, cur := range s.seed.Currencies {
		if cur.Code == code {
			if !cur.Configured {
				return errNotFound(fmt.Sprintf("The currency with name %s is not configured.", code))
			}
			c.Currency = code
			return nil
		}
	}
	return errNotFound(fmt.Sprintf("The currency with name %s doesn't exist.", code))
}

// applyRelations sets category, segmentation, creator and parent, named by
// numeric id or, when external, by reference.
func (s *Store) applyRelations(c *crm.Customer, p *params, external bool) *apiError {
	if v, ok := p.lookup("categoryId"); ok {
		if v == "" {
			s.setCategory(c, s.rootCategory())
		} else {
			cat := findRef(s.seed.CustomerCategories, v, external, func(x Category) (int64, string) { return x.ID, x.Reference })
			if cat == nil {
				if !external && !isInt(v) {
					return errType("categoryId")
				}
				return errNotFound(fmt.Sprintf("The customer category with the id %s doesn't exist.", v))
			}
			s.setCategory(c, cat)
		}
	}
	if v, ok := p.lookup("customerSegmentationId"); ok {
		if v == "" {
			c.CustomerSegmentationReference, c.CustomerSegmentation = nil, nil
		} else {
			seg := findRef(s.seed.CustomerSegmentations, v, external, func(x Segmentation) (int64, string) { return x.ID, x.Reference })
			if seg == nil {
				if !external && !isInt(v) {
					return errType("customerSegmentationId")
				}
				return errNotFound(fmt.Sprintf("The customer segmentation with the id %s doesn't exist.", v))
			}
			ref := seg.Reference
			c.CustomerSegmentationReference = &ref
			c.CustomerSegmentation = &crm.Segmentation{ID: seg.ID, Reference: seg.Reference, Name: seg.Name}
		}
	}
	if v, ok := p.lookup("userId"); ok {
		if v == "" {
			c.CreatedBy = nil
		} else {
			u := findRef(s.seed.Users, v, external, func(x User) (int64, string) { return x.ID, x.Reference })
			if u == nil {
				if !external && !isInt(v) {
					return errType("userId")
				}
				return errNotFound(fmt.Sprintf("The user with the id %s doesn't exist.", v))
			}
			c.CreatedBy = &crm.User{UserID: u.ID, Reference: u.Reference}
		}
	}
	return s.applyParent(c, p, external)
}

func (s *Store) applyParent(c *crm.Customer, p *params, external bool) *apiError {
	if v, ok := p.lookup("parentCustomer"); ok {
		if v == "" {
			c.ParentCustomer = nil
		} else {
			var parent *crm.Customer
			if external && !(s.parentDigitsID && isDigits(v)) {
				parent = s.byRef[s.refKey(v)]
			} else {
				id, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return errType("parentCustomer")
				}
				parent = s.byID[id]
			}
			if (parent != nil && c.ID != 0 && parent.ID == c.ID) || (parent == nil && s.refKey(v) == s.refKey(c.Reference) && external) {
				return errNotFound("The customer cannot be a subcustomer of itself.")
			}
			if parent == nil {
				return errNotFound(fmt.Sprintf("The parent customer with the id %s doesn't exist.", v))
			}
			if c.ID != 0 && s.isAncestor(c.ID, parent) {
				return errSaveFailed()
			}
			c.ParentCustomer = &crm.CustomerLink{ID: parent.ID, Reference: parent.Reference}
		}
	}
	sub := c.ParentCustomer != nil
	if v, ok := p.lookup("isSubCustomer"); ok && v != "" {
		b, err := parseBool("isSubCustomer", v, false)
		if err != nil {
			return err
		}
		if b && c.ParentCustomer == nil {
			return errMissing("parentCustomer")
		}
		if !b {
			c.ParentCustomer = nil
		}
		sub = b
	}
	c.IsSubCustomer = sub
	return nil
}

// isAncestor reports whether id is parent, or an ancestor of parent.
func (s *Store) isAncestor(id int64, parent *crm.Customer) bool {
	for p, hops := parent, 0; p != nil && hops <= len(s.byID); hops++ {
		if p.ID == id {
			return true
		}
		if p.ParentCustomer == nil {
			return false
		}
		p = s.byID[p.ParentCustomer.ID]
	}
	return false
}

// parsePaymentTypes takes JSON ([{"id":7},{"id":8}]) and the reference's
// own form ([{"id"=7},{"id"=8}]).
func (s *Store) parsePaymentTypes(v string) ([]crm.PaymentType, *apiError) {
	out := []crm.PaymentType{}
	if strings.TrimSpace(v) == "" {
		return out, nil
	}
	var items []struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(v, `"id"=`, `"id":`)), &items); err != nil {
		return nil, errTypeText("payment type id")
	}
	seen := map[int64]bool{}
	for _, it := range items {
		raw := strings.Trim(string(it.ID), `"`)
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, errTypeText("payment type id")
		}
		pt := s.paymentType(id)
		if pt == nil {
			return nil, errNotFound(fmt.Sprintf("The payment type with the id %d doesn't exist.", id))
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, crm.PaymentType{ID: pt.ID, Reference: pt.Reference, Name: pt.Name})
		}
	}
	return out, nil
}

func (s *Store) applyImage(c *crm.Customer, img *crm.Image, baseURL string) *apiError {
	if len(img.Content) > maxImageSize {
		return &apiError{http.StatusBadRequest, crm.CodeExceededFileSize, "image size should not exceed 2Mo"}
	}
	if !supportedImage(img.Content) {
		return &apiError{http.StatusBadRequest, crm.CodeUnsupportedFileType, "image format not supported."}
	}
	logo := baseURL + s.photoPath() + imageName(img)
	if c.Logo == nil || *c.Logo != logo {
		c.Logo = &logo
	}
	return nil
}

// supportedImage judges by content: jpg, gif, png or bmp.
func supportedImage(b []byte) bool {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return true
	case len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return true
	case len(b) >= 6 && (string(b[:6]) == "GIF87a" || string(b[:6]) == "GIF89a"):
		return true
	case len(b) >= 2 && string(b[:2]) == "BM":
		return true
	}
	return false
}

func sanitizeFilename(name string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	var b strings.Builder
	for _, r := range name {
		if r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "image"
	}
	return b.String()
}

func (s *Store) paymentType(id int64) *PaymentType {
	for i := range s.seed.PaymentTypes {
		if s.seed.PaymentTypes[i].ID == id {
			return &s.seed.PaymentTypes[i]
		}
	}
	return nil
}

func (s *Store) region(id int64) *Region {
	for i := range s.seed.Regions {
		if s.seed.Regions[i].ID == id {
			return &s.seed.Regions[i]
		}
	}
	return nil
}

// findRef finds an item by reference (external) or by numeric id.
func findRef[T any](items []T, v string, external bool, key func(T) (int64, string)) *T {
	for i := range items {
		id, ref := key(items[i])
		if external && ref == v || !external && strconv.FormatInt(id, 10) == v {
			return &items[i]
		}
	}
	return nil
}

func isInt(v string) bool { _, err := strconv.ParseInt(v, 10, 64); return err == nil }

func nullable(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

func parseBool(name, v string, def bool) (bool, *apiError) {
	switch v {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errType(name)
}

func parseDouble(name, v string) (*float64, *apiError) {
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != f || f > 1e15 || f < -1e15 {
		return nil, errType(name)
	}
	return &f, nil
}
