package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
)

// DemoCommand starts crmsim in-process on a free loopback port and walks
// through the Customers API with the typed client: the documented upsert
// by reference, a sub-customer, a listing, the errors the API answers, and
// deletes. (The full sync tour replaces it once the sync exists.)
type DemoCommand struct {
	Stdout io.Writer
}

// Run runs the demo.
func (c *DemoCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	sim := crmsim.NewDefault()
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	c.printf("crmsim (the CRM simulator) is listening on %s/api/v1.0/customers\n\n", base)

	client, err := crm.NewClient(crm.Config{BaseURL: base})
	if err != nil {
		return err
	}
	defer client.Close()

	c.printf("1. Upsert by reference, the reference's example (POST /customers/reference/NC-3):\n")
	nc3, err := client.Upsert(ctx, "NC-3", crm.NewForm().
		Set("name", "Marie's Jewelry").Set("categoryId", "jewelry").Set("customerSegmentationId", "seg_a").
		Set("userId", "emp-002").Set("billingCountry", "FR").Set("billingCity", "Nice").
		Set("billWithParent", "true").Set("creditLimit", "5000").
		Set("dueDateConfigType", "1").Set("dueDateConfigNumber", "7").
		Set("paymentTypes", crm.PaymentTypesJSON([]int64{7, 8})).Set("regionId", "3"))
	if err != nil {
		return err
	}
	c.printf("   id %d, %s %q, category %s, credit limit %v %s, due %d %s, lastUpdated %s\n\n",
		nc3.ID, nc3.Reference, nc3.Name, nc3.CustomerCategory.Reference, *nc3.CreditLimit, nc3.Currency,
		*nc3.DueDateConfigNumber, *nc3.DueDateConfigType, nc3.LastUpdated)

	c.printf("2. A sub-customer names its parent by reference:\n")
	shop, err := client.Upsert(ctx, "NC-3-NICE", crm.NewForm().Set("name", "Marie's Jewelry, Nice shop").
		Set("parentCustomer", "NC-3").Set("currency", "USD"))
	if err != nil {
		return err
	}
	c.printf("   %s: isSubCustomer=%v, parent %s (%s)\n\n", shop.Reference, shop.IsSubCustomer,
		shop.ParentCustomer.Reference, shop.ParentCustomer.Href)

	c.printf("3. The same upsert again changes nothing, so lastUpdated stays %s.\n\n", nc3.LastUpdated)
	if _, err := client.Upsert(ctx, "NC-3", crm.NewForm().Set("name", "Marie's Jewelry")); err != nil {
		return err
	}

	c.printf("4. List, every page (GET /customers?sort=lastUpdated&order=asc&max=1):\n")
	for cu, err := range client.List(ctx, crm.ListQuery{Sort: "lastUpdated", Order: "asc", Max: 1}) {
		if err != nil {
			return err
		}
		c.printf("   %-10s %-28q lastUpdated %s\n", cu.Reference, cu.Name, cu.LastUpdated)
	}

	c.printf("\n5. The API's documented errors, as typed errors:\n")
	_, err = client.Upsert(ctx, "NC-4", crm.NewForm().Set("name", "Pounds").Set("currency", "GBP"))
	c.printf("   currency GBP:         %v\n", err)
	err = client.DeleteByReference(ctx, "NC-3")
	c.printf("   delete a parent:      %v\n", err)
	_, err = client.ShowByReference(ctx, "NC-404")
	c.printf("   show a missing one:   %v (IsNotFound=%v)\n", err, crm.IsNotFound(err))

	c.printf("\n6. Deletes by reference, sub-customer first:\n")
	for _, ref := range []string{"NC-3-NICE", "NC-3"} {
		if err := client.DeleteByReference(ctx, ref); err != nil {
			return err
		}
		c.printf("   deleted %s\n", ref)
	}

	st := client.Stats()
	c.printf("\nRequests the simulator counted (GET /_sim/stats): %v\n", sim.Stats())
	c.printf("Client: %d requests, %d retries, %d throttled.\n", st.Requests, st.Retries, st.Throttled)
	return nil
}

func (c *DemoCommand) printf(format string, args ...any) { fmt.Fprintf(c.Stdout, format, args...) }
