package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// round is one floor, plan and csvdiff of day 2, in a rotating order.
type round struct {
	floor, plan, csvdiff measure // csvdiff's wall is 0 when it was left out
	before               measure // -before's plan; its wall is 0 without -before
	// The requests each plan sent, as benchbin's crmsim counted them; -1
	// with -plan-config (its CRM is not benchbin's).
	planReqs, beforeReqs int64
	load                 string // at the round's end
}

// counted runs step and returns the requests crmsim counted meanwhile:
// -1 when benchbin runs no crmsim (-plan-config).
func (b *bench) counted(ctx context.Context, step func() error) (int64, error) {
	if b.sim == nil {
		return -1, step()
	}
	before, err := b.sim.requests(ctx)
	if err != nil {
		return 0, err
	}
	if err := step(); err != nil {
		return 0, err
	}
	after, err := b.sim.requests(ctx)
	if err != nil {
		return 0, err
	}
	return sum(after) - sum(before), nil
}

// planRounds measures `plan` of day 2 on the last import's checkpoint
// and crmsim, beside the floor of day 2 and csvdiff of day 1 → day 2.
func (b *bench) planRounds(ctx context.Context) ([]round, error) {
	csvdiff, err := findCSVDiff(b.o.csvdiff)
	if err != nil {
		fmt.Fprintln(b.w, "\ncsvdiff not found (PATH, $HOME/go/bin, -csvdiff): its ratio is left out")
	}
	var rounds []round
	for k := range b.o.plans {
		var r round
		steps := []func() error{
			func() (err error) {
				r.floor, err = runChild(ctx, b.log("floor"), b.binary("genexport"), "-floor", b.o.day2)
				return err
			},
			func() (err error) {
				r.planReqs, err = b.counted(ctx, func() (err error) {
					r.plan, err = runChild(ctx, b.log("plan"), b.binary("erpsync"), "plan", "-config", b.config, "-file", b.o.day2)
					return err
				})
				return err
			},
			func() error {
				if csvdiff == "" {
					return nil
				}
				return b.csvdiff(ctx, csvdiff, &r.csvdiff)
			},
		}
		if b.o.before != "" {
			steps = append(steps, func() (err error) {
				r.beforeReqs, err = b.counted(ctx, func() (err error) {
					r.before, err = runChild(ctx, b.log("plan-before"), b.o.before, "plan", "-config", b.config, "-file", b.o.day2)
					return err
				})
				return err
			})
		}
		for j := range steps {
			if err := steps[(j+k)%len(steps)](); err != nil {
				return rounds, err
			}
		}
		r.load = loadAverage()
		rounds = append(rounds, r)
	}
	return rounds, nil
}

// csvdiff times csvdiff of day 1 → day 2 (as BenchmarkPlanDay2 runs it),
// its output discarded.
func (b *bench) csvdiff(ctx context.Context, bin string, m *measure) error {
	got, err := runChildTo(ctx, io.Discard, b.log("csvdiff"), bin, b.o.day1, b.o.day2, "-s", ";", "-o", "rowmark")
	*m = got
	if err != nil {
		return errors.Join(errors.New("csvdiff (give -csvdiff none to leave it out)"), err)
	}
	return nil
}

// printPlanRequests prints the requests each plan of the rounds sent (and
// each plan of -before): the counts and page checks a plan costs on a
// checkpoint a night old.
func printPlanRequests(w io.Writer, rounds []round) {
	if len(rounds) == 0 {
		return
	}
	if rounds[0].planReqs < 0 {
		fmt.Fprintln(w, "\nrequests of the plans: not counted with -plan-config (its CRM is not benchbin's crmsim)")
		return
	}
	list := func(of func(round) int64) string {
		var out []string
		for _, r := range rounds {
			out = append(out, strconv.FormatInt(of(r), 10))
		}
		return strings.Join(out, ", ")
	}
	fmt.Fprintf(w, "\nrequests a plan sent: %s", list(func(r round) int64 { return r.planReqs }))
	if rounds[0].before.wall > 0 {
		fmt.Fprintf(w, "; a plan before: %s", list(func(r round) int64 { return r.beforeReqs }))
	}
	fmt.Fprintln(w)
}

