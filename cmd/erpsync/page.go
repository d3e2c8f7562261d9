package main

import (
	"net/http"
	"time"

	"github.com/robfig/cron/v3"

	"erpsync/sync/inbox"
	"erpsync/sync/page"
)

// servePage adds serve's page (GET /) and its report files
// (GET /reports/...) to mux.
func (j *job) servePage(mux *http.ServeMux, schedule cron.Schedule, ledger *inbox.Ledger) {
	j.page = page.New(page.Source{State: j.db, Held: ledger.Held, ReportsDir: j.cfg.Reports.Dir, Log: j.log,
		Next: func() time.Time { return schedule.Next(time.Now()) }})
	j.page.Register(mux)
}
