package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"erpsync/mapping"
	"erpsync/state"
	"erpsync/sync/plan"
	"erpsync/sync/plan/rowerrors"
)

// reportBatch is how many bytes of whole lines a report file gathers
// before one write and one sync: a million-line import makes some 200 of
// each, not a million.
const reportBatch = 256 << 10

// reportEvery is how long a line waits at most before it is written, so
// that a report can be followed while a slow run goes on.
const reportEvery = time.Second

// syncReport syncs a report file to the disk (a test holds it).
var syncReport = (*os.File).Sync

// reportFile is a report CSV that a crash never leaves with a cut line:
// each line is encoded whole into a buffer, and the buffer goes to the
// file in one write of whole lines, then synced, when it holds
// reportBatch bytes, reportEvery after the last write, and at close. The
// write and its sync are done by a goroutine of the file's (writeOut), so
// that adding a line never waits for the disk: the workers of an import
// add their rows' lines under the run's lock, and a sync of 10-800 ms held
// every request in flight (issue 25 §3). While a batch is with that
// goroutine the next one gathers; it is handed over once the first is
// synced. A kill loses at most the lines of the last second (and of the
// sync in progress), never half of one; the run that resumes lists their
// rows (ListDoneEarlier). Its lines are rows of T, a row struct with csv
// tags, written through gocsv (WriteRows). Its caller serialises the calls
// (Run's lock).
type reportFile[T any] struct {
	f     *os.File
	buf   bytes.Buffer
	cw    *csv.Writer // into buf
	last  time.Time   // the last hand-over of a batch
	err   error       // the first error of a write
	cells []string    // a cellRow's cells, used again from line to line

	out   chan []byte  // a batch to write and sync (writeOut); nil until the first
	back  chan written // the batch written, and its error
	busy  bool         // a batch is with writeOut
	spare []byte       // the array of the last batch written, used again
}

// written is a batch that writeOut wrote and synced, and its error.
type written struct {
	batch []byte
	err   error
}

// cellRow is a row struct that gives its cells itself, in the order of
// its csv tags (a test holds its bytes to gocsv's): its lines skip
// gocsv's reflection, 9 allocations and some 3 µs a line, and success.csv
// has a line per row an import sends (issue 22).
type cellRow interface {
	appendCells(dst []string) []string
}

func (l *OutcomeLine) appendCells(dst []string) []string {
	return append(dst, l.Operation, l.Reference, l.Line, l.HTTPStatus, l.Error, l.Message)
}

// createReportFile creates path, a new file of mode mode, with T's header
// line in format, written and synced at once.
func createReportFile[T any](path string, mode os.FileMode, format CSV) (*reportFile[T], error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return nil, fmt.Errorf("create report: %w", err)
	}
	rf := &reportFile[T]{f: f, last: time.Now()}
	if rf.cw, err = format.NewWriter(&rf.buf); err != nil {
		rf.err = err
	} else if err := WriteHeader[T](rf.cw); err != nil {
		rf.err = err
	}
	if rf.cw != nil {
		rf.cw.Flush()
	}
	if rf.err == nil {
		rf.err = writeSynced(f, rf.buf.Bytes())
		rf.buf.Reset()
	}
	if rf.err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, rf.err)
	}
	return rf, nil
}

// line adds one line, every cell made inert (SafeCell). The line is
// encoded whole into the buffer before any of it can reach the file.
func (rf *reportFile[T]) line(row T) {
	var err error
	if c, ok := any(&row).(cellRow); ok {
		rf.cells = c.appendCells(rf.cells[:0])
		err = safeWriter{rf.cw}.Write(rf.cells)
	} else {
		err = WriteRows(rf.cw, row)
	}
	if err != nil && rf.err == nil {
		rf.err = err
	}
	rf.cw.Flush()
	if rf.buf.Len() >= reportBatch || time.Since(rf.last) >= reportEvery {
		rf.handOver(false)
	}
}

// handOver gives the lines gathered to writeOut, unless it still holds
// the batch before: then they wait for the next line's hand-over, or,
// with wait, until it has written that batch.
func (rf *reportFile[T]) handOver(wait bool) {
	if rf.busy {
		if !wait {
			select {
			case w := <-rf.back:
				rf.took(w)
			default:
				return
			}
		} else {
			rf.took(<-rf.back)
		}
	}
	if rf.buf.Len() == 0 || rf.err != nil {
		return
	}
	if rf.out == nil {
		rf.out, rf.back = make(chan []byte, 1), make(chan written, 1)
		go writeOut(rf.f, rf.out, rf.back)
	}
	batch := append(rf.spare[:0], rf.buf.Bytes()...)
	rf.buf.Reset()
	rf.out <- batch // never waits: writeOut holds no other batch
	rf.busy, rf.last = true, time.Now()
}

