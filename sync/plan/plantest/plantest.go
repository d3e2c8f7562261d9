// Package plantest holds the fixtures of the plan's tests, shared by the
// tests of sync/plan and of the engine: export rows, an in-memory
// checkpoint, and a plan's layout in one line.
package plantest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/plan"
)

// MemCheckpoint is an in-memory checkpoint: the plan is a pure function,
// table-tested without disk (state has its own tests on real SQLite).
type MemCheckpoint map[string]*state.Record

func (m MemCheckpoint) Hashes(_ context.Context, fn func(ref, hash string) error) error {
	for _, ref := range slices.Sorted(maps.Keys(m)) {
		if err := fn(ref, m[ref].Hash); err != nil {
			return err
		}
	}
	return nil
}

func (m MemCheckpoint) Count(context.Context) (int, error) { return len(m), nil }

func (m MemCheckpoint) Get(_ context.Context, ref string) (*state.Record, error) { return m[ref], nil }

// Cust builds an export customer; fields are "key=value" pairs. Its hash
// is derived from its fields, as mapping does.
func Cust(line int, ref string, fields ...string) mapping.Row {
	f := map[string]string{"name": "Name of " + ref}
	for _, kv := range fields {
		k, v, _ := strings.Cut(kv, "=")
		f[k] = v
	}
	return mapping.Row{Line: line, Customer: mapping.NewCustomer(ref, line, f, FakeHash(f))}
}

func Flagged(line int, ref string) mapping.Row {
	c := mapping.NewCustomer(ref, line, map[string]string{"reference": ref}, FakeHash(nil))
	c.Delete = true
	return mapping.Row{Line: line, Customer: c}
}

func Bad(line int, ref string) mapping.Row {
	return mapping.Row{Line: line, Err: &mapping.RowError{File: "x.csv", Line: line, Column: "creditLimit", Reference: ref, Err: errors.New("bad number")}}
}

// FakeHash is a stable hex hash of fields.
func FakeHash(f map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(f)) {
		b.WriteString(k + "=" + f[k] + ";")
	}
	var h uint64 = 14695981039346656037
	for _, c := range []byte(b.String()) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return fmt.Sprintf("%016x%048x", h, 0)
}

// Managed returns a checkpoint record as if row had been pushed.
func Managed(r mapping.Row) *state.Record {
	c := r.Customer
	return &state.Record{Reference: c.Reference, Hash: c.Hash, Values: c.Fields(), CRMID: int64(r.Line)}
}

func Checkpoint(rows ...mapping.Row) MemCheckpoint {
	m := MemCheckpoint{}
	for _, r := range rows {
		m[r.Customer.Reference] = Managed(r)
	}
	return m
}

func Rows(rows ...mapping.Row) plan.Rows {
	return func(fn func(mapping.Row) error) error {
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// Layout writes a plan as "op:ref" per wave, e.g. "create:P | create:C || delete:X".
func Layout(p *plan.Plan) string {
	var parts []string
	for _, waves := range [][][]*plan.Action{p.Upserts, p.Deletes} {
		var ws []string
		for _, w := range waves {
			var as []string
			for _, a := range w {
				as = append(as, string(a.Op)+":"+a.Reference)
			}
			ws = append(ws, strings.Join(as, " "))
		}
		parts = append(parts, strings.Join(ws, " | "))
	}
	return strings.Join(parts, " || ")
}
