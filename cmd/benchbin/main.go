// Command benchbin measures the import and the plan through the
// binaries, side by side in one run (issue 25 §3), and prints a table:
//
//   - the raw upsert rate (`genexport -raw`) into a fresh crmsim process,
//     and `erpsync import` of the same export into another fresh one,
//     pair after pair, the order alternating: the import's rate as a
//     share of the raw rate of its pair, and the import's peak RSS;
//   - the first `run` of day 1 after the last import, and a second one
//     past the first's lookback (so that the plans' window holds none of
//     the import's writes, as a night later), each with its requests;
//   - then, on that checkpoint and crmsim, `plan` of day 2 beside the
//     floor (`genexport -floor` of day 2) and csvdiff of day 1 → day 2,
//     round after round, the order rotating: the plan's time as a
//     multiple of each, its peak RSS, and the requests a plan sent.
//
// Every figure is read from the child processes (wall time, and rusage:
// CPU and Maxrss), never from benchbin itself. Servers listen on
// 127.0.0.1 only.
//
//	go run ./cmd/benchbin -rows 1000000 -day1 testdata/large/day1.csv -day2 testdata/large/day2.csv
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	var o options
	flag.IntVar(&o.rows, "rows", 200_000, "rows of the generated exports (ignored with -day1 and -day2)")
	flag.StringVar(&o.day1, "day1", "", "day-1 export in genexport's format (default: generated into -dir)")
	flag.StringVar(&o.day2, "day2", "", "day-2 export in genexport's format (default: generated into -dir)")
	flag.StringVar(&o.dir, "dir", "", "work folder: binaries, exports, checkpoints, logs (default: a new temporary one)")
	flag.StringVar(&o.bin, "bin", "", "folder holding erpsync, crmsim and genexport (default: built from the module in the current folder into -dir)")
	flag.IntVar(&o.pairs, "pairs", 2, "raw rate and import pairs")
	flag.IntVar(&o.plans, "plans", 3, "rounds of floor, plan and csvdiff")
	flag.IntVar(&o.concurrency, "concurrency", 8, "crm.concurrency of the import, and requests at once of the raw rate")
	flag.StringVar(&o.before, "before", "", "another erpsync binary (the code before a change): its plan of day 2 runs in each round too, the order rotating")
	flag.StringVar(&o.planConfig, "plan-config", "", "an erpsync config whose checkpoint and CRM (running) the plan rounds use: no raw rate, no import, no run")
	flag.StringVar(&o.simGOGC, "sim-gogc", "", "GOGC of the crmsims (default: the runtime's, 100); the import and the raw client keep theirs")
	flag.StringVar(&o.csvdiff, "csvdiff", "", "csvdiff binary (default: csvdiff on PATH, else $HOME/go/bin/csvdiff; none: left out)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchbin:", err)
		os.Exit(1)
	}
}
