package crm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/zap"
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
func (c *Client) versionCheck(op, version string, err error) error {
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
	return &VersionError{Version: cmp.Or(version, c.cfg.APIVersion), Op: op, Answer: answer}
}

// DefaultAPIVersion is the version a client calls unless told: the
// reference's own, and the one the real CRM's public clients call
// (/api/v2.1/).
const DefaultAPIVersion = "v2.1"

// KnownVersions are the API versions the reference shows: its own, and
// the one its paging links name. `erpsync check` asks each of them.
var KnownVersions = []string{"v2.1", "v1.0"}

// CodeDeprecatedVersion is the word by which an answer says that its API
// version is deprecated. The reference is silent on deprecation: the
// client takes it from a Warning header (RFC 7234: 299 - "deprecated_version
// …"), a Deprecation header (RFC 9745), or a deprecated_version member of
// the answer's JSON, whichever comes.
const CodeDeprecatedVersion = "deprecated_version"

// deprecationOf returns the deprecation an answer carries, or "": its
// headers, and its body when body is set.
func deprecationOf(a *answer, body bool) string {
	for _, w := range a.header.Values("Warning") {
		if strings.Contains(strings.ToLower(w), CodeDeprecatedVersion) {
			return strings.TrimSpace(w)
		}
	}
	if d := a.header.Get("Deprecation"); d != "" && !strings.EqualFold(d, "false") {
		return CodeDeprecatedVersion + " (Deprecation: " + d + ")"
	}
	if !body || !bytes.Contains(a.body, []byte(CodeDeprecatedVersion)) {
		return ""
	}
	var v map[string]json.RawMessage
	if json.Unmarshal(a.body, &v) != nil {
		return ""
	}
	raw, ok := v[CodeDeprecatedVersion]
	if !ok {
		return ""
	}
	var text string
	if json.Unmarshal(raw, &text) != nil || text == "" {
		text = jsonKind(raw)
	}
	return CodeDeprecatedVersion + ": " + text
}

// noteDeprecation keeps the first deprecation the CRM answered, and logs
// it once. Headers are read in every answer; a body only in the first
// that succeeds (every answer is of the same version, and scanning every
// page of a large listing would cost).
func (c *Client) noteDeprecation(a *answer) {
	d := deprecationOf(a, c.bodyChecked.CompareAndSwap(false, true))
	if d == "" {
		return
	}
	kept := new(string) // allocated only when there is one: every answer passes here
	*kept = d
	if !c.deprecation.CompareAndSwap(nil, kept) {
		return
	}
	c.log.Warn("the CRM says this API version is deprecated", zap.String("api_version", c.cfg.APIVersion),
		zap.String("warning", d))
}

// Deprecation returns the deprecated_version warning the CRM answered to
// one of this client's calls ("" when none did).
func (c *Client) Deprecation() string {
	if d := c.deprecation.Load(); d != nil {
		return *d
	}
	return ""
}

// VersionProbe is what one API version answered to a list of one record.
type VersionProbe struct {
	Version     string
	Answered    bool   // false: a 404 that says the version is not served
	Deprecation string // the answer's deprecated_version warning, if any
}

// probeAnswer keeps the whole answer of a probe.
type probeAnswer struct{ a *answer }

func (p *probeAnswer) takeAnswer(a *answer) { p.a = a }

// ProbeVersion asks the list of one record under another API version,
// with the session of the client: whether the CRM serves that version,
// and whether it says it is deprecated. It writes nothing.
func (c *Client) ProbeVersion(ctx context.Context, version string) (VersionProbe, error) {
	out := VersionProbe{Version: version}
	p := &probeAnswer{}
	base := c.site + "/api/" + url.PathEscape(version) + "/customers"
	err := c.do(ctx, call{method: http.MethodGet, op: OpList, base: base, version: version,
		query: url.Values{"max": {"1"}}, idempotent: true}, p)
	var ve *VersionError
	switch {
	case errors.As(err, &ve):
		return out, nil
	case err != nil:
		return out, err
	}
	out.Answered = true
	if p.a != nil {
		out.Deprecation = deprecationOf(p.a, true)
	}
	return out, nil
}
