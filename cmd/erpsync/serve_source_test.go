package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"erpsync/state"
	"erpsync/sync/crm"
	"erpsync/sync/crm/crmsim"
	"erpsync/sync/source/sourcetest"
)

// scrape reads /metrics with the Prometheus text parser and returns a
// lookup of a counter or gauge by name and labels (-1 when the metric is
// absent, 0 when no series has those labels).
func scrape(t *testing.T, addr string) func(name string, labels map[string]string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return func(name string, labels map[string]string) float64 {
		fam, ok := families[name]
		if !ok {
			return -1
		}
	metrics:
		for _, m := range fam.Metric {
			for _, l := range m.Label {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue metrics
				}
			}
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			return m.Gauge.GetValue()
		}
		return 0
	}
}

// remoteServe is a kind of remote source as serve's inbox.
type remoteServe struct {
	kind    string
	pattern string                                       // source.path
	archive string                                       // source.archive_dir
	keys    string                                       // more keys of the source: section
	put     func(t *testing.T, name string, data []byte) // a file in the inbox, newer than the last
	list    func(t *testing.T, dir string) []string      // the file names in a folder of the source
	sftp    *sourcetest.SFTPServer                       // the SFTP server, for its faults (nil for S3)
}

func sftpServe(t *testing.T) remoteServe {
	srv := sourcetest.NewSFTPServer(t)
	inbox := filepath.Join(srv.Root, "inbox")
	mod := time.Now().Add(-time.Hour)
	return remoteServe{kind: "sftp", pattern: srv.URL(inbox + "/*.csv"), archive: srv.URL(filepath.Join(srv.Root, "archive")),
		keys: "  sftp:\n    password_env: " + sftpPasswordEnv + "\n    known_hosts: " + srv.KnownHosts(t, srv.HostKey) + "\n",
		put: func(t *testing.T, name string, data []byte) {
			// Written whole under a name the pattern does not match, then
			// renamed: serve ticks every 100 ms, and a file it lists while
			// os.WriteFile has only created it is an empty export.
			p, tmp := filepath.Join(inbox, name), filepath.Join(inbox, "."+name+".part")
			_ = os.MkdirAll(inbox, 0o755)
			if err := os.WriteFile(tmp, data, 0o644); err != nil {
				t.Fatal(err)
			}
			mod = mod.Add(time.Minute)
			_ = os.Chtimes(tmp, mod, mod)
			if err := os.Rename(tmp, p); err != nil {
				t.Fatal(err)
			}
		},
		list: func(t *testing.T, dir string) []string { return archived(t, filepath.Join(srv.Root, dir)) },
		sftp: srv,
	}
}

func s3Serve(t *testing.T) remoteServe {
	srv := sourcetest.NewS3Server(t, "erp")
	return remoteServe{kind: "s3", pattern: "s3://erp/inbox/*.csv", archive: "s3://erp/archive",
		keys: "  s3:\n    endpoint: " + srv.URL + "\n",
		put:  func(t *testing.T, name string, data []byte) { srv.Put(t, "erp", "inbox/"+name, data) },
		list: func(t *testing.T, dir string) []string {
			var names []string
			for _, k := range srv.Keys(t, "erp", dir+"/") {
				if rest := strings.TrimPrefix(k, dir+"/"); !strings.Contains(rest, "/") {
					names = append(names, rest)
				}
			}
			return names
		},
	}
}