// took takes back a batch that writeOut wrote, and its error.
func (rf *reportFile[T]) took(w written) {
	rf.busy, rf.spare = false, w.batch[:0]
	if w.err != nil && rf.err == nil {
		rf.err = w.err
	}
}

// writeOut writes and syncs each batch given on out, and gives it back.
func writeOut(f *os.File, out <-chan []byte, back chan<- written) {
	for batch := range out {
		back <- written{batch, writeSynced(f, batch)}
	}
}

// writeSynced writes data, whole lines, in one write, and syncs it.
func writeSynced(f *os.File, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	return syncReport(f)
}

// close writes what is left, waits until it is synced, and closes the
// file.
func (rf *reportFile[T]) close() error {
	rf.handOver(true)
	if rf.busy {
		rf.took(<-rf.back)
	}
	if rf.out != nil {
		close(rf.out)
		rf.out = nil
	}
	err := errors.Join(rf.err, rf.cw.Error(), rf.f.Close())
	if err != nil {
		return fmt.Errorf("write %s: %w", rf.f.Name(), err)
	}
	return nil
}

// lineSet is a set of export lines, one bit each.
type lineSet []uint64

func (s *lineSet) add(line int) {
	if line <= 0 {
		return
	}
	for line/64 >= len(*s) {
		*s = append(*s, make([]uint64, max(len(*s), 64))...)
	}
	(*s)[line/64] |= 1 << (line % 64)
}

func (s lineSet) has(line int) bool {
	return line > 0 && line/64 < len(s) && s[line/64]&(1<<(line%64)) != 0
}

// ListDoneEarlier lists, in success.csv, the rows of the export that this
// run found done by runs that did not finish since the last one that did
// (a run killed, interrupted or failed, that this one resumes): "done
// earlier, run N", so that every row of the export is in the report of
// the run that finished it. The checkpoint says which run did a row by
// the second of its record's push, after that run's start. A record
// pushed after this run's start second is this run's, and so is a
// repeated reference this run listed or counted (ListRepeated): never
// listed again as done earlier. It repairs first the reports of those
// runs: a line cut by a crash (a run of an older erpsync, or a machine
// that lost power) is truncated. A run that resumes nothing reads
// neither the checkpoint's records nor the export.
func (r *Run) ListDoneEarlier(ctx context.Context, db History, rows plan.Rows, runID int64, p *plan.Plan) error {
	if runID == 0 || p == nil || p.Unchanged == 0 || ctx.Err() != nil {
		return nil
	}
	resumed, started, err := unfinishedBefore(ctx, db, runID)
	if err != nil || len(resumed) == 0 {
		return err
	}
	for _, run := range resumed {
		if err := repairReports(filepath.Dir(r.Dir), run.ID); err != nil {
			return err
		}
	}
	doneBy := map[string]int64{}
	err = db.Records(ctx, func(rec state.Record) error {
		if !started.IsZero() && rec.PushedAt.After(started) {
			return nil // pushed by this run (its first second is ambiguous: its rows sent are listed)
		}
		for i := len(resumed) - 1; i >= 0; i-- { // the last run started at or before the push
			if !rec.PushedAt.Before(resumed[i].Started) {
				doneBy[rec.Reference] = resumed[i].ID
				break
			}
		}
		return nil
	})
	if err != nil || len(doneBy) == 0 {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return rows(func(row mapping.Row) error {
		ref := row.Reference
		if row.Customer != nil {
			ref = row.Customer.Reference
		}
		run, done := doneBy[ref]
		if !done || row.Err != nil || r.listed.has(row.Line) || r.rest[ref] != nil {
			return nil
		}
		r.success.line(OutcomeLine{Operation: "done earlier", Reference: ref, Line: strconv.Itoa(row.Line),
			Error: "done_earlier", Message: "done earlier, run " + strconv.FormatInt(run, 10)})
		r.listed.add(row.Line)
		r.doneEarlier++
		return nil
	})
}

// History is what ListDoneEarlier reads of the checkpoint: the run
// history and the records, with when each was pushed.
type History interface {
	Runs(ctx context.Context, limit int) ([]state.Run, error)
	Records(ctx context.Context, fn func(state.Record) error) error
}

// unfinishedBefore returns, oldest first, the runs before runID since the
// last one that finished (done, or done with failures), and when run
// runID started (zero when the history does not hold it).
func unfinishedBefore(ctx context.Context, db History, runID int64) ([]state.Run, time.Time, error) {
	runs, err := db.Runs(ctx, 200)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read the run history: %w", err)
	}
	var out []state.Run
	var started time.Time
	for _, run := range runs { // newest first
		if run.ID == runID {
			started = run.Started
		}
		if run.ID >= runID {
			continue
		}
		if run.Status == state.StatusDone || run.Status == state.StatusDoneFailures {
			break
		}
		out = append(out, run)
	}
	slices.Reverse(out)
	return out, started, nil
}

