package inbox_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"erpsync/sync/inbox"
)

// Issue 26 follow-up §3: a link in a local inbox is never read, and no
// longer passed over silently: the inbox warns once per name (not at
// every tick), naming the link but not what it points at.
func TestInbox_LocalLinkWarnedOnce(t *testing.T) {
	dir := t.TempDir()
	i := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(i, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "environ")
	if err := os.WriteFile(secret, []byte("CRM_TOKEN=do-not-read-me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(i, "x.csv")); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	day1 := filepath.Join(i, "day1.csv")
	if err := os.WriteFile(day1, []byte("reference,name\nC1,One\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(day1, old, old)
	core, logs := observer.New(zapcore.WarnLevel)
	in := &inbox.Inbox{Pattern: filepath.Join(i, "*.csv"), Log: zap.New(core),
		SyncedLast: func(context.Context, string, string) (bool, error) { return false, nil }}
	for range 3 { // three ticks
		exp, _, err := in.Next(context.Background())
		if err != nil || exp == nil || exp.Path != day1 {
			t.Fatalf("Next = %+v, %v; want day1.csv (never the link)", exp, err)
		}
	}
	warned := logs.FilterMessageSnippet("symbolic link").All()
	if len(warned) != 1 {
		t.Fatalf("%d warnings about the link over 3 ticks, want 1: %+v", len(warned), logs.All())
	}
	text := warned[0].Message
	for _, f := range warned[0].Context {
		text += " " + f.String
	}
	if !strings.Contains(text, "x.csv") || strings.Contains(text, "do-not-read-me") || strings.Contains(text, secret) {
		t.Errorf("warning %q: want the link named, not its target", text)
	}
}
