package serve

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"erpsync/sync"
	"erpsync/sync/plan"
)

// Metrics are what `serve` exposes at /metrics, all prefixed erpsync_.
type Metrics struct {
	reg            *prometheus.Registry
	runs           *prometheus.CounterVec
	exports        *prometheus.CounterVec
	rows           *prometheus.CounterVec
	runDuration    prometheus.Histogram
	crmLatency     *prometheus.HistogramVec
	retries        prometheus.Counter
	throttles      prometheus.Counter
	logins         prometheus.Counter
	relogins       prometheus.Counter
	pendingFails   prometheus.Gauge
	lastSuccess    prometheus.Gauge
	lastExportTime prometheus.Gauge
}

// NewMetrics makes serve's metrics in a registry of their own.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpsync_runs_total", Help: "Sync runs by outcome (done, done with failures, aborted, failed, rejected, interrupted).",
		}, []string{"outcome"}),
		exports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpsync_exports_total", Help: "Exports taken from the inbox, by kind of source (local, sftp, s3) and outcome (a run's outcome, or skipped: already synced).",
		}, []string{"source", "outcome"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "erpsync_rows_total", Help: "Rows by operation (create, update, delete, read) and outcome (ok, failed, invalid, unchanged).",
		}, []string{"operation", "outcome"}),
		runDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "erpsync_run_duration_seconds", Help: "Duration of sync runs.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 16),
		}),
		crmLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "erpsync_crm_request_duration_seconds", Help: "CRM request latency by route and HTTP status.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"route", "status"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "erpsync_crm_retries_total", Help: "CRM requests repeated after a failure or a throttle.",
		}),
		throttles: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "erpsync_crm_throttles_total", Help: "CRM answers 429 Too Many Requests.",
		}),
		logins: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "erpsync_crm_logins_total", Help: "CRM session logins (crm.auth session), the first included.",
		}),
		relogins: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "erpsync_crm_relogins_total", Help: "CRM session logins after a session ended.",
		}),
		pendingFails: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "erpsync_pending_row_failures", Help: "Row failures waiting for the next run.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "erpsync_last_success_timestamp_seconds", Help: "When the last run finished without a fatal error or a guard.",
		}),
		lastExportTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "erpsync_last_export_timestamp_seconds", Help: "Modification time of the last export taken; its age is time() minus this.",
		}),
	}
	m.reg.MustRegister(m.runs, m.exports, m.rows, m.runDuration, m.crmLatency, m.retries, m.throttles,
		m.logins, m.relogins, m.pendingFails, m.lastSuccess, m.lastExportTime)
	return m
}

// Gatherer is the registry of the metrics, as /metrics reads it.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Session logins reach ObserveCRM as events of status 0, not answers:
// LoginEvents turns the client's OnLogin into them.
const (
	crmLoginEvent   = "session login"
	crmReloginEvent = "session re-login"
)

// LoginEvents tells observe of each session login (a CRM client's
// OnLogin); nil without observe.
func LoginEvents(observe func(string, int, time.Duration)) func(relogin bool) {
	if observe == nil {
		return nil
	}
	return func(relogin bool) {
		op := crmLoginEvent
		if relogin {
			op = crmReloginEvent
		}
		observe(op, 0, 0)
	}
}

// ObserveCRM is a CRM client's Observe hook (and its logins' events).
func (m *Metrics) ObserveCRM(op string, status int, d time.Duration) {
	switch op {
	case crmReloginEvent:
		m.relogins.Inc()
		m.logins.Inc()
		return
	case crmLoginEvent:
		m.logins.Inc()
		return
	}
	m.crmLatency.WithLabelValues(op, strconv.Itoa(status)).Observe(d.Seconds())
}

// exportSkipped is the outcome of an export passed over because it is
// the one synced last.
const exportSkipped = "skipped"

// observeExport counts an export handled by serve's inbox.
func (m *Metrics) observeExport(kind, outcome string) {
	m.exports.WithLabelValues(kind, outcome).Inc()
}

// observeRun records a finished run.
func (m *Metrics) observeRun(status string, d time.Duration, res *sync.Outcome) {
	m.runs.WithLabelValues(status).Inc()
	m.runDuration.Observe(d.Seconds())
	if res == nil {
		return
	}
	if res.Plan != nil {
		m.rows.WithLabelValues("read", "invalid").Add(float64(res.Plan.InvalidRows)) // rows, as the console and summary.json count them
		m.rows.WithLabelValues("read", "unchanged").Add(float64(res.Plan.Unchanged))
	}
	if res.Summary != nil {
		for _, op := range []plan.Op{plan.OpCreate, plan.OpUpdate, plan.OpDelete} {
			m.rows.WithLabelValues(string(op), "ok").Add(float64(res.Summary.OK[op]))
			m.rows.WithLabelValues(string(op), "failed").Add(float64(res.Summary.Failed[op]))
		}
	}
}
