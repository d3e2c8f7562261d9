package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
)

// startProfiles writes a CPU profile to $ERPSYNC_CPUPROFILE and, when the
// command ends, an allocations profile (pprof's allocs: where memory was
// allocated, and what was live at the last collection) to
// $ERPSYNC_MEMPROFILE, so that a command is
// profiled as the binary runs it (process start, the checkpoint's open and
// all) and not only as a benchmark; and an execution trace (go tool trace:
// which goroutine ran on which core, when the cores were idle) to
// $ERPSYNC_TRACE. The returned stop is always safe to call.
func startProfiles(stderr io.Writer) (stop func()) {
	cpuPath, memPath := os.Getenv("ERPSYNC_CPUPROFILE"), os.Getenv("ERPSYNC_MEMPROFILE")
	stopTrace := startTrace(stderr, os.Getenv("ERPSYNC_TRACE"))
	var cpu *os.File
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err == nil {
			if err = pprof.StartCPUProfile(f); err != nil {
				f.Close()
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "erpsync: cpu profile %s: %v\n", cpuPath, err)
		} else {
			cpu = f
		}
	}
	return func() {
		stopTrace()
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if memPath == "" {
			return
		}
		f, err := os.Create(memPath)
		if err != nil {
			fmt.Fprintf(stderr, "erpsync: heap profile %s: %v\n", memPath, err)
			return
		}
		defer f.Close()
		runtime.GC()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			fmt.Fprintf(stderr, "erpsync: heap profile %s: %v\n", memPath, err)
		}
	}
}

// startTrace writes the runtime's execution trace to path until the
// returned stop; nothing when path is "".
func startTrace(stderr io.Writer, path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		if err = trace.Start(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "erpsync: trace %s: %v\n", path, err)
		return func() {}
	}
	return func() {
		trace.Stop()
		f.Close()
	}
}
