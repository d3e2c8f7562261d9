// Command erpsync keeps a CRM's customer list in step with the customer
// exports of an ERP. See README.md and ../../../shared/ARCHITECTURE.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"erpsync/sync"
)

// Exit codes (ARCHITECTURE.md): the classes of sync.Classify.
const (
	ExitOK       = int(sync.ClassDone)        // all done
	ExitRowFails = int(sync.ClassRowFailures) // finished with row failures
	ExitUsage    = int(sync.ClassUnusable)    // usage, config or unusable export file
	ExitGuard    = int(sync.ClassGuard)       // aborted by a guard
	ExitFatal    = int(sync.ClassFatal)       // auth refused, CRM unreachable, state unusable
)

func main() {
	// A million-row plan holds ~56 MB live; at Go's default GOGC=100 the
	// heap grows to twice that and the process peaks at ~160-170 MiB. At
	// 50 it peaks at ~137-148 MiB (BenchmarkPlanDay2). An import sets its
	// own collection (import.go: a memory limit). GOGC set in the
	// environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfiles := startProfiles(os.Stderr)
	code := NewMain(os.Stdout, os.Stderr).Run(ctx, os.Args[1:])
	stopProfiles()
	stop()
	os.Exit(code)
}

// Main holds the program's outputs; Run dispatches a subcommand.
type Main struct {
	Stdout, Stderr io.Writer
}

// NewMain returns a Main writing to the given outputs.
func NewMain(stdout, stderr io.Writer) *Main { return &Main{Stdout: stdout, Stderr: stderr} }

// Run runs the subcommand named by args[0] and returns the exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		m.usage()
		return ExitUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "demo":
		err = (&DemoCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, rest)
	case "run":
		err = (&RunCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, rest)
	case "init":
		err = (&InitCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, rest)
	case "plan":
		err = (&PlanCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, rest)
	case "apply":
		err = (&ApplyCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, rest)
	case "import":
		err = (&ImportCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, rest)
	case "status":
		err = (&StatusCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, rest)
	case "serve":
		err = (&ServeCommand{Stdout: m.Stdout, Stderr: m.Stderr, every: testHookTick()}).Run(ctx, rest)
	case "reconcile":
		err = (&ReconcileCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, rest)
	case "why":
		err = (&WhyCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, rest)
	case "verify":
		err = (&VerifyCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, rest)
	case "check":
		err = (&CheckCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, rest)
	case "unlock":
		err = (&UnlockCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, rest)
	case "release":
		err = (&ReleaseCommand{Stdout: m.Stdout, Stderr: m.Stderr}).Run(ctx, rest)
	case "version", "-version", "--version":
		printVersion(m.Stdout)
		return ExitOK
	case "help", "-h", "-help", "--help":
		m.usage()
		return ExitOK
	default:
		m.usage()
		err = usage(fmt.Errorf("unknown command %q", cmd))
	}
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	fmt.Fprintln(m.Stderr, "erpsync:", err)
	return int(sync.Classify(err))
}

func (m *Main) usage() {
	fmt.Fprint(m.Stderr, `usage: erpsync <command> [flags]

  demo        [-dir DIR]                               everything on the embedded CRM simulator (what "make run" runs)
  run         -config FILE [-file EXPORT] [-dry-run] [-accept GUARD,..]  one sync now (the nightly job)
  init        -config FILE [-adopt] [-file EXPORT]      create the checkpoint; -adopt: the CRM's customers the export lists are managed
  plan        -config FILE [-file EXPORT] [-out FILE]  what run would do; writes nothing
  apply       -config FILE PLAN.json                   send exactly an approved plan (plan -out PLAN.json); refused if it moved
  import      -config FILE -file EXPORT                one-off migration: upserts only, resumable
  status      -config FILE                             last runs, pending failures, watermark, lock, held exports
  serve       -config FILE                             scheduled worker (cron), /healthz, /metrics
  release     -config FILE [-all] [NAME ...]           let go of exports serve holds (stopped by a guard)
  reconcile   -config FILE [-file EXPORT] [-out DIR] [-fail-over N]  ERP export vs CRM, report and pack for finance
  why         -config FILE REFERENCE [-json]           everything erpsync did and saw for one customer, newest first
  verify      DIR                                      check a reconcile pack against its manifest.json
  check       -config FILE                             connection test: login, version, page cap, dates; writes nothing
  unlock      -config FILE [-force]                    free the state file of a run that is gone
  version                                              erpsync's version, its Go and its modules' versions

Exit codes: 0 done · 1 row failures · 2 usage, config or unusable export ·
3 stopped by a guard · 4 fatal (auth, CRM unreachable, state unusable, interrupted)
`)
}

// printVersion writes erpsync's version (its module's, or the VCS
// revision it was built from), the Go release, and the version of every
// module built in (runtime/debug.ReadBuildInfo).
func printVersion(w io.Writer) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(w, "erpsync (no build information)")
		return
	}
	fmt.Fprintf(w, "erpsync %s %s\n", buildVersion(), info.GoVersion)
	for _, d := range info.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		fmt.Fprintf(w, "  %s %s\n", d.Path, d.Version)
	}
}
