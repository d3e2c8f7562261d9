package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"erpsync/mapping"
	"erpsync/mapping/genexport"
	"erpsync/sync/crm"
	"erpsync/sync/rawrate"
)

// rawOptions are -raw's settings.
type rawOptions struct {
	url         string
	file        string
	forms       int
	upserts     int
	concurrency int
}

// run sends the upserts and prints their rate. The collector is set as
// `erpsync import` sets it (GOGC 400, unless GOGC is set): the client's
// work a request is then the import's. The token, when CRM_TOKEN is set,
// is sent as a bearer token; else no credential.
func (o rawOptions) run(w io.Writer) error {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	m, err := mapping.New(genexport.Config(), nil)
	if err != nil {
		return err
	}
	ctx := context.Background()
	fs, err := rawrate.Read(ctx, m, o.file, min(o.forms, o.upserts))
	if err != nil {
		return err
	}
	cfg := crm.Config{BaseURL: o.url, Auth: crm.AuthNone, Concurrency: o.concurrency}
	if tok := os.Getenv("CRM_TOKEN"); tok != "" {
		cfg.Auth, cfg.Token = crm.AuthBearer, tok
	}
	c, err := crm.NewClient(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	rate, err := rawrate.Send(ctx, c, fs, "RAW", o.upserts, o.concurrency)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "raw rate of %s: %d upserts of the first %d customers of %s, %d at a time: %.0f upserts/s\n",
		o.url, o.upserts, len(fs.Forms), o.file, o.concurrency, rate)
	return err
}
