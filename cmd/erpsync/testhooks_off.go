//go:build !erpsync_testhooks

package main

import "time"

// testHookTick is 0 outside the tests' builds: serve ticks at its schedule,
// whatever the environment holds (testhooks.go).
func testHookTick() time.Duration { return 0 }
