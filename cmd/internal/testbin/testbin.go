// Package testbin gives tests the module's commands (erpsync, crmsim,
// genexport…) as executables linked once and kept in the Go build cache,
// built with the Tags of a test build: `go run -exec=echo -tags=… PKG`
// prints the cached executable's path, and links it only when its code
// changed (go build -o links every time: erpsync alone is 3-4 CPU s of a
// cgo link).
package testbin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Tags are the build tags of the tests' executables. erpsync_testhooks
// compiles in the hooks a test may set through the environment (e.g.
// cmd/erpsync's testhooks.go); no other build (go build, go install,
// make build) has them, so that no environment reaches them in
// production.
const Tags = "erpsync_testhooks"

// Paths returns the executables of the module's commands named by their
// import paths (e.g. "erpsync/cmd/crmsim"), by import path, linking those
// not in the build cache, all at once. Cancelling ctx interrupts go, so
// that it cleans up.
func Paths(ctx context.Context, pkgs ...string) (map[string]string, error) {
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOCACHE: %w", err)
	}
	cache := strings.TrimSpace(string(out))
	type found struct {
		pkg, path string
		err       error
	}
	ch := make(chan found, len(pkgs))
	for _, pkg := range pkgs {
		go func() {
			p, err := toolPath(ctx, cache, pkg)
			ch <- found{pkg, p, err}
		}()
	}
	paths := map[string]string{}
	var errs []error
	for range pkgs {
		f := <-ch
		if f.err != nil {
			errs = append(errs, f.err)
		}
		paths[f.pkg] = f.path
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("link the commands: %v", errs)
	}
	return paths, nil
}

// toolPath links pkg unless cached and returns its executable's path in
// the build cache. A go run that links prints the path of a temporary
// copy, removed when it ends, and leaves the executable in the cache:
// the second asks for it there.
func toolPath(ctx context.Context, cache, pkg string) (string, error) {
	for range 2 {
		cmd := exec.CommandContext(ctx, "go", "run", "-tags="+Tags, "-exec=echo", pkg)
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 10 * time.Second
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("go run -exec=echo %s: %w\n%s", pkg, err, stderr.Bytes())
		}
		exe := strings.TrimSpace(string(out))
		if rel, err := filepath.Rel(cache, exe); err != nil || strings.HasPrefix(rel, "..") {
			continue // a temporary copy: linked, now in the cache
		}
		if _, err := os.Stat(exe); err != nil {
			return "", fmt.Errorf("go run -exec=echo %s printed %q: %w", pkg, exe, err)
		}
		return exe, nil
	}
	return "", fmt.Errorf("go run -exec=echo %s: no executable in the build cache (%s)", pkg, cache)
}
