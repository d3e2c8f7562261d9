package crm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	fastjson "github.com/segmentio/encoding/json"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// Config holds what the client needs. Zero values take the defaults of
// ../../configs/erpsync.example.yaml.
type Config struct {
	BaseURL string // e.g. http://127.0.0.1:8085; /api/<APIVersion>/customers is appended
	// APIVersion is the version in the path; default DefaultAPIVersion.
	APIVersion string
	// Auth is how calls are authenticated: AuthNone, AuthBearer (the
	// default: Token) or AuthSession (a login with Username and Password,
	// as the real CRM; see auth.go).
	Auth string
	// Token is sent as a Bearer token. Callers read it from the environment
	// variable that the config names; the client never logs or returns it.
	Token string
	// Username and Password are the session login's credentials; the
	// client never logs or returns the password.
	Username, Password string
	Concurrency        int // sizes the connection pool; default 8
	// PageSize is the list calls' `max` when a query names none; default
	// DefaultPageSize (the reference's). It is a request: a server may
	// answer fewer, and the walks read paging.max instead of trusting it.
	PageSize    int
	RateLimit   float64       // requests per second, 0 = unlimited
	Timeout     time.Duration // per request attempt; default 30s
	Retries     int           // failed attempts retried per call; default 5, -1 for none
	BackoffBase time.Duration // first backoff ceiling; default 200ms
	BackoffMax  time.Duration // backoff ceiling; default 30s
	// MaxThrottleWait bounds the total time one call may spend waiting on
	// 429 answers (which do not count as failures); default 2m.
	MaxThrottleWait time.Duration
	// Pause, when set, is how a call waits between its attempts (tests);
	// nil waits on a timer. See pause.go.
	Pause  Pause
	Logger *zap.Logger
	// Observe, when set, is told of every HTTP answer (for metrics), the
	// session login's answers too (OpLogin, OpLoginSuccess).
	Observe func(op string, status int, d time.Duration)
	// OnLogin, when set, is told of every session login that succeeded;
	// relogin is true when a session had ended (for metrics).
	OnLogin func(relogin bool)
}

// Stats counts what the client did, for run summaries.
type Stats struct {
	Requests  int64 // attempts sent
	Retries   int64 // attempts repeated after a failure or a throttle
	Throttled int64 // 429 answers
	Logins    int64 // session logins that succeeded, the first included
	Relogins  int64 // of which after a session ended
}

// Client talks to one CRM. It is safe for concurrent use.
type Client struct {
	cfg     Config
	site    string // the base URL, where the session login is
	base    string // .../api/<version>/customers
	http    *http.Client
	limiter *rate.Limiter
	log     *zap.Logger
	session *session // AuthSession only
	parents parentRefs

	requests, retries, throttled, logins, relogins atomic.Int64
	deprecation                                    atomic.Pointer[string] // the first deprecated_version warning answered
	bodyChecked                                    atomic.Bool            // a body was searched for one
}

// NewClient checks the config and sets defaults. It does no I/O.
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("crm base_url %q: want http(s)://host[:port]", cfg.BaseURL)
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	if err := checkAuth(&cfg); err != nil {
		return nil, err
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 5
	} else if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 200 * time.Millisecond
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 30 * time.Second
	}
	if cfg.MaxThrottleWait <= 0 {
		cfg.MaxThrottleWait = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = cfg.Concurrency + 2
	transport.MaxIdleConns = cfg.Concurrency * 2
	c := &Client{
		cfg:  cfg,
		site: u.String(),
		base: u.String() + "/api/" + url.PathEscape(cfg.APIVersion) + "/customers",
		http: &http.Client{Transport: transport, CheckRedirect: refuseRedirect},
		log:  cfg.Logger,
	}
	if cfg.RateLimit > 0 {
		// A bucket of half a second's requests: a bucket of a whole
		// second's sent every request at the very edge of a CRM limiting
		// at the same rate, where the least jitter in arrival is a 429,
		// and a 429 idles a worker a whole second (Retry-After counts
		// seconds); a bucket of one lost for good every slot a busy
		// machine's worker came late for.
		c.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), max(1, int(cfg.RateLimit/2)))
	}
	if cfg.Auth == AuthSession {
		c.session = newSession()
	}
	return c, nil
}

