// Package mapping turns an ERP export (CSV, any delimiter and encoding)
// into a stream of canonical customers, or of row errors that say exactly
// what is wrong and where. It knows CSV and nothing of SQL or HTTP.
package mapping

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"unicode/utf8"

	"go.uber.org/zap"

	"erpsync/mapping/customer"
	"erpsync/mapping/records"
)

// Customer is the canonical customer (see package customer).
type Customer = customer.Customer

// NewCustomer builds a customer from its fields (for tests and tools; Read
// builds its own).
func NewCustomer(ref string, line int, fields map[string]string, hash string) *Customer {
	return customer.New(ref, line, fields, hash)
}

// Row is one data row: a customer or a row error; or, read by ReadLazy,
// a valid row not mapped yet (Lazy: Reference and Sum are set).
type Row struct {
	Line     int
	Customer *Customer
	Err      *RowError
	// Warnings are values that were read but look wrong (an email without
	// @): the customer is used; the plan and the run report show them.
	// source.strict makes them row errors instead.
	Warnings []*RowError

	// A lazy row's reference, row sum and parent (mapped; "" for none)
	// (rowsum.go); a mapped row's are its customer's.
	Reference string
	Sum       uint64
	Parent    string
	rec       records.Record // a lazy row's record, for Map
	lazy      *lease         // set on a lazy row only
}

// RowError is a row that cannot be used; the rows after it still count.
type RowError struct {
	File      string
	Line      int
	Column    string // the export's column, when one is to blame
	Reference string // when the row had one
	Err       error
	Sheet     string // a workbook's sheet: the line is its row, shown sheet!row
}

func (e *RowError) Error() string {
	s := fmt.Sprintf("%s line %d", filepath.Base(e.File), e.Line)
	if e.Sheet != "" {
		s = fmt.Sprintf("%s %s!%d", filepath.Base(e.File), e.Sheet, e.Line)
	}
	if e.Column != "" {
		s += " column " + records.CutText(e.Column, records.MaxExcerpt)
	}
	return s + ": " + e.Err.Error()
}

func (e *RowError) Unwrap() error { return e.Err }

// DuplicateError is the row error of a reference found on several lines
// with differing values; it names all the lines.
func DuplicateError(file, ref string, lines []int) *RowError {
	return DuplicateErrorOf(file, ref, lines, len(lines))
}

// DuplicateErrorOf is DuplicateError for a reference found on rows lines,
// of which lines are the first: the others are counted ("and N more").
func DuplicateErrorOf(file, ref string, lines []int, rows int) *RowError {
	s := make([]string, len(lines), len(lines)+1)
	for i, l := range lines {
		s[i] = strconv.Itoa(l)
	}
	if rows > len(lines) {
		s = append(s, fmt.Sprintf("and %d more", rows-len(lines)))
	}
	return &RowError{File: file, Line: lines[0], Column: "reference", Reference: ref,
		Err: fmt.Errorf("reference %s appears with differing values on lines %s", Excerpt(ref), strings.Join(s, ", "))}
}

// FileError is an export that cannot be used at all; nothing of it is used.
type FileError struct {
	File  string
	Line  int
	Err   error
	Sheet string // a workbook's sheet: the line is its row, shown sheet!row
}

// Unusable says that the export cannot be used: the run stops before
// any write, of the engine's unusable class (exit 2).
func (e *FileError) Unusable() bool { return true }

func (e *FileError) Error() string {
	s := "export " + e.File
	switch {
	case e.Line > 0 && e.Sheet != "":
		s += fmt.Sprintf(" %s!%d", e.Sheet, e.Line)
	case e.Line > 0:
		s += fmt.Sprintf(" line %d", e.Line)
	}
	return s + ": " + e.Err.Error()
}

func (e *FileError) Unwrap() error { return e.Err }

// Stats describes a read.
type Stats struct {
	Rows, Customers, Deletes, RowErrors int
	Warnings                            int // rows with warnings
	Delimiter, Encoding                 string
	Columns                             []ColumnUse // the columns read, in the export's order
	UnknownColumns                      []string    // the columns ignored
}

// ColumnUse is a column of the export that the mapping reads: its header
// and the CRM field it fills ("delete_flag" for source.delete_flag's).
type ColumnUse struct {
	Header, Field string
	index         int
}

// column is a mapped field and where it is in the export.
type column struct {
	field  string
	index  int // in the export's header
	pos    int // in the layout's keys
	header string
	kind   customer.Kind
	values map[string]string // values.<field>, or nil
}

