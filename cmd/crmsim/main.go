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

func run(ctx context.Context, args []string, stdout *os.File) error {
	fs := flag.NewFlagSet("crmsim", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8085", "listen address")
	seedFile := fs.String("seed", "", "seed JSON file (see testdata/crmsim/README.md); default: the built-in seed")
	var opts crmsim.Options
	fs.StringVar(&opts.Token, "token", "", "accept only this Bearer token (401 otherwise)")
	fs.DurationVar(&opts.Latency, "latency", 0, "delay every answer by this much (±10% jitter), e.g. 20ms")
	fs.Float64Var(&opts.FailRate, "fail-rate", 0, "share of requests answered 500 server_error (0-1)")
	fs.Float64Var(&opts.ThrottleRate, "throttle-rate", 0, "share of requests answered 429 with Retry-After: 1 (0-1)")
	fs.Uint64Var(&opts.FaultSeed, "fault-seed", 0, "seed of the fault draws, for reproducible faults (0 = random)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if opts.FailRate < 0 || opts.ThrottleRate < 0 || opts.FailRate+opts.ThrottleRate > 1 {
		return fmt.Errorf("-fail-rate and -throttle-rate must be between 0 and 1, and add up to at most 1")
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
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: crmsim.New(store, opts), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "crmsim listening on http://%s/api/v1.0/customers (stats: /_sim/stats)\n", ln.Addr())
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
