//go:build erpsync_testhooks

package main

import (
	"os"
	"time"
)

// This file is compiled into the tests' erpsync alone: cmd/internal/testbin
// links it with the tag erpsync_testhooks, which go build, go install and
// make build never set, so that no environment reaches these hooks in
// production (testhooks_off.go is the other builds' side).

// testHookTick is ERPSYNC_TEST_TICK, read as a duration: serve ticks this
// often instead of at its schedule (cron's "@every 1s" ticks each second
// at best), as the in-process tests' ServeCommand.every does.
func testHookTick() time.Duration {
	d, _ := time.ParseDuration(os.Getenv("ERPSYNC_TEST_TICK"))
	return d
}

// testHookBackoff is ERPSYNC_TEST_BACKOFF, read as a duration: the CRM
// client's first backoff ceiling (crm.Config.BackoffBase; 0 keeps its
// 200 ms), so that a test against a failing CRM does not wait for it.
func testHookBackoff() time.Duration {
	d, _ := time.ParseDuration(os.Getenv("ERPSYNC_TEST_BACKOFF"))
	return d
}