// layout is what mapping a row needs to know of its export.
type layout struct {
	path    string
	width   int // fields per row
	cols    []column
	flagIdx int      // delete_flag column, or -1
	keys    []string // the fields of a customer, sorted
	// Positions in keys of the fields row looks at, -1 when not mapped.
	ref, name, parent, dueType, dueNumber, image int
	derived                                      int      // isSubCustomer when derived from parentCustomer, else -1
	plausible                                    []column // email and website, when mapped
	// Row sums: the salt of this read (the mapping's and the header's),
	// the export's columns of parentCustomer and imageFile (-1: not
	// mapped), and the lazy read's state (nil: every row is mapped).
	salt                uint64
	parentCol, imageIdx int   // cols' parentCustomer, the export's imageFile column; -1: not mapped
	summed              []int // the cells a row sum covers (summedCells)
	lazy                *lazyRead
	keep                func(line int) bool // nil: every row is mapped; else those of its lines (ReadLines)
}

// value returns the value at position i of vals, "" when i is -1.
func value(vals []string, i int) string {
	if i < 0 {
		return ""
	}
	return vals[i]
}

// scratch is reused from row to row by one worker.
type scratch struct {
	buf      []byte            // what is hashed
	payments map[string]string // paymentTypes cell → canonical text: a file holds few lists
	eager    bool              // map every row, even in a lazy read (Row.Map)
	lease    *lease            // of the batch being mapped, in a lazy read
}

// maxMemo bounds scratch.payments.
const maxMemo = 4096

// cellValue is m.cellValue, remembering the paymentTypes lists it read.
func (sc *scratch) cellValue(m *Mapping, c column, cell string) (string, error) {
	if c.kind != customer.KindPayments {
		return m.cellValue(c, cell)
	}
	if v, ok := sc.payments[cell]; ok {
		return v, nil
	}
	v, err := m.cellValue(c, cell)
	if err == nil && len(sc.payments) < maxMemo {
		if sc.payments == nil {
			sc.payments = map[string]string{}
		}
		sc.payments[strings.Clone(cell)] = v
	}
	return v, err
}

// Read streams the export at path and calls fn once per data row, in file
// order. An unusable file returns a *FileError before fn is ever called.
func (m *Mapping) Read(ctx context.Context, path string, fn func(Row) error) (Stats, error) {
	st, err := m.read(ctx, path, false, nil, fn)
	if errors.Is(err, errStop) {
		err = nil
	}
	return st, err
}

// ReadLazy is Read, except that a valid row that may be plain (no parent,
// no image) is given unmapped: Lazy, with its reference and row sum. The
// caller compares the sum with the one its checkpoint holds, and calls
// Map, before fn returns, only for the rows it must know (rowsum.go).
// Its Stats count a lazy row as a customer, even one that Map finds
// invalid.
func (m *Mapping) ReadLazy(ctx context.Context, path string, fn func(Row) error) (Stats, error) {
	st, err := m.read(ctx, path, true, nil, fn)
	if errors.Is(err, errStop) {
		err = nil
	}
	return st, err
}

// ReadLines is Read, mapping only the rows whose line keep accepts
// (concurrently: it must be safe for that): the others are given with
// their line alone, no customer and no error, and count as customers in
// its Stats. An import's wave reads the export again for its own rows.
func (m *Mapping) ReadLines(ctx context.Context, path string, keep func(line int) bool, fn func(Row) error) (Stats, error) {
	st, err := m.read(ctx, path, false, keep, fn)
	if errors.Is(err, errStop) {
		err = nil
	}
	return st, err
}

