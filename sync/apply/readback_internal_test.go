package apply

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"testing"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim/simtest"
	"erpsync/sync/plan/plantest"
	"erpsync/sync/refresh"
)

// Guarantee: an upsert's answer is read back as it always was: readBack
// gives refresh.CRMValues of the customer's fields, and the values it
// returns to compare find the differences Differences finds between all
// that was sent and all the CRM holds (crmsim over loopback answers each
// write). When the CRM holds every value as the very text sent, nothing
// is held otherwise: the outcome's CRM values are its values pushed.
func TestReadBack_AsCRMValuesAndDifferences(t *testing.T) {
	client := readBackClient(t)
	known := &fieldAnswers{} // shared by the cases: each has other fields
	for _, tc := range []struct {
		name   string
		fields []string
		same   bool // held as sent, byte for byte
	}{
		{"held as sent", []string{"email=a@example.com", "billingCountry=DE", "creditLimit=5000.5", "onHold=true"}, true},
		{"cleared values held as the CRM clears them", []string{"email=", "creditLimit=", "onHold="}, false},
		{"a category by reference, read back as one", []string{"categoryId=jewelry"}, true},
		{"a number stored otherwise", []string{"dueDateConfigNumber=030"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := plantest.Cust(2, "RB-"+tc.name, tc.fields...).Customer
			got, err := client.Upsert(context.Background(), c.Reference, crm.UpsertForm(c))
			if err != nil {
				t.Fatal(err)
			}
			values := c.Fields()
			crmValues, other, held := readBackMaps(t, got, c, known)
			if again, _, _ := readBackMaps(t, got, c, known); !maps.Equal(again, crmValues) {
				t.Errorf("read back again by the answers kept: %v, want %v", again, crmValues)
			}
			want := refresh.CRMValues(got, c.FieldNames(), mapping.CountryCode)
			if !maps.Equal(crmValues, want) {
				t.Errorf("CRM values %v, want %v", crmValues, want)
			}
			if d, w := refresh.Differences(other, crmValues), refresh.Differences(values, want); !reflect.DeepEqual(d, w) {
				t.Errorf("differences %v, want %v", d, w)
			}
			if same := len(held) == 0; same != tc.same || (same && other != nil) {
				t.Errorf("the CRM holds every value as sent: %v (held %v, compared: %v), want %v", same, held, other, tc.same)
			}
			if !maps.Equal(values, c.Fields()) {
				t.Errorf("the values sent were changed: %v", values)
			}
		})
	}
}

// Guarantee: a value sent empty that the CRM holds as cleared (an empty
// onHold held as false: most rows of an export) is in the CRM's values
// as held, and not among the values to compare, which Differences would
// pass anyway: no map is made for it.
func TestReadBack_ClearedHeldAsClearedNotCompared(t *testing.T) {
	t.Parallel()
	client := readBackClient(t)
	c := plantest.Cust(2, "RB-cleared", "email=", "onHold=", "creditLimit=").Customer
	got, err := client.Upsert(context.Background(), c.Reference, crm.UpsertForm(c))
	if err != nil {
		t.Fatal(err)
	}
	crmValues, other, _ := readBackMaps(t, got, c, &fieldAnswers{})
	if want := refresh.CRMValues(got, c.FieldNames(), mapping.CountryCode); !maps.Equal(crmValues, want) {
		t.Errorf("CRM values %v, want %v", crmValues, want)
	}
	if crmValues["onHold"] != "false" {
		t.Errorf("onHold held as %q, want false", crmValues["onHold"])
	}
	if other != nil {
		t.Errorf("values to compare %v, want none: each is held as cleared", other)
	}
}

