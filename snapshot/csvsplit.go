package snapshot

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"io"
	"math/bits"
)

// csvSplitter reads CSV records exactly as encoding/csv does with its
// defaults and FieldsPerRecord = -1 (comma ',', no comments, no lazy
// quotes, leading space kept, \r\n read as \n, empty lines skipped), and
// reports the same *csv.ParseError for a malformed record. It exists for
// speed: encoding/csv copies every record into a new string, while the
// splitter hands out each record's fields as slices of its read buffer.
// A line without a quote, the common case, is split in place; a record
// with a quote goes through a line-by-line port of encoding/csv's
// readRecord. FuzzCSVSplitMatchesEncodingCSV holds the two together.
//
// The fields read returns are valid only until the next call to read.
type csvSplitter struct {
	r     io.Reader
	buf   []byte
	start int   // unread input is buf[start:end]
	end   int   //
	rerr  error // what r returned after the data in buf: io.EOF or an I/O error

	numLine int   // lines read, as encoding/csv counts them
	offset  int64 // input bytes consumed

	fields  [][]byte // the current record's fields
	record  []byte   // a quoted record's unescaped fields, back to back
	indexes []int    // where each of them ends in record
}

func newCSVSplitter(r io.Reader) *csvSplitter {
	return &csvSplitter{r: r, buf: make([]byte, 256<<10)}
}

// readLine returns the next line, ending in \n unless it is the last, as
// encoding/csv's readLine does: \r\n becomes \n, and a \r before the end of
// the input is dropped. The line is valid until the next readLine. err is
// io.EOF only with an empty line.
func (s *csvSplitter) readLine() ([]byte, error) {
	scanned := 0 // bytes of buf[start:end] known to hold no newline
	for {
		if i := bytes.IndexByte(s.buf[s.start+scanned:s.end], '\n'); i >= 0 {
			line := s.buf[s.start : s.start+scanned+i+1]
			s.start += len(line)
			if len(line)-1 > maxLineBytes {
				return nil, s.tooLong("line", int64(len(line)))
			}
			return s.endLine(line), nil
		}
		scanned = s.end - s.start
		if scanned > maxLineBytes {
			return nil, s.skipLongLine()
		}
		if s.rerr != nil {
			line := s.buf[s.start:s.end]
			s.start = s.end
			if len(line) == 0 {
				return nil, s.rerr
			}
			if s.rerr != io.EOF {
				return s.endLine(line), s.rerr
			}
			if line[len(line)-1] == '\r' {
				// For compatibility with encoding/csv, drop a trailing \r before EOF.
				s.numLine++
				s.offset += int64(len(line))
				return line[:len(line)-1], nil
			}
			return s.endLine(line), nil
		}
		s.fill()
	}
}

// skipLongLine consumes the rest of a line that is already over
// maxLineBytes, a buffer at a time, without keeping it, and reports it.
func (s *csvSplitter) skipLongLine() error {
	var n int64
	for {
		if i := bytes.IndexByte(s.buf[s.start:s.end], '\n'); i >= 0 {
			s.start += i + 1
			return s.tooLong("line", n+int64(i+1))
		}
		n += int64(s.end - s.start)
		s.start = s.end
		if s.rerr != nil {
			if s.rerr != io.EOF {
				return s.rerr
			}
			return s.tooLong("line", n)
		}
		s.fill() // the buffer is empty: fill does not grow it
	}
}

// tooLong counts a skipped line of n bytes and gives the *csv.ParseError
// for it, which the readers turn into a rejection of that row.
func (s *csvSplitter) tooLong(what string, n int64) error {
	s.numLine++
	s.offset += n
	return &csv.ParseError{StartLine: s.numLine, Line: s.numLine, Column: 1, Err: lineTooLong{what, maxLineBytes}}
}

// endLine counts a line read and turns its \r\n into \n.
func (s *csvSplitter) endLine(line []byte) []byte {
	s.numLine++
	s.offset += int64(len(line))
	if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	return line
}

// fill reads more input after the unread bytes, moving them to the front
// of the buffer, or into a larger one when a line fills the whole buffer.
func (s *csvSplitter) fill() {
	if s.start > 0 {
		n := copy(s.buf, s.buf[s.start:s.end])
		s.start, s.end = 0, n
	}
	if s.end == len(s.buf) {
		bigger := make([]byte, 2*len(s.buf))
		copy(bigger, s.buf[:s.end])
		s.buf = bigger
	}
	for tries := 0; tries < 100; tries++ {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.rerr = err
			return
		}
		if n > 0 {
			return
		}
	}
	s.rerr = io.ErrNoProgress
}

// read returns the next record's fields. At the end of the input it
// returns io.EOF; a malformed record gives a *csv.ParseError (the reader
// then goes on with the line after it); any other error is from r.
func (s *csvSplitter) read() ([][]byte, error) {
	line, fields, err := s.readLineOrFields()
	if line != nil {
		s.fields = splitLine(s.fields[:0], line)
		return s.fields, nil
	}
	return fields, err
}