func (m *Mapping) read(ctx context.Context, path string, lazy bool, keep func(int) bool, fn func(Row) error) (st Stats, err error) {
	r, err := m.openExport(ctx, path) // CSV, .gz, .zip or .xlsx (mapping/records)
	if err != nil && ctx.Err() != nil {
		return st, ctx.Err() // interrupted: the file is not to blame
	}
	if err != nil {
		return st, &FileError{File: path, Err: err}
	}
	defer r.Close()
	if r.Sheet != "" {
		fn = onSheet(r.Sheet, fn)
		defer func() { sheetError(r.Sheet, err) }()
	}
	st.Encoding, st.Delimiter = r.Encoding, string(r.Delimiter)
	header, err := r.Next()
	switch {
	case errors.Is(err, io.EOF):
		return st, &FileError{File: path, Err: errors.New("the file is empty (no header line)")}
	case err != nil && ctx.Err() != nil:
		return st, ctx.Err()
	case err != nil:
		return st, fileError(path, err)
	case header.Err != nil:
		return st, &FileError{File: path, Line: header.Line, Err: fmt.Errorf("header: %w", header.Err)}
	}
	cols, flagIdx, unknown, err := m.columns(header.Fields)
	if err != nil {
		return st, &FileError{File: path, Line: header.Line, Err: withDelimiterHint(err, header.Fields, r.Delimiter)}
	}
	st.Columns, st.UnknownColumns = mappedColumns(cols, flagIdx, header.Fields), unknown
	m.seen.remember(path, st)
	if len(unknown) > 0 {
		m.log.Debug("export columns not mapped", zap.String("file", path), zap.Strings("columns", unknown))
	}
	lay := layout{path: path, width: len(header.Fields), cols: cols, flagIdx: flagIdx}
	for _, c := range cols {
		lay.keys = append(lay.keys, c.field)
	}
	_, hasParent := slices.BinarySearch(lay.keys, "parentCustomer")
	_, hasSub := slices.BinarySearch(lay.keys, "isSubCustomer")
	if hasParent && !hasSub {
		lay.keys = append(lay.keys, "isSubCustomer") // derived
	}
	slices.Sort(lay.keys)
	pos := func(field string) int {
		if i, ok := slices.BinarySearch(lay.keys, field); ok {
			return i
		}
		return -1
	}
	for i := range lay.cols {
		lay.cols[i].pos = pos(lay.cols[i].field)
		if f := lay.cols[i].field; f == "email" || f == "website" {
			lay.plausible = append(lay.plausible, lay.cols[i])
		}
	}
	lay.ref, lay.name, lay.parent = pos("reference"), pos("name"), pos("parentCustomer")
	lay.dueType, lay.dueNumber, lay.image = pos("dueDateConfigType"), pos("dueDateConfigNumber"), pos("imageFile")
	lay.derived = -1
	if hasParent && !hasSub {
		lay.derived = pos("isSubCustomer")
	}
	lay.salt = headerSalt(m.salt, header.Fields)
	lay.parentCol, lay.imageIdx = slices.IndexFunc(cols, func(c column) bool { return c.field == "parentCustomer" }), indexOf(cols, "imageFile")
	lay.summed = summedCells(cols, flagIdx)
	r.MapColumns(lay.summed) // a workbook's other cells are not converted
	if lazy {
		lay.lazy = &lazyRead{m: m, sheet: r.Sheet}
	}
	lay.keep = keep
	if keep != nil {
		r.SkipLines(keep) // the lines not kept are not mapped: not cut either
	}
	return m.mapRows(ctx, r, lay, st, fn)
}

// Columns returns the columns of the export at path that the mapping
// reads and those it ignores, as the last read of path found them; an
// export not read yet is opened for its header (Check).
func (m *Mapping) Columns(path string) (Stats, error) {
	if st, ok := m.seen.recall(path); ok {
		return st, nil
	}
	return m.Check(path)
}

// seenColumns is the header Stats of the last export read, for Columns:
// a plan lists them without opening the export again.
type seenColumns struct {
	mu   gosync.Mutex
	path string
	st   Stats
}

func (s *seenColumns) remember(path string, st Stats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.path, s.st = path, st
}

func (s *seenColumns) recall(path string) (Stats, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st, s.path == path && path != ""
}

// Check opens the export and reads its header, as Read does, without
// reading a row: a *FileError says that the file is unusable as a whole.
func (m *Mapping) Check(path string) (Stats, error) {
	return m.CheckContext(context.Background(), path)
}

// CheckContext is Check, ended by ctx: a workbook is extracted to read
// its header, which a large one takes a while to do.
func (m *Mapping) CheckContext(ctx context.Context, path string) (Stats, error) {
	return m.Read(ctx, path, func(Row) error { return errStop })
}

var errStop = errors.New("stop")

// normHeader compares headers: trimmed, case and spaces ignored.
func normHeader(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	return strings.ToLower(strings.Join(strings.Fields(s), ""))
}

