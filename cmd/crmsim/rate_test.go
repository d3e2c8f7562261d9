package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestRun_RateFlag: with -rate 1 the second API request of a second is
// answered 429 with a Retry-After.
func TestRun_RateFlag(t *testing.T) {
	t.Parallel()
	out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-rate", "1"}, out) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	listening := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	var base string
	for range 5000 { // until it says where it listens: 10 s at most
		got, _ := os.ReadFile(out.Name())
		if base = listening.FindString(string(got)); base != "" {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if base == "" {
		t.Fatal("crmsim never said where it listens")
	}
	var status []int
	var retry string
	for range 2 {
		resp, err := http.Get(base + "/api/v2.1/customers?max=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		status, retry = append(status, resp.StatusCode), resp.Header.Get("Retry-After")
	}
	if status[1] != http.StatusTooManyRequests || retry == "" {
		t.Errorf("two requests at -rate 1: %v, Retry-After %q; want the second 429 with a Retry-After", status, retry)
	}
}
