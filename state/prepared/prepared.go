// Package prepared keeps the statements of a checkpoint's writer prepared
// on its one writing connection from one batch transaction to the next:
// preparing them again in every transaction (SQLite's prepare and
// finalize, and database/sql's bookkeeping) cost some 1.5% of an import's
// CPU. A transaction uses them through Tx.StmtContext, which finds the
// statement prepared on its connection (or prepares it on a new one).
package prepared

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// Set is the statements of a writer, prepared on its pool.
type Set struct {
	db      *sql.DB
	queries []string
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
}

// New returns the Set of queries on db; none is prepared until Ready.
func New(db *sql.DB, queries ...string) *Set {
	return &Set{db: db, queries: queries, stmts: map[string]*sql.Stmt{}}
}

// Ready prepares the Set's queries not prepared yet. Call it outside any
// transaction of the pool: a writer's pool has one connection, which its
// transaction holds. A query that fails to prepare is prepared in each
// transaction instead (In), where its error is the transaction's.
func (s *Set) Ready(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queries {
		if s.stmts[q] != nil {
			continue
		}
		if st, err := s.db.PrepareContext(ctx, q); err == nil {
			s.stmts[q] = st
		}
	}
}

// In returns query's statement for tx, a transaction of the Set's pool:
// the Set's, or else one prepared in tx. It ends with tx.
func (s *Set) In(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	s.mu.Lock()
	st := s.stmts[query]
	s.mu.Unlock()
	if st == nil {
		return tx.PrepareContext(ctx, query)
	}
	return tx.StmtContext(ctx, st), nil
}

// Close closes the statements; closing twice is harmless.
func (s *Set) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for q, st := range s.stmts {
		errs = append(errs, st.Close())
		delete(s.stmts, q)
	}
	return errors.Join(errs...)
}

// Conn runs statements in a transaction: a *sql.Tx, or a Set's Tx.
type Conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// Tx is a Set seen from one transaction: its statements are the Set's
// (In), and end with the transaction.
type Tx struct {
	set   *Set
	tx    *sql.Tx
	stmts map[string]*sql.Stmt // ExecContext's, by query
}

// Begin returns the Set seen from tx, a transaction of its pool.
func (s *Set) Begin(tx *sql.Tx) *Tx { return &Tx{set: s, tx: tx, stmts: map[string]*sql.Stmt{}} }

// PrepareContext returns query's statement for the transaction.
func (t *Tx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.set.In(ctx, t.tx, query)
}

// ExecContext runs query in the transaction, its statement prepared once
// in it at most.
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st := t.stmts[query]
	if st == nil {
		var err error
		if st, err = t.set.In(ctx, t.tx, query); err != nil {
			return nil, err
		}
		t.stmts[query] = st
	}
	return st.ExecContext(ctx, args...)
}