// columns matches the header against the mapping: the columns of
// source.columns (a field mapped to "" is switched off) and, with
// source.auto_columns, the headers named like a CRM field that no
// configured mapping took. Every other column is ignored (unknown).
func (m *Mapping) columns(header []string) ([]column, int, []string, error) {
	index, dup := headerIndex(header)
	looks := m.looksLikeHeader(index)
	if dup >= 0 && looks {
		return nil, 0, nil, fmt.Errorf("column %s appears twice in the header", Excerpt(strings.TrimSpace(header[dup])))
	}
	configuredIdx := map[int]bool{}
	for _, c := range m.cfg.Columns {
		if i, ok := index[normHeader(c)]; ok && strings.TrimSpace(c) != "" {
			configuredIdx[i] = true
		}
	}
	used := map[int]bool{}
	var cols []column
	var missing []string
	for _, f := range customer.Table() {
		field := f.Name
		name, configured := m.cfg.Columns[field]
		switch {
		case configured && strings.TrimSpace(name) == "":
			continue // switched off
		case !configured && !m.cfg.AutoColumns:
			continue
		case !configured:
			name = field
		}
		i, ok := index[normHeader(name)]
		if ok && !configured && configuredIdx[i] {
			ok = false
		}
		if !ok {
			if configured || field == "reference" || field == "name" {
				missing = append(missing, fmt.Sprintf("%q (for %s)", name, field))
			}
			continue
		}
		cols = append(cols, column{field: field, index: i, header: strings.TrimSpace(header[i]),
			kind: f.Kind, values: m.cfg.Values[field]})
		used[i] = true
	}
	if len(missing) > 0 {
		// reference and name first: without them nothing can be read.
		slices.SortStableFunc(missing, func(a, b string) int {
			rank := func(s string) int {
				if strings.HasSuffix(s, "(for reference)") || strings.HasSuffix(s, "(for name)") {
					return 0
				}
				return 1
			}
			return rank(a) - rank(b)
		})
		if !looks { // no header line: the first customer's cells are not quoted
			return nil, 0, nil, notAHeaderError(strings.Join(missing, ", "), len(header))
		}
		return nil, 0, nil, fmt.Errorf("the header lacks the column %s; it has %s (map columns in source.columns)",
			strings.Join(missing, ", "), records.QuoteList(header))
	}
	flagIdx := -1
	if m.cfg.DeleteFlag.Column != "" {
		i, ok := index[normHeader(m.cfg.DeleteFlag.Column)]
		if !ok {
			return nil, 0, nil, fmt.Errorf("delete_flag column %q is not in the header", m.cfg.DeleteFlag.Column)
		}
		flagIdx = i
		used[i] = true
	}
	var unknown []string
	for i, h := range header {
		if !used[i] {
			unknown = append(unknown, strings.TrimSpace(h))
		}
	}
	return cols, flagIdx, unknown, nil
}

// mappedColumns lists the columns a read uses, in the export's order:
// each mapped column with its field, and the delete flag's column.
func mappedColumns(cols []column, flagIdx int, header []string) []ColumnUse {
	out := make([]ColumnUse, 0, len(cols)+1)
	for _, c := range cols {
		out = append(out, ColumnUse{Header: c.header, Field: c.field, index: c.index})
	}
	if flagIdx >= 0 {
		out = append(out, ColumnUse{Header: strings.TrimSpace(header[flagIdx]), Field: "delete_flag", index: flagIdx})
	}
	slices.SortFunc(out, func(a, b ColumnUse) int { return a.index - b.index })
	return out
}

// headerIndex indexes a header's columns by their normalized names; dup
// is the first column whose name an earlier one has, or -1.
func headerIndex(header []string) (index map[string]int, dup int) {
	index, dup = map[string]int{}, -1
	for i, h := range header {
		k := normHeader(h)
		if _, seen := index[k]; seen && k != "" {
			if dup < 0 {
				dup = i
			}
			continue
		}
		index[k] = i
	}
	return index, dup
}

// looksLikeHeader reports whether a header (indexed by headerIndex) has
// at least one column the mapping knows: a configured column, a CRM
// field's name, or the delete flag's column.
func (m *Mapping) looksLikeHeader(index map[string]int) bool {
	has := func(name string) bool { _, ok := index[normHeader(name)]; return ok && normHeader(name) != "" }
	for _, c := range m.cfg.Columns {
		if has(c) {
			return true
		}
	}
	for _, f := range customer.Table() {
		if has(f.Name) {
			return true
		}
	}
	return has(m.cfg.DeleteFlag.Column)
}

