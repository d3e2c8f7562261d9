package rawrate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	gosync "sync"
	"sync/atomic"
	"time"

	"erpsync/mapping"
	"erpsync/sync/crm"
)

// CRM is the part of the client the raw rate sends through.
type CRM interface {
	Upsert(ctx context.Context, ref string, f *crm.Form) (*crm.Customer, error)
}

// Forms are the upsert forms of an export's customers, parents left out
// (sent in any order, as none waits for its parent), with their
// references.
type Forms struct {
	Refs  []string
	Forms []*crm.Form
}

var errEnough = errors.New("enough forms")

// Read returns the forms of the first n customers of the export at path,
// mapped by m. Rows the mapping refuses are left out.
func Read(ctx context.Context, m *mapping.Mapping, path string, n int) (Forms, error) {
	fs := Forms{Refs: make([]string, 0, n), Forms: make([]*crm.Form, 0, n)}
	_, err := m.Read(ctx, path, func(r mapping.Row) error {
		if r.Customer == nil {
			return nil
		}
		f := crm.UpsertForm(r.Customer)
		// No parent to wait for: an import sends parents in an earlier
		// wave.
		f.Values.Del("parentCustomer")
		f.Values.Set("isSubCustomer", "false")
		fs.Refs, fs.Forms = append(fs.Refs, r.Customer.Reference), append(fs.Forms, f)
		if len(fs.Forms) == n {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return Forms{}, fmt.Errorf("read forms of %s: %w", path, err)
	}
	if len(fs.Forms) == 0 {
		return Forms{}, fmt.Errorf("read forms of %s: no customer", path)
	}
	return fs, nil
}

// Send sends total upserts of the forms, conc at a time, and returns
// their rate per second. The forms are sent round after round, each
// round under references of its own (prefix, the round, a dash, the
// form's reference): every upsert creates a customer, as an import's, and
// the CRM ends holding total new ones. The time runs from the first
// request to the last answer; a failed upsert stops the sending and is
// returned.
func Send(ctx context.Context, api CRM, fs Forms, prefix string, total, conc int) (float64, error) {
	if len(fs.Forms) == 0 || total <= 0 {
		return 0, errors.New("raw rate: nothing to send")
	}
	conc = max(conc, 1)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg gosync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(total) && ctx.Err() == nil; i = next.Add(1) - 1 {
				round, k := int(i)/len(fs.Forms), int(i)%len(fs.Forms)
				ref := prefix + strconv.Itoa(round) + "-" + fs.Refs[k]
				if _, err := api.Upsert(ctx, ref, fs.Forms[k]); err != nil {
					cancel(fmt.Errorf("raw upsert %s: %w", ref, err))
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	return float64(total) / took.Seconds(), nil
}
