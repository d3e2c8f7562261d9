// Package logging builds erpsync's zap logger: console lines or JSON
// (log.format), chosen once the config is read, and the id of the run
// under way stamped on every line, whichever part of the program logs it
// (the engine, the CRM client, the mapping), as run_id.
package logging

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Formats of log.format.
const (
	FormatConsole = "console" // leveled lines for people (the default)
	FormatJSON    = "json"    // one JSON object a line, for a log collector
)

// RunKey is the field that carries the run's id.
const RunKey = "run_id"

// CheckFormat checks log.format's value ("" is the default, console).
func CheckFormat(format string) error {
	switch format {
	case "", FormatConsole, FormatJSON:
		return nil
	}
	return fmt.Errorf("log.format %q: want console or json", format)
}

// Switch is what may change in a logger after it is made: its format
// and the run it stamps. Its methods are safe from any goroutine.
type Switch struct {
	json atomic.Bool
	run  atomic.Int64
}

// SetFormat chooses the format of the lines written from now on.
func (s *Switch) SetFormat(format string) { s.json.Store(format == FormatJSON) }

// SetRun stamps every line written from now on with the run's id; 0
// stops stamping.
func (s *Switch) SetRun(id int64) { s.run.Store(id) }

// New returns a logger writing to w (locked: workers log at once) at
// level, console lines until the Switch says otherwise.
func New(w io.Writer, level zapcore.Level) (*zap.Logger, *Switch) {
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	out := zapcore.Lock(zapcore.AddSync(w))
	sw := &Switch{}
	c := &core{sw: sw,
		console: zapcore.NewCore(zapcore.NewConsoleEncoder(enc), out, level),
		json:    zapcore.NewCore(zapcore.NewJSONEncoder(enc), out, level)}
	return zap.New(c), sw
}

// core writes through the console or the JSON core, as the Switch says,
// adding the run's id.
type core struct {
	sw            *Switch
	console, json zapcore.Core
}

func (c *core) Enabled(l zapcore.Level) bool { return c.console.Enabled(l) }

func (c *core) With(fields []zapcore.Field) zapcore.Core {
	return &core{sw: c.sw, console: c.console.With(fields), json: c.json.With(fields)}
}

func (c *core) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *core) Write(e zapcore.Entry, fields []zapcore.Field) error {
	if id := c.sw.run.Load(); id != 0 {
		fields = append(fields[:len(fields):len(fields)], zap.Int64(RunKey, id))
	}
	if c.sw.json.Load() {
		return c.json.Write(e, fields)
	}
	return c.console.Write(e, fields)
}

func (c *core) Sync() error { return errors.Join(c.console.Sync(), c.json.Sync()) }