// readLineOrFields is read, except that a record without a quote, the
// common case, comes back whole as line (its newline cut) for the caller
// to split with splitLine, and fields is nil. The parallel reader hands
// such lines to its workers unsplit: splitting is the larger part of
// reading, and this goroutine is the one every row waits for.
func (s *csvSplitter) readLineOrFields() (line []byte, fields [][]byte, err error) {
	var errRead error
	for errRead == nil {
		line, errRead = s.readLine()
		if errRead == nil && len(line) == lengthNL(line) {
			continue // skip empty lines
		}
		break
	}
	if errRead != nil {
		if pe := (*csv.ParseError)(nil); errRead == io.EOF || errors.As(errRead, &pe) {
			return nil, nil, errRead // the end, or a line too long
		}
	}
	if errRead == nil && bytes.IndexByte(line, '"') < 0 {
		// No quote: the fields are the line's text between commas.
		return line[:len(line)-lengthNL(line)], nil, nil
	}
	fields, err = s.readQuoted(line, errRead)
	return nil, fields, err
}

// splitLine appends to dst the fields of a record without quotes (its
// newline cut): the text between its commas. Splitting is the largest
// share of reading a line, so it looks at eight bytes at a time: x is zero
// in exactly the bytes that are commas, and m gets the top bit of each
// such byte (an exact test, with no borrow from one byte into the next).
func splitLine(dst [][]byte, line []byte) [][]byte {
	start, i := 0, 0
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:]) ^ 0x2c2c2c2c2c2c2c2c // ','
		y := (x & 0x7f7f7f7f7f7f7f7f) + 0x7f7f7f7f7f7f7f7f
		m := ^(y | x | 0x7f7f7f7f7f7f7f7f)
		for m != 0 {
			j := i + bits.TrailingZeros64(m)>>3
			dst = append(dst, line[start:j])
			start = j + 1
			m &= m - 1
		}
	}
	for ; i < len(line); i++ {
		if line[i] == ',' {
			dst = append(dst, line[start:i])
			start = i + 1
		}
	}
	return append(dst, line[start:])
}

// readQuoted is encoding/csv's readRecord (Go 1.26) for the settings above,
// reading further lines while a quoted field runs on.
func (s *csvSplitter) readQuoted(line []byte, errRead error) ([][]byte, error) {
	var err error
	recLine := s.numLine
	s.record = s.record[:0]
	s.indexes = s.indexes[:0]
	col, lineNo := 1, s.numLine
parseField:
	for {
		if len(line) == 0 || line[0] != '"' {
			// Non-quoted field.
			i := bytes.IndexByte(line, ',')
			field := line
			if i >= 0 {
				field = field[:i]
			} else {
				field = field[:len(field)-lengthNL(field)]
			}
			if j := bytes.IndexByte(field, '"'); j >= 0 {
				err = &csv.ParseError{StartLine: recLine, Line: s.numLine, Column: col + j, Err: csv.ErrBareQuote}
				break parseField
			}
			s.record = append(s.record, field...)
			s.indexes = append(s.indexes, len(s.record))
			if i >= 0 {
				line = line[i+1:]
				col += i + 1
				continue parseField
			}
			break parseField
		}
		// Quoted field.
		line = line[1:]
		col++
		for {
			i := bytes.IndexByte(line, '"')
			if i >= 0 {
				s.record = append(s.record, line[:i]...)
				line = line[i+1:]
				col += i + 1
				switch {
				case len(line) > 0 && line[0] == '"': // "" is a quote
					s.record = append(s.record, '"')
					line = line[1:]
					col++
				case len(line) > 0 && line[0] == ',': // end of field
					line = line[1:]
					col++
					s.indexes = append(s.indexes, len(s.record))
					continue parseField
				case lengthNL(line) == len(line): // end of line
					s.indexes = append(s.indexes, len(s.record))
					break parseField
				default: // a quote inside a quoted field
					err = &csv.ParseError{StartLine: recLine, Line: s.numLine, Column: col - 1, Err: csv.ErrQuote}
					break parseField
				}
			} else if len(line) > 0 {
				// The field runs on to the next line.
				s.record = append(s.record, line...)
				if errRead != nil {
					break parseField
				}
				if len(s.record) > maxLineBytes {
					err = &csv.ParseError{StartLine: recLine, Line: s.numLine, Column: 1, Err: lineTooLong{"record", maxLineBytes}}
					break parseField
				}
				col += len(line)
				line, errRead = s.readLine()
				if len(line) > 0 {
					lineNo++
					col = 1
				}
				if errRead == io.EOF {
					errRead = nil
				}
			} else {
				// The input ended inside the quotes.
				if errRead == nil {
					err = &csv.ParseError{StartLine: recLine, Line: lineNo, Column: col, Err: csv.ErrQuote}
					break parseField
				}
				s.indexes = append(s.indexes, len(s.record))
				break parseField
			}
		}
	}
	if err == nil {
		err = errRead
	}
	s.fields = s.fields[:0]
	prev := 0
	for _, end := range s.indexes {
		s.fields = append(s.fields, s.record[prev:end:end])
		prev = end
	}
	return s.fields, err
}

func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}
