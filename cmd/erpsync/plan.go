package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"erpsync/sync"
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
	out := fs.String("out", "", "write every planned operation to this CSV file")
	j, done, err := fs.open(ctx, args, jobOptions{state: stateRead, crm: true, file: file})
	if err != nil {
		return err
	}
	defer done()
	path, err := j.exportPath(ctx, *file)
	if err != nil {
		return err
	}
	res, err := sync.Run(ctx, j.engine(sync.ModePlan, path))
	if res == nil || res.Plan == nil {
		return err
	}
	plan := res.Plan
	printPlan(c.Stdout, path, plan, 20)
	if *out != "" {
		if werr := writePlanFile(*out, plan); werr != nil {
			return werr
		}
		fmt.Fprintf(c.Stdout, "Every planned operation: %s\n", *out)
	}
	if err == nil && len(plan.RowErrors) > 0 {
		err = sync.WithClass(sync.ClassRowFailures, fmt.Errorf("%d rows of %s are invalid", len(plan.RowErrors), path))
	}
	return err
}

func writePlanFile(path string, plan *sync.Plan) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	if err := sync.WritePlanCSV(f, plan); err != nil {
		f.Close()
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	return f.Close()
}
