package main

import (
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
)

// TestE2E_WrongDeclaredEncoding: day 1 is UTF-8; declared windows-1252 it
// used to send "Boutique LumiÃ¨re" with exit 0. It stops with exit 2,
// naming the line and utf-8, and nothing is sent.
func TestE2E_WrongDeclaredEncoding(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, func(cfg string) string {
		return strings.Replace(cfg, "encoding: auto", "encoding: windows-1252", 1)
	})
	code, out, errOut := e.run("run", "-file", day1)
	if code != ExitUsage || !strings.Contains(errOut+out, "day1.csv line 4: the file is valid UTF-8, not windows-1252") ||
		!strings.Contains(errOut+out, "set source.encoding: utf-8") {
		t.Errorf("exit %d, want 2 naming line 4 and utf-8\n%s\n%s", code, out, errOut)
	}
	if up, del := e.writes(); up+del != 0 {
		t.Errorf("the CRM got %d upserts, %d deletes", up, del)
	}
}