// Stats returns the counters so far.
func (c *Client) Stats() Stats {
	return Stats{Requests: c.requests.Load(), Retries: c.retries.Load(), Throttled: c.throttled.Load(),
		Logins: c.logins.Load(), Relogins: c.relogins.Load()}
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// call is one API call, repeated as the retry policy allows.
type call struct {
	method     string
	op         string // method and route template, for errors, logs and metrics
	path       string // after .../customers
	query      url.Values
	form       *Form
	idempotent bool
	base       string // another API version's .../customers (ProbeVersion); "" the client's
	version    string // the version of base
}

// do runs a call and decodes a 2xx body into out (when out is not nil).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	body, contentType, err := cl.form.encode()
	if err != nil {
		return fmt.Errorf("%s: encode form: %w", cl.op, err)
	}
	target := cmp.Or(cl.base, c.base) + cl.path
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}
	r := retryState{}
	ends := sessionEnds{}
	for attempt := 1; ; attempt++ {
		if err := c.waitLimit(ctx, cl.op); err != nil {
			return err
		}
		cred, err := c.credentials(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", cl.op, err)
		}
		resp, err := c.attempt(ctx, cl, target, body, contentType, cred)
		if err == nil {
			c.sessionWorked(cred)
			return decodeSuccess(cl.op, resp, out)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", cl.op, ctx.Err())
		}
		if c.sessionEnded(err, cred) {
			// The call was refused, not processed: it is repeated, whatever
			// its method, on a new session (see auth.go for the bounds).
			if err := c.renewSession(ctx, cl.op, cred, &ends, err); err != nil {
				return err
			}
			continue
		}
		wait, err := c.retryWait(cl, resp, err, attempt, &r)
		if err != nil {
			return err
		}
		c.retries.Add(1)
		c.log.Debug("crm retry", zap.String("op", cl.op), zap.Int("attempt", attempt),
			zap.Duration("wait", wait), zap.Error(err))
		if err := c.pause(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w", cl.op, err)
		}
	}
}

// retryState is what a call's retries have used so far.
type retryState struct {
	failures     int
	throttleWait time.Duration
}

// retryWait says how long to wait before repeating a call that failed
// with err, or returns the error that ends the call.
func (c *Client) retryWait(cl call, resp *answer, err error, attempt int, r *retryState) (time.Duration, error) {
	var apiErr *APIError
	var te *TransportError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests:
		// The server refused without doing anything: safe to repeat even
		// for create, and not a failure, but the waiting is bounded.
		c.throttled.Add(1)
		wait := retryAfter(resp, c.backoff(r.failures+1))
		if r.throttleWait+wait > c.cfg.MaxThrottleWait {
			return 0, fmt.Errorf("%w after %s of throttling: %w", ErrRetriesExhausted, r.throttleWait, err)
		}
		r.throttleWait += wait
		return wait, nil
	case errors.As(err, &apiErr) && apiErr.Retryable() && cl.idempotent,
		errors.As(err, &te) && (cl.idempotent || !te.Sent):
		r.failures++
		if r.failures > c.cfg.Retries {
			return 0, fmt.Errorf("%w (%d attempts): %w", ErrRetriesExhausted, attempt, err)
		}
		return retryAfter(resp, c.backoff(r.failures)), nil
	}
	return 0, err
}

// waitLimit waits for the rate limit's next slot.
func (c *Client) waitLimit(ctx context.Context, op string) error {
	if c.limiter == nil {
		return nil
	}
	if err := c.limiter.Wait(ctx); err != nil {
		return fmt.Errorf("%s: rate limit: %w", op, err)
	}
	return nil
}

// answer is a finished HTTP exchange: status, headers and the whole body.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// maxBody bounds what is read of an answer; a page of 1,000 customers is
// far below it.
const maxBody = 64 << 20

// attempt sends one request. It returns the answer, and an *APIError for a
// status outside 2xx (a *VersionError for a 404 of a version the CRM does
// not answer), a *RedirectError for a 3xx, or a *TransportError when no
// answer came.
func (c *Client) attempt(ctx context.Context, cl call, target string, body []byte, contentType string, cred credentials) (*answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", cl.op, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	cred.apply(req)
	a, err := c.roundTrip(cl.op, req)
	if err != nil {
		return a, err
	}
	switch {
	case a.status >= 300 && a.status <= 399:
		return a, redirectError(cl.op, req.URL, a)
	case a.status < 200 || a.status > 299:
		return a, c.versionCheck(cl.op, cl.version, decodeError(cl.op, a))
	case c.session != nil && refusedInBody(a.body):
		return a, decodeError(cl.op, a)
	}
	if cl.base == "" {
		c.noteDeprecation(a)
	}
	return a, nil
}

// roundTrip sends req within the per-attempt timeout and reads the whole
// answer. It counts the request and tells Observe of the answer.
func (c *Client) roundTrip(op string, req *http.Request) (*answer, error) {
	ctx, cancel := context.WithTimeout(req.Context(), c.cfg.Timeout)
	defer cancel()
	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteHeaders: func() { sent.Store(true) },
	})
	req = req.WithContext(ctx)
	c.requests.Add(1)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &TransportError{Op: op, Sent: sent.Load(), Err: scrubURL(err)}
	}
	data, readErr := readBody(resp)
	_, _ = io.Copy(io.Discard, resp.Body) // drain what is left so the connection is reused
	resp.Body.Close()
	if c.cfg.Observe != nil {
		c.cfg.Observe(op, resp.StatusCode, time.Since(start))
	}
	a := &answer{status: resp.StatusCode, header: resp.Header, body: data}
	if readErr != nil {
		return a, &TransportError{Op: op, Sent: true, Err: fmt.Errorf("read body: %w", scrubURL(readErr))}
	}
	return a, nil
}

