package crm

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// VersionError is a 404 that says the CRM does not answer the API version
// of the path (or that the base URL is not the CRM's): a 404 to the list,
// which never answers one for a missing customer, or a 404 that is not the
// API's JSON error or names a version. It is fatal. A 404 for a customer,
// a parent or a payment type that does not exist is no VersionError.
type VersionError struct {
	Version string // Config.APIVersion
	Op      string
	Answer  string // the 404's code and description
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("API version %q not answered by the CRM (%s: 404 %s): check crm.api_version "+
		"(the reference's is v2.1, its paging links show v1.0) and crm.base_url", e.Version, e.Op, e.Answer)
}

// versionCheck turns a 404 that is about the path, not a record, into a
// *VersionError; it passes any other error on.
func (c *Client) versionCheck(op string, err error) error {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		return err
	}
	desc := strings.ToLower(ae.Description)
	if op != OpList && ae.Code != "" && !strings.Contains(desc, "version") {
		return err
	}
	answer := ae.Code
	if answer == "" {
		answer = "Not Found, not the API's JSON"
	}
	if ae.Description != "" {
		answer += ": " + ae.Description
	}
	return &VersionError{Version: c.cfg.APIVersion, Op: op, Answer: answer}
}
