//go:build !erpsync_testhooks

package main

import "time"

// testHookTick is 0 outside the tests' builds: serve ticks at its schedule,
// whatever the environment holds (testhooks.go).
func testHookTick() time.Duration { return 0 }

// testHookBackoff is 0 outside the tests' builds: the CRM client's own
// backoff (testhooks.go).
func testHookBackoff() time.Duration { return 0 }