// refuseRedirect makes the HTTP client hand back a 3xx answer instead of
// following it: Go's client would re-send a POST or DELETE as a GET (and
// report the GET's 200 as the write's success), and a redirect to another
// origin would carry the token there.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// redirectError names where a 3xx answer pointed, resolved against the
// request, without what may hold a secret (see safeLocation).
func redirectError(op string, from *url.URL, a *answer) *RedirectError {
	e := &RedirectError{Op: op, Status: a.status}
	if loc := a.header.Get("Location"); loc != "" {
		e.Location = "(a Location that cannot be read)"
		if u, err := from.Parse(loc); err == nil {
			e.Location = safeLocation(u)
		}
	}
	return e
}

// safeLocation writes a redirect's target without its user info, query,
// fragment and path parameters: a servlet container puts the session id
// in the path (";jsessionid=…") of the redirect of a first login, and a
// query may carry a token. What remains names the place, never a secret.
func safeLocation(u *url.URL) string {
	clean := url.URL{Scheme: u.Scheme, Host: u.Host, Path: stripPathParams(u.Path)}
	return clean.String()
}

// stripPathParams removes the ";…" parameters of each path segment.
func stripPathParams(p string) string {
	if !strings.Contains(p, ";") {
		return p
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i], _, _ = strings.Cut(s, ";")
	}
	return strings.Join(segs, "/")
}

// readBody reads an answer in one allocation when its length is known
// (a page of customers is large: growing a buffer step by step would
// allocate it several times over).
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= maxBody {
		buf := make([]byte, n)
		_, err := io.ReadFull(resp.Body, buf)
		return buf, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxBody))
}

// scrubURL drops the URL from a *url.Error: it adds nothing a caller lacks
// and keeps query strings out of logs.
func scrubURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// bodyDecoder is an answer type that decodes itself (tolerantly).
type bodyDecoder interface {
	decodeBody(body []byte) error
}

func decodeSuccess(op string, a *answer, out any) error {
	if st, ok := out.(statusTaker); ok {
		st.takeStatus(a.status)
	}
	if out == nil {
		return nil
	}
	if _, ok := out.(*answerStatus); ok {
		return nil
	}
	if p, ok := out.(*probeAnswer); ok {
		p.takeAnswer(a)
		return nil
	}
	if d, ok := out.(bodyDecoder); ok {
		if err := d.decodeBody(a.body); err != nil {
			return &DecodeError{Op: op, Status: a.status, Err: err}
		}
		return nil
	}
	// segmentio's decoder: as encoding/json does, ~4 times faster (a page
	// of 100 customers: 0.46 ms instead of 1.7 ms); listing a large CRM is
	// mostly decoding. Its error messages quote up to 32 bytes of the body
	// (customer data, bound for the logs): a body it refuses is decoded
	// again by encoding/json, whose messages say what is wrong without it.
	if err := fastjson.Unmarshal(a.body, out); err != nil {
		if serr := json.Unmarshal(a.body, out); serr != nil {
			err = serr
		}
		return &DecodeError{Op: op, Status: a.status, Err: err}
	}
	return nil
}

// statusTaker is an out that wants the HTTP status of the answer.
type statusTaker interface{ takeStatus(int) }

// answerStatus is an out that takes only the status (an answer with no
// body worth decoding, a delete's).
type answerStatus int

func (s *answerStatus) takeStatus(st int) { *s = answerStatus(st) }

func decodeError(op string, a *answer) error {
	e := &APIError{Status: a.status, Op: op}
	_ = json.Unmarshal(a.body, e) // a body that is not the API's JSON leaves the status alone to speak
	e.Status, e.Op = a.status, op
	return e
}

// backoff is exponential with full jitter: a random wait up to
// base·2^(n-1), capped.
func (c *Client) backoff(n int) time.Duration {
	ceiling := c.cfg.BackoffBase << min(n-1, 30)
	if ceiling <= 0 || ceiling > c.cfg.BackoffMax {
		ceiling = c.cfg.BackoffMax
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// maxRetryAfter bounds what one Retry-After may ask for.
const maxRetryAfter = 5 * time.Minute

// retryAfter reads Retry-After (seconds or an HTTP date) from an answer,
// or returns fallback.
func retryAfter(a *answer, fallback time.Duration) time.Duration {
	if a == nil {
		return fallback
	}
	v := strings.TrimSpace(a.header.Get("Retry-After"))
	if v == "" {
		return fallback
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = time.Until(at)
	} else {
		return fallback
	}
	return min(max(d, 0), maxRetryAfter)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