// readable returns a record's reference, or the row error of a record
// that cannot be mapped at all: unreadable, of the wrong width, with a
// cell too large or not text, or without a reference.
func (m *Mapping) readable(lay *layout, rec records.Record) (string, *RowError) {
	cols := lay.cols
	fail := func(column, ref string, err error) (string, *RowError) {
		return ref, &RowError{File: lay.path, Line: rec.Line, Column: column, Reference: ref, Err: err}
	}
	ref := ""
	for _, c := range cols {
		if c.field == "reference" && c.index < len(rec.Fields) {
			ref = strings.TrimSpace(rec.Fields[c.index])
			if m.checks.isNull(ref) {
				ref = ""
			}
		}
	}
	if rec.Err != nil {
		return fail("", ref, rec.Err)
	}
	if len(rec.Fields) != lay.width {
		return fail("", ref, fmt.Errorf("%d fields where the header has %d", len(rec.Fields), lay.width))
	}
	for i, f := range rec.Fields {
		if len(f) > MaxField {
			return fail(headerAt(cols, i), ref, fmt.Errorf("a field of %d bytes, over the limit of %d", len(f), MaxField))
		}
		if rec.Clean {
			continue
		}
		if err := checkText(f); err != nil {
			return fail(headerAt(cols, i), ref, err)
		}
	}
	if ref == "" {
		return fail(headerAt(cols, indexOf(cols, "reference")), "", errors.New("empty reference"))
	}
	return ref, nil
}

// row maps one record.
func (m *Mapping) row(lay *layout, rec records.Record, sc *scratch) Row {
	path, cols, flagIdx := lay.path, lay.cols, lay.flagIdx
	fail := func(column, ref string, err error) Row {
		return Row{Line: rec.Line, Err: &RowError{File: path, Line: rec.Line, Column: column, Reference: ref, Err: err}}
	}
	ref, bad := m.readable(lay, rec)
	if bad != nil {
		return Row{Line: rec.Line, Err: bad}
	}
	if flagIdx >= 0 && m.flags[strings.ToLower(strings.TrimSpace(rec.Fields[flagIdx]))] {
		vals := []string{ref}
		c := customer.FromSorted(ref, rec.Line, referenceOnly, vals)
		c.Delete = true
		c.Hash = m.hash(sc, referenceOnly, vals, "")
		return Row{Line: rec.Line, Customer: c}
	}
	sum := sc.rowSum(lay, rec.Fields)
	if !sc.eager && lay.mayDefer(rec.Fields) {
		if r, ok := m.deferred(lay, rec, sc, ref, sum); ok {
			return r
		}
	}
	vals := make([]string, len(lay.keys))
	for _, c := range cols {
		v, err := sc.cellValue(m, c, rec.Fields[c.index])
		if err != nil {
			return fail(c.header, ref, err)
		}
		vals[c.pos] = v
	}
	vals[lay.ref] = ref
	if value(vals, lay.name) == "" {
		return fail(headerAt(cols, indexOf(cols, "name")), ref, errors.New("empty name"))
	}
	parent := value(vals, lay.parent)
	if lay.derived >= 0 {
		vals[lay.derived] = strconv.FormatBool(parent != "")
	}
	if value(vals, lay.dueType) != "" && value(vals, lay.dueNumber) == "" {
		return fail(headerAt(cols, indexOf(cols, "dueDateConfigType")), ref, errors.New("dueDateConfigType is set but dueDateConfigNumber is empty"))
	}
	if parent == ref {
		return fail(headerAt(cols, indexOf(cols, "parentCustomer")), ref, errors.New("a customer cannot be its own parent"))
	}
	warnings, err := m.plausible(lay, rec.Line, ref, vals)
	if err != nil {
		return Row{Line: rec.Line, Err: err}
	}
	c := customer.FromSorted(ref, rec.Line, lay.keys, vals)
	imageSum := ""
	if p := value(vals, lay.image); p != "" {
		img, sum, err := m.image(p)
		if err != nil {
			return fail(headerAt(cols, indexOf(cols, "imageFile")), ref, err)
		}
		c.Image, imageSum = img, sum
	}
	c.Hash = m.hash(sc, lay.keys, vals, imageSum)
	if c.Image == nil && len(warnings) == 0 {
		c.RowSum = sum // plain: its sum may stand for it (rowsum.go)
	}
	return Row{Line: rec.Line, Customer: c, Warnings: warnings, Reference: ref, Sum: sum, Parent: parent}
}

