package sync_test

// The curve of issue 25 §5: a plan and a steady run at 250,000, 1,000,000
// and (opt-in) 4,000,000 managed customers, each over a checkpoint built
// directly from its day-1 export (no import), written as a table and a
// small SVG chart for the README.

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
	"erpsync/state/sqlite"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/internal/benchkit"
	"erpsync/sync/plan"
)

// curveSizes are the managed customers of BenchmarkCurve: 4,000,000 only
// with BENCH_CURVE_4M=1 (an 800 MB export and a 3.8 GB checkpoint, built
// once, then some minutes a size on 2 cores).
func curveSizes() []int {
	sizes := []int{250_000, 1_000_000}
	if os.Getenv("BENCH_CURVE_4M") != "" {
		sizes = append(sizes, 4_000_000)
	}
	return sizes
}

// curveCheckpoint returns the exports of n rows (genexport.LargeOptions
// otherwise) and a checkpoint holding day 1 as if it had been pushed,
// built directly (mapping read, one writer) once into testdata/large.
func curveCheckpoint(b *testing.B, m *mapping.Mapping, n int) (string, string, *sqlite.DB) {
	if n == genexport.LargeOptions.Rows {
		return day1Checkpoint(b, m)
	}
	opt := genexport.LargeOptions
	opt.Rows = n
	dir := filepath.Join("..", "testdata", "large", fmt.Sprintf("curve-%d", n))
	d1, d2, err := genexport.Ensure(dir, opt)
	if err != nil {
		b.Fatal(err)
	}
	return d1, d2, benchkit.Checkpoint(b, m, filepath.Join(dir, "day1.db"), d1)
}

// curvePoint is one size's figures.
type curvePoint struct {
	n                int
	floor, pl, ready time.Duration // the bare read of day 2, its plan, a steady run of day 1
	planPeak         float64       // bytes
}

// BenchmarkCurve plans day 2 and makes a steady run of day 1 at each of
// curveSizes, and reports per size: the plan's and the steady run's time
// as multiples of the bare read of the same file (x-floor), the plan's
// peak RSS against 64 MiB + 64 bytes a managed customer, and the times
// at the largest size against the 1M ones (target ≤ 4.4× at 4M). It writes
// the table and the chart to docs/curve.md and docs/curve.svg.
func BenchmarkCurve(b *testing.B) {
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(50))
	var points []curvePoint
	for range b.N {
		points = points[:0]
		for _, n := range curveSizes() {
			points = append(points, curveAt(b, m, n))
		}
	}
	for _, p := range points {
		tag := fmt.Sprintf("%dk", p.n/1000)
		b.ReportMetric(p.pl.Seconds(), "plan-s@"+tag)
		b.ReportMetric(p.ready.Seconds(), "steady-s@"+tag)
		b.ReportMetric(p.planPeak/(1<<20), "plan-MiB@"+tag)
		b.ReportMetric(p.planPeak/planBound(p.n), "plan-mem/bound@"+tag)
	}
	if err := writeCurve(points); err != nil {
		b.Fatal(err)
	}
}

// planBound is the bound of a plan's memory: 64 MiB and 64 bytes a
// managed customer.
func planBound(n int) float64 { return 64<<20 + 64*float64(n) }

