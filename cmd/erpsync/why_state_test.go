package main

import (
	"os"
	"strings"
	"testing"

	"erpsync/sync/crm/crmsim"
)

// TestWhy_MissingCheckpointAsStatus: why opens the checkpoint as status
// and unlock do (stateExisting): a missing or zero-byte checkpoint is
// exit 2 naming state.path, its path and how to create one
// (`erpsync init`), and nothing is created or removed.
func TestWhy_MissingCheckpointAsStatus(t *testing.T) {
	t.Parallel()
	e := newE2E(t, crmsim.Options{}, nil)
	for _, tc := range []struct {
		name  string
		setup func()
	}{
		{"missing", func() {}},
		{"zero bytes", func() {
			if err := os.WriteFile(e.state, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		tc.setup()
		code, _, errOut := e.run("why", "C-1004")
		for _, want := range []string{"state.path", e.state, "erpsync init"} {
			if code != ExitUsage || !strings.Contains(errOut, want) {
				t.Errorf("%s checkpoint: why is exit %d, want 2 saying %q\n%s", tc.name, code, want, errOut)
			}
		}
	}
	if st, err := os.Stat(e.state); err != nil || st.Size() != 0 {
		t.Errorf("why changed the zero-byte checkpoint: %v, %v", st, err)
	}
}
