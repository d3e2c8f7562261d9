package reconcile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// redacted stands where a secret was in the text a fingerprint hashes.
const redacted = "redacted"

// FingerprintText is the text Fingerprint hashes: the config as JSON
// (keys sorted) with every value that may hold a secret redacted. The
// userinfo of any URL (sftp://user:pass@host) and the values of its
// query are dropped; under a key named notify, a URL keeps its scheme and
// host alone (a Slack webhook's path, a heartbeat's, is its secret). The
// names of the variables that hold secrets (*_env) are kept: they are
// none. No secret enters the hash, so none can be guessed from it.
func FingerprintText(config any) ([]byte, error) {
	data, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("config as JSON: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("config as JSON: %w", err)
	}
	return json.Marshal(redactTree(tree, false))
}

// redactTree returns v with its URLs redacted; hostOnly: v is under a
// notify key.
func redactTree(v any, hostOnly bool) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = redactTree(x, hostOnly || strings.EqualFold(k, "notify"))
		}
	case []any:
		for i, x := range v {
			v[i] = redactTree(x, hostOnly)
		}
	case string:
		return redactURL(v, hostOnly)
	}
	return v
}

// redactURL returns s without the secrets a URL may hold; s unchanged
// when it is no URL.
func redactURL(s string, hostOnly bool) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/ ") {
		return s
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		authority = redacted + authority[at:]
	}
	if hostOnly {
		if tail != "" {
			return scheme + "://" + authority + "/" + redacted
		}
		return scheme + "://" + authority
	}
	if i := strings.Index(tail, "#"); i >= 0 {
		tail = tail[:i] + "#" + redacted
	}
	if path, query, ok := strings.Cut(tail, "?"); ok {
		frag := ""
		if i := strings.Index(query, "#"); i >= 0 {
			query, frag = query[:i], query[i:]
		}
		tail = path + "?" + redactQuery(query) + frag
	}
	return scheme + "://" + authority + tail
}

// redactQuery keeps a query's keys, not their values.
func redactQuery(query string) string {
	vals, err := url.ParseQuery(query)
	if err != nil {
		return redacted
	}
	for k := range vals {
		vals[k] = []string{redacted}
	}
	return vals.Encode()
}
