// Package testbin gives tests the module's commands (erpsync, crmsim,
// genexport…) as executables linked once and kept in the Go build cache:
// each is declared a tool of a copy of go.mod and found with
// `go tool -modfile=… -n NAME`, which links it only when its code changed.
// A test run with a warm cache links none of them (go build -o links
// every time: erpsync alone is 3-4 CPU s of a cgo link).
package testbin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Paths returns the executables of the module's commands named by their
// import paths (e.g. "erpsync/cmd/crmsim"), by import path, linking those
// not in the build cache, all at once. dir receives the copy of go.mod
// (a test's temporary folder). Cancelling ctx interrupts go, so that it
// cleans up.
func Paths(ctx context.Context, dir string, pkgs ...string) (map[string]string, error) {
	modfile, err := toolsModfile(dir, pkgs)
	if err != nil {
		return nil, err
	}
	type found struct {
		pkg, path string
		err       error
	}
	ch := make(chan found, len(pkgs))
	for _, pkg := range pkgs {
		go func() {
			p, err := toolPath(ctx, modfile, pkg)
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

// toolsModfile writes dir/tools.mod, the module's go.mod with pkgs
// declared as tools, and dir/tools.sum beside it (go reads the sum of an
// alternate modfile there).
func toolsModfile(dir string, pkgs []string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	mod, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("read go.mod: %w", err)
	}
	sum, err := os.ReadFile(strings.TrimSuffix(gomod, ".mod") + ".sum")
	if err != nil {
		return "", fmt.Errorf("read go.sum: %w", err)
	}
	var b bytes.Buffer
	b.Write(mod)
	for _, pkg := range pkgs {
		if !bytes.Contains(mod, []byte("tool "+pkg+"\n")) {
			fmt.Fprintf(&b, "\ntool %s\n", pkg)
		}
	}
	modfile := filepath.Join(dir, "tools.mod")
	if err := os.WriteFile(modfile, b.Bytes(), 0o644); err != nil {
		return "", err
	}
	return modfile, os.WriteFile(filepath.Join(dir, "tools.sum"), sum, 0o644)
}

// toolPath links pkg unless cached and returns its executable's path.
func toolPath(ctx context.Context, modfile, pkg string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "tool", "-modfile="+modfile, "-n", path.Base(pkg))
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go tool -n %s: %w\n%s", path.Base(pkg), err, stderr.Bytes())
	}
	exe := strings.TrimSpace(string(out))
	if _, err := os.Stat(exe); err != nil {
		return "", fmt.Errorf("go tool -n %s printed %q: %w", path.Base(pkg), exe, err)
	}
	return exe, nil
}
