package snapshot

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
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
	return rd.readCSVWith(r, name, size, nil)
}

// readCSVWith is readCSV; a test passes seen to look at the splitter.
func (rd *reader) readCSVWith(r io.Reader, name string, size int64, seen func(*csvSplitter)) error {
	sp := newCSVSplitter(r)
	if seen != nil {
		seen(sp)
	}
	fields, err := sp.read()
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
			_, err := sp.read()
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
	if len(fields) > maxColumns {
		return errors.New(tooManyColumns(len(fields)))
	}
	header := make([]string, len(fields))
	for i, f := range fields {
		header[i] = string(f)
	}
	cols := rd.mapHeader(name, header)
	if w := csvWorkers(); rd.streaming() && w > 1 {
		return rd.readRecordsParallel(sp, name, &cols, size, w)
	}
	estimated := size <= 0
	for {
		fields, err := sp.read()
		if err == io.EOF {
			return nil
		}
		row++
		if err != nil {
			pe := (*csv.ParseError)(nil)
			if !errors.As(err, &pe) {
				return err
			}
			rd.reject(Source{File: name, Row: row}, "csv", pe.Err.Error()+" at line "+strconv.Itoa(pe.Line)+", column "+strconv.Itoa(pe.Column))
			continue
		}
		if !estimated && row >= 1025 {
			// Reserve room for the whole file once, from the bytes per row so far.
			estimated = true
			if perRow := sp.offset / int64(row); perRow > 0 {
				rd.grow(int(size/perRow) + 64)
			}
		}
		rd.csvRecord(name, &cols, row, fields)
	}
}

// csvRecord converts one record into a row or a rejection.
func (rd *reader) csvRecord(name string, cols *columns, row int, record [][]byte) {
	if len(record) != len(cols.fields) {
		rd.batch.Rejected = append(rd.batch.Rejected, cellCountRejection(name, cols, row, record))
		return
	}
	// Parse straight into the next slot of Rows: a Snapshot is large, and
	// copying a million of them costs as much as reading them.
	s := rd.next()
	var present [numFields]bool
	if rej, ok := parseRecord(rd.p, name, cols, row, record, s, &present); !ok {
		rd.batch.Rejected = append(rd.batch.Rejected, rej)
		rd.drop()
		return
	}
	rd.accept(s, &present)
}

func cellCountRejection(name string, cols *columns, row int, record [][]byte) Rejection {
	ncol := len(cols.fields)
	f := "csv"
	if len(record) < ncol {
		f = colName(*cols, len(record))
	}
	return Rejection{File: name, Row: row, Field: f, Reason: "row has " + strconv.Itoa(len(record)) + " cells, the header has " + strconv.Itoa(ncol)}
}

// parseRecord parses a record with as many cells as the header into the
// zero row s, noting in present the fields given, or gives the rejection
// of its first bad cell. It touches nothing but p, s and present, so that
// records can be parsed on several goroutines, each with its own p.
func parseRecord(p *rowParser, name string, cols *columns, row int, record [][]byte, s *Snapshot, present *[numFields]bool) (Rejection, bool) {
	src := Source{File: name, Row: row}
	s.Source = src
	for i, cell := range record {
		if cols.skip[i] {
			continue
		}
		b := trimSpace(cell)
		if len(b) == 0 {
			continue
		}
		f := cols.fields[i]
		if reason := cellTooLong(f, len(b)); reason != "" {
			return Rejection{File: name, Row: row, Field: colName(*cols, i), Reason: reason}, false
		}
		if f == fExtra {
			if s.Extra == nil {
				s.Extra = make(map[string]string, 2)
			}
			s.Extra[cols.extra[i]] = string(b)
			continue
		}
		present[f] = true
		if reason := p.set(s, f, transient(b)); reason != "" {
			return Rejection{File: name, Row: row, Field: Fields[f], Reason: reason}, false
		}
	}
	return Rejection{}, true
}

// trimSpace is bytes.TrimSpace, without the call for the usual cell that
// neither starts nor ends in space (nor in a byte of a multi-byte
// character, which may be a Unicode space).
func trimSpace(b []byte) []byte {
	if n := len(b); n == 0 || (b[0] > ' ' && b[0] < utf8.RuneSelf && b[n-1] > ' ' && b[n-1] < utf8.RuneSelf) {
		return b
	}
	return bytes.TrimSpace(b)
}

// transient views b as a string without copying it. The string is valid
// only while b is unchanged, that is until the splitter reads on: set keeps
// nothing of it but copies (interned or cloned strings, numbers, dates,
// messages built from it). TestRowsOutliveTheReadBuffer checks this.
func transient(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

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
