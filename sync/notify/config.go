// Package notify tells people how runs end without their polling: signed
// webhooks (JSON or Slack-style text) for the events they subscribe to,
// and a heartbeat URL pinged after every run (healthchecks.io style).
// Delivery never blocks or fails a run: every delivery of a run's end
// shares one timeout, is retried a bounded number of times with backoff,
// follows no redirect, and a failure is logged and counted, never
// returned. Secrets are read from environment variables and never
// appear in a log, an error or a body.
package notify

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Events a webhook may subscribe to.
const (
	EventFailed    = "failed"    // a run that did not go through (fatal, unusable export, interrupted)
	EventPartial   = "partial"   // a run that went through with row failures
	EventGuard     = "guard"     // a guard stopped a run before any write
	EventDrift     = "drift"     // the run found hand edits or hand deletes in the CRM
	EventHeld      = "held"      // serve set an export aside (stopped by a guard)
	EventRecovered = "recovered" // the first run that went through after one that did not
)

// AllEvents lists every event, in the order a run's events are sent.
var AllEvents = []string{EventFailed, EventPartial, EventGuard, EventHeld, EventDrift, EventRecovered}

// Formats of a webhook's body.
const (
	FormatJSON  = "json"  // the documented Message
	FormatSlack = "slack" // {"text": "..."}: Slack, Teams and Mattermost incoming webhooks
)

// Config is the notify: section of the config.
type Config struct {
	Webhooks []Webhook `yaml:"webhooks"`
	// HeartbeatURL is called (GET) after every run that went through,
	// and HeartbeatURL + "/fail" after one that did not.
	HeartbeatURL string `yaml:"heartbeat_url"`
	// Timeout bounds every delivery of one run's end together: a run's
	// end waits at most this long for its receivers. 0: DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how many times a delivery is tried again after a
	// network error, a 429 or a 5xx answer, within Timeout (0: never;
	// the config's default is DefaultRetries).
	Retries int `yaml:"retries"`
}

// Webhook is one receiver of notify.webhooks.
type Webhook struct {
	URL    string   `yaml:"url"`
	Events []string `yaml:"events"`
	// SecretEnv names the environment variable holding the secret that
	// signs the body (X-Erpsync-Signature); "" sends it unsigned.
	SecretEnv string `yaml:"secret_env"`
	Format    string `yaml:"format"` // json (default) | slack
}

// Defaults of Config.
const (
	DefaultTimeout = 10 * time.Second
	DefaultRetries = 2
)

// envName is the name of an environment variable.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// Validate checks the section as written: URLs, events, formats and the
// names of the secrets' variables. Its errors name the key
// (notify.webhooks[0].url); no URL's path or secret is shown.
func (c Config) Validate() error {
	if c.Timeout < 0 {
		return fmt.Errorf("notify.timeout %s: want a positive duration", c.Timeout)
	}
	if c.Retries < 0 || c.Retries > 10 {
		return fmt.Errorf("notify.retries %d: want 0 to 10", c.Retries)
	}
	if c.HeartbeatURL != "" {
		if err := checkURL(c.HeartbeatURL); err != nil {
			return fmt.Errorf("notify.heartbeat_url: %w", err)
		}
	}
	for i, w := range c.Webhooks {
		key := fmt.Sprintf("notify.webhooks[%d]", i)
		if err := checkURL(w.URL); err != nil {
			return fmt.Errorf("%s.url: %w", key, err)
		}
		if len(w.Events) == 0 {
			return fmt.Errorf("%s.events is empty: list some of %s", key, strings.Join(AllEvents, ", "))
		}
		for _, e := range w.Events {
			if !slices.Contains(AllEvents, e) {
				return fmt.Errorf("%s.events: unknown event %q: want %s", key, clipName(e), strings.Join(AllEvents, ", "))
			}
		}
		switch w.Format {
		case "", FormatJSON, FormatSlack:
		default:
			return fmt.Errorf("%s.format %q: want json or slack", key, clipName(w.Format))
		}
		if w.SecretEnv != "" && !envName.MatchString(w.SecretEnv) {
			return fmt.Errorf("%s.secret_env is not the name of an environment variable (letters, digits and _); its value is not shown: if it is the secret itself, set it in a variable", key)
		}
	}
	return nil
}

// checkURL accepts an absolute http or https URL with a host. Its error
// does not quote the URL: a webhook's path is often its secret.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL (not shown: it may hold a secret)")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q: want http or https", clipName(u.Scheme))
	}
	if u.Host == "" {
		return fmt.Errorf("no host: want http(s)://host/path")
	}
	return nil
}

// clipName shows at most 32 bytes of a value in an error.
func clipName(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// secrets reads each webhook's secret from its variable: an unset or
// empty one is an error naming the key and the variable.
func (c Config) secrets() ([]string, error) {
	out := make([]string, len(c.Webhooks))
	for i, w := range c.Webhooks {
		if w.SecretEnv == "" {
			continue
		}
		v := os.Getenv(w.SecretEnv)
		if v == "" {
			return nil, fmt.Errorf("notify.webhooks[%d].secret_env: environment variable %s is unset or empty", i, w.SecretEnv)
		}
		out[i] = v
	}
	return out, nil
}

// redact is a URL as logs show it: its scheme and host, never its path
// or query (a Slack webhook's path is its secret).
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Scheme + "://" + u.Host
}
