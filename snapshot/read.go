package snapshot

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ReadFiles reads snapshot files (CSV, a JSON array, or NDJSON) into one
// batch. The format comes from the extension (.csv, .json, .ndjson, .jsonl)
// or, failing that, from the first non-space byte.
//
// The error is only for I/O: a file that cannot be opened or read. Bad rows
// are reported in Batch.Rejected, naming the file, row and field, and the
// valid rows still go through. The same (account_id, week) given twice
// across all the files rejects the later row.
func ReadFiles(paths []string) (Batch, error) {
	rd := newReader()
	err := rd.readFiles(paths)
	return rd.finish(), err
}

// Stream reads snapshot files as ReadFiles does, but hands each valid row
// to fn, in input order, instead of keeping it, so that memory does not
// grow with the input: a caller can keep rows in a smaller form (see
// Table) or aggregate them as they come. The row is reused once fn returns.
// fn is called for one row at a time, but for a large CSV file not on the
// caller's goroutine: the reader accepts rows beside the one splitting them.
// The batch returned holds the rejections and warnings; its Rows is empty.
func Stream(paths []string, fn func(row *Snapshot)) (Batch, error) {
	rd := newReader()
	rd.sink = fn
	err := rd.readFiles(paths)
	return rd.finish(), err
}

func (rd *reader) readFiles(paths []string) error {
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("read snapshots: %w", err)
		}
		var size int64
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		err = rd.read(f, path, size)
		f.Close()
		if err != nil {
			return fmt.Errorf("read snapshots from %s: %w", path, err)
		}
	}
	return nil
}

// Read reads one snapshot input; name is used for the format (by extension)
// and in every rejection and warning.
func Read(r io.Reader, name string) (Batch, error) {
	rd := newReader()
	if err := rd.read(r, name, 0); err != nil {
		return rd.batch, fmt.Errorf("read snapshots from %s: %w", name, err)
	}
	return rd.finish(), nil
}

// reader holds what persists across the files of one input: the rows so
// far, the strings seen, and the (account, week) pairs already given.
type reader struct {
	batch Batch
	p     *rowParser
	seen  map[string]*accountWeeks
	files []string // file names by index, for duplicate reports

	// The previous row's account: rows usually come grouped by account.
	lastID    string
	lastWeeks *accountWeeks

	// When sink is set, rows are parsed into scratch and handed to sink
	// once accepted, instead of being kept in batch.Rows.
	sink    func(*Snapshot)
	scratch Snapshot
	reserve func(n int) // with sink: told how many rows a file will likely add

	// When table is set, rows go into it as with a sink, and the table,
	// which knows each account's rows, finds the weeks given twice: seen
	// stays empty.
	table *Table
}

// streaming reports whether rows are handed on (to a sink or a table)
// rather than kept in batch.Rows.
func (rd *reader) streaming() bool { return rd.sink != nil || rd.table != nil }

// accountWeeks remembers where each of an account's weeks came from. Weeks
// usually arrive in order, so a new week is mostly checked against the last.
type accountWeeks struct {
	last  int64
	weeks []weekRef
}

type weekRef struct {
	day  int64
	file int32
	row  int32
}

func newReader() *reader {
	return &reader{p: newRowParser(), seen: make(map[string]*accountWeeks, 1024)}
}

func (rd *reader) finish() Batch {
	b := rd.batch
	if b.Rows == nil {
		b.Rows = []Snapshot{}
	}
	if b.Rejected == nil {
		b.Rejected = []Rejection{}
	}
	if b.Warnings == nil {
		b.Warnings = []string{}
	}
	return b
}

type format int

const (
	formatCSV format = iota
	formatJSONArray
	formatJSONStream // objects one after another (one per line for .ndjson)
	formatNDJSON
)

func (rd *reader) read(r io.Reader, name string, size int64) error {
	br := bufio.NewReaderSize(r, 256<<10)
	// A UTF-8 byte order mark is not part of the first column's name.
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	f, err := detect(br, name)
	if err != nil {
		return err
	}
	rd.files = append(rd.files, name)
	switch f {
	case formatJSONArray, formatJSONStream:
		return rd.readJSON(br, name, f)
	case formatNDJSON:
		return rd.readNDJSON(br, name)
	}
	return rd.readCSV(br, name, size)
}

// detect chooses the format: a .csv file is CSV; otherwise JSON when the
// first non-space byte opens an array or object.
func detect(br *bufio.Reader, name string) (format, error) {
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".csv" {
		return formatCSV, nil
	}
	c, err := firstNonSpace(br)
	if err != nil {
		return 0, err
	}
	switch {
	case c == '[':
		return formatJSONArray, nil
	case c == '{' && (ext == ".ndjson" || ext == ".jsonl"):
		return formatNDJSON, nil
	case c == '{':
		return formatJSONStream, nil
	case ext == ".ndjson" || ext == ".jsonl":
		return formatNDJSON, nil
	case ext == ".json":
		return formatJSONArray, nil
	}
	return formatCSV, nil
}