// printRounds prints the plan's table and its figures against issue 25
// §3's targets (≤ 3× the floor, ≤ 0.5× csvdiff, ≤ 150 MiB).
func printRounds(w io.Writer, rounds []round) {
	fmt.Fprintln(w, "\n| round | floor | plan | csvdiff | plan ÷ floor | plan ÷ csvdiff | plan CPU | plan peak RSS | csvdiff peak RSS | load after |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	var xFloor, xPeer []float64
	var peak int64
	for i, r := range rounds {
		peer, xp, peerRSS := "-", "-", "-"
		if r.csvdiff.wall > 0 {
			x := r.plan.wall.Seconds() / r.csvdiff.wall.Seconds()
			peer, xp, peerRSS = seconds(r.csvdiff.wall), fmt.Sprintf("%.2f×", x), mib(r.csvdiff.maxRSS)
			xPeer = append(xPeer, x)
		}
		xf := r.plan.wall.Seconds() / r.floor.wall.Seconds()
		xFloor, peak = append(xFloor, xf), max(peak, r.plan.maxRSS)
		fmt.Fprintf(w, "| %d | %s | %s | %s | %.2f× | %s | %s | %s | %s | %s |\n", i+1, seconds(r.floor.wall), seconds(r.plan.wall),
			peer, xf, xp, seconds(r.plan.cpu), mib(r.plan.maxRSS), peerRSS, r.load)
	}
	if len(rounds) == 0 {
		return
	}
	fmt.Fprintf(w, "\nplan ÷ floor: median %.2f× (target ≤ 3×)", median(xFloor))
	if len(xPeer) > 0 {
		fmt.Fprintf(w, "; plan ÷ csvdiff: median %.2f× (target ≤ 0.5×)", median(xPeer))
	}
	fmt.Fprintf(w, "; plan peak RSS: %s at most (target ≤ 150 MiB)\n", mib(peak))
}

// printBefore prints, with -before, each round's plan by the binary
// before beside the plan of this one, and the same ratios of both.
func printBefore(w io.Writer, rounds []round) {
	if len(rounds) == 0 || rounds[0].before.wall == 0 {
		return
	}
	fmt.Fprintln(w, "\n| round | plan before | plan | plan ÷ before | before ÷ floor | before ÷ csvdiff | before CPU | plan CPU | before peak RSS | plan peak RSS | load after |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	var xBefore, xFloor, xPeer []float64
	for i, r := range rounds {
		xb, xf := r.plan.wall.Seconds()/r.before.wall.Seconds(), r.before.wall.Seconds()/r.floor.wall.Seconds()
		xBefore, xFloor = append(xBefore, xb), append(xFloor, xf)
		xp := "-"
		if r.csvdiff.wall > 0 {
			x := r.before.wall.Seconds() / r.csvdiff.wall.Seconds()
			xp, xPeer = fmt.Sprintf("%.2f×", x), append(xPeer, x)
		}
		fmt.Fprintf(w, "| %d | %s | %s | %.2f× | %.2f× | %s | %s | %s | %s | %s | %s |\n", i+1, seconds(r.before.wall), seconds(r.plan.wall),
			xb, xf, xp, seconds(r.before.cpu), seconds(r.plan.cpu), mib(r.before.maxRSS), mib(r.plan.maxRSS), r.load)
	}
	fmt.Fprintf(w, "\nplan ÷ plan before: median %.2f×; before ÷ floor: median %.2f×", median(xBefore), median(xFloor))
	if len(xPeer) > 0 {
		fmt.Fprintf(w, "; before ÷ csvdiff: median %.2f×", median(xPeer))
	}
	fmt.Fprintln(w)
}