// setRemote points the fixture's inbox and archive at a remote source.
func (f *serveFixture) setRemote(r remoteServe) {
	f.t.Helper()
	cfg, err := os.ReadFile(f.cfgPath)
	if err != nil {
		f.t.Fatal(err)
	}
	local := fmt.Sprintf("path: %s/*.csv\n  archive_dir: %s", f.inbox, f.archive)
	text := strings.Replace(string(cfg), local, fmt.Sprintf("path: %s\n  archive_dir: %s", r.pattern, r.archive), 1)
	text = strings.Replace(text, "source:\n", "source:\n"+r.keys, 1)
	if !strings.Contains(text, r.pattern) {
		f.t.Fatalf("the config's source.path was not replaced:\n%s", text)
	}
	if err := os.WriteFile(f.cfgPath, []byte(text), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// TestServe_RemoteSources runs remoteSources on S3, alone: sourcetest's
// S3 server sets the AWS_* variables with t.Setenv.
func TestServe_RemoteSources(t *testing.T) { remoteSources(t, s3Serve) }

// TestServe_RemoteSourcesSFTP runs remoteSources on SFTP, in parallel.
func TestServe_RemoteSourcesSFTP(t *testing.T) {
	t.Parallel()
	remoteSources(t, sftpServe)
}

// Issue 15: serve takes an export from SFTP and from S3, archives it
// there, rejects a garbage file there (rejected/ with its .error.txt),
// records where the export came from, counts both by kind of source, and
// passes over the same file when it comes again.
func remoteSources(t *testing.T, setups ...func(*testing.T) remoteServe) {
	day1, err := os.ReadFile("../../testdata/exports/day1.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, setup := range setups {
		r := setup(t)
		t.Run(r.kind, func(t *testing.T) {
			f := newServeFixture(t, crmsim.Options{}, "")
			f.setRemote(r)
			r.put(t, "garbage.csv", []byte("this is not,an export\nat all\n"))
			var logs lockedBuffer
			addr, stop := f.serve(&logs)
			waitFor(t, 20*time.Second, "garbage rejected on "+r.kind, func() bool { return len(r.list(t, "archive/rejected")) == 2 })
			r.put(t, "day1.csv", day1) // after it: dropped together, the newest alone would be taken
			waitFor(t, 20*time.Second, "garbage rejected and day1 archived on "+r.kind, func() bool {
				// and gone from the inbox: on S3 a move is a copy, then a
				// delete of the key, which would take the next day1.csv too.
				return len(r.list(t, "archive/rejected")) == 2 && len(r.list(t, "archive")) == 1 && len(r.list(t, "inbox")) == 0
			})
			checkRemoteRuns(t, f, r)
			if n := f.store.Len(); n != 10 {
				t.Errorf("CRM holds %d customers, want day 1's 10", n)
			}

			// The same file again: passed over (archived), no run, no write.
			f.sim.ResetStats()
			r.put(t, "day1.csv", day1)
			waitFor(t, 20*time.Second, "the same day1 archived again", func() bool { return len(r.list(t, "archive")) == 2 })
			// A file passed over is archived before it is counted: wait for both.
			skipped := map[string]string{"source": r.kind, "outcome": "skipped"}
			waitFor(t, 20*time.Second, "the file passed over counted", func() bool {
				return scrape(t, addr)("erpsync_exports_total", skipped) >= 1
			})
			metric := scrape(t, addr)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if runs := f.runsOf(); len(runs) != 2 {
				t.Errorf("%d runs after the same file again, want 2", len(runs))
			}
			if st := f.sim.Stats(); st[crm.OpUpsert]+st[crm.OpDeleteByReference] != 0 {
				t.Errorf("the CRM was written to: %v", st)
			}
			if left := r.list(t, "inbox"); len(left) != 0 {
				t.Errorf("the inbox still holds %v", left)
			}
			for outcome, want := range map[string]float64{"done": 1, "rejected": 1, "skipped": 1} {
				labels := map[string]string{"source": r.kind, "outcome": outcome}
				if got := metric("erpsync_exports_total", labels); got != want {
					t.Errorf("erpsync_exports_total%v = %v, want %v", labels, got, want)
				}
			}
			assertNoSpool(t, f.dir)
		})
	}
}

// checkRemoteRuns checks the run history and summary.json: the garbage's
// run failed, day1's is done, both named by their place on the source.
func checkRemoteRuns(t *testing.T, f *serveFixture, r remoteServe) {
	t.Helper()
	runs := f.runsOf()
	if len(runs) != 2 || runs[0].Status != state.StatusDone || runs[1].Status != state.StatusFailed {
		t.Fatalf("runs = %+v, want garbage.csv failed then day1.csv done", runs)
	}
	scheme := r.kind + "://"
	if !strings.HasPrefix(runs[0].File, scheme) || !strings.HasSuffix(runs[0].File, "/inbox/day1.csv") ||
		!strings.HasPrefix(runs[1].File, scheme) || !strings.HasSuffix(runs[1].File, "/inbox/garbage.csv") {
		t.Errorf("runs name %q and %q, want the %s URLs of inbox/day1.csv and inbox/garbage.csv", runs[0].File, runs[1].File, r.kind)
	}
	if strings.Contains(runs[0].File, sourcetest.Password) {
		t.Errorf("the run history holds the password: %s", runs[0].File)
	}
	summaries, _ := filepath.Glob(filepath.Join(f.dir, "reports", "*", "summary.json"))
	var files []string
	for _, p := range summaries {
		var s struct {
			File string `json:"file"`
		}
		data, _ := os.ReadFile(p)
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		files = append(files, s.File)
	}
	if !slices.Contains(files, runs[0].File) {
		t.Errorf("summary.json files = %v, want one naming %s", files, runs[0].File)
	}
}

// Issue 26 §12: an export that could not be fetched (its copy from SFTP
// cut every time) left no run in the history and no report: only a log
// line. It is recorded as a failed run, with its reason and a report,
// once while the same failure repeats.
func TestServe_FetchFailureRecorded(t *testing.T) {
	t.Parallel()
	r := sftpServe(t)
	f := newServeFixture(t, crmsim.Options{}, "")
	f.setRemote(r)
	day1, err := os.ReadFile("../../testdata/exports/day1.csv")
	if err != nil {
		t.Fatal(err)
	}
	big := append([]byte{}, day1...)
	for len(big) < 150_000 { // many SFTP packets: the copy is cut, the listing is not
		big = append(big, day1[bytes.IndexByte(day1, '\n')+1:]...)
	}
	r.put(t, "big.csv", big)
	r.sftp.CutAfter(40_000, 1000)
	var logs lockedBuffer
	addr, stop := f.serve(&logs)
	waitFor(t, 30*time.Second, "the failed fetch recorded", func() bool { return len(f.runsOf()) > 0 })
	// The run is recorded before serve's health: wait for it.
	waitFor(t, 10*time.Second, "/healthz 503 naming big.csv", func() bool {
		code, body := healthz(addr)
		return code == 503 && strings.Contains(body, "big.csv")
	})
	code, body := healthz(addr)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	runs := f.runsOf()
	if len(runs) != 1 || runs[0].Status != state.StatusFailed || !strings.Contains(runs[0].Error, "fetch") ||
		!strings.HasSuffix(runs[0].File, "/inbox/big.csv") {
		t.Errorf("runs = %+v, want one failed run of big.csv saying why", runs)
	}
	summaries, _ := filepath.Glob(filepath.Join(f.dir, "reports", "*", "summary.json"))
	if len(summaries) != 1 {
		t.Fatalf("reports: %v, want one summary.json", summaries)
	}
	if data, _ := os.ReadFile(summaries[0]); !strings.Contains(string(data), `"status": "failed"`) || !strings.Contains(string(data), "fetch") {
		t.Errorf("summary.json = %s", data)
	}
	if code != 503 || !strings.Contains(body, "big.csv") {
		t.Errorf("/healthz = %d %s, want 503 naming big.csv", code, body)
	}
	if st := f.sim.Stats(); st[crm.OpUpsert]+st[crm.OpDeleteByReference] != 0 {
		t.Errorf("the CRM was written to: %v", st)
	}
	var out, errOut lockedBuffer
	if code := NewMain(&out, &errOut).Run(context.Background(), []string{"status", "-config", f.cfgPath}); code != ExitOK ||
		!strings.Contains(out.String(), "big.csv") || !strings.Contains(out.String(), "why: fetch ") {
		t.Errorf("status: exit %d\n%s%s", code, out.String(), errOut.String())
	}
}