// firstNonSpace peeks at the first byte that is not white space, without
// consuming anything that matters; 0 means an empty input.
func firstNonSpace(br *bufio.Reader) (byte, error) {
	for n := 64; ; n *= 2 {
		b, err := br.Peek(n)
		for _, c := range b {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				return c, nil
			}
		}
		if err != nil {
			if err == io.EOF || err == bufio.ErrBufferFull {
				return 0, nil
			}
			return 0, err
		}
	}
}

// next appends a zero row to Rows and returns it for parsing in place; a
// row that turns out bad is taken back with drop, a good one kept by accept.
func (rd *reader) next() *Snapshot {
	if rd.streaming() {
		rd.scratch = Snapshot{}
		return &rd.scratch
	}
	rows := rd.batch.Rows
	if len(rows) == cap(rows) {
		rows = append(rows, Snapshot{})
	} else {
		rows = rows[:len(rows)+1]
		rows[len(rows)-1] = Snapshot{}
	}
	rd.batch.Rows = rows
	return &rows[len(rows)-1]
}

func (rd *reader) last() *Snapshot {
	if rd.streaming() {
		return &rd.scratch
	}
	return &rd.batch.Rows[len(rd.batch.Rows)-1]
}

// drop takes back the row next returned.
func (rd *reader) drop() {
	if rd.streaming() {
		rd.scratch = Snapshot{}
		return
	}
	rows := rd.batch.Rows
	rows[len(rows)-1] = Snapshot{} // release its strings
	rd.batch.Rows = rows[:len(rows)-1]
}

// accept runs the row-level checks that need the whole row (required
// fields, duplicates) on the row next returned, and keeps it or rejects it.
func (rd *reader) accept(s *Snapshot, present *[numFields]bool) {
	rd.acceptPacked(s, present, nil)
}

// acceptPacked is accept for a reader with a table, given s already packed
// by packFixed (or nil).
func (rd *reader) acceptPacked(s *Snapshot, present *[numFields]bool, pre *packedRow) {
	for _, f := range required {
		if !present[f] {
			rd.reject(s.Source, Fields[f], "required field is empty")
			rd.drop()
			return
		}
	}
	if overFreeText(s) {
		rd.cutFreeText(s)
	}
	if rd.table != nil {
		if i, ok := rd.table.addNew(s, pre); !ok {
			rd.rejectDuplicate(s, rd.table.source(i))
			rd.drop()
		}
		return
	}
	fileIdx := int32(len(rd.files) - 1)
	day := dayNumber(s.Week)
	aw := rd.lastWeeks
	if aw == nil || rd.lastID != s.AccountID {
		aw = rd.seen[s.AccountID]
		if aw == nil {
			aw = &accountWeeks{last: day - 1, weeks: make([]weekRef, 0, 4)}
			rd.seen[s.AccountID] = aw
		}
		rd.lastID, rd.lastWeeks = s.AccountID, aw
	}
	if day <= aw.last {
		for _, w := range aw.weeks {
			if w.day == day {
				rd.rejectDuplicate(s, Source{File: rd.files[w.file], Row: int(w.row)})
				rd.drop()
				return
			}
		}
	} else {
		aw.last = day
	}
	aw.weeks = append(aw.weeks, weekRef{day: day, file: fileIdx, row: int32(s.Source.Row)})
	if rd.sink != nil {
		rd.sink(s)
	}
}

// rejectDuplicate rejects s, whose account and week were given at first.
func (rd *reader) rejectDuplicate(s *Snapshot, first Source) {
	rd.reject(s.Source, "week", "account "+strconv.Quote(s.AccountID)+" week "+FormatDate(s.Week)+
		" was already given in "+first.File+" row "+strconv.Itoa(first.Row))
}

func (rd *reader) reject(src Source, field, reason string) {
	rd.batch.Rejected = append(rd.batch.Rejected, Rejection{File: src.File, Row: src.Row, Field: field, Reason: reason})
}

func (rd *reader) warn(format string, args ...any) {
	rd.batch.Warnings = append(rd.batch.Warnings, fmt.Sprintf(format, args...))
}

// grow makes room for about n more rows at once, so a large file does not
// copy its rows over and over while appending.
func (rd *reader) grow(n int) {
	if rd.table != nil {
		rd.table.growSoon(n)
		return
	}
	if rd.sink != nil {
		if rd.reserve != nil {
			rd.reserve(n)
		}
		return
	}
	rows := rd.batch.Rows
	if cap(rows)-len(rows) >= n {
		return
	}
	next := make([]Snapshot, len(rows), len(rows)+n)
	copy(next, rows)
	rd.batch.Rows = next
}
