package source_test

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"erpsync/sync/source"
	"erpsync/sync/source/sourcetest"
)

// TestS3_SDKLogsToDebug: the AWS SDK's own lines ("Response has no
// supported checksum") go to erpsync's logger at debug level (seen with
// -v), never straight to stderr.
func TestS3_SDKLogsToDebug(t *testing.T) {
	srv := sourcetest.NewS3Server(t, "erp")
	srv.Put(t, "erp", "inbox/day1.csv", export(10))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	core, logs := observer.New(zap.DebugLevel)
	cfg := source.DefaultSettings()
	cfg.Path = "s3://erp/inbox/*.csv"
	cfg.S3 = source.S3Config{Endpoint: srv.URL}
	opt := fetchOptions(t)
	opt.Log = zap.New(core)
	_, cleanup, ferr := source.Fetch(context.Background(), cfg, "", opt)
	os.Stderr = stderr
	w.Close()
	printed, _ := io.ReadAll(r)
	if ferr != nil {
		t.Fatal(ferr)
	}
	cleanup()
	if strings.Contains(string(printed), "SDK") {
		t.Errorf("the SDK printed to stderr:\n%s", printed)
	}
	if logs.FilterMessageSnippet("checksum").FilterLevelExact(zap.DebugLevel).Len() == 0 {
		t.Errorf("no SDK line at debug level in the log: %v", logs.All())
	}
}
