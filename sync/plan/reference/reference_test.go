package reference_test

import (
	"strings"
	"testing"

	"erpsync/sync/plan/reference"
)

func TestCheckReference_QuotesAnExcerpt(t *testing.T) {
	for _, ref := range []string{strings.Repeat("K", 100_000) + "/x", "/" + strings.Repeat("K", 100_000)} {
		err := reference.Check(ref)
		if err == nil {
			t.Fatal("a reference with a slash passed")
		}
		if n := len(err.Error()); n > 200 {
			t.Errorf("the error is %d bytes: %.120s…", n, err)
		}
	}
}
