package crm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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
// refused (401) or lacks the right (403).
func (e *APIError) Fatal() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
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

// IsFatal reports an error that must stop a run: auth refused or forbidden.
func IsFatal(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Fatal()
}

// IsRetryable reports an error that a later attempt may not meet: 429, 5xx
// and network failures. Cancellation is not retryable.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var e *APIError
	if errors.As(err, &e) {
		return e.Retryable()
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var te *TransportError
	return errors.As(err, &te)
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
