package reconcile_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"erpsync/sync/reconcile"
)

// fpConfig is shaped as erpsync's config as JSON: sections by their Go
// names, the notify section's URLs.
type fpConfig struct {
	CRM    struct{ BaseURL, TokenEnv string }
	Source struct{ Path string }
	Notify struct {
		Webhooks     []struct{ URL, SecretEnv string }
		HeartbeatURL string
	}
}

func newFPConfig(path, hook, beat string) fpConfig {
	var c fpConfig
	c.CRM.BaseURL, c.CRM.TokenEnv = "https://crm.example.com/api", "CRM_TOKEN"
	c.Source.Path = path
	c.Notify.Webhooks = []struct{ URL, SecretEnv string }{{URL: hook, SecretEnv: "HOOK_SECRET"}}
	c.Notify.HeartbeatURL = beat
	return c
}

// TestFingerprint_NoSecret: a URL's password, a webhook's path and query
// and a heartbeat's path do not enter the fingerprint: two configs that
// differ only there have the same one, and the text hashed holds none of
// them; a setting that is no secret still changes it.
func TestFingerprint_NoSecret(t *testing.T) {
	const hook, beat = "https://hooks.slack.com/services/T000/B000/XXsecretXX?token=qq1", "https://hc-ping.com/uuid-secret-42"
	a := newFPConfig("sftp://erp:pa55-word-1@sftp.example.com/out/*.csv", hook, beat)
	b := newFPConfig("sftp://erp:other-pass-2@sftp.example.com/out/*.csv", "https://hooks.slack.com/services/T111/B111/YY", "https://hc-ping.com/other")
	if fa, fb := reconcile.Fingerprint(a), reconcile.Fingerprint(b); fa == "" || fa != fb {
		t.Errorf("configs differing only in secrets: fingerprints %q and %q, want one", fa, fb)
	}
	text, err := reconcile.FingerprintText(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"pa55-word-1", "XXsecretXX", "qq1", "T000", "uuid-secret-42", "erp:"} {
		if strings.Contains(string(text), secret) {
			t.Errorf("the fingerprinted text holds %q:\n%s", secret, text)
		}
	}
	sum := sha256.Sum256(text)
	if got := reconcile.Fingerprint(a); got != hex.EncodeToString(sum[:]) {
		t.Errorf("Fingerprint %s is not the sha256 of FingerprintText", got)
	}
	for _, keep := range []string{"sftp.example.com/out/*.csv", "CRM_TOKEN", "HOOK_SECRET", "hooks.slack.com", "crm.example.com/api"} {
		if !strings.Contains(string(text), keep) {
			t.Errorf("the fingerprinted text lost %q (no secret):\n%s", keep, text)
		}
	}
	c := newFPConfig("sftp://erp:pa55-word-1@sftp.example.com/other/*.csv", hook, beat)
	if reconcile.Fingerprint(c) == reconcile.Fingerprint(a) {
		t.Error("another source.path gives the same fingerprint")
	}
}

// TestFingerprint_QueryAndUserinfo: a query's values and a URL's userinfo
// are redacted wherever the URL is, its path kept outside notify.
func TestFingerprint_QueryAndUserinfo(t *testing.T) {
	text, err := reconcile.FingerprintText(struct{ Endpoint, Base string }{
		"https://minio.example:9000?X-Sig=abc123#frag-xyz", "https://bob:hunter2@crm.example/v2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"abc123", "frag-xyz", "hunter2", "bob"} {
		if strings.Contains(string(text), secret) {
			t.Errorf("the fingerprinted text holds %q: %s", secret, text)
		}
	}
	if !strings.Contains(string(text), "crm.example/v2") || !strings.Contains(string(text), "X-Sig=") {
		t.Errorf("the fingerprinted text lost what is no secret: %s", text)
	}
}
