package main

import (
	"context"

	"go.uber.org/zap/zapcore"

	"erpsync/sync"
	"erpsync/sync/logging"
	"erpsync/sync/notify"
)

// logLevel is the logs' level: debug with -v.
func logLevel(verbose bool) zapcore.Level {
	if verbose {
		return zapcore.DebugLevel
	}
	return zapcore.InfoLevel
}

// useLogs sets the logger's format as log.format says, and keeps its
// switch to stamp each run's id on its lines.
func (j *job) useLogs(logs *logging.Switch) {
	j.logs = logs
	logs.SetFormat(j.cfg.Log.Format)
}

// stampRun has the engine tell the logger its run's id; the lines after
// the run (serve settling its export, the notifications) keep it until
// notifyEnd.
func (j *job) stampRun(e *sync.Job) {
	if j.logs != nil {
		e.OnStart = j.logs.SetRun
	}
}

// notifyEnd tells the notify: receivers how a run ended (within
// notify.timeout; a receiver's failure changes nothing of the run).
func (j *job) notifyEnd(ctx context.Context, mode sync.Mode, file string, out *sync.Outcome, err error, held bool) {
	if j.logs != nil { // its lines are the run's, the last of them
		if out != nil && out.RunID != 0 {
			j.logs.SetRun(out.RunID)
		}
		defer j.logs.SetRun(0)
	}
	var runs notify.Runs
	if j.db != nil {
		runs = j.db
	}
	j.notifier.RunEnded(ctx, runs, notify.End{Outcome: out, Err: err, Kind: string(mode),
		Export: j.exportName(file), Interrupted: ctx.Err() != nil, Held: held})
}

// notifyOpenFailed tells the notify: receivers of a run that ended before
// it started: its checkpoint could not be opened (or created: the CRM
// refused the token).
func (j *job) notifyOpenFailed(ctx context.Context, opt jobOptions, err error) {
	if opt.notify == "" || (opt.dryRun != nil && *opt.dryRun) {
		return
	}
	file := ""
	if opt.file != nil {
		file = *opt.file
	}
	j.notifyEnd(ctx, opt.notify, file, nil, err, false)
}
