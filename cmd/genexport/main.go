// Command genexport writes large synthetic ERP exports (day1.csv and
// day2.csv) for benchmarks and load tests; same seed, same files. Their
// mapping is configs/demo.yaml's. With -floor FILE it reads FILE the
// bare way instead and prints how long that took: the floor of the
// README's performance figures, measured beside the binaries.
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
	flag.IntVar(&opt.Rows, "rows", 100_000, "rows of day 1")
	flag.Uint64Var(&opt.Seed, "seed", 1, "seed")
	flag.Float64Var(&opt.Changed, "changed", 0.01, "share of rows changed on day 2")
	flag.Float64Var(&opt.Removed, "removed", 0.005, "share of rows removed on day 2")
	flag.Float64Var(&opt.Added, "added", 0.005, "share of rows added on day 2")
	out := flag.String("out", ".", "folder to write day1.csv and day2.csv into")
	floor := flag.String("floor", "", "read this export with bare encoding/csv and print the time (the floor that performance is measured against), instead of writing files")
	flag.Parse()
	if *floor != "" {
		start := time.Now()
		n, err := genexport.FloorRead(*floor)
		if err != nil {
			fmt.Fprintln(os.Stderr, "genexport:", err)
			os.Exit(1)
		}
		fmt.Printf("floor read of %s: %d records in %.3f s\n", *floor, n, time.Since(start).Seconds())
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
