package main

import "testing"

// Guarantee: a build without the tests' tag (go build, make build, and
// this test binary) reads no hook from the environment: serve keeps its
// schedule whatever ERPSYNC_TEST_TICK says, the CRM client its backoff
// whatever ERPSYNC_TEST_BACKOFF says.
func TestTestHooks_OffInOtherBuilds(t *testing.T) {
	t.Setenv("ERPSYNC_TEST_TICK", "100ms")
	t.Setenv("ERPSYNC_TEST_BACKOFF", "1ms")
	if d := testHookTick(); d != 0 {
		t.Errorf("testHookTick() = %s with ERPSYNC_TEST_TICK set, want 0 outside a test build", d)
	}
	if d := testHookBackoff(); d != 0 {
		t.Errorf("testHookBackoff() = %s with ERPSYNC_TEST_BACKOFF set, want 0 outside a test build", d)
	}
}
