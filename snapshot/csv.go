package snapshot

import (
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
)

// columns maps a file's header onto the format's fields.
type columns struct {
	fields []field  // per column; fExtra for unknown ones
	extra  []string // per column: the unknown column's name as written
	skip   []bool   // a repeated column: ignored after a warning
}

// mapHeader reads a CSV header and warns once per file about each unknown
// or repeated column, and about missing required ones.
func (rd *reader) mapHeader(name string, header []string) columns {
	cols := columns{fields: make([]field, len(header)), extra: make([]string, len(header)), skip: make([]bool, len(header))}
	seen := make(map[string]int, len(header))
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(h))
		f := lookupField(key)
		cols.fields[i] = f
		if j, dup := seen[key]; dup && key != "" {
			cols.skip[i] = true
			rd.warn("%s: column %d %q repeats column %d; its values are ignored", name, i+1, strings.TrimSpace(h), j+1)
			continue
		}
		seen[key] = i
		if f == fExtra {
			cols.extra[i] = strings.Clone(strings.TrimSpace(h))
			if cols.extra[i] == "" {
				cols.extra[i] = "column " + strconv.Itoa(i+1)
			}
			rd.warn("%s: unknown column %q is kept with each row but not used", name, cols.extra[i])
		}
	}
	for _, f := range required {
		found := false
		for _, g := range cols.fields {
			if g == f {
				found = true
				break
			}
		}
		if !found {
			rd.warn("%s: no %s column; every row will be rejected", name, Fields[f])
		}
	}
	return cols
}

func (rd *reader) readCSV(r io.Reader, name string, size int64) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // a short or long row is reported, not fatal

	header, err := cr.Read()
	row := 1
	if err == io.EOF {
		rd.warn("%s: empty file, no rows", name)
		return nil
	}
	if err != nil {
		if pe := (*csv.ParseError)(nil); !errors.As(err, &pe) {
			return err
		}
		// Without a header no row can be read; each is still reported.
		rd.warn("%s: cannot read the header row: %v", name, err)
		for {
			_, err := cr.Read()
			if err == io.EOF {
				return nil
			}
			row++
			if err != nil {
				if pe := (*csv.ParseError)(nil); !errors.As(err, &pe) {
					return err
				}
			}
			rd.reject(Source{File: name, Row: row}, "header", "the header row could not be read")
		}
	}
	cols := rd.mapHeader(name, header)
	ncol := len(cols.fields)
	estimated := size <= 0

	// Splitting records (encoding/csv) and converting them run on two
	// goroutines: on a large file each takes about half the time.
	chunks := make(chan *csvChunk, 2)
	free := make(chan *csvChunk, 4)
	go splitRecords(cr, ncol, row, chunks, free)
	var fatal error
	for ch := range chunks {
		if ch.err != nil {
			fatal = ch.err // the producer stops after an I/O error
		}
		for i := range ch.recs {
			rec := &ch.recs[i]
			if !estimated && rec.row >= 1025 {
				// Reserve room for the whole file once, from the bytes per row so far.
				estimated = true
				if perRow := ch.offset / int64(ch.recs[len(ch.recs)-1].row); perRow > 0 {
					rd.grow(int(size/perRow) + 64)
				}
			}
			rd.csvRecord(name, &cols, rec, ch.cells[rec.start:rec.start+rec.n])
		}
		select {
		case free <- ch:
		default:
		}
	}
	return fatal
}

// csvChunk carries a run of records from the splitter to the converter.
type csvChunk struct {
	cells  []string // the cells of the well-formed records, back to back
	recs   []csvRecord
	offset int64 // input offset after the last record
	err    error // an I/O error that ended the input
}

type csvRecord struct {
	row      int
	start, n int    // the record's cells within cells
	cells    int    // how many cells it had
	parseErr string // why encoding/csv refused it, if it did
}

const chunkRecords = 512

// splitRecords reads records into chunks until the input ends. Cell strings
// stay valid after the next Read (ReuseRecord reuses only the slice).
func splitRecords(cr *csv.Reader, ncol, row int, chunks chan<- *csvChunk, free chan *csvChunk) {
	defer close(chunks)
	for {
		var ch *csvChunk
		select {
		case ch = <-free:
			clear(ch.cells) // release the previous chunk's lines
			ch.cells, ch.recs = ch.cells[:0], ch.recs[:0]
		default:
			ch = &csvChunk{cells: make([]string, 0, chunkRecords*ncol), recs: make([]csvRecord, 0, chunkRecords)}
		}
		for len(ch.recs) < chunkRecords {
			record, err := cr.Read()
			if err == io.EOF {
				ch.offset = cr.InputOffset()
				chunks <- ch
				return
			}
			row++
			rec := csvRecord{row: row, start: len(ch.cells), cells: len(record)}
			if err != nil {
				var pe *csv.ParseError
				if !errors.As(err, &pe) {
					ch.err = err
					chunks <- ch
					return
				}
				rec.parseErr = pe.Err.Error() + " at line " + strconv.Itoa(pe.Line) + ", column " + strconv.Itoa(pe.Column)
			} else if len(record) == ncol {
				ch.cells = append(ch.cells, record...)
				rec.n = ncol
			}
			ch.recs = append(ch.recs, rec)
		}
		ch.offset = cr.InputOffset()
		chunks <- ch
	}
}

// csvRecord converts one record into a row or a rejection.
func (rd *reader) csvRecord(name string, cols *columns, rec *csvRecord, record []string) {
	src := Source{File: name, Row: rec.row}
	ncol := len(cols.fields)
	if rec.parseErr != "" {
		rd.reject(src, "csv", rec.parseErr)
		return
	}
	if rec.cells != ncol {
		f := "csv"
		if rec.cells < ncol {
			f = colName(*cols, rec.cells)
		}
		rd.reject(src, f, "row has "+strconv.Itoa(rec.cells)+" cells, the header has "+strconv.Itoa(ncol))
		return
	}

	// Parse straight into the next slot of Rows: a Snapshot is large, and
	// copying a million of them costs as much as reading them.
	s := rd.next()
	var present [numFields]bool
	s.Source = src
	for i, cell := range record {
		if cols.skip[i] {
			continue
		}
		v := strings.TrimSpace(cell)
		if v == "" {
			continue
		}
		f := cols.fields[i]
		if f == fExtra {
			if s.Extra == nil {
				s.Extra = make(map[string]string, 2)
			}
			s.Extra[cols.extra[i]] = strings.Clone(v)
			continue
		}
		present[f] = true
		if reason := rd.p.set(s, f, v); reason != "" {
			rd.reject(src, Fields[f], reason)
			rd.drop()
			return
		}
	}
	rd.accept(s, &present)
}

func colName(cols columns, i int) string {
	if i < 0 || i >= len(cols.fields) {
		return "csv"
	}
	if f := cols.fields[i]; f != fExtra {
		return Fields[f]
	}
	if cols.extra[i] == "" {
		return "column " + strconv.Itoa(i+1)
	}
	return cols.extra[i]
}