// Guarantee: a value the CRM holds otherwise than sent is compared, in
// the cleared domain too: onHold sent true and held false, an email sent
// empty and held as text, an email sent and held empty. The answer is
// another customer's (a CRM that stored something else than it was
// sent): the differences found are those Differences finds between all
// that was sent and all the CRM holds, and none is lost.
func TestReadBack_ClearedDomainDifferencesCompared(t *testing.T) {
	t.Parallel()
	client := readBackClient(t)
	for _, tc := range []struct {
		name         string
		stored, sent []string
		differ       []string // fields Differences must report
	}{
		{"onHold sent true, held false", []string{"onHold="}, []string{"onHold=true"}, []string{"onHold"}},
		{"email sent empty, held", []string{"email=kept@example.com"}, []string{"email="}, []string{"email"}},
		{"email sent, held empty", []string{"email="}, []string{"email=new@example.com"}, []string{"email"}},
		{"a credit limit cleared, held", []string{"creditLimit=250"}, []string{"creditLimit="}, []string{"creditLimit"}},
	} {
		stored := plantest.Cust(2, "RB-stored "+tc.name, tc.stored...).Customer
		got, err := client.Upsert(context.Background(), stored.Reference, crm.UpsertForm(stored))
		if err != nil {
			t.Fatal(err)
		}
		c := plantest.Cust(2, "RB-stored "+tc.name, tc.sent...).Customer
		values := c.Fields()
		crmValues, other, _ := readBackMaps(t, got, c, &fieldAnswers{})
		want := refresh.CRMValues(got, c.FieldNames(), mapping.CountryCode)
		if !maps.Equal(crmValues, want) {
			t.Errorf("%s: CRM values %v, want %v", tc.name, crmValues, want)
		}
		d, w := refresh.Differences(other, crmValues), refresh.Differences(values, want)
		if !reflect.DeepEqual(d, w) {
			t.Errorf("%s: differences %v, want %v", tc.name, d, w)
		}
		var fields []string
		for _, ch := range d {
			fields = append(fields, ch.Field)
		}
		if !reflect.DeepEqual(fields, tc.differ) {
			t.Errorf("%s: fields differing %v, want %v (values compared %v)", tc.name, fields, tc.differ, other)
		}
	}
}

// Guarantee: the answers readBack keeps by place serve a customer whose
// fields (sorted, with name) are a prefix of the last one's, a superset
// (places beyond the last one's), differ at the first place, or match
// for some places and then differ: its CRM values are refresh.CRMValues
// of its answer, whatever came before.
func TestReadBack_KeptAnswersOtherNames(t *testing.T) {
	t.Parallel()
	client := readBackClient(t)
	known := &fieldAnswers{}
	for i, fields := range [][]string{
		{"creditLimit=10", "email=a@example.com", "onHold=true"},                      // learnt
		{"creditLimit=11", "email=b@example.com"},                                     // a prefix: creditLimit, email, name
		{"creditLimit=", "email=c@example.com", "onHold=true", "phone=+49 1"},         // a superset of that
		{"billingCountry=DE", "creditLimit=20", "email=d@example.com", "onHold="},     // differs at the first place
		{"billingCountry=AT", "creditLimit=21", "email=e@example.com", "phone=+49 2"}, // four places, then another
		{"billingCountry=FR", "creditLimit=", "email=", "phone="},                     // the same names again
	} {
		c := plantest.Cust(2, fmt.Sprintf("RB-names-%d", i), fields...).Customer
		got, err := client.Upsert(context.Background(), c.Reference, crm.UpsertForm(c))
		if err != nil {
			t.Fatal(err)
		}
		values := c.Fields()
		crmValues, other, _ := readBackMaps(t, got, c, known)
		if want := refresh.CRMValues(got, c.FieldNames(), mapping.CountryCode); !maps.Equal(crmValues, want) {
			t.Errorf("%v: CRM values %v, want %v", fields, crmValues, want)
		}
		if d, w := refresh.Differences(other, crmValues), refresh.Differences(values, crmValues); !reflect.DeepEqual(d, w) {
			t.Errorf("%v: differences %v, want %v", fields, d, w)
		}
	}
}

// readBackMaps is readBack of c's answer got, its outcome's CRM values
// as a map (state.Outcome.Maps), which must keep c's values pushed.
func readBackMaps(t *testing.T, got *crm.Customer, c *mapping.Customer, known *fieldAnswers) (crmValues, other map[string]string, held []state.Held) {
	t.Helper()
	p, other := readBack(got, c, mapping.CountryCode, known)
	out := state.Outcome{Pushed: p}
	vals, crmValues := out.Maps()
	if !maps.Equal(vals, c.Fields()) {
		t.Errorf("values pushed %v, want %v", vals, c.Fields())
	}
	return crmValues, other, p.Held
}

// readBackClient is a client of a crmsim over loopback, one request at a
// time, no retry: each upsert's answer is what crmsim stored.
func readBackClient(t *testing.T) *crm.Client {
	t.Helper()
	sim := simtest.Serve(t, simtest.Setup{})
	client, err := crm.NewClient(crm.Config{BaseURL: sim.URL, Concurrency: 1, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	return client
}