// curveAt measures one size.
func curveAt(b *testing.B, m *mapping.Mapping, n int) curvePoint {
	day1, day2, db := curveCheckpoint(b, m, n)
	managed, err := db.Count(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	prev := debug.SetMemoryLimit(plan.MemoryLimit(managed))
	defer debug.SetMemoryLimit(prev)
	pt := curvePoint{n: n}
	start := time.Now()
	bareRead(b, day2)
	pt.floor = time.Since(start)
	d, rss, p := timedPlan(b, m, day2, db)
	pt.pl, pt.planPeak = d, rss
	if len(p.Actions()) < n/100 {
		b.Fatalf("day 2 of %d planned %d actions, want about 2%%", n, len(p.Actions()))
	}
	p = nil
	pt.ready = steadyRun(b, m, day1, db)
	b.Logf("%d managed: floor %s, plan %s (%.2f× the floor, peak %.0f MiB, bound %.0f MiB), steady run %s",
		n, pt.floor.Round(time.Millisecond), pt.pl.Round(time.Millisecond), pt.pl.Seconds()/pt.floor.Seconds(),
		pt.planPeak/(1<<20), planBound(n)/(1<<20), pt.ready.Round(time.Millisecond))
	return pt
}

// steadyRun is BenchmarkSteadyState1M's run (benchkit.SteadyRun):
// refresh (nothing changed), plan (nothing to do), apply (nothing sent);
// its time.
func steadyRun(b *testing.B, m *mapping.Mapping, day1 string, db *sqlite.DB) time.Duration {
	ts := httptest.NewServer(crmsim.NewDefault())
	defer ts.Close()
	client, err := crm.NewClient(crm.Config{BaseURL: ts.URL})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	start := time.Now()
	if _, err := benchkit.SteadyRun(context.Background(), m, day1, db, client); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// writeCurve writes docs/curve.md (the table) and docs/curve.svg (the
// chart: seconds against managed customers, plan and steady run, with the
// linear line through the smallest size's plan for reference).
func writeCurve(points []curvePoint) error {
	if len(points) == 0 {
		return nil
	}
	dir := filepath.Join("..", "docs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write the curve: %w", err)
	}
	var t strings.Builder
	t.WriteString("| managed | floor (bare read) | plan day 2 | plan ÷ floor | plan peak RSS (bound) | steady run | steady ÷ floor |\n")
	t.WriteString("|---|---|---|---|---|---|---|\n")
	for _, p := range points {
		fmt.Fprintf(&t, "| %s | %.2f s | %.2f s | %.2f× | %.0f MiB (%.0f) | %.2f s | %.2f× |\n",
			thousands(p.n), p.floor.Seconds(), p.pl.Seconds(), p.pl.Seconds()/p.floor.Seconds(),
			p.planPeak/(1<<20), planBound(p.n)/(1<<20), p.ready.Seconds(), p.ready.Seconds()/p.floor.Seconds())
	}
	if err := os.WriteFile(filepath.Join(dir, "curve.md"), []byte(t.String()), 0o644); err != nil {
		return fmt.Errorf("write the curve's table: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "curve.svg"), []byte(curveSVG(points)), 0o644); err != nil {
		return fmt.Errorf("write the curve's chart: %w", err)
	}
	return nil
}

// thousands writes n with commas.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// curveSVG draws the plan's and the steady run's seconds against the
// managed customers, both axes linear, with the line through the origin
// and the smallest plan (what linear growth would give) dashed.
func curveSVG(points []curvePoint) string {
	const w, h, left, bottom, top, right = 480, 280, 50, 40, 20, 110
	maxN, maxS := 0.0, 0.0
	for _, p := range points {
		maxN = max(maxN, float64(p.n))
		maxS = max(maxS, p.pl.Seconds(), p.ready.Seconds())
	}
	first := points[0]
	maxS = max(maxS, first.pl.Seconds()*maxN/float64(first.n)) * 1.1
	x := func(n float64) float64 { return left + n/maxN*(w-left-right) }
	y := func(s float64) float64 { return h - bottom - s/maxS*(h-bottom-top) }
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", w, h)
	fmt.Fprintf(&s, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&s, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, h-bottom, w-right, h-bottom)
	fmt.Fprintf(&s, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top, left, h-bottom)
	for _, p := range points {
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(float64(p.n)), h-bottom+15, shortCount(p.n))
	}
	fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="middle">managed customers</text>`+"\n", (w-right+left)/2, h-8)
	for i := 0; i <= 4; i++ {
		v := maxS * float64(i) / 4
		fmt.Fprintf(&s, `<text x="%d" y="%.1f" text-anchor="end">%.0f s</text>`+"\n", left-4, y(v)+4, v)
	}
	fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="gray" stroke-dasharray="4 3"/>`+"\n",
		x(0), y(0), x(maxN), y(first.pl.Seconds()*maxN/float64(first.n)))
	series := []struct {
		name, color string
		val         func(curvePoint) float64
	}{
		{"plan day 2", "#1f77b4", func(p curvePoint) float64 { return p.pl.Seconds() }},
		{"steady run", "#d62728", func(p curvePoint) float64 { return p.ready.Seconds() }},
	}
	for i, se := range series {
		var pts []string
		for _, p := range points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(float64(p.n)), y(se.val(p))))
		}
		fmt.Fprintf(&s, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), se.color)
		for _, pt := range pts {
			xy := strings.Split(pt, ",")
			fmt.Fprintf(&s, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", xy[0], xy[1], se.color)
		}
		fmt.Fprintf(&s, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", w-right+10, top+15+15*i, se.color, se.name)
	}
	fmt.Fprintf(&s, `<text x="%d" y="%d" fill="gray">linear</text>`+"\n", w-right+10, top+45)
	s.WriteString("</svg>\n")
	return s.String()
}

// shortCount writes 250000 as 250k and 4000000 as 4M.
func shortCount(n int) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return fmt.Sprintf("%dk", n/1000)
}
