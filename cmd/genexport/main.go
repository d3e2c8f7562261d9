// Command genexport writes large synthetic ERP exports (day1.csv and
// day2.csv) for benchmarks and load tests; same seed, same files. Their
// mapping is configs/demo.yaml's. With -floor FILE it reads FILE the
// bare way instead and prints how long that took: the floor of the
// README's performance figures, measured beside the binaries. With -raw
// URL it sends plain upserts of an export's customers to the CRM at URL
// and prints their rate: the raw rate an import is compared to.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"erpsync/mapping/genexport"
)

func main() {
	var opt genexport.Options
	flag.IntVar(&opt.Rows, "rows", 100_000, "rows of day 1; with -raw, the upserts to send")
	flag.Uint64Var(&opt.Seed, "seed", 1, "seed")
	flag.Float64Var(&opt.Changed, "changed", 0.01, "share of rows changed on day 2")
	flag.Float64Var(&opt.Removed, "removed", 0.005, "share of rows removed on day 2")
	flag.Float64Var(&opt.Added, "added", 0.005, "share of rows added on day 2")
	out := flag.String("out", ".", "folder to write day1.csv and day2.csv into")
	floor := flag.String("floor", "", "read this export with bare encoding/csv and print the time (the floor that performance is measured against), instead of writing files")
	var raw rawOptions
	flag.StringVar(&raw.url, "raw", "", "send -rows plain upserts to the CRM at this base URL and print their rate (the raw rate an import is compared to), instead of writing files")
	flag.StringVar(&raw.file, "file", "", "with -raw: the export whose customers are sent (default: day1.csv in -out)")
	flag.IntVar(&raw.forms, "forms", 50_000, "with -raw: how many of the export's first customers are sent, round after round under new references")
	flag.IntVar(&raw.concurrency, "concurrency", 8, "with -raw: requests at once (the import's crm.concurrency)")
	flag.Parse()
	switch {
	case *floor != "":
		start := time.Now()
		n, err := genexport.FloorRead(*floor)
		if err != nil {
			fmt.Fprintln(os.Stderr, "genexport:", err)
			os.Exit(1)
		}
		fmt.Printf("floor read of %s: %d records in %.3f s\n", *floor, n, time.Since(start).Seconds())
		return
	case raw.url != "":
		if raw.file == "" {
			raw.file = *out + "/day1.csv"
		}
		raw.upserts = opt.Rows
		if err := raw.run(os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "genexport:", err)
			os.Exit(1)
		}
		return
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "genexport:", err)
		os.Exit(2)
	}
	d1, d2, err := genexport.WriteFiles(*out, opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genexport:", err)
		os.Exit(1)
	}
	fmt.Println(d1)
	fmt.Println(d2)
}
