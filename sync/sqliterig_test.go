package sync_test

// The engine's guarantees are shown on a SQLite checkpoint too
// (testrig.Each, testrig.SQLite): this binary links SQLite anyway.
import _ "erpsync/sync/internal/testrig/sqliterig"
