package rawrate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
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

// Forms are the upsert forms of an export's customers, with their
// references. A sub-customer keeps its parent when the parent is among
// the forms and is no sub-customer itself (Parent: its index); else its
// parent is left out and it goes as no sub-customer (of three levels or
// more, which links stay depends on the order of the file: Send's waves
// are two).
type Forms struct {
	Refs   []string
	Forms  []*crm.Form
	Parent []int // the index of each form's parent among Forms, -1 for none
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
		fs.Refs, fs.Forms = append(fs.Refs, r.Customer.Reference), append(fs.Forms, crm.UpsertForm(r.Customer))
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
	fs.linkParents()
	return fs, nil
}

// linkParents sets Parent, and leaves out the parent of a sub-customer
// whose parent is not among the forms or is a sub-customer itself (an
// import sends those in waves of their own; Send has two: parents, then
// the rest).
func (fs *Forms) linkParents() {
	at := make(map[string]int, len(fs.Forms))
	for k, ref := range fs.Refs {
		at[ref] = k
	}
	fs.Parent = make([]int, len(fs.Forms))
	for k, f := range fs.Forms {
		fs.Parent[k] = -1
		if p, ok := at[f.Values.Get("parentCustomer")]; ok && p != k {
			fs.Parent[k] = p
		}
	}
	for k, p := range fs.Parent {
		if p >= 0 && fs.Parent[p] >= 0 {
			fs.Parent[k] = -1
		}
		if fs.Parent[k] < 0 && fs.Forms[k].Values.Has("parentCustomer") {
			fs.Forms[k].Values.Del("parentCustomer")
			fs.Forms[k].Values.Set("isSubCustomer", "false")
		}
	}
}

// Send sends total upserts of the forms, conc at a time, and returns
// their rate per second. The forms are sent round after round, each
// round under references of its own (prefix, the round, a dash, the
// form's reference): every upsert creates a customer, as an import's, and
// the CRM ends holding total new ones. As an import, it sends in two
// waves: first every round's parents, then the rest, each sub-customer
// linked to its parent of the first round (the same form the import
// sends, the parent named by reference). The time runs from the first
// request to the last answer; a failed upsert stops the sending and is
// returned.
func Send(ctx context.Context, api CRM, fs Forms, prefix string, total, conc int) (float64, error) {
	switch {
	case len(fs.Forms) == 0 || total <= 0:
		return 0, errors.New("raw rate: nothing to send")
	case total > math.MaxInt32:
		return 0, fmt.Errorf("raw rate: %d upserts, at most %d", total, math.MaxInt32)
	case len(fs.Parent) != len(fs.Forms):
		return 0, errors.New("raw rate: forms without their parents (read them with Read)")
	}
	forms, isParent := fs.linked(prefix, total)
	var parents, rest []int32 // the upserts' numbers, wave by wave
	for i := range int32(total) {
		if isParent[int(i)%len(forms)] {
			parents = append(parents, i)
		} else {
			rest = append(rest, i)
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	upsert := func(i int32) error {
		round, k := int(i)/len(forms), int(i)%len(forms)
		ref := prefix + strconv.Itoa(round) + "-" + fs.Refs[k]
		if _, err := api.Upsert(ctx, ref, forms[k]); err != nil {
			return fmt.Errorf("raw upsert %s: %w", ref, err)
		}
		return nil
	}
	start := time.Now()
	for _, wave := range [][]int32{parents, rest} {
		sendWave(ctx, cancel, wave, max(conc, 1), upsert)
	}
	took := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	return float64(total) / took.Seconds(), nil
}

// linked returns the forms as Send sends them, a sub-customer's
// parentCustomer naming its parent of the first round, and whether each
// form is a parent. Of total upserts fewer than the forms, a parent not
// sent is none: its sub-customers go without it.
func (fs Forms) linked(prefix string, total int) ([]*crm.Form, []bool) {
	forms, isParent := slices.Clone(fs.Forms), make([]bool, len(fs.Forms))
	for k, p := range fs.Parent {
		if p < 0 {
			continue
		}
		f := *forms[k]
		f.Values = maps.Clone(f.Values)
		if p < total {
			isParent[p] = true
			f.Values.Set("parentCustomer", prefix+"0-"+fs.Refs[p])
		} else {
			f.Values.Del("parentCustomer")
			f.Values.Set("isSubCustomer", "false")
		}
		forms[k] = &f
	}
	return forms, isParent
}

// sendWave sends the upserts of a wave, conc at a time, and returns when
// every one is answered or the sending stopped (cancel: the first
// failure).
func sendWave(ctx context.Context, cancel context.CancelCauseFunc, wave []int32, conc int, upsert func(int32) error) {
	var next atomic.Int64
	var wg gosync.WaitGroup
	for range conc {
		wg.Go(func() {
			for j := next.Add(1) - 1; j < int64(len(wave)) && ctx.Err() == nil; j = next.Add(1) - 1 {
				if err := upsert(wave[j]); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
