// Command crmsim serves a simulator of the CRM's Customers API on loopback:
// a sandbox for trying a mapping, and the peer of the tests and the demo.
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
	"strings"
	"syscall"
	"time"

	"erpsync/sync/crm/crmsim"
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

// simFlags declares the simulator's options as flags.
func simFlags(fs *flag.FlagSet) (opts *crmsim.Options, versions *string) {
	opts = &crmsim.Options{}
	fs.StringVar(&opts.Token, "token", "", "accept this Bearer token (alone: only it, 401 invalid_token otherwise)")
	fs.StringVar(&opts.User, "user", "", "session login as the real CRM: the user of POST /j_spring_security_check (with -password)")
	fs.StringVar(&opts.Password, "password", "", "the password of -user")
	fs.DurationVar(&opts.SessionTTL, "session-ttl", 0, "end each session this long after its login, e.g. 2s (0 = never)")
	fs.IntVar(&opts.MaxPageSize, "max-page-size", 0, "cap the list's max at N, as a real server may (0 = no cap)")
	fs.StringVar(&opts.TimePrecision, "time-precision", "s", "precision of dateCreated and lastUpdated: s or ms")
	versions = fs.String("versions", strings.Join(crmsim.DefaultVersions, ","), "API versions answered, comma-separated; others get 404")
	fs.DurationVar(&opts.Latency, "latency", 0, "delay every answer by this much (±10% jitter), e.g. 20ms")
	fs.Float64Var(&opts.FailRate, "fail-rate", 0, "share of requests answered 500 server_error (0-1)")
	fs.Float64Var(&opts.ThrottleRate, "throttle-rate", 0, "share of requests answered 429 with Retry-After: 1 (0-1)")
	fs.Uint64Var(&opts.FaultSeed, "fault-seed", 0, "seed of the fault draws, for reproducible faults (0 = random)")
	return opts, versions
}

// splitVersions reads "v1.0, v2.1"; empty text is the default.
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
	opts, versions := simFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts.Versions = splitVersions(*versions)
	if err := opts.Validate(); err != nil {
		return err
	}
	seed := crmsim.DefaultSeed()
	if *seedFile != "" {
		var err error
		if seed, err = crmsim.LoadSeed(*seedFile); err != nil {
			return err
		}
	}
	store, err := crmsim.NewStore(seed)
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