// plausible checks the emails and websites of a row: an implausible one is
// a warning, or the row's error when source.strict names its field.
func (m *Mapping) plausible(lay *layout, line int, ref string, vals []string) ([]*RowError, *RowError) {
	var warnings []*RowError
	for _, p := range lay.plausible {
		why := implausible(p.field, vals[p.pos])
		if why == "" {
			continue
		}
		e := &RowError{File: lay.path, Line: line, Column: p.header, Reference: ref,
			Err: fmt.Errorf("%s %q is not plausible: %s", p.field, vals[p.pos], why)}
		if m.checks.strict[p.field] {
			e.Err = fmt.Errorf("%w (source.strict)", e.Err)
			return nil, e
		}
		warnings = append(warnings, e)
	}
	return warnings, nil
}

// checkText refuses a NUL byte and bytes that are not UTF-8. Most cells
// are plain ASCII: one pass over their bytes tells.
func checkText(f string) error {
	for i := 0; i < len(f); i++ {
		if c := f[i]; c == 0 || c >= utf8.RuneSelf {
			if strings.IndexByte(f[i:], 0) >= 0 {
				return errors.New("a NUL byte")
			}
			if !utf8.ValidString(f[i:]) {
				return errors.New("bytes that are not valid UTF-8 (set source.encoding)")
			}
			return nil
		}
	}
	return nil
}

// referenceOnly are the fields of a delete request.
var referenceOnly = []string{"reference"}

func indexOf(cols []column, field string) int {
	for _, c := range cols {
		if c.field == field {
			return c.index
		}
	}
	return -1
}

func headerAt(cols []column, i int) string {
	for _, c := range cols {
		if c.index == i {
			return c.header
		}
	}
	return ""
}

// hash is sha256 over the fingerprint, the fields in name order (keys,
// sorted, with vals their values), each ended by a NUL, and the image's
// content hash, in hex. These bytes must not change: every checkpoint holds
// hashes made of them, and different bytes would re-push every record.
func (m *Mapping) hash(sc *scratch, keys, vals []string, imageSum string) string {
	b := append(sc.buf[:0], m.fp...)
	b = append(b, 0)
	for i, k := range keys {
		b = append(b, k...)
		b = append(b, 0)
		b = append(b, vals[i]...)
		b = append(b, 0)
	}
	b = append(b, imageSum...)
	sc.buf = b
	sum := sha256.Sum256(b)
	var hexSum [2 * sha256.Size]byte
	hex.Encode(hexSum[:], sum[:])
	return string(hexSum[:])
}

// maxImage is the CRM's limit on images.
const maxImage = 2 << 20

// image reads an imageFile cell: a path inside images_dir, no escape, at
// most 2 MB, a jpg, gif, png or bmp by content.
func (m *Mapping) image(p string) (*customer.Image, string, error) {
	if m.imageDir == "" {
		return nil, "", errors.New("imageFile is set but source.images_dir is not")
	}
	if filepath.IsAbs(p) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) {
		return nil, "", fmt.Errorf("image path %q is absolute: it must be inside images_dir", p)
	}
	clean := filepath.Clean(filepath.FromSlash(p))
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return nil, "", fmt.Errorf("image path %q leaves images_dir", p)
	}
	full, err := filepath.EvalSymlinks(filepath.Join(m.imageDir, clean))
	if err != nil {
		return nil, "", fmt.Errorf("image %q: %w", p, errors.Unwrap(err))
	}
	if rel, err := filepath.Rel(m.imageDir, full); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, "", fmt.Errorf("image path %q leaves images_dir through a link", p)
	}
	st, err := os.Stat(full)
	if err != nil || !st.Mode().IsRegular() {
		return nil, "", fmt.Errorf("image %q is not a file", p)
	}
	if st.Size() > maxImage {
		return nil, "", fmt.Errorf("image %q is %d bytes, over the CRM's 2 MB", p, st.Size())
	}
	data, err := os.ReadFile(full)
	if err != nil {
		return nil, "", fmt.Errorf("image %q: %w", p, err)
	}
	if !isImage(data) {
		return nil, "", fmt.Errorf("image %q is not a jpg, gif, png or bmp", p)
	}
	sum := sha256.Sum256(data)
	return &customer.Image{Filename: filepath.Base(full), Content: data}, hex.EncodeToString(sum[:]), nil
}

func isImage(b []byte) bool {
	return bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) || bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) ||
		bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")) || bytes.HasPrefix(b, []byte("BM"))
}
