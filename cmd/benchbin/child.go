package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// measure is what one child process took: its wall time, CPU (user and
// system) and peak RSS (rusage's Maxrss), and what it printed.
type measure struct {
	wall, cpu time.Duration
	maxRSS    int64 // bytes
	out       string
}

// usage reads a finished process's CPU and peak RSS.
func usage(ps *os.ProcessState) (cpu time.Duration, maxRSS int64) {
	cpu = ps.UserTime() + ps.SystemTime()
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		maxRSS = ru.Maxrss << 10 // kilobytes on Linux
	}
	return cpu, maxRSS
}

// runChild runs bin with args, its output appended to logPath, and
// measures it. A child that fails is an error naming it and its log.
func runChild(ctx context.Context, logPath, bin string, args ...string) (measure, error) {
	return runChildTo(ctx, nil, logPath, bin, args...)
}

// runChildTo is runChild with the child's standard output into stdout
// instead (measure.out then empty), when not nil.
func runChildTo(ctx context.Context, stdout io.Writer, logPath, bin string, args ...string) (measure, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return measure{}, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "$ %s %s\n", filepath.Base(bin), strings.Join(args, " "))
	var out strings.Builder
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, logf), logf
	if stdout != nil {
		cmd.Stdout = stdout
	}
	start := time.Now()
	err = cmd.Run()
	m := measure{wall: time.Since(start), out: out.String()}
	if cmd.ProcessState != nil {
		m.cpu, m.maxRSS = usage(cmd.ProcessState)
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %w (see %s)", filepath.Base(bin), strings.Join(args, " "), err, logPath)
	}
	return m, nil
}

// sim is a crmsim process of its own, fresh: no customer.
type sim struct {
	cmd *exec.Cmd
	URL string
	log string // its output, the collector's gctrace lines among it
}

// startSim starts crmsim on a free loopback port, its output into
// logPath, and reads in it, as it comes, where it listens (waiting up to
// 30 s): polling the log every 50 ms made each start wait for a poll.
// gogc, when not "", is its GOGC.
func startSim(bin, logPath, gogc string) (*sim, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	cmd := exec.Command(filepath.Join(bin, "crmsim"), "-addr", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = pw, logf
	cmd.Env = withGCTrace(os.Environ()) // its collector's CPU, line by line (gcSoFar)
	if gogc != "" {
		cmd.Env = append(cmd.Env, "GOGC="+gogc) // exec.Cmd keeps the last of a name
	}
	err = cmd.Start()
	pw.Close() // the child has its own copy: pr ends when it ends
	if err != nil {
		logf.Close()
		pr.Close()
		return nil, fmt.Errorf("start crmsim: %w", err)
	}
	url, ended := make(chan string, 1), make(chan struct{})
	go func() { // copies the output into the log until crmsim ends
		defer close(ended)
		defer logf.Close()
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			// "crmsim listening on http://127.0.0.1:PORT/api/v1.0/customers ..."
			if _, rest, ok := strings.Cut(sc.Text(), "crmsim listening on http://"); ok {
				if host, _, ok := strings.Cut(rest, "/"); ok && len(url) == 0 {
					url <- "http://" + host
				}
			}
		}
		_, _ = io.Copy(logf, pr) // a line too long for the scanner
	}()
	s := &sim{cmd: cmd, log: logPath}
	select {
	case s.URL = <-url:
		return s, nil
	case <-ended:
		s.stop()
		return nil, fmt.Errorf("crmsim ended without saying where it listens (see %s)", logPath)
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, fmt.Errorf("crmsim did not say where it listens within 30 s (see %s)", logPath)
	}
}

// stop interrupts crmsim, kills it after 10 s, and returns its CPU.
func (s *sim) stop() time.Duration {
	if s == nil {
		return 0
	}
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	if s.cmd.ProcessState == nil {
		return 0
	}
	cpu, _ := usage(s.cmd.ProcessState)
	return cpu
}

// cpuSoFar is the CPU (user and system) a running crmsim has taken so
// far, from /proc/PID/stat (in clock ticks of 1/100 s, Linux's USER_HZ):
// the last import's crmsim is kept for the plan, not stopped.
func (s *sim) cpuSoFar() (time.Duration, error) {
	path := fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid)
	text, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The command's name, in parentheses, may hold spaces: the fields
	// are counted after its closing one (utime and stime: 14 and 15).
	i := strings.LastIndexByte(string(text), ')')
	f := strings.Fields(string(text[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("read %s: %d fields", path, len(f))
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", path, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100), nil
}

// gcSoFar is the CPU crmsim's collector has taken so far, from the
// gctrace lines in its log (the runtime writes each as a cycle ends).
func (s *sim) gcSoFar() (gcTime, error) { return readGCTrace(s.log) }

// requests are the requests a crmsim counted, by kind (GET /_sim/stats).
func (s *sim) requests(ctx context.Context) (map[string]int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/_sim/stats", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("crmsim's stats: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Requests map[string]int64 `json:"requests"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("crmsim's stats: %w", err)
	}
	return body.Requests, nil
}

// errNoCSVDiff says csvdiff was not found: its ratio is left out.
var errNoCSVDiff = errors.New("csvdiff not found")

// findCSVDiff returns the csvdiff binary: the one named, else csvdiff on
// PATH, else $HOME/go/bin/csvdiff.
func findCSVDiff(named string) (string, error) {
	switch named {
	case "none":
		return "", errNoCSVDiff
	case "":
	default:
		return named, nil
	}
	if p, err := exec.LookPath("csvdiff"); err == nil {
		return p, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, "go", "bin", "csvdiff")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errNoCSVDiff
}
