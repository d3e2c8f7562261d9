package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"erpsync/mapping"
	"erpsync/sync"
	"erpsync/sync/approve"
	"erpsync/sync/crm"
	"erpsync/sync/plan"
	"erpsync/sync/report"
)

// PlanCommand shows what run would do. It reads the export, the checkpoint
// and the CRM; it writes nothing to the CRM and does not change the state.
type PlanCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync plan -config FILE [-file EXPORT] [-out FILE]`.
func (c *PlanCommand) Run(ctx context.Context, args []string) error {
	fs := newJobFlags("plan", c.Stderr)
	file := fs.String("file", "", "export to plan (default: the newest match of source.path)")
	out := fs.String("out", "", "write every planned operation to this file: .csv or .json")
	j, done, err := fs.open(ctx, args, jobOptions{state: stateRead, crm: true, file: file})
	if err != nil {
		return err
	}
	defer done()
	if *out != "" {
		if _, err := planWriter(*out, report.CSV{}); err != nil {
			return err
		}
	}
	path, err := j.exportPath(ctx, *file)
	if err != nil {
		return err
	}
	defer planMemory(ctx, j.db)()
	e := j.engine(sync.ModePlan, path)
	e.Approvable = strings.EqualFold(filepath.Ext(*out), ".json") // what apply checks
	res, err := sync.Run(ctx, e)
	if res == nil || res.Plan == nil {
		return err
	}
	p := res.Plan
	report.PrintPlan(c.Stdout, j.exportName(path), p, 20)
	if j.scratch != "" { // state.path holds no checkpoint: planned against an empty one
		if nerr := noCheckpointNote(ctx, c.Stdout, j); nerr != nil {
			return nerr
		}
	}
	cols, _ := j.mapping.Columns(path) // as the plan's read found them
	report.PrintColumns(c.Stdout, cols)
	if *out != "" {
		if werr := writePlanFile(*out, p, cols, os.FileMode(j.cfg.Reports.FileMode), res.Approval, csvFormat(j.cfg)); werr != nil {
			return werr
		}
		fmt.Fprintf(c.Stdout, "Every planned operation: %s\n", *out)
		if res.Approval != nil {
			fmt.Fprintf(c.Stdout, "To send exactly this plan once reviewed: erpsync apply -config %s %s\n", *fs.config, *out)
		}
	}
	if err == nil && p.InvalidRows+p.NotDeleted > 0 { // as run would end: with row failures
		err = sync.WithClass(sync.ClassRowFailures, fmt.Errorf("%d rows of %s are invalid, %d managed references could not be deleted",
			p.InvalidRows, path, p.NotDeleted))
	}
	return err
}

// planWriter picks the plan file's format from its extension; a .csv is
// written in format (reports.csv).
func planWriter(path string, format report.CSV) (func(io.Writer, *plan.Plan) error, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return format.WritePlan, nil
	case ".json":
		return report.WritePlanJSON, nil
	}
	return nil, usage(fmt.Errorf("plan -out %s: the extension says the format: .csv or .json", path))
}

// writePlanFile writes the plan and the export's columns to path,
// created of mode mode (reports.file_mode: it holds customers' values).
// It is written whole to a new file beside path, then renamed over it:
// a failed write leaves the previous plan as it was, the new file takes
// the mode, and a symbolic link at path is replaced, never written
// through.
func writePlanFile(path string, p *plan.Plan, cols mapping.Stats, mode os.FileMode, ap *approve.Approval, format report.CSV) error {
	write, err := planWriter(path, format)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, nothing is there
	err = f.Chmod(mode)
	if err == nil && ap != nil { // .json: sealed with what it depends on, for erpsync apply
		sw := approve.NewSealer(f)
		if err = writeWithColumns(sw, path, p, cols, write, format.Comma()); err == nil {
			err = sw.Seal(ap)
		}
	} else if err == nil {
		err = writeWithColumns(f, path, p, cols, write, format.Comma())
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	return nil
}

// noCheckpointNote says that a plan was made against an empty checkpoint
// because state.path holds none, and what run would do then: refuse
// (exit 2) when the CRM holds customers, which it would re-create and
// never delete; else start the checkpoint.
func noCheckpointNote(ctx context.Context, w io.Writer, j *job) error {
	path := j.cfg.State.Path
	page, err := j.client.ListPage(ctx, crm.ListQuery{Max: 1})
	if err != nil {
		return sync.WithClass(sync.ClassFatal, fmt.Errorf("count the CRM's customers (no checkpoint at %s): %w", path, err))
	}
	if n := max(page.Paging.Total, len(page.Data)); n > 0 {
		fmt.Fprintf(w, "Note: no checkpoint at %s, so every row was planned as new; run would refuse it (exit 2): "+
			"the CRM already holds %d customers, which a new checkpoint would re-create and never delete. "+
			"Create the checkpoint first: erpsync init -config FILE -adopt (or erpsync import).\n", path, n)
		return nil
	}
	fmt.Fprintf(w, "Note: no checkpoint at %s, so every row was planned as new; the CRM holds no customer, "+
		"so run would create the checkpoint and send these creates.\n", path)
	return nil
}

// writeWithColumns writes the plan and the export's columns, read and
// ignored: in .json under "columns", in .csv as "column" lines after the
// operations (field, new: the header, reason: read or ignored).
func writeWithColumns(w io.Writer, path string, plan *plan.Plan, cols mapping.Stats, write func(io.Writer, *plan.Plan) error, comma rune) error {
	read := make([]columnJSON, 0, len(cols.Columns))
	for _, c := range cols.Columns {
		read = append(read, columnJSON{Header: c.Header, Field: c.Field})
	}
	ignored := append([]string{}, cols.UnknownColumns...)
	if strings.ToLower(filepath.Ext(path)) != ".json" {
		if err := write(w, plan); err != nil {
			return err
		}
		cw := csv.NewWriter(w)
		cw.Comma = comma
		for _, c := range read {
			cw.Write([]string{"column", "", "", report.SafeCell(c.Field), "", report.SafeCell(c.Header), "read"})
		}
		for _, h := range ignored {
			cw.Write([]string{"column", "", "", "", "", report.SafeCell(h), "ignored"})
		}
		cw.Flush()
		return cw.Error()
	}
	// The plan's document, streamed, then "columns" added before its
	// closing brace (the plan may be large: it is not decoded again).
	tail := &heldTail{w: w}
	if err := write(tail, plan); err != nil {
		return err
	}
	if string(tail.held) != "\n}\n" {
		return fmt.Errorf("the plan's JSON ends with %q, not a closing brace", tail.held)
	}
	colsDoc, err := json.MarshalIndent(struct {
		Read    []columnJSON `json:"read"`
		Ignored []string     `json:"ignored"`
	}{read, ignored}, "  ", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, ",\n  \"columns\": %s\n}\n", colsDoc)
	return err
}

// heldTail passes bytes on to w but the last three, held back.
type heldTail struct {
	w    io.Writer
	held []byte
}

func (h *heldTail) Write(p []byte) (int, error) {
	h.held = append(h.held, p...)
	if n := len(h.held) - 3; n > 0 {
		if _, err := h.w.Write(h.held[:n]); err != nil {
			return 0, err
		}
		h.held = append(h.held[:0], h.held[n:]...)
	}
	return len(p), nil
}

// columnJSON is a column the mapping reads, in plan -out .json.
type columnJSON struct {
	Header string `json:"header"`
	Field  string `json:"field"`
}
