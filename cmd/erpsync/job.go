package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"erpsync/mapping"
	"erpsync/state/sqlite"
	"erpsync/sync"
	"erpsync/sync/approve"
	"erpsync/sync/crm"
	"erpsync/sync/logging"
	"erpsync/sync/notify"
	"erpsync/sync/page"
	"erpsync/sync/plan"
	"erpsync/sync/plan/guard"
	"erpsync/sync/serve"
	"erpsync/sync/source"
)

// job is what every subcommand that syncs wires up: the config, the
// mapping, the checkpoint and the CRM client.
type job struct {
	cfg      *Config
	log      *zap.Logger
	mapping  *mapping.Mapping
	db       *sqlite.DB
	client   *crm.Client
	scratch  string            // a temporary folder to remove at Close (plan's empty checkpoint)
	cleanups []func()          // at Close: the spool of a remote export
	sources  map[string]string // a local copy → where the export came from (recorded, reported)
	logs     *logging.Switch   // log.format, and the run id on every line (notify.go)
	notifier *notify.Notifier  // notify: webhooks and heartbeat (notify.go)
	page     *page.Page        // serve's page, GET / (page.go)
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
		return nil, nil, usage(err)
	}
	log, logs := logging.New(f.stderr, logLevel(*f.verbose))
	// serve runs unattended, for months: a config others may write is
	// refused there, and a warning for a command someone runs.
	opt.sealed = opt.sealed || f.Name() == "serve"
	if j, err = openJob(ctx, *f.config, log, opt); err != nil {
		_ = log.Sync()
		return nil, nil, err
	}
	j.useLogs(logs)
	return j, func() { j.Close(); _ = log.Sync() }, nil
}

// jobOptions say what a subcommand needs opened.
type jobOptions struct {
	state   stateUse                                     // how the checkpoint is opened
	crm     bool                                         // open the CRM client
	observe func(op string, status int, d time.Duration) // told of every CRM answer
	file    *string                                      // -file, checked before the checkpoint is opened
	sealed  bool                                         // refuse a config others may write (serve)
	notify  sync.Mode                                    // a checkpoint that cannot be opened is told as a failed run of this kind
	dryRun  *bool                                        // -dry-run: nothing is told
}

// openJob loads the config and opens what the job needs.
func openJob(ctx context.Context, cfgPath string, log *zap.Logger, opt jobOptions) (*job, error) {
	if cfgPath == "" {
		return nil, usage(errors.New("-config FILE is required"))
	}
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		return nil, usage(err)
	}
	if why := configWritable(cfgPath); why != "" {
		if opt.sealed {
			return nil, usage(fmt.Errorf("config %s: %s: it decides where the CRM token is sent; serve refuses it (chmod o-w)", cfgPath, why))
		}
		log.Warn("the config can be changed by any user of this host, and it decides where the CRM token is sent: chmod o-w (serve refuses it)",
			zap.String("config", cfgPath), zap.String("why", why))
	}
	return newJob(ctx, cfg, log, opt)
}

// newJob opens what a job needs for a loaded config.
func newJob(ctx context.Context, cfg *Config, log *zap.Logger, opt jobOptions) (*job, error) {
	j := &job{cfg: cfg, log: log}
	var err error
	if j.mapping, err = mapping.New(cfg.Source.Config, log); err != nil {
		return nil, usage(fmt.Errorf("config: source: %w", err))
	}
	if opt.crm {
		if j.client, err = newClient(cfg.CRM, log, opt.observe); err != nil {
			return nil, usage(fmt.Errorf("config: crm: %w", err))
		}
	}
	if opt.notify != "" && (opt.dryRun == nil || !*opt.dryRun) { // the secrets are read where a run is told only
		if j.notifier, err = notify.New(cfg.Notify, log); err != nil {
			j.Close()
			return nil, usage(fmt.Errorf("config: %w", err))
		}
	}
	if opt.file != nil && *opt.file != "" {
		if err := sync.CheckExport(*opt.file); err != nil {
			j.Close()
			return nil, err
		}
	}
	if opt.state != noState {
		if err := j.openState(ctx, opt.state); err != nil {
			j.notifyOpenFailed(ctx, opt, err)
			j.Close()
			return nil, err
		}
	}
	return j, nil
}

