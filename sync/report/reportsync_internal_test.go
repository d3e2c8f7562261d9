package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReportFile_LinesDoNotWaitForSync: lines added while the report's
// last batch is being synced are taken at once, not after the sync: the
// workers of an import add their rows' lines under the run's lock, and a
// sync that takes the disk 10-800 ms held every request of the import
// (issue 25 §3). Every line still reaches the file, whole, by close.
func TestReportFile_LinesDoNotWaitForSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "success.csv")
	rf, err := createReportFile[OutcomeLine](path, 0o640, CSV{})
	if err != nil {
		t.Fatal(err)
	}
	syncing, release := make(chan struct{}, 1), make(chan struct{})
	old := syncReport
	syncReport = func(f *os.File) error {
		select {
		case syncing <- struct{}{}:
		default:
		}
		<-release
		return old(f)
	}
	defer func() { syncReport = old }()

	line := OutcomeLine{Operation: "create", Reference: "C-1", Line: "2", HTTPStatus: "201", Message: strings.Repeat("x", 1000)}
	const lines = 3 * reportBatch / 1000 // three batches
	added := make(chan struct{})
	go func() {
		defer close(added)
		for range lines {
			rf.line(line)
		}
	}()
	<-syncing // the first batch is being synced, and stays so until release
	select {
	case <-added:
	case <-time.After(time.Minute): // a guard against a hang, not a measure
		close(release)
		<-added
		t.Fatalf("adding %d lines waited for the sync of the first batch", lines)
	}
	close(release)
	if err := rf.close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n != lines+1 {
		t.Fatalf("%d lines in the file, want the header and %d", n, lines)
	}
}
