package guard_test

import (
	"strings"
	"testing"

	"erpsync/sync/plan/guard"
)

func TestParseAccept(t *testing.T) {
	got, err := guard.ParseAccept(" max_update, max_delete ,")
	if err != nil || !got["max_update"] || !got["max_delete"] || len(got) != 2 {
		t.Errorf("ParseAccept = %v, %v", got, err)
	}
	if _, err := guard.ParseAccept("max_update,max_deletes"); err == nil || !strings.Contains(err.Error(), "max_deletes") {
		t.Errorf("an unknown guard: %v", err)
	}
}
