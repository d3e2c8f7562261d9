package mapping

// A throwaway import edge the README's map does not show, to see
// architecture_test.go fail on it. Reverted by the next commit.

import "erpsync/state"

var _ state.RowSum
