package logging_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"erpsync/sync/logging"
)

// TestLogger_FormatAndRun: the format chosen after the logger was made
// holds for its children too, and a run's id is on every line while set.
func TestLogger_FormatAndRun(t *testing.T) {
	var buf bytes.Buffer
	log, sw := logging.New(&buf, zapcore.InfoLevel)
	child := log.With(zap.String("stage", "refresh"))
	child.Info("before") // console
	sw.SetFormat(logging.FormatJSON)
	sw.SetRun(42)
	child.Info("during")
	log.Debug("hidden")
	sw.SetRun(0)
	log.Info("after")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || strings.HasPrefix(lines[0], "{") {
		t.Fatalf("lines:\n%s", buf.String())
	}
	var during, after map[string]any
	if json.Unmarshal([]byte(lines[1]), &during) != nil || json.Unmarshal([]byte(lines[2]), &after) != nil {
		t.Fatalf("not JSON:\n%s", buf.String())
	}
	if during[logging.RunKey] != float64(42) || during["stage"] != "refresh" || after[logging.RunKey] != nil {
		t.Errorf("during %v, after %v", during, after)
	}
	if logging.CheckFormat("xml") == nil || logging.CheckFormat("json") != nil {
		t.Error("CheckFormat")
	}
}
