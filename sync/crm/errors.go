package crm

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error codes of the reference, as they appear in the `error` member.
const (
	CodeInvalidParam          = "invalid_param"
	CodeInvalidDatetimeFormat = "invalid_datetime_format"
	CodeInvalidParamType      = "invalid_param_type"
	CodeMissingParam          = "missing_param"
	CodeNotUnique             = "not_unique"
	CodeSaveFailed            = "save_failed"
	CodeExceededFileSize      = "exceeded_file_size"
	CodeUnsupportedFileType   = "unsupported_file_type"
	CodeNotFound              = "not_found"
	CodeDeleteFailed          = "delete_failed"
	CodeServerError           = "server_error"
	// Not in the reference: crmsim answers these for auth and throttling.
	CodeInvalidToken    = "invalid_token"
	CodeTooManyRequests = "too_many_requests"
)

// APIError is an answer of the API outside 2xx: the HTTP status and the
// body's `error` and `error_description`. It never holds the token.
type APIError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
	// Op names the call, e.g. "POST /customers/reference/{id}".
	Op string `json:"-"`
}

func (e *APIError) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.Status)
	}
	msg := fmt.Sprintf("%s: %d %s", e.Op, e.Status, code)
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Fatal reports an answer that no retry or next row can fix: the token was
// refused (401 or no_credentials) or lacks the right (403).
func (e *APIError) Fatal() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Code == CodeNoCredentials
}

// Retryable reports an answer worth repeating: 429 and 5xx.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// ErrRetriesExhausted wraps the last error of a call that kept failing.
var ErrRetriesExhausted = errors.New("retries exhausted")

// IsNotFound reports a 404 answer.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// IsFatal reports an error that must stop a run: auth refused or
// forbidden, a session login that failed (*LoginError), an API version
// the CRM does not answer (*VersionError), a redirect (*RedirectError) or
// a walk that makes no progress (*StalledError).
func IsFatal(err error) bool {
	var e *APIError
	if errors.As(err, &e) && e.Fatal() {
		return true
	}
	var re *RedirectError
	var se *StalledError
	var le *LoginError
	var ve *VersionError
	return errors.As(err, &re) || errors.As(err, &se) || errors.As(err, &le) || errors.As(err, &ve)
}

// IsUnreachable reports a call that never got an HTTP answer after its
// retries: the CRM is down or unreachable.
func IsUnreachable(err error) bool {
	var te *TransportError
	return errors.As(err, &te)
}

// TransportError is a request that got no HTTP answer (refused, reset, timed
// out). Sent tells whether the request may have reached the server.
type TransportError struct {
	Op   string
	Sent bool
	Err  error
}

func (e *TransportError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// RedirectError is a 3xx answer to an API call. The client follows no
// redirect: the base URL is wrong (http for https, another host or port,
// a login page), and following would re-send a write as a GET or carry
// the credentials elsewhere. It is fatal.
type RedirectError struct {
	Op       string
	Status   int
	Location string // where the answer pointed, resolved; "" when it did not say
}

func (e *RedirectError) Error() string {
	loc := e.Location
	if loc == "" {
		loc = "no Location"
	}
	return fmt.Sprintf("%s: %d %s to %s, not followed: check crm.base_url",
		e.Op, e.Status, http.StatusText(e.Status), loc)
}

// DecodeError is a success answer whose body could not be read: the CRM
// did what was asked (or holds the record), its answer is shaped otherwise.
// Its message says what was wrong, never the body.
type DecodeError struct {
	Op     string
	Status int
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s: decode %d answer: %v", e.Op, e.Status, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// StalledError is a walk over the list's pages that made no progress: the
// CRM answered the same records again (it ignores offset) or the count of
// records left did not shrink. It is fatal.
type StalledError struct {
	Walk     string // what was walked, e.g. "refresh"
	Requests int    // pages asked for before stopping
	Reason   string
}

func (e *StalledError) Error() string {
	return fmt.Sprintf("%s: the CRM's pages make no progress after %d requests (%s): does it ignore offset?",
		e.Walk, e.Requests, e.Reason)
}

// RecordError is a record of a list answer that could not be read even
// leniently. The rest of the page is read; the caller logs and counts it.
// It never holds the record's values, only what identifies it.
type RecordError struct {
	Index       int    // position in the answer's data
	ID          int64  // 0 when unreadable
	Reference   string // "" when unreadable
	LastUpdated time.Time
	Err         error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("customer id %d reference %q (record %d of the page) unreadable: %v",
		e.ID, e.Reference, e.Index+1, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }
