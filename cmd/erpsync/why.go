package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"erpsync/sync"
	"erpsync/sync/history"
)

// WhyCommand shows everything erpsync did and saw of one customer. It
// reads the checkpoint only, opened as status opens it (stateExisting).
type WhyCommand struct {
	Stdout, Stderr io.Writer
}

// Run runs `erpsync why -config FILE REFERENCE [-json]`; the reference
// may come first.
func (c *WhyCommand) Run(ctx context.Context, args []string) error {
	fs := newJobFlags("why", c.Stderr)
	asJSON := fs.Bool("json", false, "write the history as JSON")
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		args = append(args[1:len(args):len(args)], args[0]) // why REFERENCE -config FILE: the flags first
	}
	j, done, err := fs.open(ctx, args, jobOptions{state: stateExisting}) // the history is read from it
	if err != nil {
		return err
	}
	defer done()
	if fs.NArg() == 0 {
		return usage(errors.New("why takes a customer's reference: erpsync why -config FILE REFERENCE [-json]"))
	}
	ref := fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil { // flags after the reference
		return usage(err)
	}
	if fs.NArg() > 0 {
		return usage(fmt.Errorf("why takes one reference, not %q too", fs.Arg(0)))
	}
	story, err := history.Read(ctx, j.db, ref)
	if errors.Is(err, history.ErrNeverSeen) {
		return sync.WithClass(sync.ClassRowFailures, err)
	}
	if err != nil {
		return sync.WithClass(sync.ClassFatal, err)
	}
	if *asJSON {
		return story.WriteJSON(c.Stdout)
	}
	return story.WriteText(c.Stdout)
}