// repairReports truncates, in the report folders of run id under parent,
// a last line that a crash cut: whatever follows the last newline.
func repairReports(parent string, id int64) error {
	var dirs []string
	for _, pattern := range []string{"*-" + strconv.FormatInt(id, 10), "*-" + strconv.FormatInt(id, 10) + "-*"} {
		m, err := filepath.Glob(filepath.Join(parent, pattern))
		if err != nil {
			return fmt.Errorf("find the reports of run %d: %w", id, err)
		}
		dirs = append(dirs, m...)
	}
	for _, dir := range dirs {
		for _, name := range []string{"success.csv", "errors.csv"} {
			if err := truncateCutLine(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// truncateCutLine cuts path after its last newline; a missing file is
// left alone.
func truncateCutLine(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("repair report: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("repair report: %w", err)
	}
	size := st.Size()
	tail := make([]byte, 4096)
	for end := size; end > 0; {
		start := max(0, end-int64(len(tail)))
		n, err := f.ReadAt(tail[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("repair report %s: %w", path, err)
		}
		if i := bytes.LastIndexByte(tail[:n], '\n'); i >= 0 {
			return truncateAt(f, size, start+int64(i)+1)
		}
		end = start
	}
	return truncateAt(f, size, 0)
}

// truncateAt truncates f to at, when that is shorter than size.
func truncateAt(f *os.File, size, at int64) error {
	if at == size {
		return nil
	}
	if err := f.Truncate(at); err != nil {
		return fmt.Errorf("repair report %s: %w", f.Name(), err)
	}
	return f.Sync()
}

// repeatRest is what the rows of a repeated reference past the plan's
// lines (maxDupLines) get in the report: the line of its listed ones,
// with their own line number; left counts those not listed yet.
type repeatRest struct {
	w    *reportFile[OutcomeLine]
	line OutcomeLine
	left int
}

// errListed stops a read once every row looked for is listed.
var errListed = errors.New("every repeated row listed")

// ListRepeated lists the rows of repeated references that the plan kept
// no line of (it keeps maxDupLines of each): one more read of the export,
// at the run's end, only when a listed reference has more rows than that.
// Each such row gets its reference's line (merged, or invalid_row); past
// budget lines in all (0: rowerrors.DefaultMax), a reference's others are
// counted in one line, so that millions of identical rows do not make
// reports of gigabytes.
func (r *Run) ListRepeated(ctx context.Context, rows plan.Rows, budget int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	left := 0
	for _, rest := range r.rest {
		left += rest.left
	}
	if left == 0 || ctx.Err() != nil {
		return nil
	}
	if budget <= 0 {
		budget = rowerrors.DefaultMax
	}
	err := rows(func(row mapping.Row) error {
		ref := row.Reference
		if row.Customer != nil {
			ref = row.Customer.Reference
		}
		rest := r.rest[ref]
		if rest == nil || rest.left == 0 || r.listed.has(row.Line) {
			return nil
		}
		if row = row.Map(); row.Err != nil { // a lazy row is mapped: an invalid one has its own line
			return nil
		}
		line := rest.line
		line.Line = strconv.Itoa(row.Line)
		rest.w.line(line)
		r.listed.add(row.Line)
		rest.left--
		if left, budget = left-1, budget-1; left == 0 || budget == 0 {
			return errListed
		}
		return nil
	})
	if errors.Is(err, errListed) {
		err = nil
	}
	r.countUnlisted()
	return err
}

// countUnlisted writes, for each repeated reference with rows still not
// listed (ListRepeated's bound), one line counting them.
func (r *Run) countUnlisted() {
	for _, ref := range slices.Sorted(maps.Keys(r.rest)) {
		rest := r.rest[ref]
		if rest.left == 0 {
			continue
		}
		line := rest.line
		line.Error = "more_" + line.Error
		line.Message = fmt.Sprintf("%d more lines of this reference, not listed (reports.max_errors): %s", rest.left, line.Message)
		rest.w.line(line)
	}
}
