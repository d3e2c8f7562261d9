package crmsim

import (
	"fmt"
	"net/http"
	"strings"

	"erpsync/sync/crm"
)

// apiError is an answer outside 2xx, with the reference's words.
type apiError struct {
	status      int
	code        string
	description string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.description) }

func errMissing(param string) *apiError {
	return &apiError{http.StatusBadRequest, crm.CodeMissingParam, param + " parameter is missing"}
}

func errNotUnique() *apiError {
	return &apiError{http.StatusBadRequest, crm.CodeNotUnique, "reference already used"}
}

func errType(param string) *apiError { return errTypeText("parameter " + param) }

// errTypeText words it as the reference does, e.g. "The type of parameter
// payment type id you provided is not valid for this request."
func errTypeText(what string) *apiError {
	if !strings.HasPrefix(what, "parameter ") {
		what = "parameter " + what
	}
	return &apiError{http.StatusBadRequest, crm.CodeInvalidParamType,
		"The type of " + what + " you provided is not valid for this request."}
}

func errInvalidParams(names []string) *apiError {
	return &apiError{http.StatusBadRequest, crm.CodeInvalidParam,
		"The parameters [" + strings.Join(names, ", ") + "] you provided are not valid for this request."}
}

func errDatetime(v string) *apiError {
	return &apiError{http.StatusBadRequest, crm.CodeInvalidDatetimeFormat,
		"Invalid datetime filter (not ISO-8601 formatted): [" + v + "]"}
}

func errNotFound(text string) *apiError {
	return &apiError{http.StatusNotFound, crm.CodeNotFound, text}
}

func errCustomerNotFound(id string) *apiError {
	return errNotFound("The customer with the id " + id + " doesn't exist.")
}

func errSaveFailed() *apiError {
	return &apiError{http.StatusBadRequest, crm.CodeSaveFailed, "Failed to save instance."}
}

func errServer() *apiError {
	return &apiError{http.StatusInternalServerError, crm.CodeServerError, "Oops! Something went wrong..."}
}

func errToken() *apiError {
	return &apiError{http.StatusUnauthorized, crm.CodeInvalidToken, "The access token is missing or invalid."}
}

func errThrottled() *apiError {
	return &apiError{http.StatusTooManyRequests, crm.CodeTooManyRequests, "Too many requests, retry later."}
}

// codeNoCredentials is the real CRM's error code for a call without a
// session (none, or one that ended), as its public clients handle it.
const codeNoCredentials = "no_credentials"

// errNoCredentials answers 401, as Spring Security does for a call that
// is not authenticated; its description is Spring Security's own.
func errNoCredentials() *apiError {
	return &apiError{http.StatusUnauthorized, codeNoCredentials, "Full authentication is required to access this resource"}
}

// errBadCredentials answers a login refused (GET /login/authfail).
func errBadCredentials() *apiError {
	return &apiError{http.StatusUnauthorized, "bad_credentials",
		"Sorry, we were not able to find a user with that username and password."}
}

// errVersion answers an API version crmsim was not told to answer.
func errVersion(version string) *apiError {
	return errNotFound("The API version " + version + " doesn't exist.")
}

// warnDeprecated marks an answer of a deprecated API version. The
// reference says nothing of deprecation: crmsim uses the HTTP headers made
// for it, a Warning (code 299, "miscellaneous persistent warning") whose
// text starts with the API's style of code, and Deprecation (RFC 9745).
func warnDeprecated(w http.ResponseWriter, version string) {
	w.Header().Set("Warning", `299 - "deprecated_version: the API version `+version+` is deprecated"`)
	w.Header().Set("Deprecation", "true")
}
