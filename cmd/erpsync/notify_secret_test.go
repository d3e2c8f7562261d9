package main

import (
	"os"
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
)

// TestNotify_SecretOnlyWhereTold: an unset secret_env variable stops the
// commands that notify (run, exit 2 naming the key) and no other: status,
// check, plan and a dry run work without it.
func TestNotify_SecretOnlyWhereTold(t *testing.T) {
	e := newE2E(t, crmsim.Options{}, func(cfg string) string {
		return cfg + "\nnotify:\n  webhooks:\n  - url: http://127.0.0.1:1/hook\n    events: [failed]\n    secret_env: H14_NOTIFY_SECRET\n  retries: 0\n  timeout: 1s\n"
	})
	t.Setenv("H14_NOTIFY_SECRET", "set-for-the-first-run")
	if code, _, stderr := e.run("run", "-file", day1); code != ExitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	if err := os.Unsetenv("H14_NOTIFY_SECRET"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"status"}, {"check"}, {"plan", "-file", day2}, {"run", "-dry-run", "-file", day2}} {
		if code, _, stderr := e.run(args...); code == ExitUsage || strings.Contains(stderr, "secret_env") {
			t.Errorf("%s with secret_env unset: exit %d\n%s", args[0], code, stderr)
		}
	}
	for _, args := range [][]string{{"run", "-file", day2}, {"import", "-file", day2}} {
		if code, _, stderr := e.run(args...); code != ExitUsage || !strings.Contains(stderr, "notify.webhooks[0].secret_env") {
			t.Errorf("%s with secret_env unset: exit %d, want %d naming notify.webhooks[0].secret_env\n%s", args[0], code, ExitUsage, stderr)
		}
	}
}
