package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync"
	"erpsync/sync/crm"
)

// job is what every subcommand that syncs wires up: the config, the
// mapping, the checkpoint and the CRM client.
type job struct {
	cfg     *Config
	log     *zap.Logger
	mapping *mapping.Mapping
	db      *state.DB
	client  *crm.Client
}

// jobFlags are the flags of every subcommand that opens a job, -config
// and -v, beside its own.
type jobFlags struct {
	*flag.FlagSet
	config  *string
	verbose *bool
	stderr  io.Writer
}

func newJobFlags(name string, stderr io.Writer) *jobFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &jobFlags{FlagSet: fs, stderr: stderr,
		config:  fs.String("config", "", "config file (YAML)"),
		verbose: fs.Bool("v", false, "debug logs")}
}

// open parses args and opens the job; done closes it and flushes the log.
func (f *jobFlags) open(ctx context.Context, args []string, opt jobOptions) (j *job, done func(), err error) {
	if err := f.Parse(args); err != nil {
		return nil, nil, usageError(err)
	}
	log := newLogger(f.stderr, *f.verbose)
	if j, err = openJob(ctx, *f.config, log, opt); err != nil {
		_ = log.Sync()
		return nil, nil, err
	}
	return j, func() { j.Close(); _ = log.Sync() }, nil
}

// jobOptions say what a subcommand needs opened.
type jobOptions struct {
	state   bool                                         // open the checkpoint
	observe func(op string, status int, d time.Duration) // told of every CRM answer
}

// openJob loads the config and opens what the job needs.
func openJob(ctx context.Context, cfgPath string, log *zap.Logger, opt jobOptions) (*job, error) {
	if cfgPath == "" {
		return nil, &ExitError{Code: ExitUsage, Err: errors.New("-config FILE is required")}
	}
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	return newJob(ctx, cfg, log, opt)
}

// newJob opens what a job needs for a loaded config.
func newJob(ctx context.Context, cfg *Config, log *zap.Logger, opt jobOptions) (*job, error) {
	j := &job{cfg: cfg, log: log}
	var err error
	if j.mapping, err = mapping.New(cfg.Source, log); err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("config: source: %w", err)}
	}
	retries := cfg.CRM.Retries
	if retries == 0 {
		retries = -1 // the client reads 0 as its default
	}
	j.client, err = crm.NewClient(crm.Config{
		BaseURL: cfg.CRM.BaseURL, APIVersion: cfg.CRM.APIVersion, Token: os.Getenv(cfg.CRM.TokenEnv),
		Concurrency: cfg.CRM.Concurrency, RateLimit: cfg.CRM.RateLimit, Timeout: cfg.CRM.Timeout,
		Retries: retries, Logger: log, Observe: opt.observe,
	})
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("config: crm: %w", err)}
	}
	if opt.state {
		j.db = state.NewDB(cfg.State.Path)
		if err := j.db.Open(ctx); err != nil {
			j.client.Close()
			return nil, &ExitError{Code: ExitFatal, Err: err}
		}
	}
	return j, nil
}

func (j *job) Close() {
	j.client.Close()
	if j.db != nil {
		if err := j.db.Close(); err != nil {
			j.log.Warn("close checkpoint", zap.Error(err))
		}
	}
}

// exportPath returns -file, or the newest match of source.path.
func (j *job) exportPath(flagFile string) (string, error) {
	if flagFile != "" {
		return flagFile, nil
	}
	pattern := j.cfg.Source.Path
	if pattern == "" {
		return "", &ExitError{Code: ExitUsage, Err: errors.New("no export: give -file or set source.path")}
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return "", &ExitError{Code: ExitUsage, Err: fmt.Errorf("source.path %q: %w", pattern, err)}
	}
	var newest string
	var newestMod int64
	for _, m := range matches {
		st, err := os.Stat(m)
		if err != nil || st.IsDir() {
			continue
		}
		if newest == "" || st.ModTime().UnixNano() > newestMod {
			newest, newestMod = m, st.ModTime().UnixNano()
		}
	}
	if newest == "" {
		return "", &ExitError{Code: ExitUsage, Err: fmt.Errorf("source.path %q matches no file", pattern)}
	}
	return newest, nil
}

// rows streams the export through the mapping.
func (j *job) rows(ctx context.Context, path string) sync.Rows {
	return func(fn func(mapping.Row) error) error {
		_, err := j.mapping.Read(ctx, path, fn)
		var fe *mapping.FileError
		if errors.As(err, &fe) {
			return &ExitError{Code: ExitUsage, Err: err}
		}
		return err
	}
}

// refresh pulls the CRM's changes since the watermark and finds drift.
func (j *job) refresh(ctx context.Context) (*sync.PullResult, []sync.Drift, []state.Seen, error) {
	since, err := j.db.Watermark(ctx)
	if err != nil {
		return nil, nil, nil, &ExitError{Code: ExitFatal, Err: err}
	}
	pulled, err := sync.Pull(ctx, j.client, sync.PullOptions{Since: since, Lookback: j.cfg.Sync.Lookback,
		Keep:        func(c crm.Customer) (bool, error) { return sync.MayHaveDrifted(ctx, j.db, c) },
		Concurrency: j.cfg.CRM.Concurrency})
	if err != nil {
		return nil, nil, nil, crmExit(err)
	}
	drift, seen, err := sync.FindDrift(ctx, pulled, j.db, mapping.CountryCode)
	if err != nil {
		return nil, nil, nil, &ExitError{Code: ExitFatal, Err: err}
	}
	return pulled, drift, seen, nil
}

// parentInCRM asks the CRM whether a reference exists, for parents that
// are neither in the export nor managed.
func (j *job) parentInCRM(ctx context.Context) func(string) bool {
	return func(ref string) bool {
		_, err := j.client.ShowByReference(ctx, ref)
		return err == nil
	}
}

// crmExit classifies a CRM error: fatal (auth, unreachable) or not.
func crmExit(err error) error {
	if crm.IsFatal(err) || crm.IsUnreachable(err) || errors.Is(err, crm.ErrRetriesExhausted) {
		return &ExitError{Code: ExitFatal, Err: err}
	}
	return err
}

// newLogger returns a zap logger writing to stderr, leveled console lines;
// debug level with -v.
func newLogger(stderr io.Writer, verbose bool) *zap.Logger {
	level := zapcore.InfoLevel
	if verbose {
		level = zapcore.DebugLevel
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(stderr), level))
}

// shortList joins the first n items.
func shortList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}