// newClient opens the CRM client of the crm: section. The credentials
// are read from the variables the section names; one unset or empty stops
// here, before any request (newJob makes it exit 2). observe is told of
// every answer, and of every session login as an event (sync/serve's metrics.go).
func newClient(c CRMConfig, log *zap.Logger, observe func(string, int, time.Duration)) (*crm.Client, error) {
	retries := c.Retries
	if retries == 0 {
		retries = -1 // the client reads 0 as its default
	}
	cfg := crm.Config{
		BaseURL: c.BaseURL, APIVersion: c.APIVersion, Auth: c.Auth, PageSize: c.PageSize,
		Concurrency: c.Concurrency, RateLimit: c.RateLimit, Timeout: c.Timeout,
		Retries: retries, Logger: log, Observe: observe, OnLogin: serve.LoginEvents(observe),
		BackoffBase: testHookBackoff(), // 0: the client's (testhooks.go)
	}
	var err error
	switch c.Auth {
	case crm.AuthBearer:
		cfg.Token, err = secretEnv("crm.token_env", c.TokenEnv)
	case crm.AuthSession:
		if cfg.Username, err = secretEnv("crm.username_env", c.UsernameEnv); err == nil {
			cfg.Password, err = secretEnv("crm.password_env", c.PasswordEnv)
		}
	}
	if err != nil {
		return nil, err
	}
	return crm.NewClient(cfg)
}

// secretEnv reads a credential from the environment variable name (the
// config's key says which); the value never appears in an error.
func secretEnv(key, name string) (string, error) {
	v := os.Getenv(name)
	if v == "" && !plainEnvName(name) {
		return "", fmt.Errorf("%s: the environment variable it names is unset or empty (its name is not shown: it does not read as a variable's name; is it the secret itself?)", key)
	}
	if v == "" {
		return "", fmt.Errorf("%s: environment variable %s is unset or empty (crm.auth none needs no credentials)", key, name)
	}
	return v, nil
}

func (j *job) Close() {
	if j.client != nil {
		j.client.Close()
	}
	if j.db != nil {
		if err := j.db.Close(); err != nil {
			j.log.Warn("close checkpoint", zap.Error(err))
		}
	}
	if j.scratch != "" {
		_ = os.RemoveAll(j.scratch)
	}
	for _, c := range j.cleanups {
		c()
	}
}

// engine returns the sync engine's Job for an export of this config.
func (j *job) engine(mode sync.Mode, file string) sync.Job {
	s := j.cfg.Sync
	return sync.Job{Mode: mode, File: file, Source: j.sources[file], Mapping: j.mapping, CRM: j.client, State: j.db, Log: j.log,
		ConfigID: approve.ConfigID(j.cfg.CRM.BaseURL, j.cfg.CRM.APIVersion, j.cfg.State.Path), // an approved plan's config
		Settings: sync.Settings{Deletes: s.Deletes, MaxDelete: guard.On(s.MaxDelete), Drift: s.Drift,
			MaxFailures: s.MaxFailures, Lookback: s.Lookback, FullCheck: s.FullCheck, Concurrency: j.cfg.CRM.Concurrency,
			ReportsDir: j.cfg.Reports.Dir, DeleteDespiteRowErrors: s.DeleteDespiteRowErrors,
			References: s.References, ReportsMode: os.FileMode(j.cfg.Reports.FileMode),
			MaxErrors: j.cfg.Reports.MaxErrors, Mode: s.Mode, Fields: s.Fields,
			Guards: plan.Guards{MaxCreate: s.MaxCreate, MaxUpdate: s.MaxUpdate,
				MaxBlank: s.MaxBlank, MaxMappingChange: s.MaxMappingChange},
			ReportsCSV: csvFormat(j.cfg), History: time.Duration(j.cfg.State.History)}}
}

// exportPath returns the export to read: -file, or the newest match of
// source.path (a local glob, sftp:// or s3://). A remote export is copied
// once to a spool beside the state file, removed at Close.
func (j *job) exportPath(ctx context.Context, flagFile string) (string, error) {
	exp, cleanup, err := source.Fetch(ctx, j.cfg.Source.transport(), flagFile, source.FetchOptions{
		Options: source.Options{Log: j.log}, SpoolDir: filepath.Dir(j.cfg.State.Path)})
	if err != nil {
		return "", err
	}
	j.cleanups = append(j.cleanups, cleanup)
	j.nameExport(exp.Path, exp.Source)
	return exp.Path, nil
}

// nameExport says where the export read at path came from: the run
// history and summary.json name it so, not by its copy in the spool.
// exportName is how an export is shown: where it came from, or its path.
func (j *job) exportName(path string) string {
	if src := j.sources[path]; src != "" {
		return src
	}
	return path
}

// forgetExport drops the name of an export the job is done with.
func (j *job) forgetExport(path string) { delete(j.sources, path) }

func (j *job) nameExport(path, src string) {
	if j.sources == nil {
		j.sources = map[string]string{}
	}
	j.sources[path] = src
}

// newLogger returns a zap logger writing to stderr, leveled console lines;
// debug level with -v.
func newLogger(stderr io.Writer, verbose bool) *zap.Logger {
	log, _ := logging.New(stderr, logLevel(verbose))
	return log
}

// usage marks an error of the command line or the config (exit 2).
func usage(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return sync.WithClass(sync.ClassUnusable, err)
}
