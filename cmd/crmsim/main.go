// Command crmsim serves a simulator of the CRM's Customers API on loopback:
// a sandbox for trying a mapping, and the peer of the tests and the demo.
//
//	crmsim [-addr 127.0.0.1:8085] [-seed FILE] [-latency D] [-fail-rate F] [-throttle-rate F] [-fault-seed N]
//	       [-token T] [-user U -password P] [-session-ttl D] [-max-page-size N] [-time-precision s|ms]
//	       [-versions v1.0,v2.1]
//
// Behaviours of the real CRM that the reference does not show, each off by
// default (crmsim.Quirks):
//
//	-session-requests N           a session ends after N API requests; the next gets 401 no_credentials
//	-references ci                references compare ignoring case, accents and trailing spaces
//	-parent-digits id             a digits-only parentCustomer of a write is read as an id
//	-parent-shape id              parentCustomer is answered as the parent's bare id
//	-due-type-names NAME1,NAME2   the names of dueDateConfigType 1 and 2 in answers
//	-deprecated-versions v1.0     answers of these versions carry a deprecated_version warning
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"erpsync/sync/crm/crmsim"
	"erpsync/sync/crm/crmsim/seedfile"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "crmsim:", err)
		os.Exit(2)
	}
}

// simFlags declares the simulator's options as flags; finish, called once
// the flags are parsed, reads their lists into the options.
func simFlags(fs *flag.FlagSet) (opts *crmsim.Options, finish func()) {
	opts = &crmsim.Options{}
	fs.StringVar(&opts.Token, "token", "", "accept this Bearer token (alone: only it, 401 invalid_token otherwise)")
	fs.StringVar(&opts.User, "user", "", "session login as the real CRM: the user of POST /j_spring_security_check (with -password)")
	fs.StringVar(&opts.Password, "password", "", "the password of -user")
	fs.DurationVar(&opts.SessionTTL, "session-ttl", 0, "end each session this long after its login, e.g. 2s (0 = never)")
	fs.IntVar(&opts.MaxPageSize, "max-page-size", 0, "cap the list's max at N, as a real server may (0 = no cap)")
	fs.StringVar(&opts.TimePrecision, "time-precision", "s", "precision of dateCreated and lastUpdated: s or ms")
	lists := &listFlags{}
	fs.StringVar(&lists.versions, "versions", strings.Join(crmsim.DefaultVersions, ","), "API versions answered, comma-separated; others get 404")
	fs.DurationVar(&opts.Latency, "latency", 0, "delay every answer by this much (±10% jitter), e.g. 20ms")
	fs.Float64Var(&opts.FailRate, "fail-rate", 0, "share of requests answered 500 server_error (0-1)")
	fs.Float64Var(&opts.ThrottleRate, "throttle-rate", 0, "share of requests answered 429 with Retry-After: 1 (0-1)")
	fs.StringVar(&opts.RetryAfter, "retry-after", "1", "the Retry-After of -throttle-rate's answers, in seconds (0 = retry at once)")
	fs.Uint64Var(&opts.FaultSeed, "fault-seed", 0, "seed of the fault draws, for reproducible faults (0 = random)")
	quirkFlags(fs, &opts.Quirks, lists)
	return opts, func() {
		opts.Versions = splitVersions(lists.versions)
		opts.DueTypeNames = splitVersions(lists.dueTypeNames)
		opts.DeprecatedVersions = splitVersions(lists.deprecated)
	}
}

// listFlags are the flags that hold comma-separated lists.
type listFlags struct{ versions, dueTypeNames, deprecated string }

// quirkFlags declares the real CRM's behaviours that crmsim has off by
// default (crmsim.Quirks).
func quirkFlags(fs *flag.FlagSet, q *crmsim.Quirks, lists *listFlags) {
	fs.IntVar(&q.SessionRequests, "session-requests", 0, "end each session after N API requests; the next gets 401 no_credentials (0 = never)")
	fs.StringVar(&q.References, "references", "exact", "how references compare: exact, or ci (ignoring case, accents and trailing spaces)")
	fs.StringVar(&q.ParentDigits, "parent-digits", "reference", "a digits-only parentCustomer in a write is read as a reference, or as an id")
	fs.StringVar(&q.ParentShape, "parent-shape", "object", "parentCustomer answered as an object {id, reference, href}, or as a bare id")
	fs.StringVar(&lists.dueTypeNames, "due-type-names", strings.Join(crmsim.DefaultDueTypeNames, ","),
		"the names dueDateConfigType 1 and 2 are answered under, comma-separated")
	fs.StringVar(&lists.deprecated, "deprecated-versions", "", "API versions answered with a deprecated_version warning (Warning and Deprecation headers)")
}

// splitVersions reads a list such as "v1.0, v2.1"; empty text is the
// default.
func splitVersions(text string) []string {
	if text == "" {
		return nil
	}
	var out []string
	for _, v := range strings.Split(text, ",") {
		out = append(out, strings.TrimSpace(v))
	}
	return out
}

func run(ctx context.Context, args []string, stdout *os.File) error {
	fs := flag.NewFlagSet("crmsim", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8085", "listen address")
	seedFile := fs.String("seed", "", "seed JSON file (see testdata/crmsim/README.md); default: the built-in seed")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the serving (after the seed is loaded) to this file, ended by SIGINT or SIGTERM")
	rate := fs.Int("rate", 0, "answer API requests over N a second 429 with Retry-After, as a real CRM's rate limit (0 = no limit)")
	opts, finish := simFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	finish()
	if err := opts.Validate(); err != nil {
		return err
	}
	store, err := openStore(*seedFile)
	if err != nil {
		return err
	}
	sim := crmsim.New(store, *opts)
	sim.Prerender()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	srv := &http.Server{Handler: crmsim.RateLimit(sim, *rate, nil), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "crmsim listening on http://%s/api/v1.0/customers (stats: /_sim/stats)\n", ln.Addr())
	if q := describeQuirks(opts.Quirks); q != "" {
		fmt.Fprintf(stdout, "quirks of the real CRM on: %s\n", q)
	}
	if opts.User != "" {
		fmt.Fprintf(stdout, "session login: POST http://%s/j_spring_security_check\n", ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// openStore is the store of the seed file (its customers streamed in,
// seedfile.LoadStore), or of the built-in seed when there is none.
func openStore(seedFile string) (*crmsim.Store, error) {
	if seedFile == "" {
		return crmsim.NewStore(crmsim.DefaultSeed())
	}
	return seedfile.LoadStore(seedFile)
}

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// describeQuirks names the quirks that are on, for the start-up lines.
func describeQuirks(q crmsim.Quirks) string {
	var on []string
	if q.SessionRequests > 0 {
		on = append(on, fmt.Sprintf("sessions of %d requests", q.SessionRequests))
	}
	if q.References == "ci" {
		on = append(on, "references ignoring case and accents")
	}
	if q.ParentDigits == "id" {
		on = append(on, "digits-only parents read as ids")
	}
	if q.ParentShape == "id" {
		on = append(on, "parentCustomer answered as an id")
	}
	if len(q.DueTypeNames) == 2 && !slices.Equal(q.DueTypeNames, crmsim.DefaultDueTypeNames) {
		on = append(on, "due types named "+strings.Join(q.DueTypeNames, ", "))
	}
	if len(q.DeprecatedVersions) > 0 {
		on = append(on, "deprecated "+strings.Join(q.DeprecatedVersions, ", "))
	}
	return strings.Join(on, "; ")
}
