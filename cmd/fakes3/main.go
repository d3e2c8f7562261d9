// Command fakes3 serves the hostile S3 endpoint of sync/source/sourcetest
// as a process on 127.0.0.1, for scripts/sealed-acceptance.sh: bucket
// "erp" holds the export given by -put under three prefixes, each
// answered otherwise:
//
//	endless/<name>  a body that goes on past the listed size
//	stallh/<name>   no answer at all (no header, no byte)
//	stallb/<name>   the headers and 100 bytes, then nothing
//
// It prints "fakes3 listening on URL" and serves until SIGINT or SIGTERM,
// then prints how many bytes of hostile bodies it sent. It is a test
// server: it sets test credentials in its own environment only.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"erpsync/sync/source/sourcetest"
)

// tb is the little of testing.TB that sourcetest's server uses, for a
// process: a fatal error ends it, cleanups run at its end.
type tb struct {
	testing.TB // nil: a method not written here is not used by sourcetest
	cleanups   []func()
}

func (t *tb) Helper() {}
func (t *tb) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"fakes3:"}, args...)...)
	os.Exit(1)
}
func (t *tb) Cleanup(f func())   { t.cleanups = append(t.cleanups, f) }
func (t *tb) Setenv(k, v string) { os.Setenv(k, v) }
func (t *tb) TempDir() string {
	dir, err := os.MkdirTemp("", "fakes3-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (t *tb) close() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

func main() {
	put := flag.String("put", "", "the export to store under each prefix")
	flag.Parse()
	data, err := os.ReadFile(*put)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakes3: -put:", err)
		os.Exit(2)
	}
	t := &tb{}
	srv := sourcetest.NewS3Server(t, "erp")
	name := filepath.Base(*put)
	for prefix, body := range map[string]sourcetest.Body{"endless": sourcetest.Endless,
		"stallh": sourcetest.StallHeaders, "stallb": sourcetest.StallBody} {
		srv.Put(t, "erp", prefix+"/"+name, data)
		srv.SetBody("erp", prefix+"/"+name, body)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	fmt.Printf("fakes3 listening on %s (bucket erp, %s: %d bytes listed)\n", srv.URL, name, len(data))
	<-sig
	fmt.Printf("fakes3: hostile body bytes sent: %d\n", srv.BodyBytes())
	t.close()
}
