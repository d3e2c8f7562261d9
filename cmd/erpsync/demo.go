package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"erpsync/sync"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/history"
	"erpsync/sync/report"
)

// DemoCommand is the tour behind `make run`: crmsim starts in-process on a
// free loopback port, and erpsync syncs the sample exports of
// testdata/exports into it: day 1 (sub-customers listed before their
// parents), day 2 (changes, a removal, a flagged delete), a rerun with
// nothing to do, and a hand edit in the CRM that the next run repairs.
type DemoCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs the demo from the project root (or -root).
func (c *DemoCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	root := fs.String("root", ".", "the project folder (holding configs/ and testdata/)")
	verbose := fs.Bool("v", false, "debug logs")
	dir := fs.String("dir", "", "folder for what the demo writes (default: a new temporary folder)")
	if err := fs.Parse(args); err != nil {
		return usage(err)
	}
	cfg, err := LoadConfig(filepath.Join(*root, "configs", "demo.yaml"))
	if err != nil {
		return usage(fmt.Errorf("%w (run the demo from the project root, or give -root)", err))
	}
	work, err := demoDir(*dir)
	if err != nil {
		return err
	}
	clock := &demoClock{}
	sim, url, stop, err := startSim(clock)
	if err != nil {
		return err
	}
	defer stop()
	cfg.CRM.BaseURL = url
	cfg.State.Path = filepath.Join(work, "erpsync.db")
	cfg.Reports.Dir = filepath.Join(work, "reports")

	log := newLogger(c.Stderr, *verbose)
	defer func() { _ = log.Sync() }()
	j, err := newJob(ctx, cfg, log, jobOptions{state: stateCreate, crm: true})
	if err != nil {
		return err
	}
	defer j.Close()

	p := func(format string, a ...any) { fmt.Fprintf(c.Stdout, format, a...) }
	p("erpsync demo\n============\n")
	p("crmsim, the CRM simulator, listens on %s/api/%s/customers.\n", cfg.CRM.BaseURL, cfg.CRM.APIVersion)
	p("The exports are SAP-like: \";\" separated, decimal commas, X flags; day 2 is Windows-1252.\n")
	p("The mapping is configs/demo.yaml; the checkpoint and the reports go to %s.\n", work)
	for _, s := range demoSteps(*root, sim, clock) {
		p("\n%s\n", s.title)
		if err := c.step(ctx, j, sim, s); err != nil {
			return err
		}
	}
	p("\n5. erpsync status:\n")
	if err := report.PrintStatus(ctx, c.Stdout, j.db, cfg.State.Path, 5, cfg.Sync.FullCheck); err != nil {
		return err
	}
	p("\n6. erpsync why C-1004: everything erpsync did and saw for the customer edited by hand, newest first:\n")
	story, err := history.Read(ctx, j.db, "C-1004")
	if err != nil {
		return err
	}
	if err := story.WriteText(c.Stdout); err != nil {
		return err
	}
	p("\nThe CRM now holds %d customers. Everything the demo wrote is in %s.\n", sim.Store.Len(), work)
	return nil
}

// demoDir returns the folder the demo writes into: dir, or a new one.
func demoDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "erpsync-demo-")
	}
	return dir, os.MkdirAll(dir, 0o700)
}

// demoClock is the demo's CRM clock: the real time, plus the time the
// tour lets pass (Skip) instead of waiting for it.
type demoClock struct{ ahead atomic.Int64 }

func (c *demoClock) Now() time.Time { return time.Now().Add(time.Duration(c.ahead.Load())) }

// Skip moves the clock on by d.
func (c *demoClock) Skip(d time.Duration) { c.ahead.Add(int64(d)) }

// startSim starts crmsim on a free loopback port, on clock.
func startSim(clock *demoClock) (sim *crmsim.Server, url string, stop func(), err error) {
	store, err := crmsim.NewStore(crmsim.DefaultSeed())
	if err != nil {
		return nil, "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, fmt.Errorf("listen: %w", err)
	}
	sim = crmsim.New(store, crmsim.Options{Now: clock.Now})
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return sim, "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// demoStep is one run of the tour, after an optional edit in the CRM.
type demoStep struct {
	title string
	file  string
	edit  func() error
}

func demoSteps(root string, sim *crmsim.Server, clock *demoClock) []demoStep {
	day := func(n int) string { return filepath.Join(root, "testdata", "exports", fmt.Sprintf("day%d.csv", n)) }
	return []demoStep{
		{title: "1. Day 1: every customer is new; sub-customers come after their parents, whatever the file's order.", file: day(1)},
		{title: "2. Day 2: a credit limit and a city changed, C-1011 is new, C-1006 is gone (mirror deletes), C-1008 is flagged LOEVM=X.", file: day(2)},
		{title: "3. The same export again: nothing changed, so nothing is sent.", file: day(2)},
		{
			title: "4. Someone edits C-1004's credit limit by hand in the CRM; the next run finds the drift and puts the ERP's value back.",
			file:  day(2),
			edit: func() error {
				clock.Skip(time.Second) // a second later: the CRM's dates have whole seconds
				_, err := sim.Store.Put("C-1004", map[string]string{"creditLimit": "99999"})
				return err
			},
		},
	}
}

// step makes the step's edit, runs the sync and says what the CRM saw.
func (c *DemoCommand) step(ctx context.Context, j *job, sim *crmsim.Server, s demoStep) error {
	if s.edit != nil {
		if err := s.edit(); err != nil {
			return err
		}
	}
	sim.ResetStats()
	res, err := j.sync(ctx, syncOptions{mode: sync.ModeRun, file: s.file, stdout: c.Stdout, stderr: c.Stderr})
	if !sync.Finished(err) {
		return err
	}
	st := sim.Stats()
	fmt.Fprintf(c.Stdout, "   the CRM saw: %d upserts, %d deletes, %d listings; reports: %s\n",
		st[crm.OpUpsert], st[crm.OpDeleteByReference], st[crm.OpList], res.Dir)
	return nil
}
